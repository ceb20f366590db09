/**
 * Snappy block format (not the framing format), as devp2p uses it since p2p version 5 (EIP-706): every message
 * payload is one block. A block is the uncompressed length as a little-endian base-128 varint, then a sequence of
 * elements, each starting with a tag byte whose low two bits select:
 *
 * - `00` literal: length-1 in the upper six bits, or (60..63) → 1..4 little-endian length-1 bytes follow; then the bytes.
 * - `01` copy, 1-byte offset: length-4 in bits 2..4, offset bits 8..10 in bits 5..7, then the low offset byte.
 * - `10` copy, 2-byte offset: length-1 in the upper six bits, then a 16-bit little-endian offset.
 * - `11` copy, 4-byte offset: length-1 in the upper six bits, then a 32-bit little-endian offset.
 *
 * A copy repeats `length` bytes starting `offset` bytes back in the output; it may overlap what it writes.
 *
 * @example
 * const packed = snappyCompress(payload);
 * const payloadAgain = snappyUncompress(packed); // ProtocolError (code ERR_SNAPPY) on corrupt input
 */
import { ProtocolError, TooLargeError } from '@devp2p/core';

/**
 * Largest decompressed size we accept: 16 MiB - 1 (0xffffff), the RLPx frame size field is 24 bits and geth
 * rejects a snappy payload whose declared length exceeds maxUint24 before decoding it.
 */
export const SNAPPY_MAX_DECODED_SIZE: number = 0xffffff;

/** Error code of every corrupt-input ProtocolError thrown here. */
/**
 * Error code of snappy input that does not decode (corrupt or truncated block, bad length header).
 * @example if (err instanceof ProtocolError && err.code === ERR_SNAPPY) log.debug('bad snappy')
 */
export const ERR_SNAPPY = 'ERR_SNAPPY';

/** Largest value the varint header can carry: the format caps the uncompressed length at 2^32 - 1. */
const MAX_HEADER_VALUE = 0xffffffff;

/** The compressor works on independent blocks of at most 64 KiB, so every copy offset fits in 16 bits. */
const BLOCK_SIZE = 1 << 16;

/** Bits of the largest match-finder hash table (16K entries, as in the reference encoder). */
const MAX_TABLE_BITS = 14;

/** Smallest table (256 entries), used for small blocks so a short message does not clear a large table. */
const MIN_TABLE_BITS = 8;

/**
 * Bytes at the end of a block where no match search starts: the search reads 4 bytes at a time ahead of its
 * position, and a match found this late would save nothing anyway.
 */
const INPUT_MARGIN = 15;

/** Blocks shorter than this are emitted as a single literal. */
const MIN_MATCHING_BLOCK = 1 + 1 + INPUT_MARGIN;

/** Multiplier of the 4-byte hash (the reference encoder's constant). */
const HASH_MUL = 0x1e35a7bd;

/**
 * Copies and literals up to this length are decoded by a loop rather than a call (`set`, `copyWithin`), 4 bytes
 * at a time: measured 1.4× (Node) and 2.2× (Bun) faster decoding than calls above 16 bytes.
 */
const SHORT_MOVE = 64;

/** Overlapping copies with offset < 4, up to this length, are decoded byte by byte; longer ones by doubling. */
const SHORT_BYTE_MOVE = 16;

/**
 * Literals within a block up to this length are copied 4 bytes at a time through DataViews, longer ones by `set`
 * (a call, dearer than a short loop). Measured on the rlpx bench's payload (32-byte literals): the encoder 1.3×
 * faster on Node and Deno, 1.1–1.3× on Bun, than copying byte by byte.
 */
const LONG_LITERAL = 64;

/**
 * Blocks that decode to more than SMALL_DECODE and at most DECODE_SCRATCH_BYTES bytes are decoded into one shared
 * scratch array (decoding is synchronous) and copied out with `slice`: a view of a new array costs more than the
 * copy (making a DataView of a new 1 KiB array: 200 ns on Bun, 50–80 ns on Node and Deno; copying it: tens of ns).
 * Above the scratch size the new array's view is worth making once.
 */
const DECODE_SCRATCH_BYTES = 1 << 16;
/** Blocks up to this size are decoded into their own array (V8 keeps typed arrays up to 64 bytes on its heap). */
const SMALL_DECODE = 64;
const decodeScratch = new Uint8Array(DECODE_SCRATCH_BYTES);
const decodeScratchView = new DataView(decodeScratch.buffer);

/** Shared match table; compression is synchronous, so one table serves every call. */
const table = new Uint16Array(1 << MAX_TABLE_BITS);

