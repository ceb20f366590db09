import { describe, it } from 'node:test';
import { Devp2pError, utf8ToBytes } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { readVectorJson } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import { Enr, LocalNode, MemoryNodeDatabase, parseNode } from '../src/index.ts';

const typed = (error: unknown): boolean => error instanceof Devp2pError;

describe('node record and URL parsers under random and mutated input', () => {
  const example = readVectorJson<{ source_values: { text: string } }>('enr/eip778-example.json').source_values.text;
  const local = new LocalNode(generatePrivateKey(), { db: new MemoryNodeDatabase() });
  local.set({ tcp: 30303 });
  local.setFallbackIp('127.0.0.1');
  local.setFallbackUdp(30303);

  it('ENR bytes: decode (signature checked) or throw a typed error, promptly', () => {
    const valid = [Enr.decodeText(example).encode(), local.node.record.encode()];
    fuzzDecoder(fuzzInputs(valid, 400), (bytes) => Enr.decode(bytes), typed);
  });

  it('enode URLs and enr: text: parse or throw a typed error, promptly', () => {
    const texts = [
      local.node.toEnodeUrl(),
      `${local.node.toEnodeUrl()}?discport=30301`,
      `enode://${local.id.hex.repeat(2)}@[::1]:30303`,
      example,
    ].map(utf8ToBytes);
    fuzzDecoder(fuzzInputs(texts, 300), (bytes) => parseNode(new TextDecoder().decode(bytes)), typed);
  });
});
