import { describe, it } from 'node:test';
import { utf8ToBytes } from '@devp2p/core';
import { readVectorJson } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import { DnsDiscError, parseAndVerifyRoot, parseEnrTreeUrl, parseEntry } from '../src/index.ts';

/** Tree entries are refused with a DnsDiscError and nothing else, whatever the text. */
const typed = (error: unknown): boolean => error instanceof DnsDiscError;

describe('tree entry parsers under random and mutated input', () => {
  const vector = readVectorJson<{ zone: { content: string }[]; consistent_url_for_this_zone: string }>(
    'dnsdisc/eip1459-example.json',
  );
  const [root, ...entries] = vector.zone.map((record) => record.content);
  const { publicKey } = parseEnrTreeUrl(vector.consistent_url_for_this_zone);
  const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

  it('branch, enr: and enrtree:// entries: parse or throw DnsDiscError, promptly', () => {
    fuzzDecoder(fuzzInputs(entries.map(utf8ToBytes), 600), (bytes) => parseEntry(text(bytes)), typed);
  });

  it('roots: parse and verify, or throw DnsDiscError, promptly', () => {
    fuzzDecoder(fuzzInputs([utf8ToBytes(root!)], 600), (bytes) => parseAndVerifyRoot(text(bytes), publicKey), typed);
  });
});
