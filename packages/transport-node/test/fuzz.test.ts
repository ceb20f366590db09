import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Devp2pError } from '@devp2p/core';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import { decodeTxtResponse, encodeTxtQuery } from '../src/dns.ts';

const isDnsError = (error: unknown): boolean => error instanceof Devp2pError && error.code === 'ERR_DNS';

describe('DNS response decoder', () => {
  const answer = (records: string[][]): Uint8Array => {
    const query = encodeTxtQuery('a.test', 7);
    const question = query.subarray(12, query.length - 11);
    const parts: number[] = [0, 7, 0x81, 0x80, 0, 1, 0, records.length, 0, 0, 0, 0, ...question];
    for (const strings of records) {
      const data = strings.flatMap((s) => [s.length, ...new TextEncoder().encode(s)]);
      parts.push(0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, data.length >> 8, data.length & 0xff, ...data);
    }
    return Uint8Array.from(parts);
  };

  it('decodes TXT answers with compressed names', () => {
    assert.deepEqual(decodeTxtResponse(answer([['ab', 'c'], ['d']]), 'a.test'), ['abc', 'd']);
  });

  it('every input decodes or throws ERR_DNS (fuzz)', () => {
    fuzzDecoder(
      fuzzInputs([answer([['enrtree-branch:', 'AAAA']]), answer([['x'], ['y', 'z']]), answer([])]),
      (bytes) => decodeTxtResponse(bytes, 'a.test'),
      isDnsError,
    );
  });
});
