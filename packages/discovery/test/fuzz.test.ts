import { describe, it } from 'node:test';
import { concatBytes, Devp2pError } from '@devp2p/core';
import { keccak256, sign } from '@devp2p/crypto';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import fc from 'fast-check';
import { decodePacket } from '../src/index.ts';

interface Vectors {
  signing_private_key: string;
  eip8_packets: { hex: string }[];
  geth_packets: { hex: string }[];
}

describe('discv4 packet decoder under random and mutated input', () => {
  const vectors = readVectorJson<Vectors>('discv4/eip8-packets.json');
  const key = hex(vectors.signing_private_key);
  const packets = [...vectors.eip8_packets, ...vectors.geth_packets].map((p) => hex(p.hex));
  const typed = (error: unknown): boolean => error instanceof Devp2pError;

  it('decodes or throws a typed error, promptly', () => {
    fuzzDecoder(fuzzInputs(packets, 1_400), (bytes) => decodePacket(bytes), typed);
  });

  it('re-signed mutations reach the packet body (hash and signature valid, type and RLP mutated)', () => {
    // hash(32) ‖ signature(65) ‖ type ‖ data: mutate type ‖ data, then sign and hash as a real sender would.
    const bodies = packets.map((p) => p.subarray(97));
    const resigned = fuzzInputs(bodies, 1_200).map((body) => {
      const signature = sign(keccak256(body), key);
      return concatBytes(keccak256(concatBytes(signature, body)), signature, body);
    });
    fuzzDecoder(resigned, (bytes) => decodePacket(bytes), typed);
    fuzzDecoder(fc.constantFrom(...packets), (bytes) => decodePacket(bytes), typed);
  });
});
