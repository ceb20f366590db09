import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { bytesToHex, concatBytes, uintToBytes, utf8ToBytes } from '../src/bytes.ts';
import { RlpError } from '../src/errors.ts';
import {
  checkHash,
  checkUint64,
  MAX_UINT64,
  RLP_MAX_DEPTH,
  type RlpInput,
  type RlpValue,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpDecodePrefix,
  rlpEncode,
  rlpEncodedLength,
  rlpEncodeRawList,
  rlpHashes,
  rlpList,
  rlpListHeader,
  rlpUint,
  rlpUint64,
  rlpUtf8,
} from '../src/rlp.ts';

type VectorIn = string | number | VectorIn[];
type VectorFile = Record<string, { in: VectorIn; out: string }>;
/** A decoded value with byte strings shown as hex, so comparisons ignore buffers and offsets. */
type Shown = string | Shown[];

function show(value: RlpValue): Shown {
  return value instanceof Uint8Array ? bytesToHex(value) : value.map(show);
}

/** The vector's input as an RlpInput: strings are UTF-8 text, '#123' a decimal bigint. */
function vectorInput(value: VectorIn): RlpInput {
  if (Array.isArray(value)) return value.map(vectorInput);
  if (typeof value === 'string' && value.startsWith('#')) return BigInt(value.slice(1));
  return value;
}

/** What decoding the vector's encoding must give back. */
function vectorShown(value: VectorIn): Shown {
  if (Array.isArray(value)) return value.map(vectorShown);
  if (typeof value === 'number') return bytesToHex(uintToBytes(value));
  if (value.startsWith('#')) return bytesToHex(uintToBytes(BigInt(value.slice(1))));
  return bytesToHex(utf8ToBytes(value));
}

