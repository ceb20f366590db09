/**
 * Byte helpers used across the stack. All take and return plain `Uint8Array`s.
 */

const HEX_CHARS = '0123456789abcdef';
const HEX_BYTE: string[] = Array.from({ length: 256 }, (_, i) => HEX_CHARS[i >> 4]! + HEX_CHARS[i & 15]!);

/**
 * Lowercase hex, no `0x` prefix.
 * @example bytesToHex(new Uint8Array([1, 255])) // '01ff'
 */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i]!];
  return out;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Parses hex (an optional `0x` prefix, either case). Throws a TypeError naming `label` on bad input.
 * @example hexToBytes('0x01ff') // Uint8Array [1, 255]
 */
export function hexToBytes(hex: string, label = 'hex'): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError(`${label}: expected a hex string, got ${typeof hex}`);
  const start = hex.startsWith('0x') || hex.startsWith('0X') ? 2 : 0;
  const length = hex.length - start;
  if (length % 2 !== 0) throw new TypeError(`${label}: hex string has an odd length (${length})`);
  const out = new Uint8Array(length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(start + i * 2));
    const lo = hexNibble(hex.charCodeAt(start + i * 2 + 1));
    if (hi < 0 || lo < 0) throw new TypeError(`${label}: invalid hex character at offset ${start + i * 2}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Concatenates byte arrays into a new array.
 * @example concatBytes(a, b, c)
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Constant-time equality for equal lengths (length itself is not secret). Use for MACs and tags.
 * @example equalBytes(expectedMac, receivedMac)
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Throws a TypeError unless `value` is a Uint8Array (of `length`, when given). */
export function assertBytes(value: unknown, label: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${label}: expected Uint8Array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${label}: expected ${length} bytes, got ${value.length}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 encode. */
export function utf8ToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Strict UTF-8 decode: throws a TypeError on invalid sequences. */
export function bytesToUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Minimal big-endian encoding of a non-negative integer (zero is the empty array), as RLP and ENR use.
 * @example uintToBytes(1024) // Uint8Array [4, 0]
 */
export function uintToBytes(value: number | bigint): Uint8Array {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`expected a non-negative safe integer, got ${value}`);
    if (value === 0) return new Uint8Array(0);
    if (value < 0x100000000) {
      const n = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4;
      const out = new Uint8Array(n);
      for (let i = n - 1, v = value; i >= 0; i--, v >>>= 8) out[i] = v & 0xff;
      return out;
    }
    value = BigInt(value);
  }
  if (value < 0n) throw new RangeError(`expected a non-negative integer, got ${value}`);
  if (value === 0n) return new Uint8Array(0);
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return hexToBytes(hex);
}

/** Big-endian bytes to bigint (empty array is zero). */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytesToHex(bytes)}`);
}

/** Big-endian bytes to a number; throws a RangeError above Number.MAX_SAFE_INTEGER. */
export function bytesToNumber(bytes: Uint8Array): number {
  if (bytes.length > 7) {
    const big = bytesToBigInt(bytes);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`integer ${big} exceeds Number.MAX_SAFE_INTEGER`);
    return Number(big);
  }
  let n = 0;
  for (let i = 0; i < bytes.length; i++) n = n * 256 + bytes[i]!;
  if (n > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`integer ${bytesToBigInt(bytes)} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}

/** Big-endian fixed-width encoding (left-padded with zeros); throws a RangeError if the value does not fit. */
export function bigIntToFixedBytes(value: bigint, length: number): Uint8Array {
  const minimal = uintToBytes(value);
  if (minimal.length > length) throw new RangeError(`value does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  out.set(minimal, length - minimal.length);
  return out;
}
