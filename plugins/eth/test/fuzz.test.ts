import { describe, it } from 'node:test';
import { Devp2pError, hexToBytes, type MessageCodec, rlpEncode } from '@devp2p/core';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import { eth68Messages, eth69Messages, mainnet } from '../src/index.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const header = rlpEncode([hash(1), hash(2), 5n, new Uint8Array(256)]);
const legacyTx = rlpEncode([0n, 1n, 21000n, new Uint8Array(20), 0n, new Uint8Array(0), 27n, 1n, 2n]);

/** One valid message of each shape the eth codecs read; every codec is fuzzed from all of them. */
const samples = [
  rlpEncode([68, 1, 17_179_869_184n, hash(9), mainnet.genesisHash, [hexToBytes('fc64ec04'), 1_150_000]]),
  rlpEncode([69, 1, mainnet.genesisHash, [hexToBytes('07c9462e'), 0], 0, 22_000_000, hash(7)]),
  rlpEncode([
    [hash(1), 1n],
    [hash(2), 2n],
  ]),
  rlpEncode([legacyTx, Uint8Array.of(2, 0xc0)]),
  rlpEncode([7n, [hash(1), 10n, 2n, 0n]]),
  rlpEncode([7n, [header, header]]),
  rlpEncode([7n, [hash(1), hash(2)]]),
  rlpEncode([7n, [[[], []]]]),
  rlpEncode([[header, [], []], 17n]),
  rlpEncode([Uint8Array.of(0, 2), [100n, 200n], [hash(3), hash(4)]]),
  rlpEncode([7n, [[[2n, 1n, 21000n, []]]]]),
  rlpEncode([0n, 100n, hash(5)]),
];

describe('eth codecs under random and mutated input', () => {
  for (const [version, messages] of [
    [68, eth68Messages],
    [69, eth69Messages],
  ] as const) {
    for (const [name, spec] of Object.entries(messages) as [string, { codec: MessageCodec<unknown> }][]) {
      it(`eth/${version} ${name}: decodes or throws a typed error, promptly`, () => {
        fuzzDecoder(
          fuzzInputs(samples, 2_048),
          (bytes) => spec.codec.decode(bytes),
          (e) => e instanceof Devp2pError,
        );
      });
    }
  }
});
