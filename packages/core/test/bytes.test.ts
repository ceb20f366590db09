import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertBytes,
  bigIntToFixedBytes,
  bytesToBigInt,
  bytesToHex,
  bytesToNumber,
  bytesToUtf8,
  concatBytes,
  equalBytes,
  hexToBytes,
  uintToBytes,
  utf8ToBytes,
} from '../src/index.ts';

describe('hex', () => {
  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = bytesToHex(all);
    assert.equal(text.length, 512);
    assert.equal(text.slice(0, 6), '000102');
    assert.deepEqual(hexToBytes(text), all);
    assert.deepEqual(hexToBytes(`0x${text.toUpperCase()}`), all);
  });

  it('rejects odd lengths and non-hex characters with the label', () => {
    assert.throws(() => hexToBytes('abc', 'node id'), /node id: hex string has an odd length/);
    assert.throws(() => hexToBytes('zz'), TypeError);
    assert.throws(() => hexToBytes('0x0g'), /invalid hex character at offset 2/);
  });
});

describe('byte helpers', () => {
  it('concatenates', () => {
    assert.deepEqual(concatBytes(), new Uint8Array());
    assert.deepEqual(concatBytes(hexToBytes('01'), new Uint8Array(), hexToBytes('0203')), hexToBytes('010203'));
  });

  it('compares for equality', () => {
    assert.ok(equalBytes(hexToBytes('0102'), hexToBytes('0102')));
    assert.ok(!equalBytes(hexToBytes('0102'), hexToBytes('0103')));
    assert.ok(!equalBytes(hexToBytes('0102'), hexToBytes('010200')));
  });

  it('asserts types and lengths', () => {
    assert.throws(() => assertBytes('ab', 'key'), /key: expected Uint8Array, got string/);
    assert.throws(() => assertBytes(new Uint8Array(3), 'key', 4), RangeError);
    assertBytes(new Uint8Array(4), 'key', 4);
  });

  it('encodes minimal big-endian integers', () => {
    assert.deepEqual(uintToBytes(0), new Uint8Array());
    assert.deepEqual(uintToBytes(0n), new Uint8Array());
    assert.deepEqual(uintToBytes(1), hexToBytes('01'));
    assert.deepEqual(uintToBytes(1024), hexToBytes('0400'));
    assert.deepEqual(uintToBytes(0xffffffff), hexToBytes('ffffffff'));
    assert.deepEqual(uintToBytes(0x100000000), hexToBytes('0100000000'));
    assert.deepEqual(uintToBytes(Number.MAX_SAFE_INTEGER), hexToBytes('1fffffffffffff'));
    assert.deepEqual(uintToBytes(2n ** 255n), hexToBytes(`80${'00'.repeat(31)}`));
    assert.throws(() => uintToBytes(-1), RangeError);
    assert.throws(() => uintToBytes(1.5), RangeError);
    assert.throws(() => uintToBytes(-1n), RangeError);
  });

  it('decodes big-endian integers', () => {
    assert.equal(bytesToNumber(new Uint8Array()), 0);
    assert.equal(bytesToNumber(hexToBytes('0400')), 1024);
    assert.equal(bytesToNumber(hexToBytes('001fffffffffffff')), Number.MAX_SAFE_INTEGER);
    assert.throws(() => bytesToNumber(hexToBytes('20000000000000')), RangeError);
    assert.equal(bytesToBigInt(hexToBytes('0100000000000000000000')), 2n ** 80n);
    assert.deepEqual(bigIntToFixedBytes(5n, 4), hexToBytes('00000005'));
    assert.throws(() => bigIntToFixedBytes(2n ** 32n, 4), RangeError);
  });

  it('encodes UTF-8 and rejects invalid sequences on decode', () => {
    assert.deepEqual(utf8ToBytes('é'), hexToBytes('c3a9'));
    assert.equal(bytesToUtf8(hexToBytes('c3a9')), 'é');
    assert.throws(() => bytesToUtf8(hexToBytes('c3')), TypeError);
  });
});
