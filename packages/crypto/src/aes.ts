import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from '@devp2p/core';
import { encryptAes256Block, expandAes256Key } from './aes-block.ts';

/** A continuous AES-CTR keystream: successive calls continue where the last one stopped. */
export interface AesCtrStream {
  /** XORs `data` with the next `data.length` keystream bytes (encrypt and decrypt are the same), into a new array. */
  update(data: Uint8Array): Uint8Array;
  /**
   * The same for data[dataAt..dataAt+length], into `out` at `outAt` (the same bytes as the input, or apart from
   * them: in place is fine). Spans of up to {@link CTR_JS_MAX_BYTES} bytes of an AES-256 stream allocate nothing.
   */
  updateInto(data: Uint8Array, dataAt: number, length: number, out: Uint8Array, outAt: number): void;
  /**
   * What `update(data.subarray(from))` returns, where the `from` bytes before it are read and never written: the
   * stream may feed them to `node:crypto` in place of keystream it must skip (after short spans done in
   * JavaScript), so that one native call does what took two. An RLPx frame's body follows its header MAC.
   */
  updateTail(data: Uint8Array, from: number): Uint8Array;
  /**
   * XORs the 16 bytes at data[dataAt..] with the keystream block that starts `ahead` bytes past the stream's
   * position, into out[outAt..], and leaves the stream where it is: for a reader that must see a header before it
   * decrypts, in one later call, everything up to it (RLPx frames in one received chunk). The position plus `ahead`
   * must be a multiple of 16.
   */
  peekBlockInto(ahead: number, data: Uint8Array, dataAt: number, out: Uint8Array, outAt: number): void;
}

function asBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function checkKey(key: Uint8Array, lengths: readonly number[]): void {
  if (!(key instanceof Uint8Array) || !lengths.includes(key.length)) {
    throw new RangeError(`AES key must be ${lengths.join(' or ')} bytes, got ${key?.length}`);
  }
}

