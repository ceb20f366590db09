import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from '@devp2p/core';
import { encryptAes256Block, expandAes256Key } from './aes-block.ts';

/** A continuous AES-CTR keystream: successive `update` calls continue where the last one stopped. */
export interface AesCtrStream {
  /** XORs `data` with the next `data.length` keystream bytes (encrypt and decrypt are the same). */
  update(data: Uint8Array): Uint8Array;
}

function asBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function checkKey(key: Uint8Array, lengths: readonly number[]): void {
  if (!(key instanceof Uint8Array) || !lengths.includes(key.length)) {
    throw new RangeError(`AES key must be ${lengths.join(' or ')} bytes, got ${key?.length}`);
  }
}

/**
 * AES-CTR with a 16- or 32-byte key (AES-128 or AES-256) and a 16-byte initial counter block.
 * `node:crypto` gives identical bytes on Node, Bun and Deno, including across partial blocks.
 * @example const stream = createAesCtr(aesSecret, new Uint8Array(16)); stream.update(frame)
 */
export function createAesCtr(key: Uint8Array, iv: Uint8Array): AesCtrStream {
  checkKey(key, [16, 32]);
  if (!(iv instanceof Uint8Array) || iv.length !== 16) throw new RangeError('AES-CTR iv must be 16 bytes');
  const cipher = createCipheriv(key.length === 16 ? 'aes-128-ctr' : 'aes-256-ctr', key, iv);
  return { update: (data) => asBytes(cipher.update(data)) };
}

/**
 * One-shot AES-CTR (a fresh keystream from `iv`).
 * @example aesCtr(key, iv, plaintext)
 */
export function aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return createAesCtr(key, iv).update(data);
}

/** AES-256 in ECB mode on single 16-byte blocks: the RLPx MAC's building block. */
export interface AesBlockCipher {
  /** Encrypts exactly one 16-byte block, into `out` when given (it may be `block` itself), else into a new array. */
  encryptBlock(block: Uint8Array, out?: Uint8Array): Uint8Array;
}

/**
 * A reusable AES-256-ECB single-block encryptor (ECB on one block is stateless, so one cipher serves all calls).
 * In JavaScript (see aes-block.ts for why not `node:crypto`), with the same bytes on every runtime.
 * @example createAes256Ecb(macSecret).encryptBlock(digest.subarray(0, 16), scratch)
 */
export function createAes256Ecb(key: Uint8Array): AesBlockCipher {
  checkKey(key, [32]);
  const schedule = expandAes256Key(key);
  return {
    encryptBlock(block: Uint8Array, out: Uint8Array = new Uint8Array(16)): Uint8Array {
      if (block.length !== 16) throw new RangeError(`AES block must be 16 bytes, got ${block.length}`);
      if (out.length < 16) throw new RangeError(`AES output must hold 16 bytes, got ${out.length}`);
      encryptAes256Block(schedule, block, out);
      return out;
    },
  };
}

/** Length of an AES-GCM authentication tag. */
export const GCM_TAG_LENGTH = 16;

/**
 * AES-128-GCM encryption (discv5): returns ciphertext ‖ 16-byte tag.
 * @example aes128GcmEncrypt(key, nonce12, plaintext, authData)
 */
export function aes128GcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  checkKey(key, [16]);
  if (nonce.length !== 12) throw new RangeError('AES-GCM nonce must be 12 bytes');
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(head.length + tail.length + GCM_TAG_LENGTH);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(cipher.getAuthTag(), head.length + tail.length);
  return out;
}

/**
 * AES-128-GCM decryption of ciphertext ‖ tag; CryptoError when the tag does not verify.
 * @example aes128GcmDecrypt(key, nonce12, sealed, authData)
 */
export function aes128GcmDecrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key, [16]);
  if (nonce.length !== 12) throw new RangeError('AES-GCM nonce must be 12 bytes');
  if (sealed.length < GCM_TAG_LENGTH) throw new CryptoError('AES-GCM message shorter than its tag');
  const split = sealed.length - GCM_TAG_LENGTH;
  try {
    const decipher = createDecipheriv('aes-128-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(split));
    const head = decipher.update(sealed.subarray(0, split));
    const tail = decipher.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch (cause) {
    throw new CryptoError('AES-GCM authentication failed', { cause });
  }
}
