import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { createKeccak256Wasm, keccak256Wasm, keccakWasmAvailable } from './keccak-wasm.ts';

/**
 * A running keccak-256 state. `digest()` does not finalise it: RLPx feeds its MAC states for the whole
 * life of a connection and reads a digest after every update.
 *
 * @example
 * const mac = createKeccak256().update(secret)
 * const first = mac.digest()           // state unchanged
 * const fork = mac.copy().update(data) // independent copy
 */
export interface Keccak256Hasher {
  /** Absorbs `data`; returns the same hasher. */
  update(data: Uint8Array): Keccak256Hasher;
  /** The digest of everything absorbed so far, leaving the state usable for further updates. */
  digest(): Uint8Array;
  /**
   * The same digest written into `out` (at least 32 bytes) instead of a new array: for a caller that reads a
   * digest per message (an RLPx MAC, four per frame) and would otherwise allocate one each time. Both hashers made
   * here have it; optional so that a hand-made hasher (a test's stand-in) need not, and callers fall back to
   * `digest()` without it.
   */
  digestInto?(out: Uint8Array): void;
  /** An independent copy of the current state. */
  copy(): Keccak256Hasher;
}

type NobleKeccak = ReturnType<typeof keccak_256.create>;

/** `digestInto`'s output check, the same on both paths. */
export function checkDigestOut(out: Uint8Array): void {
  if (!(out instanceof Uint8Array) || out.length < 32) throw new RangeError('keccak-256: digestInto needs 32 bytes');
}

class NobleKeccak256 implements Keccak256Hasher {
  readonly #state: NobleKeccak;
  constructor(state: NobleKeccak = keccak_256.create()) {
    this.#state = state;
  }
  update(data: Uint8Array): Keccak256Hasher {
    this.#state.update(data);
    return this;
  }
  digest(): Uint8Array {
    return this.#state.clone().digest();
  }
  digestInto(out: Uint8Array): void {
    checkDigestOut(out);
    this.#state.clone().digestInto(out);
  }
  copy(): Keccak256Hasher {
    return new NobleKeccak256(this.#state.clone());
  }
}

/**
 * A new incremental keccak-256 hasher (see {@link Keccak256Hasher}). Runs on WebAssembly where the runtime has
 * it (Node, Bun and Deno do), several times faster than pure JS; otherwise on `@noble/hashes`. Same bytes.
 * @example createKeccak256().update(a).update(b).digest()
 */
export function createKeccak256(): Keccak256Hasher {
  return createKeccak256Wasm() ?? new NobleKeccak256();
}

/**
 * keccak-256 (Ethereum's, not NIST SHA3-256) of `data`; WebAssembly where available, else `@noble/hashes`.
 * @example keccak256(new Uint8Array()) // c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470
 */
export function keccak256(data: Uint8Array): Uint8Array {
  return keccak256Wasm(data) ?? keccak_256(data);
}

/**
 * The same as {@link createKeccak256} but always on `@noble/hashes`: for tests and benchmarks that compare paths.
 * @example createKeccak256Portable().update(data).digest()
 */
export function createKeccak256Portable(): Keccak256Hasher {
  return new NobleKeccak256();
}

/**
 * The same as {@link keccak256} but always on `@noble/hashes`: for tests and benchmarks that compare paths.
 * @example keccak256Portable(data) // same bytes as keccak256(data)
 */
export function keccak256Portable(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

/**
 * Which implementation {@link keccak256} and {@link createKeccak256} use in this runtime.
 * @example keccak256Backend() // 'wasm' on Node, Bun and Deno
 */
export function keccak256Backend(): 'wasm' | 'portable' {
  return keccakWasmAvailable() ? 'wasm' : 'portable';
}

/**
 * SHA-256 of `data`.
 * @example sha256(utf8ToBytes('abc'))
 */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * HMAC-SHA256 over the concatenation of `parts` (saves a copy when the message is built from pieces).
 * @example hmacSha256(key, iv, ciphertext, sharedMacData)
 */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const mac = hmac.create(nobleSha256, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info` to `length` bytes.
 * @example hkdfSha256(secret, challengeData, info, 32)
 */
export function hkdfSha256(inputKey: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(nobleSha256, inputKey, salt, info, length);
}

/**
 * NIST SP 800-56 concatenation KDF with SHA-256, as ECIES in RLPx uses it: the output is
 * SHA-256(counter ‖ z ‖ otherInfo) for counter = 1, 2, ... (32-bit big-endian), truncated to `length`.
 * @example concatKdf(sharedSecret, 32) // 16-byte AES key ‖ 16 bytes hashed into the MAC key
 */
export function concatKdf(z: Uint8Array, length: number, otherInfo: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let block = 1, offset = 0; offset < length; block++, offset += 32) {
    new DataView(counter.buffer).setUint32(0, block);
    const digest = nobleSha256.create().update(counter).update(z).update(otherInfo).digest();
    out.set(digest.subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}