function corrupt(reason: string): ProtocolError {
  return new ProtocolError(ERR_SNAPPY, `snappy: ${reason}`);
}

/** Reads the varint header; returns its value plus (header byte count) * 2^32, to avoid allocating a pair. */
function readHeader(input: Uint8Array): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= input.length) throw corrupt('truncated length header');
    const b = input[i]!;
    if (i === 4 && b > 0x0f) throw corrupt('length header overflows 32 bits');
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return value + (i + 1) * 2 ** 32;
  }
  // Unreachable: the fifth byte is either rejected above or below 0x80.
  throw corrupt('length header overflows 32 bits');
}

/** The uncompressed length a block declares in its varint header. Throws ProtocolError on a bad header. */
export function snappyDecodedLength(input: Uint8Array): number {
  return readHeader(input) % 2 ** 32;
}

/**
 * Decompresses one snappy block. The declared length is checked against `maxLength` before anything is
 * allocated (TooLargeError); any malformed input throws ProtocolError with code `ERR_SNAPPY`. Nothing else is
 * thrown, whatever the input.
 */
export function snappyUncompress(input: Uint8Array, maxLength: number = SNAPPY_MAX_DECODED_SIZE): Uint8Array {
  const header = readHeader(input);
  const length = header % 2 ** 32;
  if (!(length <= maxLength)) throw new TooLargeError('snappy decoded length', length, maxLength);
  // Short moves go 4 bytes at a time through DataViews, which the engines compile to single loads and stores. A
  // mid-sized block is decoded into the shared scratch, whose view exists already, and copied out; a small one (a
  // Ping's one byte) into its own array, with views made on first use: reading `.buffer` of a small array makes V8
  // move it off the heap.
  const scratch = length > SMALL_DECODE && length <= DECODE_SCRATCH_BYTES;
  const out = scratch ? decodeScratch : new Uint8Array(length);
  let outView: DataView | undefined = scratch ? decodeScratchView : undefined;
  let inView: DataView | undefined;
  const n = input.length;
  let s = Math.floor(header / 2 ** 32);
  let d = 0;
  while (s < n) {
    const tag = input[s]!;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len < 60) {
          s += 1;
        } else {
          const extra = len - 59;
          if (s + extra >= n) throw corrupt('truncated literal length');
          len = input[s + 1]!;
          if (extra > 1) len |= input[s + 2]! << 8;
          if (extra > 2) len |= input[s + 3]! << 16;
          if (extra > 3) len = (len | (input[s + 4]! << 24)) >>> 0;
          s += 1 + extra;
        }
        len += 1;
        if (len > n - s) throw corrupt('literal runs past the input');
        if (len > length - d) throw corrupt('literal runs past the declared length');
        if (len <= SHORT_MOVE) {
          let i = 0;
          if (len >= 4) {
            outView ??= new DataView(out.buffer);
            inView ??= new DataView(input.buffer, input.byteOffset, input.length);
            for (; i + 4 <= len; i += 4) outView.setInt32(d + i, inView.getInt32(s + i, true), true);
          }
          for (; i < len; i++) out[d + i] = input[s + i]!;
        } else {
          out.set(input.subarray(s, s + len), d);
        }
        s += len;
        d += len;
        continue;
      }
      case 1:
        if (s + 2 > n) throw corrupt('truncated copy');
        len = 4 + ((tag >>> 2) & 7);
        offset = ((tag & 0xe0) << 3) | input[s + 1]!;
        s += 2;
        break;
      case 2:
        if (s + 3 > n) throw corrupt('truncated copy');
        len = 1 + (tag >>> 2);
        offset = input[s + 1]! | (input[s + 2]! << 8);
        s += 3;
        break;
      default:
        if (s + 5 > n) throw corrupt('truncated copy');
        len = 1 + (tag >>> 2);
        offset = (input[s + 1]! | (input[s + 2]! << 8) | (input[s + 3]! << 16) | (input[s + 4]! << 24)) >>> 0;
        s += 5;
    }
    if (offset === 0) throw corrupt('copy with offset 0');
    if (offset > d) throw corrupt('copy offset before the start of the output');
    if (len > length - d) throw corrupt('copy runs past the declared length');
    if (len <= SHORT_MOVE && offset >= 4) {
      // Forward in 4-byte words: with offset >= 4 each word read was written before, even when overlapping.
      let i = d - offset;
      const end = d + len;
      outView ??= new DataView(out.buffer);
      for (; d + 4 <= end; i += 4, d += 4) outView.setInt32(d, outView.getInt32(i, true), true);
      for (; d < end; i++, d++) out[d] = out[i]!;
    } else if (len <= SHORT_BYTE_MOVE) {
      // A forward byte loop also gives the run-length semantics an overlapping copy needs.
      for (let i = d - offset, end = d + len; d < end; i++, d++) out[d] = out[i]!;
    } else if (offset >= len) {
      out.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else if (offset === 1) {
      out.fill(out[d - 1]!, d, d + len);
      d += len;
    } else {
      // Overlapping: the `offset`-byte pattern repeats; double the copied run each step.
      const end = d + len;
      const from = d - offset;
      while (d < end) {
        const chunk = Math.min(d - from, end - d);
        out.copyWithin(d, from, from + chunk);
        d += chunk;
      }
    }
  }
  if (d !== length) throw corrupt(`decoded ${d} bytes, header declared ${length}`);
  return scratch ? out.slice(0, length) : out;
}

