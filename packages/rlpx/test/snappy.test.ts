import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError, TooLargeError } from '@devp2p/core';
import { hex, readVectorBytes, readVectorJson } from '@devp2p/test-utils';
import {
  SNAPPY_MAX_DECODED_SIZE,
  snappyCompress,
  snappyCompressInto,
  snappyDecodedLength,
  snappyMaxCompressedLength,
  snappyUncompress,
} from '../src/snappy.ts';
import { xorshift } from './helpers.ts';

interface DecodeCase {
  desc: string;
  input: string;
  want: string;
  error: string | null;
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** Text-like data: words from a small vocabulary, so it compresses the way real payloads do. */
function textLike(next: () => number, n: number): Uint8Array {
  const words = ['block', 'header', 'peer', 'the', 'of', 'transaction', 'receipt', 'hash', 'status', '0x', 'node'];
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const w = words[next() % words.length]!;
    for (let j = 0; j < w.length && i < n; j++) out[i++] = w.charCodeAt(j);
    if (i < n) out[i++] = next() % 7 === 0 ? 10 : 32;
  }
  return out;
}

function roundTrip(data: Uint8Array): Uint8Array {
  const packed = snappyCompress(data);
  assert.ok(packed.length <= snappyMaxCompressedLength(data.length), 'compressed size within the bound');
  assert.equal(snappyDecodedLength(packed), data.length);
  const back = snappyUncompress(packed, Math.max(data.length, SNAPPY_MAX_DECODED_SIZE));
  assert.deepEqual(back, data);
  return packed;
}

function assertSnappyError(fn: () => unknown, what: string): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_SNAPPY', what);
}

const decodeCases: DecodeCase[] = readVectorJson<{ cases: DecodeCase[] }>('snappy/decode-cases.json').cases;

test('snappy decode-cases.json vectors', () => {
  assert.ok(decodeCases.length > 0);
});

for (const c of decodeCases) {
  test(`snappy vector: ${c.desc}`, () => {
    const input = hex(c.input);
    if (c.error === null) assert.deepEqual(snappyUncompress(input), hex(c.want));
    else assertSnappyError(() => snappyUncompress(input), c.desc);
  });
}

test('snappy golden file decodes to Isaac.Newton-Opticks.txt', () => {
  const plain = readVectorBytes('snappy/Isaac.Newton-Opticks.txt');
  const packed = readVectorBytes('snappy/Isaac.Newton-Opticks.txt.rawsnappy');
  assert.equal(snappyDecodedLength(packed), plain.length);
  assert.deepEqual(snappyUncompress(packed), plain);
});

test('snappy compresses Opticks at least as well as the reference', () => {
  const plain = readVectorBytes('snappy/Isaac.Newton-Opticks.txt');
  const golden = readVectorBytes('snappy/Isaac.Newton-Opticks.txt.rawsnappy');
  const packed = roundTrip(plain);
  assert.ok(packed.length <= golden.length, `${packed.length} <= ${golden.length}`);
});

test('snappy round trips empty and 1-byte inputs', () => {
  assert.deepEqual(roundTrip(new Uint8Array(0)), Uint8Array.of(0));
  roundTrip(Uint8Array.of(0x42));
});

test('snappy round trips 1 MiB of zeros, much smaller', () => {
  const packed = roundTrip(new Uint8Array(1 << 20));
  assert.ok(packed.length < (1 << 20) / 20, `zeros compressed to ${packed.length}`);
});

test('snappy round trips 1 MiB of random bytes', () => {
  const data = randomBytes(xorshift(1), 1 << 20);
  const packed = roundTrip(data);
  assert.ok(packed.length <= snappyMaxCompressedLength(data.length));
});

test('snappy round trips repeated patterns and text, and shrinks them', () => {
  const next = xorshift(2);
  for (const period of [1, 2, 3, 4, 7, 8, 13, 64, 100, 1000, 5000]) {
    const unit = randomBytes(next, period);
    const data = new Uint8Array(200_000);
    for (let i = 0; i < data.length; i += period) data.set(unit.subarray(0, Math.min(period, data.length - i)), i);
    const packed = roundTrip(data);
    assert.ok(packed.length < data.length / 2, `period ${period}: ${packed.length} bytes`);
  }
  const text = textLike(next, 300_000);
  assert.ok(roundTrip(text).length < text.length / 2);
});

test('snappy round trips lengths around the 64 KiB block edges', () => {
  const next = xorshift(3);
  const base = textLike(next, 3 * 65536 + 40);
  for (const edge of [0, 65536, 2 * 65536, 3 * 65536]) {
    for (let delta = -20; delta <= 20; delta++) {
      const n = edge + delta;
      if (n >= 0) roundTrip(base.subarray(0, n));
    }
  }
  for (let n = 0; n < 80; n++) roundTrip(randomBytes(next, n));
});

test('snappy decodes each block into an array of its own, whatever its size', () => {
  // Sizes on both sides of the decoder's shared scratch (blocks of 65..65536 bytes go through it): a result must
  // keep its bytes after later decodes, and must not be a view of a larger array.
  const next = xorshift(11);
  const sizes = [1, 64, 65, 1024, 65536, 65537];
  const inputs = sizes.map((n) => textLike(next, n));
  const results = inputs.map((data) => snappyUncompress(snappyCompress(data)));
  for (const data of inputs) snappyUncompress(snappyCompress(data.map((b) => b ^ 0xff)));
  results.forEach((result, i) => {
    assert.deepEqual(result, inputs[i]);
    assert.equal(result.byteOffset, 0);
    assert.equal(result.buffer.byteLength, sizes[i]);
  });
});

