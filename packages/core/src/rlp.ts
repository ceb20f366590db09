/**
 * Strict RLP (Recursive Length Prefix) codec, as specified in the Ethereum yellow paper (appendix B) and
 * checked against ethereum/tests. The decoder accepts canonical encodings only: every input it accepts
 * re-encodes to the same bytes.
 */
import { bytesToBigInt, bytesToUtf8, utf8ToBytes } from './bytes.ts';
import { RlpError } from './errors.ts';

/**
 * A value `rlpEncode` accepts: bytes, UTF-8 text, a non-negative integer (minimal big-endian, zero is the
 * empty string) or a list of these.
 * @example const hello: RlpInput = [5, 'devp2p', new Uint8Array(64), [['eth', 68n]]];
 */
export type RlpInput = Uint8Array | number | bigint | string | readonly RlpInput[];

/**
 * A decoded RLP item: a byte string or a list of items.
 * @example const value: RlpValue = rlpDecode(bytes); if (Array.isArray(value)) console.log(value.length);
 */
export type RlpValue = Uint8Array | RlpValue[];

/**
 * Deepest list nesting the decoder accepts (a list holding a list counts two). It keeps hostile input from
 * exhausting the stack; no devp2p message nests deeper than a handful of lists.
 * @example if (depth > RLP_MAX_DEPTH) reject();
 */
export const RLP_MAX_DEPTH: number = 64;

/** Byte strings and list payloads shorter than this use the one-byte (short) header. */
const SHORT_LIMIT = 56;
const STRING_OFFSET = 0x80;
const LIST_OFFSET = 0xc0;
/** Widest length field the decoder reads: 4 bytes (lengths < 2^32); anything longer exceeds any input. */
const MAX_LENGTH_OF_LENGTH = 4;

// ---------------------------------------------------------------------------------------------------------
// Encoding: one pass measures (and validates) the input, a second pass writes it into a single buffer.

/** Results of the measuring pass that the writing pass reuses, consumed in the same (pre-)order. */
interface EncodePlan {
  /** Payload length of each list, in pre-order. */
  readonly listLengths: number[];
  /** UTF-8 bytes of each string input, in pre-order. */
  readonly texts: Uint8Array[];
  listIndex: number;
  textIndex: number;
}

function newPlan(): EncodePlan {
  return { listLengths: [], texts: [], listIndex: 0, textIndex: 0 };
}

/** Bytes in the minimal big-endian form of a non-negative safe integer (0 for zero). */
function uintByteLength(value: number): number {
  let n = 0;
  for (let v = value; v > 0; v = Math.floor(v / 256)) n++;
  return n;
}

function bigintByteLength(value: bigint): number {
  return value === 0n ? 0 : (value.toString(16).length + 1) >> 1;
}

function headerLength(payloadLength: number): number {
  return payloadLength < SHORT_LIMIT ? 1 : 1 + uintByteLength(payloadLength);
}

function byteStringLength(bytes: Uint8Array): number {
  const n = bytes.length;
  return n === 1 && bytes[0]! < STRING_OFFSET ? 1 : headerLength(n) + n;
}