function assertRlpError(fn: () => unknown, pattern?: RegExp, context = ''): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RlpError, `${context} expected RlpError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_RLP');
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

/** xorshift32: a small seeded PRNG, so the property tests are reproducible. */
function xorshift(seed: number): (bound: number) => number {
  let s = seed >>> 0 || 1;
  return (bound) => {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    return s % bound;
  };
}

function randomBytes(rand: (bound: number) => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = rand(256);
  return out;
}

/** Random byte strings (0..100 bytes, often a single byte) and lists nested up to `depth` levels. */
function randomValue(rand: (bound: number) => number, depth: number): RlpValue {
  if (depth === 0 || rand(2) === 0) return randomBytes(rand, rand(3) === 0 ? 1 : rand(101));
  const items: RlpValue[] = [];
  const count = rand(8);
  for (let i = 0; i < count; i++) items.push(randomValue(rand, depth - 1));
  return items;
}

function listHeader(payloadLength: number): Uint8Array {
  if (payloadLength < 56) return Uint8Array.of(0xc0 + payloadLength);
  const length = uintToBytes(payloadLength);
  return concatBytes(Uint8Array.of(0xf7 + length.length), length);
}

/** `depth` lists, each holding the next, the innermost empty: c0, c1c0, c2c1c0, ... */
function nestedLists(depth: number): Uint8Array {
  const headers: Uint8Array[] = [];
  let size = 1;
  for (let i = 1; i < depth; i++) {
    const header = listHeader(size);
    headers.push(header);
    size += header.length;
  }
  return concatBytes(...headers.reverse(), Uint8Array.of(0xc0));
}

test('rlptest.json: every case encodes to its output and decodes back', () => {
  const cases = readVectorJson<VectorFile>('rlp/rlptest.json');
  assert.ok(Object.keys(cases).length >= 25);
  for (const [name, { in: input, out }] of Object.entries(cases)) {
    const encoded = rlpEncode(vectorInput(input));
    assert.equal(bytesToHex(encoded), bytesToHex(hex(out)), `${name}: encoding`);
    assert.equal(rlpEncodedLength(vectorInput(input)), encoded.length, `${name}: length`);
    assert.deepEqual(show(rlpDecode(hex(out))), vectorShown(input), `${name}: decoding`);
  }
});

test('invalidRLPTest.json: every case is rejected with an RlpError', () => {
  const cases = readVectorJson<VectorFile>('rlp/invalidRLPTest.json');
  assert.ok(Object.keys(cases).length >= 20);
  for (const [name, { out }] of Object.entries(cases)) assertRlpError(() => rlpDecode(hex(out)), undefined, name);
});

test('RandomRLPTests-example.json: every case decodes', () => {
  const cases = readVectorJson<VectorFile>('rlp/RandomRLPTests-example.json');
  assert.ok(Object.keys(cases).length >= 1);
  for (const [name, { out }] of Object.entries(cases)) {
    const bytes = hex(out);
    assert.equal(bytesToHex(rlpEncode(rlpDecode(bytes))), bytesToHex(bytes), name);
  }
});

test('rlpEncode: numbers, bigints, text and byte views', () => {
  const cases: [RlpInput, string][] = [
    [0, '80'],
    [0n, '80'],
    [127, '7f'],
    [127n, '7f'],
    [128, '8180'],
    [128n, '8180'],
    [0x100, '820100'],
    [Number.MAX_SAFE_INTEGER, '871fffffffffffff'],
    [2n ** 64n, '89010000000000000000'],
    [2n ** 448n, `b839${'01'}${'00'.repeat(56)}`],
    ['', '80'],
    ['é', '82c3a9'],
    [new Uint8Array(0), '80'],
    [Uint8Array.of(0), '00'],
    [Uint8Array.of(0x80), '8180'],
    [Uint8Array.of(9, 1, 2, 3).subarray(1), '83010203'],
    [new Uint8Array(56), `b838${'00'.repeat(56)}`],
    [[[], [[]]], 'c3c0c1c0'],
    [[new Uint8Array(55)], `f838b7${'00'.repeat(55)}`],
  ];
  for (const [input, expected] of cases) {
    assert.equal(bytesToHex(rlpEncode(input)), expected, String(input));
    assert.equal(rlpEncodedLength(input), expected.length / 2, String(input));
  }
});

test('rlpEncode: rejects negative, fractional or unsafe numbers and unsupported types', () => {
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -1n]) {
    assert.throws(() => rlpEncode(bad), RangeError, String(bad));
    assert.throws(() => rlpEncode([1, [bad]]), RangeError, String(bad));
  }
  for (const bad of [null, undefined, true, {}, new Uint16Array(2)]) {
    assert.throws(() => rlpEncode(bad as unknown as RlpInput), TypeError, String(bad));
  }
});

test('rlpDecode: single items, views into the input, and argument checks', () => {
  const input = hex('c88363617483646f67');
  const decoded = rlpList(rlpDecode(input), 'pair', 2);
  assert.deepEqual(show(decoded), ['636174', '646f67']);
  assert.equal(rlpBytes(decoded[0], 'cat').buffer, input.buffer, 'byte strings are views of the input');
  assertRlpError(() => rlpDecode(new Uint8Array(0)), /unexpected end/);
  assertRlpError(() => rlpDecode(hex('8300')), /claims 3 bytes/);
  assertRlpError(() => rlpDecode(hex('c2820000')), /claims 2 bytes but only 1/);
  assertRlpError(() => rlpDecode(hex('c28100')), /single byte/);
  assertRlpError(() => rlpDecode(hex('bc0100000000')), /5-byte length field/);
  assertRlpError(() => rlpDecode(hex('0102')), /1 trailing bytes/);
  assertRlpError(() => rlpDecode(hex('c0c0')), /trailing/);
  assert.throws(() => rlpDecode([0x80] as unknown as Uint8Array), TypeError);
});

test('rlpDecodePrefix: decodes the leading item and reports the bytes it used', () => {
  const { value, consumed } = rlpDecodePrefix(hex('c2010200ff'));
  assert.deepEqual(show(value), ['01', '02']);
  assert.equal(consumed, 3);
  assert.equal(rlpDecodePrefix(hex('80')).consumed, 1);
  assertRlpError(() => rlpDecodePrefix(hex('c30102')), /claims 3 bytes but only 2/);
});

test('rlpBytes: byte strings of an exact length', () => {
  assert.deepEqual(rlpBytes(hex('0102'), 'x'), hex('0102'));
  assert.deepEqual(rlpBytes(hex('0102'), 'x', 2), hex('0102'));
  assertRlpError(() => rlpBytes(hex('0102'), 'auth.nonce', 32), /auth\.nonce: expected 32 bytes, got 2/);
  assertRlpError(() => rlpBytes([], 'auth.nonce'), /auth\.nonce: expected a byte string, got a list of 0 items/);
  assertRlpError(() => rlpBytes(undefined, 'auth.nonce'), /auth\.nonce: missing/);
});

test('rlpList: lists with a minimum length, extra items allowed', () => {
  const value = rlpDecode(rlpEncode([1, 2, 3]));
  assert.equal(rlpList(value, 'hello').length, 3);
  assert.equal(rlpList(value, 'hello', 3).length, 3);
  assert.equal(rlpList(value, 'hello', 2).length, 3, 'EIP-8: extra items are allowed');
  assertRlpError(() => rlpList(value, 'hello', 4), /hello: expected at least 4 items, got 3/);
  assertRlpError(() => rlpList(hex('01'), 'hello'), /hello: expected a list, got a byte string of 1 bytes/);
  assertRlpError(() => rlpList(undefined, 'hello'), /hello: missing/);
});

test('rlpUint: canonical safe unsigned integers', () => {
  assert.equal(rlpUint(new Uint8Array(0), 'n'), 0);
  assert.equal(rlpUint(hex('05'), 'n'), 5);
  assert.equal(rlpUint(hex('0400'), 'n'), 1024);
  assert.equal(rlpUint(hex('1fffffffffffff'), 'n'), Number.MAX_SAFE_INTEGER);
  assert.equal(rlpUint(rlpDecode(rlpEncode(100000)), 'n'), 100000);
  assertRlpError(() => rlpUint(hex('00'), 'hello.version'), /hello\.version: integer has leading zero/);
  assertRlpError(() => rlpUint(hex('0001'), 'hello.version'), /leading zero/);
  assertRlpError(() => rlpUint(hex('20000000000000'), 'n'), /exceeds Number\.MAX_SAFE_INTEGER/);
  assertRlpError(() => rlpUint(hex('0100000000000000'), 'n'), /exceeds Number\.MAX_SAFE_INTEGER/);
  assertRlpError(() => rlpUint([], 'n'), /n: expected a byte string/);
  assertRlpError(() => rlpUint(undefined, 'n'), /n: missing/);
});

test('rlpBigUint: canonical unsigned bigints with a size cap', () => {
  assert.equal(rlpBigUint(new Uint8Array(0), 'td'), 0n);
  assert.equal(rlpBigUint(hex('0100'), 'td'), 256n);
  assert.equal(rlpBigUint(hex('ff'.repeat(32)), 'td'), 2n ** 256n - 1n);
  assert.equal(rlpBigUint(hex('ff'.repeat(8)), 'td', 8), 2n ** 64n - 1n);
  assertRlpError(() => rlpBigUint(hex(`01${'00'.repeat(32)}`), 'td'), /td: integer of 33 bytes exceeds 32 bytes/);
  assertRlpError(() => rlpBigUint(hex(`01${'00'.repeat(8)}`), 'td', 8), /exceeds 8 bytes/);
  assertRlpError(() => rlpBigUint(hex('00ff'), 'td'), /td: integer has leading zero/);
  assertRlpError(() => rlpBigUint(hex('00'), 'td'), /leading zero/);
  assertRlpError(() => rlpBigUint([hex('01')], 'td'), /td: expected a byte string/);
});

test('rlpUtf8: strict UTF-8 text', () => {
  assert.equal(rlpUtf8(rlpDecode(rlpEncode('Geth/v1.14 é')), 'clientId'), 'Geth/v1.14 é');
  assert.equal(rlpUtf8(new Uint8Array(0), 'clientId'), '');
  assertRlpError(() => rlpUtf8(hex('ff'), 'hello.clientId'), /hello\.clientId: invalid UTF-8/);
  assertRlpError(() => rlpUtf8(hex('61c3'), 'hello.clientId'), /invalid UTF-8/);
  assertRlpError(() => rlpUtf8(hex('eda080'), 'hello.clientId'), /invalid UTF-8/);
  assertRlpError(() => rlpUtf8([], 'hello.clientId'), /expected a byte string/);
});

test('property: 2000 random nested values survive encode then decode', () => {
  const rand = xorshift(0x5eed);
  for (let i = 0; i < 2000; i++) {
    const value = randomValue(rand, 5);
    const encoded = rlpEncode(value);
    assert.equal(rlpEncodedLength(value), encoded.length);
    assert.deepEqual(show(rlpDecode(encoded)), show(value), `case ${i}: ${bytesToHex(encoded)}`);
  }
});

test('property: 5000 random or mutated inputs decode canonically or throw RlpError', () => {
  const rand = xorshift(0xdecaf);
  let accepted = 0;
  for (let i = 0; i < 5000; i++) {
    let input: Uint8Array;
    if (i % 2 === 0) {
      input = randomBytes(rand, rand(65));
    } else {
      input = rlpEncode(randomValue(rand, 4));
      for (let m = 1 + rand(3); m > 0 && input.length > 0; m--) {
        const at = rand(input.length);
        const op = rand(4);
        if (op === 0) input[at] = rand(256);
        else if (op === 1) input = input.subarray(0, at);
        else if (op === 2) input = concatBytes(input.subarray(0, at), Uint8Array.of(rand(256)), input.subarray(at));
        else input = concatBytes(input.subarray(0, at), input.subarray(at + 1));
      }
    }
    let decoded: RlpValue;
    try {
      decoded = rlpDecode(input);
    } catch (err) {
      assert.ok(err instanceof RlpError, `case ${i} (${bytesToHex(input)}): ${String(err)}`);
      continue;
    }
    accepted++;
    assert.equal(bytesToHex(rlpEncode(decoded)), bytesToHex(input), `case ${i}: accepted a non-canonical encoding`);
  }
  assert.ok(accepted > 0 && accepted < 5000, `accepted ${accepted}`);
});

test(`depth limit: ${RLP_MAX_DEPTH} nested lists decode, deeper input is an RlpError`, () => {
  assert.equal(RLP_MAX_DEPTH, 64);
  let value = rlpDecode(nestedLists(RLP_MAX_DEPTH));
  for (let depth = 1; depth < RLP_MAX_DEPTH; depth++) value = rlpList(value, 'nested', 1)[0]!;
  assert.deepEqual(rlpList(value, 'innermost'), []);
  assertRlpError(() => rlpDecode(nestedLists(RLP_MAX_DEPTH + 1)), /nested deeper than 64/);
  assertRlpError(() => rlpDecode(nestedLists(10_000)), /nested deeper than 64/);
  assertRlpError(() => rlpDecode(new Uint8Array(10_000).fill(0xc1)));
  assertRlpError(() => rlpDecode(new Uint8Array(10_000).fill(0xf8)));
});

test('rlpListHeader and rlpEncodeRawList agree with rlpEncode at every header size', () => {
  for (const count of [0, 1, 54, 55, 56, 300, 70_000]) {
    const items: RlpInput[] = Array.from({ length: count }, (_, i) => (i % 3 === 0 ? 'ab' : i));
    const whole = rlpEncode(items);
    const raw = rlpEncodeRawList(items.map((item) => rlpEncode(item)));
    assert.equal(bytesToHex(raw), bytesToHex(whole), `${count} items`);
    let payload = 0;
    for (const item of items) payload += rlpEncodedLength(item);
    assert.equal(bytesToHex(rlpListHeader(payload)), bytesToHex(whole.subarray(0, whole.length - payload)));
  }
  assert.equal(bytesToHex(rlpListHeader(0)), 'c0');
  assert.equal(bytesToHex(rlpListHeader(55)), 'f7');
  assert.equal(bytesToHex(rlpListHeader(56)), 'f838');
  assert.equal(bytesToHex(rlpListHeader(1024)), 'f90400');
});

test('rlpUint64 and rlpHashes read uint64 fields and hash lists, and refuse the rest', () => {
  assert.equal(rlpUint64(rlpDecode(rlpEncode(0n)), 'n'), 0n);
  assert.equal(rlpUint64(rlpDecode(rlpEncode(MAX_UINT64)), 'n'), MAX_UINT64);
  assert.throws(() => rlpUint64(rlpDecode(rlpEncode(MAX_UINT64 + 1n)), 'x.id'), /x\.id: integer of 9 bytes/);
  assert.throws(() => rlpUint64(Uint8Array.of(0x00, 0x01), 'x.id'), /x\.id: integer has leading zero/);
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  assert.deepEqual(rlpHashes(rlpDecode(rlpEncode([a, b])), 'h'), [a, b]);
  assert.deepEqual(rlpHashes(rlpDecode(rlpEncode([])), 'h'), []);
  assert.throws(
    () => rlpHashes(rlpDecode(rlpEncode([a, new Uint8Array(31)])), 'x.hashes'),
    /x\.hashes\[1\]: expected 32/,
  );
  assert.throws(() => rlpHashes(rlpDecode(rlpEncode(a)), 'x.hashes'), /x\.hashes: expected a list/);
  assert.throws(() => rlpHashes(undefined, 'x.hashes'), /x\.hashes: missing/);
});

test('checkUint64 and checkHash pass valid fields through and name the invalid one', () => {
  assert.equal(checkUint64(0n, 'n'), 0n);
  assert.equal(checkUint64(MAX_UINT64, 'n'), MAX_UINT64);
  assert.throws(() => checkUint64(MAX_UINT64 + 1n, 'm.id'), {
    name: 'RangeError',
    message: /m\.id: .* outside uint64/,
  });
  assert.throws(() => checkUint64(-1n, 'm.id'), RangeError);
  assert.throws(() => checkUint64(1 as unknown as bigint, 'm.id'), {
    name: 'TypeError',
    message: /m\.id: expected a bigint/,
  });
  const hash = new Uint8Array(32);
  assert.equal(checkHash(hash, 'h'), hash);
  assert.throws(() => checkHash(new Uint8Array(33), 'm.root'), {
    name: 'TypeError',
    message: 'm.root: expected 32 bytes',
  });
  assert.throws(() => checkHash('00' as unknown as Uint8Array, 'm.root'), TypeError);
  assert.equal(MAX_UINT64, (1n << 64n) - 1n);
});