test('snappy decoder handles long overlapping and non-overlapping copies', () => {
  // "abcd" then copies of 64 bytes at offsets 1, 4 and 64 (2-byte-offset tags), then one 4-byte-offset copy.
  const input = Uint8Array.of(
    ...[0xe4, 0x01],
    ...[0x0c, 0x61, 0x62, 0x63, 0x64],
    ...[0xfe, 0x01, 0x00],
    ...[0xfe, 0x04, 0x00],
    ...[0xfe, 0x40, 0x00],
    ...[0x7f, 0x80, 0x00, 0x00, 0x00],
  );
  const want = new Uint8Array(260);
  want.set([0x61, 0x62, 0x63, 0x64]);
  for (let i = 4; i < 68; i++) want[i] = 0x64;
  for (let i = 68; i < 132; i++) want[i] = want[i - 4]!;
  for (let i = 132; i < 196; i++) want[i] = want[i - 64]!;
  for (let i = 196; i < 228; i++) want[i] = want[i - 128]!;
  assert.equal(snappyDecodedLength(input), 228);
  assert.deepEqual(snappyUncompress(input), want.subarray(0, 228));
});

test('snappy header: bad and overlong varints are ProtocolErrors', () => {
  assert.equal(snappyDecodedLength(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)), 0xffffffff);
  assert.equal(snappyDecodedLength(Uint8Array.of(0x80, 0x01)), 128);
  assertSnappyError(() => snappyDecodedLength(new Uint8Array(0)), 'empty');
  assertSnappyError(() => snappyDecodedLength(Uint8Array.of(0x80, 0x80)), 'truncated');
  assertSnappyError(() => snappyDecodedLength(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x10)), 'over 32 bits');
  assertSnappyError(() => snappyDecodedLength(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00)), 'six bytes');
  assertSnappyError(() => snappyUncompress(new Uint8Array(0)), 'empty block');
});

test('snappy rejects a declared 2^32-1 bytes with TooLargeError before allocating', () => {
  const input = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
  assert.throws(
    () => snappyUncompress(input),
    (err: unknown) => err instanceof TooLargeError && err.size === 0xffffffff && err.limit === SNAPPY_MAX_DECODED_SIZE,
  );
  assert.throws(() => snappyUncompress(input, 1 << 20), TooLargeError);
});

test('snappy honours maxLength', () => {
  const data = textLike(xorshift(4), 1000);
  const packed = snappyCompress(data);
  assert.deepEqual(snappyUncompress(packed, 1000), data);
  assert.throws(() => snappyUncompress(packed, 999), TooLargeError);
  assert.throws(() => snappyUncompress(packed, 0), TooLargeError);
  assert.deepEqual(snappyUncompress(Uint8Array.of(0), 0), new Uint8Array(0));
});

test('snappyCompressInto writes what snappyCompress returns, at an offset, and refuses too little room', () => {
  const rand = xorshift(7);
  for (const n of [0, 1, 16, 17, 100, 4096, 70_000]) {
    // Half repeated text (matches), half random (literals).
    const input = new Uint8Array(n);
    for (let i = 0; i < n; i++) input[i] = i < n / 2 ? 97 + (i % 7) : rand() & 0xff;
    const want = snappyCompress(input);
    const room = n < 17 ? want.length : snappyMaxCompressedLength(n);
    const out = new Uint8Array(5 + room).fill(0xee);
    const written = snappyCompressInto(input, out, 5);
    assert.equal(written, want.length);
    assert.deepEqual(out.subarray(5, 5 + written), want);
    assert.ok(out.subarray(0, 5).every((b) => b === 0xee));
    assert.throws(() => snappyCompressInto(input, new Uint8Array(room - 1), 0), RangeError);
    assert.throws(() => snappyCompressInto(input, out, 6), RangeError);
  }
});

test('snappyMaxCompressedLength follows 32 + n + n/6', () => {
  assert.equal(snappyMaxCompressedLength(0), 32);
  assert.equal(snappyMaxCompressedLength(6), 39);
  assert.equal(snappyMaxCompressedLength(1 << 20), 32 + (1 << 20) + Math.floor((1 << 20) / 6));
  assert.throws(() => snappyMaxCompressedLength(-1), RangeError);
});

test('snappy fuzz: 3000 random and mutated inputs only ever throw ProtocolError', () => {
  const next = xorshift(0x5eed);
  const seeds = [
    snappyCompress(textLike(next, 5000)),
    snappyCompress(randomBytes(next, 300)),
    snappyCompress(new Uint8Array(3000).fill(7)),
    snappyCompress(textLike(next, 70_000)),
  ];
  const limit = 1 << 20;
  let decoded = 0;
  for (let round = 0; round < 3000; round++) {
    let input: Uint8Array;
    if (round % 3 === 0) {
      // Random body after a small header, or random bytes throughout.
      const body = randomBytes(next, next() % 200);
      input = round % 2 === 0 ? Uint8Array.of(next() % 128, ...body) : body;
    } else {
      const seed = seeds[next() % seeds.length]!;
      input = seed.slice();
      const edits = 1 + (next() % 4);
      for (let e = 0; e < edits; e++) {
        const at = next() % Math.max(input.length, 1);
        switch (next() % 4) {
          case 0:
            input[at] = next() & 0xff;
            break;
          case 1:
            input[at] = input[at]! ^ (1 << (next() % 8));
            break;
          case 2:
            input = input.subarray(0, at);
            break;
          default:
            input = Uint8Array.of(...input.subarray(0, at), next() & 0xff, ...input.subarray(at));
        }
      }
    }
    try {
      const out = snappyUncompress(input, limit);
      assert.equal(out.length, snappyDecodedLength(input));
      decoded++;
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `round ${round}: ${String(err)}`);
    }
  }
  assert.ok(decoded > 0 && decoded < 3000, `${decoded} inputs decoded`);
});