function checkNumber(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`rlpEncode: expected a non-negative safe integer, got ${value}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** Encoded length of `input`; validates it and records list lengths and UTF-8 bytes in `plan`. */
function measure(input: RlpInput, plan: EncodePlan): number {
  if (input instanceof Uint8Array) return byteStringLength(input);
  if (typeof input === 'number') {
    checkNumber(input);
    if (input > 0 && input < STRING_OFFSET) return 1;
    return 1 + uintByteLength(input); // at most 7 bytes: always a short header
  }
  if (typeof input === 'bigint') {
    if (input < 0n) throw new RangeError(`rlpEncode: expected a non-negative integer, got ${input}`);
    if (input > 0n && input < 0x80n) return 1;
    const n = bigintByteLength(input);
    return headerLength(n) + n;
  }
  if (typeof input === 'string') {
    const bytes = utf8ToBytes(input);
    plan.texts.push(bytes);
    return byteStringLength(bytes);
  }
  if (!Array.isArray(input)) throw new TypeError(`rlpEncode: unsupported input type ${describe(input)}`);
  const list: readonly RlpInput[] = input;
  const index = plan.listLengths.length;
  plan.listLengths.push(0);
  let payload = 0;
  for (let i = 0; i < list.length; i++) payload += measure(list[i]!, plan);
  plan.listLengths[index] = payload;
  return headerLength(payload) + payload;
}

/** Writes `value` big-endian into `out[pos, pos + n)`. */
function writeUint(out: Uint8Array, pos: number, value: number, n: number): void {
  let v = value;
  for (let i = pos + n - 1; i >= pos; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
}

function writeHeader(out: Uint8Array, pos: number, payloadLength: number, offset: number): number {
  if (payloadLength < SHORT_LIMIT) {
    out[pos] = offset + payloadLength;
    return pos + 1;
  }
  const n = uintByteLength(payloadLength);
  out[pos] = offset + SHORT_LIMIT - 1 + n;
  writeUint(out, pos + 1, payloadLength, n);
  return pos + 1 + n;
}

function writeByteString(out: Uint8Array, pos: number, bytes: Uint8Array): number {
  if (bytes.length === 1 && bytes[0]! < STRING_OFFSET) {
    out[pos] = bytes[0]!;
    return pos + 1;
  }
  const start = writeHeader(out, pos, bytes.length, STRING_OFFSET);
  out.set(bytes, start);
  return start + bytes.length;
}

/** Writes the (already measured) `input` at `pos` and returns the position after it. */
function write(input: RlpInput, out: Uint8Array, pos: number, plan: EncodePlan): number {
  if (input instanceof Uint8Array) return writeByteString(out, pos, input);
  if (typeof input === 'number') {
    if (input > 0 && input < STRING_OFFSET) {
      out[pos] = input;
      return pos + 1;
    }
    const n = uintByteLength(input);
    out[pos] = STRING_OFFSET + n;
    writeUint(out, pos + 1, input, n);
    return pos + 1 + n;
  }
  if (typeof input === 'bigint') {
    if (input > 0n && input < 0x80n) {
      out[pos] = Number(input);
      return pos + 1;
    }
    const n = bigintByteLength(input);
    const start = writeHeader(out, pos, n, STRING_OFFSET);
    let v = input;
    for (let i = start + n - 1; i >= start; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return start + n;
  }
  if (typeof input === 'string') return writeByteString(out, pos, plan.texts[plan.textIndex++]!);
  let next = writeHeader(out, pos, plan.listLengths[plan.listIndex++]!, LIST_OFFSET);
  for (let i = 0; i < input.length; i++) next = write(input[i]!, out, next, plan);
  return next;
}

/**
 * RLP-encodes `input` into one freshly allocated buffer (sizes are computed first, nothing is concatenated).
 * Strings are encoded as UTF-8; numbers and bigints as minimal big-endian unsigned integers (zero is `0x80`).
 * Throws a RangeError for negative, fractional or unsafe numbers and negative bigints, and a TypeError for
 * values of any other type.
 * @example rlpEncode(['dog', 1024, new Uint8Array([1])]) // c8 83646f67 820400 01
 */
export function rlpEncode(input: RlpInput): Uint8Array {
  const plan = newPlan();
  const out = new Uint8Array(measure(input, plan));
  write(input, out, 0, plan);
  return out;
}

/**
 * Length in bytes of `rlpEncode(input)`, without building the encoding (validates like `rlpEncode`).
 * @example rlpEncodedLength(['dog', 1024]) // 8
 */
export function rlpEncodedLength(input: RlpInput): number {
  return measure(input, newPlan());
}

/**
 * The header of an RLP list whose payload (its items' encodings, concatenated) is `payloadLength` bytes.
 * @example rlpListHeader(3) // Uint8Array [0xc3]
 */
export function rlpListHeader(payloadLength: number): Uint8Array {
  const out = new Uint8Array(headerLength(payloadLength));
  writeHeader(out, 0, payloadLength, LIST_OFFSET);
  return out;
}

/**
 * The RLP list of items that are already RLP-encoded, without decoding or re-encoding them (records and
 * messages relayed as they came).
 * @example rlpEncodeRawList([rlpEncode(1), rlpEncode('a')]) // the encoding of [1, 'a']
 */
export function rlpEncodeRawList(items: readonly Uint8Array[]): Uint8Array {
  let payload = 0;
  for (const item of items) payload += item.length;
  const out = new Uint8Array(headerLength(payload) + payload);
  let pos = writeHeader(out, 0, payload, LIST_OFFSET);
  for (const item of items) {
    out.set(item, pos);
    pos += item.length;
  }
  return out;
}

/** Largest unsigned 64-bit integer, 2^64 − 1. */
export const MAX_UINT64: bigint = 0xffff_ffff_ffff_ffffn;

/**
 * Encoder-side check of a caller's uint64 field before `rlpEncode`: returns `value`, or throws a TypeError when it
 * is not a bigint and a RangeError when it is outside 0 to {@link MAX_UINT64} (`label` names the field).
 * @example rlpEncode([checkUint64(m.requestId, 'getBlockHeaders.requestId'), ...])
 */
export function checkUint64(value: bigint, label: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${label}: expected a bigint, got ${typeof value}`);
  if (value < 0n || value > MAX_UINT64) throw new RangeError(`${label}: ${value} is outside uint64`);
  return value;
}

