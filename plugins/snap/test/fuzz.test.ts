// Every snap/1 decoder under random and mutated input: it returns or throws a typed error (a Devp2pError), promptly.
import { describe, it } from 'node:test';
import { Devp2pError, type MessageCodec, rlpEncode } from '@devp2p/core';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import { slimAccountCodec, snap1Messages } from '../src/index.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** One valid message of each shape the snap codecs read; every decoder is fuzzed from all of them. */
const samples = [
  rlpEncode([1n, hash(1), hash(0), hash(0xff), 524_288n]),
  rlpEncode([
    1n,
    [
      [hash(1), [0n, 1n, '', '']],
      [hash(2), [7n, 10n ** 18n, hash(3), hash(4)]],
    ],
    [new Uint8Array(40), 'node'],
  ]),
  rlpEncode([2n, hash(1), [hash(2), hash(3)], '', hash(9), 32_768n]),
  rlpEncode([2n, [[[hash(1), Uint8Array.of(5)]], [[hash(2), new Uint8Array(0)]]], ['proof']]),
  rlpEncode([3n, [hash(4), hash(5)], 50_000n]),
  rlpEncode([3n, [Uint8Array.of(0x60, 0x00), new Uint8Array(0)]]),
  rlpEncode([4n, hash(1), [[''], [hash(5), Uint8Array.of(0x11), Uint8Array.of(0x20, 0x01)]], 1000n]),
  rlpEncode([4n, [Uint8Array.of(0xc2, 0x80, 0x80)]]),
  rlpEncode([1n, 2n, hash(6), '']),
];

describe('snap/1 codecs under random and mutated input', () => {
  const codecs = [...Object.entries(snap1Messages), ['slim account', { codec: slimAccountCodec }]] as [
    string,
    { codec: MessageCodec<unknown> },
  ][];
  for (const [name, spec] of codecs) {
    it(`${name}: decodes or throws a typed error, promptly`, () => {
      fuzzDecoder(
        fuzzInputs(samples, 2_048),
        (bytes) => spec.codec.decode(bytes),
        (e) => e instanceof Devp2pError,
      );
    });
  }
});