function whole(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** `updateTail`'s bound: where the tail starts, within `data`. */
function checkTail(data: Uint8Array, from: number): void {
  if (!whole(from) || from > data.length) throw new RangeError(`AES-CTR: no tail at ${from} of ${data.length}`);
}

/** `peekBlockInto`'s offset: a whole number of bytes that, past `position`, starts a block. */
function checkAhead(position: number, ahead: number): void {
  if (!whole(ahead) || (position + ahead) % 16 !== 0) {
    throw new RangeError(`AES-CTR: no block starts ${ahead} bytes past position ${position}`);
  }
}

/** Adds `blocks` to the 128-bit big-endian counter block, as OpenSSL's CTR mode increments it. */
function addToCounter(counter: Uint8Array, blocks: number): void {
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = counter[i]! + (carry % 256);
    counter[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
}

/** `updateInto`'s bounds: the span within `data`, and room for it in `out`. */
function checkSpan(data: Uint8Array, dataAt: number, length: number, out: Uint8Array, outAt: number): void {
  if (!whole(dataAt) || !whole(length) || dataAt + length > data.length) {
    throw new RangeError(`AES-CTR: no ${length} bytes at ${dataAt} of ${data.length}`);
  }
  if (!whole(outAt) || outAt + length > out.length) {
    throw new RangeError(`AES-CTR: no room for ${length} bytes at ${outAt} of ${out.length}`);
  }
}

/**
 * Spans of an AES-256-CTR stream up to this many bytes are encrypted in JavaScript (aes-block.ts) into the caller's
 * array; longer ones go through `node:crypto`. Each `node:crypto` call returns a new buffer (off the JS heap, through
 * malloc), and a flood of small frames (64-byte Pings, two spans each) made those most of what a node allocated per
 * message. Four blocks in JavaScript cost about what one native call does on Node and Deno (`primitives`).
 */
export const CTR_JS_MAX_BYTES = 64;

/**
 * How far the native cipher may trail the stream and be brought level by running it over that many discarded bytes,
 * rather than made anew at the current counter: a frame's 16-byte header decrypted in JavaScript before its body
 * goes through `node:crypto` costs one small native call this way, where a new cipher costs two to three.
 */
const NATIVE_CATCH_UP_MAX_BYTES = 64;
/** The input of those discarded keystream bytes. */
const DISCARDED = new Uint8Array(NATIVE_CATCH_UP_MAX_BYTES);
/** The counter block of a peeked keystream block, then that block (used up within one call). */
const PEEK_COUNTER = new Uint8Array(16);

/**
 * AES-256-CTR over both implementations, one keystream: JavaScript for short spans, `node:crypto` for long ones.
 * The native cipher exists only while long spans come: it is made at the first, brought to the stream's position
 * before each (by discarding keystream when it trails by a little, else made anew at the current counter block),
 * and dropped once short spans have taken the stream further than that.
 */
class HybridAes256Ctr implements AesCtrStream {
  readonly #key: Uint8Array;
  readonly #schedule: Uint32Array;
  /** The counter block of the block the stream is in (position ÷ 16 blocks past the initial counter). */
  readonly #counter: Uint8Array;
  /** That block's keystream, once computed in JavaScript (#keystreamValid). */
  readonly #keystream = new Uint8Array(16);
  #keystreamValid = false;
  /** Bytes of keystream used so far (a safe integer: 8 PiB). */
  #position = 0;
  #native: ReturnType<typeof createCipheriv> | undefined;
  /** Where the native cipher is in the keystream. */
  #nativePosition = 0;

  constructor(key: Uint8Array, iv: Uint8Array) {
    this.#key = key.slice();
    this.#schedule = expandAes256Key(key);
    this.#counter = iv.slice();
  }

  update(data: Uint8Array): Uint8Array {
    if (data.length > CTR_JS_MAX_BYTES) return asBytes(this.#nativeUpdate(data));
    const out = new Uint8Array(data.length);
    this.#xorJs(data, 0, data.length, out, 0);
    return out;
  }

  updateTail(data: Uint8Array, from: number): Uint8Array {
    checkTail(data, from);
    const length = data.length - from;
    const native = this.#native;
    const behind = this.#position - this.#nativePosition;
    if (length <= CTR_JS_MAX_BYTES || native === undefined || behind === 0 || behind > from) {
      return this.update(data.subarray(from));
    }
    // The bytes before the tail move the native cipher over the keystream JavaScript has used; their output is dropped.
    const result = native.update(from === behind ? data : data.subarray(from - behind));
    this.#advance(length);
    this.#nativePosition = this.#position;
    return new Uint8Array(result.buffer, result.byteOffset + behind, length);
  }

  updateInto(data: Uint8Array, dataAt: number, length: number, out: Uint8Array, outAt: number): void {
    checkSpan(data, dataAt, length, out, outAt);
    if (length <= CTR_JS_MAX_BYTES) this.#xorJs(data, dataAt, length, out, outAt);
    else
      out.set(
        this.#nativeUpdate(dataAt === 0 && length === data.length ? data : data.subarray(dataAt, dataAt + length)),
        outAt,
      );
  }

  peekBlockInto(ahead: number, data: Uint8Array, dataAt: number, out: Uint8Array, outAt: number): void {
    checkSpan(data, dataAt, 16, out, outAt);
    checkAhead(this.#position, ahead);
    const counter = PEEK_COUNTER;
    counter.set(this.#counter);
    addToCounter(counter, (this.#position + ahead) / 16 - Math.floor(this.#position / 16));
    encryptAes256Block(this.#schedule, counter, counter);
    for (let i = 0; i < 16; i++) out[outAt + i] = data[dataAt + i]! ^ counter[i]!;
  }

  /**
   * The keystream XOR of `data` through `node:crypto`: possibly a Buffer, which `update` returns as a plain Uint8Array
   * and `updateInto` copies from as it is (on Bun, the plain view's read of `.buffer` was 2.5 % of the CPU profile of
   * one connection moving 1 KiB messages; without it on the send path, 1.03×).
   */
  #nativeUpdate(data: Uint8Array): Uint8Array {
    let native = this.#native;
    const behind = this.#position - this.#nativePosition;
    if (native !== undefined && behind <= NATIVE_CATCH_UP_MAX_BYTES) {
      if (behind > 0) native.update(DISCARDED.subarray(0, behind));
    } else {
      // A new cipher starts at a block boundary: the rest of the current block goes through JavaScript first.
      const partial = this.#position % 16;
      if (partial !== 0) {
        const head = Math.min(16 - partial, data.length);
        const out = new Uint8Array(data.length);
        this.#xorJs(data, 0, head, out, 0);
        if (head < data.length) out.set(this.#nativeUpdate(data.subarray(head)), head);
        return out;
      }
      native = createCipheriv('aes-256-ctr', this.#key, this.#counter);
      this.#native = native;
    }
    const result = native.update(data);
    this.#advance(data.length);
    this.#nativePosition = this.#position;
    return result;
  }

  /** XORs data[from..from+length] with the keystream into out[outAt..], in JavaScript. */
  #xorJs(data: Uint8Array, from: number, length: number, out: Uint8Array, outAt: number): void {
    const keystream = this.#keystream;
    let used = this.#position % 16;
    for (let i = 0; i < length; i++) {
      if (!this.#keystreamValid) {
        encryptAes256Block(this.#schedule, this.#counter, keystream);
        this.#keystreamValid = true;
      }
      out[outAt + i] = data[from + i]! ^ keystream[used]!;
      if (++used === 16) {
        used = 0;
        this.#nextBlock();
      }
    }
    this.#position += length;
    // A native cipher that has fallen too far behind would be made anew anyway: let it go now, so that a connection
    // exchanging only small frames (an idle peer's Pings) holds no native context (4–7 KB each, per runtime).
    if (this.#native !== undefined && this.#position - this.#nativePosition > NATIVE_CATCH_UP_MAX_BYTES) {
      this.#native = undefined;
    }
  }

  /** Moves the stream `length` bytes on (the native cipher having produced them). */
  #advance(length: number): void {
    const blocks = Math.floor(((this.#position % 16) + length) / 16);
    this.#position += length;
    if (blocks === 0) return;
    addToCounter(this.#counter, blocks);
    this.#keystreamValid = false;
  }

  #nextBlock(): void {
    for (let i = 15; i >= 0; i--) {
      this.#counter[i] = (this.#counter[i]! + 1) & 0xff;
      if (this.#counter[i] !== 0) break;
    }
    this.#keystreamValid = false;
  }
}

/**
 * AES-CTR with a 16- or 32-byte key (AES-128 or AES-256) and a 16-byte initial counter block.
 * `node:crypto` gives identical bytes on Node, Bun and Deno, including across partial blocks; AES-256 streams
 * encrypt short spans in JavaScript (see {@link CTR_JS_MAX_BYTES}), with the same bytes.
 * @example const stream = createAesCtr(aesSecret, new Uint8Array(16)); stream.update(frame)
 */
export function createAesCtr(key: Uint8Array, iv: Uint8Array): AesCtrStream {
  checkKey(key, [16, 32]);
  if (!(iv instanceof Uint8Array) || iv.length !== 16) throw new RangeError('AES-CTR iv must be 16 bytes');
  if (key.length === 32) return new HybridAes256Ctr(key, iv);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const ownKey = key.slice();
  const initialCounter = iv.slice();
  /** Bytes of keystream used so far. */
  let position = 0;
  const update = (data: Uint8Array): Uint8Array => {
    position += data.length;
    return asBytes(cipher.update(data));
  };
  return {
    update,
    updateTail(data, from) {
      checkTail(data, from);
      return update(data.subarray(from));
    },
    updateInto(data, dataAt, length, out, outAt) {
      checkSpan(data, dataAt, length, out, outAt);
      out.set(update(data.subarray(dataAt, dataAt + length)), outAt);
    },
    peekBlockInto(ahead, data, dataAt, out, outAt) {
      checkSpan(data, dataAt, 16, out, outAt);
      checkAhead(position, ahead);
      // A cipher of its own, started at that block's counter (AES-128 streams are off every hot path).
      const counter = initialCounter.slice();
      addToCounter(counter, (position + ahead) / 16);
      out.set(
        asBytes(createCipheriv('aes-128-ctr', ownKey, counter).update(data.subarray(dataAt, dataAt + 16))),
        outAt,
      );
    },
  };
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