/**
 * Encoder-side check of a caller's 32-byte hash before `rlpEncode`: returns `value`, or throws a TypeError naming
 * `label` when it is not a Uint8Array of 32 bytes.
 * @example rlpEncode([checkHash(m.root, 'getAccountRange.root'), ...])
 */
export function checkHash(value: Uint8Array, label: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== 32) throw new TypeError(`${label}: expected 32 bytes`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

/** Read position, shared by the recursive calls of one decode. */
interface Cursor {
  pos: number;
}

function decodeItem(bytes: Uint8Array, cursor: Cursor, end: number, depth: number): RlpValue {
  const start = cursor.pos;
  if (start >= end) throw new RlpError(`unexpected end of input at offset ${start}`);
  const prefix = bytes[start]!;
  if (prefix < STRING_OFFSET) {
    cursor.pos = start + 1;
    return bytes.subarray(start, start + 1);
  }
  const isList = prefix >= LIST_OFFSET;
  const kind = isList ? 'list' : 'string';
  const short = prefix - (isList ? LIST_OFFSET : STRING_OFFSET);
  let payloadStart = start + 1;
  let length = short;
  if (short >= SHORT_LIMIT) {
    const lengthOfLength = short - SHORT_LIMIT + 1;
    if (lengthOfLength > MAX_LENGTH_OF_LENGTH) {
      throw new RlpError(`${kind} at offset ${start} has a ${lengthOfLength}-byte length field (at most 4 supported)`);
    }
    if (lengthOfLength > end - payloadStart) {
      throw new RlpError(`${kind} length field at offset ${start} runs past the end of input`);
    }
    if (bytes[payloadStart] === 0) throw new RlpError(`${kind} length at offset ${start} has leading zero bytes`);
    length = 0;
    for (let i = 0; i < lengthOfLength; i++) length = length * 256 + bytes[payloadStart + i]!;
    if (length < SHORT_LIMIT) {
      throw new RlpError(`${kind} at offset ${start} uses a long header for a length of ${length} (< 56)`);
    }
    payloadStart += lengthOfLength;
  }
  if (length > end - payloadStart) {
    throw new RlpError(
      `${kind} at offset ${start} claims ${length} bytes but only ${end - payloadStart} remain in its container`,
    );
  }
  const payloadEnd = payloadStart + length;
  if (!isList) {
    if (length === 1 && bytes[payloadStart]! < STRING_OFFSET) {
      throw new RlpError(`single byte below 0x80 at offset ${start} must not carry a string header`);
    }
    cursor.pos = payloadEnd;
    return bytes.subarray(payloadStart, payloadEnd);
  }
  if (depth >= RLP_MAX_DEPTH) throw new RlpError(`lists nested deeper than ${RLP_MAX_DEPTH} at offset ${start}`);
  const items: RlpValue[] = [];
  cursor.pos = payloadStart;
  // Each item is bounded by payloadEnd, so the loop ends exactly there or throws.
  while (cursor.pos < payloadEnd) items.push(decodeItem(bytes, cursor, payloadEnd, depth + 1));
  return items;
}

function checkInput(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`rlpDecode: expected Uint8Array, got ${describe(bytes)}`);
}

/**
 * Decodes the single RLP item at the start of `bytes` and reports how many bytes it used; whatever follows is
 * left to the caller (EIP-8 handshake packets carry trailing data). Byte strings in the result are `subarray`
 * views of `bytes`, not copies (copy what you keep if `bytes` is reused or large). Throws an RlpError on
 * malformed or non-canonical input, and a TypeError when `bytes` is not a Uint8Array.
 * @example const { value, consumed } = rlpDecodePrefix(packet); const padding = packet.subarray(consumed);
 */
export function rlpDecodePrefix(bytes: Uint8Array): { value: RlpValue; consumed: number } {
  checkInput(bytes);
  const cursor: Cursor = { pos: 0 };
  const value = decodeItem(bytes, cursor, bytes.length, 0);
  return { value, consumed: cursor.pos };
}

/**
 * Decodes `bytes`, which must hold exactly one canonical RLP item (trailing bytes are an error). Byte strings
 * in the result are `subarray` views of `bytes`, not copies. Throws an RlpError on malformed or non-canonical
 * input, and a TypeError when `bytes` is not a Uint8Array.
 * @example rlpDecode(hexToBytes('c88363617483646f67')) // [Uint8Array 'cat', Uint8Array 'dog']
 */
