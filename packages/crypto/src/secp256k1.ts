import { CryptoError } from '@devp2p/core';
import * as libsecp256k1 from 'tiny-secp256k1';
import { randomBytes } from './random.ts';

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
 * A new random private key: 32 random bytes, drawn again in the (2^-128 likely) case they are not in [1, n-1].
 * @example const key = generatePrivateKey()
 */
export function generatePrivateKey(): Uint8Array {
  for (;;) {
    const key = randomBytes(PRIVATE_KEY_LENGTH);
    if (libsecp256k1.isPrivate(key)) return key;
  }
}

/**
 * True when `key` is 32 bytes and in [1, n-1].
 * @example isValidPrivateKey(new Uint8Array(32)) // false
 */
export function isValidPrivateKey(key: Uint8Array): boolean {
  return libsecp256k1.isPrivate(key);
}

function assertPrivateKey(key: Uint8Array): void {
  checkLength(key, PRIVATE_KEY_LENGTH, 'private key');
  if (!libsecp256k1.isPrivate(key)) throw new CryptoError('private key is out of range');
}

/** 33-, 64- or 65-byte public key bytes in the SEC1 form libsecp256k1 parses (64 bytes get the 0x04 prefix). */
function toSec1(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('public key: expected Uint8Array');
  if (publicKey.length === PUBLIC_KEY_LENGTH) {
    const bytes = new Uint8Array(65);
    bytes[0] = 0x04;
    bytes.set(publicKey, 1);
    return bytes;
  }
  if (publicKey.length !== 33 && publicKey.length !== 65) {
    throw new RangeError(`public key: expected 33, 64 or 65 bytes, got ${publicKey.length}`);
  }
  return publicKey;
}

/** Runs a libsecp256k1 call that parses a public key: its rejection of the point becomes a CryptoError. */
function parsingPoint<T>(call: () => T): T {
  try {
    return call();
  } catch (cause) {
    throw new CryptoError('public key is not a valid secp256k1 point', { cause });
  }
}

/** The public key re-encoded (33 or 65 bytes); CryptoError when it is not a point on the curve. */
function reencode(publicKey: Uint8Array, compressed: boolean): Uint8Array {
  const sec1 = toSec1(publicKey);
  return parsingPoint(() => libsecp256k1.pointCompress(sec1, compressed));
}

/**
 * The 64-byte public key (x ‖ y) of a private key.
 * @example publicKeyFromPrivate(key).length // 64
 */
export function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  assertPrivateKey(privateKey);
  const point = libsecp256k1.pointFromScalar(privateKey, false);
  if (point === null) throw new CryptoError('private key has no public key');
  return point.subarray(1);
}

/**
 * Any public key form (33, 64 or 65 bytes) to the 64-byte form; CryptoError for a point not on the curve.
 * @example decompressPublicKey(enr.secp256k1) // 64 bytes
 */
export function decompressPublicKey(publicKey: Uint8Array): Uint8Array {
  return reencode(publicKey, false).subarray(1);
}

/**
 * Any public key form (33, 64 or 65 bytes) to the 33-byte compressed form; CryptoError when off-curve.
 * @example compressPublicKey(publicKeyFromPrivate(key)) // 33 bytes starting 0x02 or 0x03
 */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return reencode(publicKey, true);
}

/**
 * True when the bytes (33, 64 or 65 long) are a point on the curve.
 * @example isValidPublicKey(new Uint8Array(64)) // false
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return hasPublicKeyLength(publicKey) && libsecp256k1.isPoint(toSec1(publicKey));
}

function hasPublicKeyLength(publicKey: Uint8Array): boolean {
  return publicKey instanceof Uint8Array && [33, PUBLIC_KEY_LENGTH, 65].includes(publicKey.length);
}

/**
 * ECDH as discv5 uses it: the shared point `privateKey · publicKey` in compressed form (33 bytes).
 * @example ecdhCompressed(ephemeralPrivate, remotePublic)
 */
export function ecdhCompressed(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  assertPrivateKey(privateKey);
  const sec1 = toSec1(publicKey);
  const shared = parsingPoint(() => libsecp256k1.pointMultiply(sec1, privateKey, true));
  // Unreachable for a valid key and point (the group has prime order), checked rather than assumed.
  if (shared === null) throw new CryptoError('ECDH gave the point at infinity');
  return shared;
}

/**
 * ECDH shared secret as RLPx and ECIES use it: the 32-byte x coordinate of `privateKey · publicKey`.
 * @example ecdhX(ephemeralPrivate, remoteEphemeralPublic)
 */
export function ecdhX(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return ecdhCompressed(privateKey, publicKey).subarray(1);
}

/**
 * Signs a 32-byte hash; returns Ethereum's recoverable form r ‖ s ‖ v (v is 0 or 1, low s).
 * @example sign(keccak256(message), privateKey)
 */
export function sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array {
  checkLength(hash, 32, 'hash');
  assertPrivateKey(privateKey);
  const { signature, recoveryId } = libsecp256k1.signRecoverable(hash, privateKey);
  const out = new Uint8Array(SIGNATURE_LENGTH);
  out.set(signature, 0);
  out[64] = recoveryId;
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
  let recovered: Uint8Array | null;
  try {
    recovered = libsecp256k1.recover(hash, signature.subarray(0, 64), v as 0 | 1, false);
  } catch (cause) {
    throw new CryptoError('signature does not recover to a public key', { cause });
  }
  if (recovered === null) throw new CryptoError('signature does not recover to a public key');
  return recovered.subarray(1);
}

/**
 * Verifies a 64-byte r ‖ s (or 65-byte r ‖ s ‖ v) signature of a 32-byte hash. Accepts only low-s signatures.
 * @example verify(hash, signature.subarray(0, 64), publicKey)
 */
export function verify(hash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  checkLength(hash, 32, 'hash');
  if (signature.length !== 64 && signature.length !== SIGNATURE_LENGTH) return false;
  if (!hasPublicKeyLength(publicKey)) return false;
  try {
    // Parsing the key is part of verifying: a point off the curve throws here, and verifies nothing.
    return libsecp256k1.verify(hash, toSec1(publicKey), signature.subarray(0, 64), true);
  } catch {
    return false;
  }
}