/** Worst-case compressed size of `n` bytes (the reference bound 32 + n + n/6). */
export function snappyMaxCompressedLength(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid length ${n}`);
  return 32 + n + Math.floor(n / 6);
}

/** Compresses `input` into one snappy block, decodable by any snappy block decoder. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  // Too short to hold a match: the length and one literal, in an array of exactly their size (no copy at the end).
  // (Under 17 bytes: a one-byte length, and a literal of one tag byte.)
  if (n < MIN_MATCHING_BLOCK) {
    const out = new Uint8Array(n === 0 ? 1 : 2 + n);
    snappyCompressInto(input, out, 0);
    return out;
  }
  if (n > MAX_HEADER_VALUE) throw new RangeError(`snappy cannot encode ${n} bytes (limit 2^32 - 1)`);
  const out = new Uint8Array(snappyMaxCompressedLength(n));
  return out.slice(0, snappyCompressInto(input, out, 0));
}

/**
 * Compresses `input` as {@link snappyCompress} does, into `out` from `at`, which must have room for
 * {@link snappyMaxCompressedLength}(input.length) bytes (or exactly what a block too short for a match takes: 1, or
 * 2 + its length); returns the bytes written. For a caller that copies the block on at once (into a frame) and so
 * need not allocate one per message.
 */
export function snappyCompressInto(input: Uint8Array, out: Uint8Array, at: number): number {
  const n = input.length;
  if (n > MAX_HEADER_VALUE) throw new RangeError(`snappy cannot encode ${n} bytes (limit 2^32 - 1)`);
  const room = n < MIN_MATCHING_BLOCK ? (n === 0 ? 1 : 2 + n) : snappyMaxCompressedLength(n);
  if (!Number.isSafeInteger(at) || at < 0 || at + room > out.length) {
    throw new RangeError(`snappy: no room for ${room} bytes at ${at} of ${out.length}`);
  }
  if (n < MIN_MATCHING_BLOCK) {
    out[at] = n;
    return n > 0 ? emitLiteral(out, at + 1, input, 0, n) - at : 1;
  }
  let d = at;
  let v = n;
  while (v >= 0x80) {
    out[d++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[d++] = v;
  // One view of the output for every block (their literals are copied through it).
  const outView = new DataView(out.buffer, out.byteOffset, out.length);
  for (let start = 0; start < n; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, n);
    d =
      end - start < MIN_MATCHING_BLOCK
        ? emitLiteral(out, d, input, start, end)
        : compressBlock(out, outView, d, input.subarray(start, end));
  }
  return d - at;
}

/** Writes the tag (and length bytes) of a literal of `len` bytes at out[d]; returns the new write position. */
function emitLiteralTag(out: Uint8Array, d: number, len: number): number {
  const m = len - 1;
  if (m < 60) {
    out[d++] = m << 2;
  } else if (m < 0x100) {
    out[d++] = 60 << 2;
    out[d++] = m;
  } else {
    // Blocks are at most 64 KiB, so two length bytes always suffice.
    out[d++] = 61 << 2;
    out[d++] = m & 0xff;
    out[d++] = m >>> 8;
  }
  return d;
}

/** Writes src[from, to) (under MIN_MATCHING_BLOCK bytes) as one literal element at out[d]; returns the new position. */
function emitLiteral(out: Uint8Array, d: number, src: Uint8Array, from: number, to: number): number {
  d = emitLiteralTag(out, d, to - from);
  for (let i = from; i < to; i++) out[d++] = src[i]!;
  return d;
}

/**
 * emitLiteral within a block, given DataViews of `out` and of the block `src`: up to LONG_LITERAL bytes are copied
 * 4 at a time through them, longer literals (incompressible runs) by `set`.
 */
function emitBlockLiteral(
  out: Uint8Array,
  outView: DataView,
  d: number,
  src: Uint8Array,
  srcView: DataView,
  from: number,
  to: number,
): number {
  d = emitLiteralTag(out, d, to - from);
  if (to - from > LONG_LITERAL) {
    out.set(src.subarray(from, to), d);
    return d + to - from;
  }
  let i = from;
  for (; i + 4 <= to; i += 4, d += 4) outView.setInt32(d, srcView.getInt32(i, true), true);
  for (; i < to; i++) out[d++] = src[i]!;
  return d;
}

/** Writes copy elements for a match of `len` bytes `offset` back (offset < 64 KiB); returns the new position. */
function emitCopy(out: Uint8Array, d: number, offset: number, len: number): number {
  // Elements of 64 bytes while more than 67 remain, so the rest (at least 4) still fits a 1-byte-offset copy.
  while (len >= 68) {
    out[d] = (63 << 2) | 2;
    out[d + 1] = offset & 0xff;
    out[d + 2] = offset >>> 8;
    d += 3;
    len -= 64;
  }
  if (len > 64) {
    out[d] = (59 << 2) | 2;
    out[d + 1] = offset & 0xff;
    out[d + 2] = offset >>> 8;
    d += 3;
    len -= 60;
  }
  if (len >= 12 || offset >= 2048) {
    out[d] = ((len - 1) << 2) | 2;
    out[d + 1] = offset & 0xff;
    out[d + 2] = offset >>> 8;
    return d + 3;
  }
  out[d] = ((offset >>> 8) << 5) | ((len - 4) << 2) | 1;
  out[d + 1] = offset & 0xff;
  return d + 2;
}

/**
 * LZ77 over one block of at least MIN_MATCHING_BLOCK bytes: hash every probed 4-byte sequence into `table`
 * (position within the block), emit a copy where the sequence at the remembered position matches, and probe
 * more sparsely the longer nothing matches, so incompressible data passes quickly.
 */
function compressBlock(out: Uint8Array, outView: DataView, d: number, src: Uint8Array): number {
  const n = src.length;
  let bits = MIN_TABLE_BITS;
  while (bits < MAX_TABLE_BITS && 1 << bits < n) bits++;
  const shift = 32 - bits;
  table.fill(0, 0, 1 << bits);
  // Unaligned little-endian 32-bit loads through a DataView: the engines compile them to one load, where
  // assembling four bytes costs four.
  const view = new DataView(src.buffer, src.byteOffset, n);

  const sLimit = n - INPUT_MARGIN;
  let nextEmit = 0;
  let s = 1;
  let nextWord = view.getInt32(s, true);
  for (;;) {
    // Search for a 4-byte match, stepping further apart after every 32 misses.
    let skip = 32;
    let next = s;
    let candidate: number;
    let word: number;
    do {
      s = next;
      word = nextWord;
      const step = skip >>> 5;
      next = s + step;
      skip += step;
      if (next > sLimit) return nextEmit < n ? emitBlockLiteral(out, outView, d, src, view, nextEmit, n) : d;
      const h = Math.imul(word, HASH_MUL) >>> shift;
      candidate = table[h]!;
      table[h] = s;
      nextWord = view.getInt32(next, true);
    } while (word !== view.getInt32(candidate, true));

    d = emitBlockLiteral(out, outView, d, src, view, nextEmit, s);

    // Emit copies while the position right after a match starts another one.
    for (;;) {
      const base = s;
      let i = candidate + 4;
      s += 4;
      // Extend the match 4 bytes at a time, then byte by byte.
      const last4 = n - 4;
      while (s <= last4 && view.getInt32(s, true) === view.getInt32(i, true)) {
        s += 4;
        i += 4;
      }
      while (s < n && src[s] === src[i]) {
        s++;
        i++;
      }
      d = emitCopy(out, d, base - candidate, s - base);
      nextEmit = s;
      if (s >= sLimit) return nextEmit < n ? emitBlockLiteral(out, outView, d, src, view, nextEmit, n) : d;
      // Index the position just before `s`, then check whether `s` itself repeats earlier data.
      table[Math.imul(view.getInt32(s - 1, true), HASH_MUL) >>> shift] = s - 1;
      const cur = view.getInt32(s, true);
      const h = Math.imul(cur, HASH_MUL) >>> shift;
      candidate = table[h]!;
      table[h] = s;
      if (cur !== view.getInt32(candidate, true)) {
        s++;
        nextWord = view.getInt32(s, true);
        break;
      }
    }
  }
}