export function rlpDecode(bytes: Uint8Array): RlpValue {
  const { value, consumed } = rlpDecodePrefix(bytes);
  if (consumed !== bytes.length) {
    throw new RlpError(`${bytes.length - consumed} trailing bytes after the RLP item at offset ${consumed}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Typed readers for decoded values

function describeValue(value: RlpValue): string {
  return value instanceof Uint8Array ? `a byte string of ${value.length} bytes` : `a list of ${value.length} items`;
}

/**
 * The byte string `value` (of exactly `length` bytes, when given); throws an RlpError naming `label` otherwise.
 * @example const nodeId = rlpBytes(items[4], 'hello.nodeId', 64);
 */
export function rlpBytes(value: RlpValue | undefined, label: string, length?: number): Uint8Array {
  if (value === undefined) throw new RlpError(`${label}: missing`);
  if (!(value instanceof Uint8Array)) {
    throw new RlpError(`${label}: expected a byte string, got ${describeValue(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RlpError(`${label}: expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

/**
 * The list `value`, holding at least `minLength` items (more are allowed, for EIP-8 forward compatibility);
 * throws an RlpError naming `label` otherwise.
 * @example const [version, clientId, caps] = rlpList(rlpDecode(payload), 'hello', 5);
 */
export function rlpList(value: RlpValue | undefined, label: string, minLength = 0): RlpValue[] {
  if (value === undefined) throw new RlpError(`${label}: missing`);
  if (value instanceof Uint8Array) throw new RlpError(`${label}: expected a list, got ${describeValue(value)}`);
  if (value.length < minLength) {
    throw new RlpError(`${label}: expected at least ${minLength} items, got ${value.length}`);
  }
  return value;
}

/**
 * The canonical unsigned integer in `value` (empty string is 0, no leading zero bytes, at most
 * Number.MAX_SAFE_INTEGER); throws an RlpError naming `label` otherwise.
 * @example const version = rlpUint(items[0], 'hello.version');
 */
export function rlpUint(value: RlpValue | undefined, label: string): number {
  const bytes = rlpBytes(value, label);
  if (bytes.length > 0 && bytes[0] === 0) throw new RlpError(`${label}: integer has leading zero bytes`);
  if (bytes.length > 7) {
    throw new RlpError(`${label}: integer of ${bytes.length} bytes exceeds Number.MAX_SAFE_INTEGER`);
  }
  let n = 0;
  for (let i = 0; i < bytes.length; i++) n = n * 256 + bytes[i]!;
  if (n > Number.MAX_SAFE_INTEGER) throw new RlpError(`${label}: integer ${n} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}

/**
 * The canonical unsigned integer in `value` as a bigint (no leading zero bytes, at most `maxBytes` bytes,
 * 32 by default); throws an RlpError naming `label` otherwise.
 * @example const difficulty = rlpBigUint(items[2], 'status.td');
 */
export function rlpBigUint(value: RlpValue | undefined, label: string, maxBytes = 32): bigint {
  const bytes = rlpBytes(value, label);
  if (bytes.length > maxBytes) {
    throw new RlpError(`${label}: integer of ${bytes.length} bytes exceeds ${maxBytes} bytes`);
  }
  if (bytes.length > 0 && bytes[0] === 0) throw new RlpError(`${label}: integer has leading zero bytes`);
  return bytesToBigInt(bytes);
}

/**
 * The canonical unsigned 64-bit integer in `value` (request ids, block numbers, network ids): `rlpBigUint` with
 * at most 8 bytes; throws an RlpError naming `label` otherwise.
 * @example const requestId = rlpUint64(items[0], 'getBlockHeaders.requestId');
 */
export function rlpUint64(value: RlpValue | undefined, label: string): bigint {
  return rlpBigUint(value, label, 8);
}

/**
 * The list `value` of 32-byte hashes; throws an RlpError naming `label` (and the index) otherwise.
 * @example const wanted = rlpHashes(items[1], 'getBlockBodies.hashes');
 */
export function rlpHashes(value: RlpValue | undefined, label: string): Uint8Array[] {
  return rlpList(value, label).map((hash, i) => rlpBytes(hash, `${label}[${i}]`, 32));
}

/**
 * The byte string `value` decoded as strict UTF-8; throws an RlpError naming `label` otherwise.
 * @example const clientId = rlpUtf8(items[1], 'hello.clientId');
 */
export function rlpUtf8(value: RlpValue | undefined, label: string): string {
  const bytes = rlpBytes(value, label);
  try {
    return bytesToUtf8(bytes);
  } catch (cause) {
    throw new RlpError(`${label}: invalid UTF-8`, { cause });
  }
}
