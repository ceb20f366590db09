import { CryptoError, equalBytes } from '@devp2p/core';
import { aesCtr } from './aes.ts';
import { concatKdf, hmacSha256, sha256 } from './hash.ts';
import { randomBytes } from './random.ts';
import { ecdhX, generatePrivateKey, publicKeyFromPrivate } from './secp256k1.ts';

/** Bytes ECIES adds to a message: 0x04 ‖ R (65), iv (16), HMAC-SHA256 tag (32). */
export const ECIES_OVERHEAD: number = 65 + 16 + 32;

/** Derives the AES-128 key and the MAC key from the ECDH secret, as geth's ecies package does. */
function deriveKeys(shared: Uint8Array): { encryptionKey: Uint8Array; macKey: Uint8Array } {
  const keys = concatKdf(shared, 32);
  return { encryptionKey: keys.subarray(0, 16), macKey: sha256(keys.subarray(16, 32)) };
}

/** Options for {@link eciesEncrypt}; the randomness is injectable only so tests can reproduce vectors. */
export interface EciesEncryptOptions {
  /** Authenticated but not encrypted data (RLPx EIP-8: the 2-byte size prefix). */
  sharedMacData?: Uint8Array;
  /** Ephemeral private key (random when omitted). */
  ephemeralPrivateKey?: Uint8Array;
  /** 16-byte AES-CTR iv (random when omitted). */
  iv?: Uint8Array;
}

/**
 * ECIES encryption as geth does it: ECDH with a fresh ephemeral key, concat-KDF to an AES-128-CTR key and an
 * HMAC-SHA256 key; output 0x04 ‖ R ‖ iv ‖ ciphertext ‖ tag, the tag covering iv ‖ ciphertext ‖ sharedMacData.
 * @example eciesEncrypt(remotePublicKey, authBody, { sharedMacData: sizePrefix })
 */
export function eciesEncrypt(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  options: EciesEncryptOptions = {},
): Uint8Array {
  const ephemeral = options.ephemeralPrivateKey ?? generatePrivateKey();
  const iv = options.iv ?? randomBytes(16);
  if (iv.length !== 16) throw new RangeError('ECIES iv must be 16 bytes');
  const { encryptionKey, macKey } = deriveKeys(ecdhX(ephemeral, publicKey));
  const ciphertext = aesCtr(encryptionKey, iv, plaintext);
  const tag = hmacSha256(macKey, iv, ciphertext, options.sharedMacData ?? new Uint8Array(0));
  const out = new Uint8Array(ECIES_OVERHEAD + plaintext.length);
  out[0] = 0x04;
  out.set(publicKeyFromPrivate(ephemeral), 1);
  out.set(iv, 65);
  out.set(ciphertext, 81);
  out.set(tag, 81 + ciphertext.length);
  return out;
}

/**
 * ECIES decryption; CryptoError when the message is too short, its key is not a curve point, or the tag fails.
 * @example eciesDecrypt(privateKey, authPacket.subarray(2), authPacket.subarray(0, 2))
 */
export function eciesDecrypt(
  privateKey: Uint8Array,
  message: Uint8Array,
  sharedMacData: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (message.length < ECIES_OVERHEAD) throw new CryptoError(`ECIES message too short (${message.length} bytes)`);
  if (message[0] !== 0x04) throw new CryptoError('ECIES message does not start with an uncompressed point');
  const ephemeralPublic = message.subarray(1, 65);
  const iv = message.subarray(65, 81);
  const ciphertext = message.subarray(81, message.length - 32);
  const tag = message.subarray(message.length - 32);
  const { encryptionKey, macKey } = deriveKeys(ecdhX(privateKey, ephemeralPublic));
  if (!equalBytes(hmacSha256(macKey, iv, ciphertext, sharedMacData), tag)) {
    throw new CryptoError('ECIES message authentication failed');
  }
  return aesCtr(encryptionKey, iv, ciphertext);
}
