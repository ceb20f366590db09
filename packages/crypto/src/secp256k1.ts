import { CryptoError } from '@devp2p/core';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as secp from '@noble/secp256k1';
import { nativeEcdhX } from './ecdh-native.ts';

// noble-secp256k1 signs synchronously only once it is given HMAC-SHA256 (for RFC 6979 nonces).
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key, message) => hmac(sha256, key, message);

/** Length of a private key. */
export const PRIVATE_KEY_LENGTH = 32;
/** Length of a public key as devp2p carries it: uncompressed x ‖ y, without the 0x04 prefix. */
export const PUBLIC_KEY_LENGTH = 64;
/** Length of a compressed public key (0x02/0x03 ‖ x), as ENR and discv5 carry it. */
export const COMPRESSED_PUBLIC_KEY_LENGTH = 33;
/** Length of a recoverable signature r ‖ s ‖ v, v ∈ {0, 1}. */
export const SIGNATURE_LENGTH = 65;

function checkLength(value: Uint8Array, length: number, label: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${label}: expected Uint8Array`);
  if (value.length !== length) throw new RangeError(`${label}: expected ${length} bytes, got ${value.length}`);
}

/**
 * A new random private key.
 * @example const key = generatePrivateKey()
 */
export function generatePrivateKey(): Uint8Array {
  return secp.utils.randomSecretKey();
}

/**
 * True when `key` is 32 bytes and in [1, n-1].
 * @example isValidPrivateKey(new Uint8Array(32)) // false
 */
export function isValidPrivateKey(key: Uint8Array): boolean {
  return key instanceof Uint8Array && key.length === PRIVATE_KEY_LENGTH && secp.utils.isValidSecretKey(key);
}

function assertPrivateKey(key: Uint8Array): void {
  checkLength(key, PRIVATE_KEY_LENGTH, 'private key');
  if (!secp.utils.isValidSecretKey(key)) throw new CryptoError('private key is out of range');
}

/** Parses 33-, 64- or 65-byte public key bytes to a curve point; CryptoError when not on the curve. */
function toPoint(publicKey: Uint8Array): secp.Point {
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('public key: expected Uint8Array');
  let bytes = publicKey;
  if (publicKey.length === PUBLIC_KEY_LENGTH) {
    bytes = new Uint8Array(65);
    bytes[0] = 0x04;
    bytes.set(publicKey, 1);
  } else if (publicKey.length !== 33 && publicKey.length !== 65) {
    throw new RangeError(`public key: expected 33, 64 or 65 bytes, got ${publicKey.length}`);
  }
  try {
    return secp.Point.fromBytes(bytes);
  } catch (cause) {
    throw new CryptoError('public key is not a valid secp256k1 point', { cause });
  }
}

/**
 * The 64-byte public key (x ‖ y) of a private key.
 * @example publicKeyFromPrivate(key).length // 64
 */
export function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  assertPrivateKey(privateKey);
  return secp.getPublicKey(privateKey, false).subarray(1);
}

/**
 * Any public key form (33, 64 or 65 bytes) to the 64-byte form; CryptoError for a point not on the curve.
 * @example decompressPublicKey(enr.secp256k1) // 64 bytes
 */
export function decompressPublicKey(publicKey: Uint8Array): Uint8Array {
  return toPoint(publicKey).toBytes(false).subarray(1);
}

/**
 * Any public key form (33, 64 or 65 bytes) to the 33-byte compressed form; CryptoError when off-curve.
 * @example compressPublicKey(publicKeyFromPrivate(key)) // 33 bytes starting 0x02 or 0x03
 */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return toPoint(publicKey).toBytes(true);
}

/**
 * True when the bytes (33, 64 or 65 long) are a point on the curve.
 * @example isValidPublicKey(new Uint8Array(64)) // false
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  try {
    toPoint(publicKey);
    return true;
  } catch {
    return false;
  }
}

/** ECDH through noble: the shared point, compressed or as x only. */
function nobleEcdh(privateKey: Uint8Array, publicKey: Uint8Array, compressed: boolean): Uint8Array {
  assertPrivateKey(privateKey);
  const shared = toPoint(publicKey).multiply(secp.etc.secretKeyToScalar(privateKey));
  return compressed ? shared.toBytes(true) : shared.toBytes(true).subarray(1);
}

/**
 * ECDH shared secret as RLPx and ECIES use it: the 32-byte x coordinate of `privateKey · publicKey`.
 * Uses `node:crypto` where the runtime has secp256k1 (Node, Deno) and noble elsewhere; both give the same bytes.
 * @example ecdhX(ephemeralPrivate, remoteEphemeralPublic)
 */
export function ecdhX(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (nativeEcdhX && publicKey.length === PUBLIC_KEY_LENGTH && privateKey.length === PRIVATE_KEY_LENGTH) {
    const uncompressed = new Uint8Array(65);
    uncompressed[0] = 0x04;
    uncompressed.set(publicKey, 1);
    try {
      return nativeEcdhX(privateKey, uncompressed);
    } catch (cause) {
      // Rethrown through noble for the typed error and its reason (bad point or bad private key).
      nobleEcdh(privateKey, publicKey, false);
      throw new CryptoError('ECDH failed', { cause });
    }
  }
  return nobleEcdh(privateKey, publicKey, false);
}

/** The same as {@link ecdhX} but always through noble: for tests that compare the two paths. */
export function ecdhXPortable(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return nobleEcdh(privateKey, publicKey, false);
}

/**
 * ECDH as discv5 uses it: the shared point in compressed form (33 bytes).
 * @example ecdhCompressed(ephemeralPrivate, remotePublic)
 */
export function ecdhCompressed(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return nobleEcdh(privateKey, publicKey, true);
}

/**
 * Signs a 32-byte hash; returns Ethereum's recoverable form r ‖ s ‖ v (v is 0 or 1, low s).
 * @example sign(keccak256(message), privateKey)
 */
export function sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array {
  checkLength(hash, 32, 'hash');
  assertPrivateKey(privateKey);
  const recovered = secp.sign(hash, privateKey, { prehash: false, format: 'recovered' });
  // noble puts the recovery byte first; Ethereum puts it last.
  const out = new Uint8Array(SIGNATURE_LENGTH);
  out.set(recovered.subarray(1), 0);
  out[64] = recovered[0]!;
  return out;
}

/**
 * Recovers the 64-byte public key from a hash and an r ‖ s ‖ v signature; CryptoError when it does not recover.
 * @example recoverPublicKey(hash, signature)
 */
export function recoverPublicKey(hash: Uint8Array, signature: Uint8Array): Uint8Array {
  checkLength(hash, 32, 'hash');
  checkLength(signature, SIGNATURE_LENGTH, 'signature');
  const v = signature[64]!;
  if (v > 1) throw new CryptoError(`signature recovery id must be 0 or 1, got ${v}`);
  const recovered = new Uint8Array(SIGNATURE_LENGTH);
  recovered[0] = v;
  recovered.set(signature.subarray(0, 64), 1);
  try {
    return secp.recoverPublicKey(recovered, hash, { prehash: false, isCompressed: false }).subarray(1);
  } catch (cause) {
    throw new CryptoError('signature does not recover to a public key', { cause });
  }
}

/**
 * Verifies a 64-byte r ‖ s (or 65-byte r ‖ s ‖ v) signature of a 32-byte hash. Accepts only low-s signatures.
 * @example verify(hash, signature.subarray(0, 64), publicKey)
 */
export function verify(hash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  checkLength(hash, 32, 'hash');
  if (signature.length !== 64 && signature.length !== SIGNATURE_LENGTH) return false;
  let point: secp.Point;
  try {
    point = toPoint(publicKey);
  } catch {
    return false;
  }
  try {
    return secp.verify(signature.subarray(0, 64), hash, point.toBytes(true), { prehash: false, lowS: true });
  } catch {
    return false;
  }
}
