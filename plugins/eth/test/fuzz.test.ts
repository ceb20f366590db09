import { describe, it } from 'node:test';
import { Devp2pError, hexToBytes, type MessageCodec, rlpEncode, rlpEncodeRawList } from '@devp2p/core';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import {
  blockAccessListCodec,
  cellMask,
  eth68Messages,
  eth69Messages,
  eth70Messages,
  eth71Messages,
  eth72Messages,
  mainnet,
} from '../src/index.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const header = rlpEncode([hash(1), hash(2), 5n, new Uint8Array(256)]);
const bal = blockAccessListCodec.encode([
  {
    address: new Uint8Array(20).fill(1),
    storageChanges: [{ slot: 1n, changes: [{ index: 1, value: 5n }] }],
    storageReads: [2n],
    balanceChanges: [{ index: 1, balance: 10n ** 18n }],
    nonceChanges: [{ index: 1, nonce: 1n }],
    codeChanges: [{ index: 1, code: Uint8Array.of(0x60, 0x00) }],
  },
]);
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
  // eth/70: GetReceipts with an index, Receipts with the incomplete flag.
  rlpEncode([7n, 3n, [hash(1), hash(2)]]),
  rlpEncode([7n, 1n, [[[2n, 1n, 21000n, []]], []]]),
  // eth/71: BlockAccessLists (a BAL and the empty string), and a BAL on its own.
  rlpEncodeRawList([rlpEncode(7n), rlpEncodeRawList([bal, rlpEncode(new Uint8Array(0))])]),
  bal,
  // eth/72: NewPooledTransactionHashes with a bitmap, GetCells, Cells.
  rlpEncode([Uint8Array.of(3), [131_000n], [hash(6)], cellMask([0, 1])]),
  rlpEncode([7n, [hash(6)], cellMask([2])]),
  rlpEncode([7n, [hash(6)], [[new Uint8Array(2048).fill(1)]], cellMask([2])]),
];

describe('eth codecs under random and mutated input', () => {
  for (const [version, messages] of [
    [68, eth68Messages],
    [69, eth69Messages],
    [70, eth70Messages],
    [71, eth71Messages],
    [72, eth72Messages],
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

describe('the block access list codec under random and mutated input', () => {
  it('decodes or throws a typed error, promptly', () => {
    fuzzDecoder(
      fuzzInputs(samples, 2_048),
      (bytes) => blockAccessListCodec.decode(bytes),
      (e) => e instanceof Devp2pError,
    );
  });
});
