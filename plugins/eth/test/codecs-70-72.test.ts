// Codecs of what eth/70, eth/71 and eth/72 add or change (caps/eth.md; EIP-7975, EIP-8159 with EIP-7928, EIP-8070):
// round trips, hand-checked bytes, the spec's layouts and examples, malformed input, limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToHex,
  DisconnectReason,
  hexToBytes,
  type MessageCodec,
  RlpError,
  rlpEncode,
  rlpEncodeRawList,
} from '@devp2p/core';
import {
  type BlockAccessList,
  blockAccessListCodec,
  blockAccessListsCodec,
  CELL_SIZE,
  cellIndices,
  cellMask,
  cellsCodec,
  ETH68_LENGTH,
  ETH69_LENGTH,
  ETH70_LENGTH,
  ETH71_LENGTH,
  ETH72_LENGTH,
  EthLimitError,
  eth,
  eth69Messages,
  eth70Messages,
  eth71Messages,
  eth72Messages,
  getBlockAccessListsCodec,
  getCellsCodec,
  getReceipts70Codec,
  MAX_BALS_SERVE,
  MAX_CELLS_PER_TRANSACTION,
  MAX_RECEIPTS_SERVE,
  mainnet,
  newPooledTransactionHashes72Codec,
  newPooledTransactionHashesCodec,
  receipts70Codec,
  status69Codec,
} from '../src/index.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const cell = (n: number): Uint8Array => new Uint8Array(CELL_SIZE).fill(n);
const receipt = rlpEncode([2n, 1n, 21000n, []]);
const isLimit =
  (limit: string) =>
  (e: unknown): boolean =>
    e instanceof EthLimitError && e.limit === limit && e.reason === DisconnectReason.SubprotocolError;

function roundTrip<T>(codec: MessageCodec<T>, value: T): Uint8Array {
  const bytes = codec.encode(value);
  assert.deepEqual(codec.decode(bytes), value);
  return bytes;
}

const codes = (table: object): Record<string, number> =>
  Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, (spec as { code: number }).code]));

describe('message tables of eth/70 to eth/72', () => {
  it("use caps/eth.md's codes and geth's protocol lengths", () => {
    assert.deepEqual([ETH68_LENGTH, ETH69_LENGTH, ETH70_LENGTH, ETH71_LENGTH, ETH72_LENGTH], [17, 18, 18, 20, 22]);
    // eth/70 keeps eth/69's codes; only GetReceipts and Receipts change.
    assert.deepEqual(codes(eth70Messages), codes(eth69Messages));
    assert.notEqual(eth70Messages.Receipts, eth69Messages.Receipts);
    assert.equal(eth70Messages.Status, eth69Messages.Status);
    assert.deepEqual(codes(eth71Messages), {
      ...codes(eth70Messages),
      GetBlockAccessLists: 0x12,
      BlockAccessLists: 0x13,
    });
    assert.deepEqual(codes(eth72Messages), { ...codes(eth71Messages), GetCells: 0x14, Cells: 0x15 });
    assert.notEqual(eth72Messages.NewPooledTransactionHashes, eth71Messages.NewPooledTransactionHashes);
    const { protocols } = eth({ chain: mainnet });
    assert.deepEqual(
      protocols.map((p) => [p.cap.version, p.length]),
      [
        [72, 22],
        [71, 20],
        [70, 18],
        [69, 18],
        [68, 17],
      ],
    );
  });
});

describe('Status of eth/70, eth/71, eth/72', () => {
  it('is the eth/69 layout [vsn, networkid, genesis, forkid, earliest, latest, latestHash] with its own vsn', () => {
    for (const version of [70, 71, 72]) {
      const status = {
        version,
        networkId: 1n,
        genesis: mainnet.genesisHash,
        forkId: { hash: 0x07c9462e, next: 0n },
        earliestBlock: 15_537_394n,
        latestBlock: 23_000_000n,
        latestBlockHash: hash(7),
      };
      const bytes = roundTrip(status69Codec, status);
      assert.deepEqual(
        bytes,
        rlpEncode([version, 1, mainnet.genesisHash, [hexToBytes('07c9462e'), 0], 15_537_394, 23_000_000, hash(7)]),
      );
    }
  });
});

describe('eth/70 (EIP-7975): GetReceipts and Receipts', () => {
  it('GetReceipts is [request-id, firstBlockReceiptIndex, [blockhash, ...]]', () => {
    const bytes = roundTrip(getReceipts70Codec, { requestId: 7n, firstBlockReceiptIndex: 3n, hashes: [hash(1)] });
    assert.equal(bytesToHex(bytes), `e40703e1a0${'01'.repeat(32)}`);
    roundTrip(getReceipts70Codec, { requestId: 1n, firstBlockReceiptIndex: 2n ** 64n - 1n, hashes: [] });
    // eth/69's form (no index) is not eth/70's.
    assert.throws(() => getReceipts70Codec.decode(rlpEncode([7, [hash(1)]])), RlpError);
    assert.throws(() => getReceipts70Codec.decode(rlpEncode([7, 2n ** 64n, [hash(1)]])), RlpError);
    assert.throws(() => getReceipts70Codec.decode(rlpEncode([7, 0, hash(1)])), RlpError);
    assert.throws(() => getReceipts70Codec.decode(rlpEncode([7, [], [hash(1)]])), RlpError);
    assert.throws(
      () => getReceipts70Codec.encode({ requestId: 1n, firstBlockReceiptIndex: -1n, hashes: [hash(1)] }),
      RangeError,
    );
  });

  it('Receipts is [request-id, lastBlockIncomplete: {0,1}, [[receipt, ...], ...]] with eth/69 receipts', () => {
    const done = roundTrip(receipts70Codec, { requestId: 1n, lastBlockIncomplete: false, receipts: [rlpEncode([])] });
    assert.equal(bytesToHex(done), 'c40180c1c0');
    const partial = roundTrip(receipts70Codec, {
      requestId: 1n,
      lastBlockIncomplete: true,
      receipts: [rlpEncode([])],
    });
    assert.equal(bytesToHex(partial), 'c40101c1c0');
    roundTrip(receipts70Codec, {
      requestId: 9n,
      lastBlockIncomplete: true,
      receipts: [rlpEncodeRawList([receipt, receipt]), rlpEncodeRawList([receipt])],
    });
    // The flag is 0 or 1, canonically encoded.
    assert.throws(() => receipts70Codec.decode(hexToBytes('c40102c1c0')), RlpError);
    assert.throws(() => receipts70Codec.decode(hexToBytes('c40100c1c0')), RlpError);
    // eth/69's form, and eth/68's typed receipts, are not eth/70's.
    assert.throws(() => receipts70Codec.decode(rlpEncode([1, [[[2n, 1n, 21000n, []]]]])), RlpError);
    const typed = rlpEncode(Uint8Array.of(2, ...rlpEncode([1n, 21000n, new Uint8Array(256), []])));
    assert.throws(() => receipts70Codec.decode(rlpEncode([1, 0, [[typed]]])), RlpError);
    assert.throws(
      () =>
        receipts70Codec.encode({ requestId: 1n, lastBlockIncomplete: false, receipts: [rlpEncodeRawList([typed])] }),
      RlpError,
    );
    const tooMany = rlpEncode([1, 0, Array.from({ length: MAX_RECEIPTS_SERVE + 1 }, () => [])]);
    assert.throws(() => receipts70Codec.decode(tooMany), isLimit('response-items'));
  });
});

describe('eth/71 (EIP-8159): GetBlockAccessLists and BlockAccessLists', () => {
  it('GetBlockAccessLists is [request-id, [blockhash, ...]]', () => {
    const bytes = roundTrip(getBlockAccessListsCodec, { requestId: 5n, hashes: [hash(2), hash(3)] });
    assert.deepEqual(bytes, rlpEncode([5, [hash(2), hash(3)]]));
    assert.throws(() => getBlockAccessListsCodec.decode(rlpEncode([5, [hash(2).subarray(1)]])), RlpError);
  });

  it('BlockAccessLists is [request-id, [bal, ...]] with the empty string 0x80 for a missing BAL', () => {
    // An empty list (0xc0) is a valid, empty BAL; the empty string (0x80) says "unavailable".
    const bytes = roundTrip(blockAccessListsCodec, { requestId: 1n, accessLists: [rlpEncode([]), null] });
    assert.equal(bytesToHex(bytes), 'c401c2c080');
    const bal = blockAccessListCodec.encode([]);
    const raw = rlpEncodeRawList([rlpEncode(1), rlpEncodeRawList([bal, rlpEncode(new Uint8Array(0))])]);
    assert.deepEqual(blockAccessListsCodec.decode(raw).accessLists, [bal, null]);
    assert.throws(() => blockAccessListsCodec.decode(rlpEncode([1, [hexToBytes('ff')]])), RlpError);
    assert.throws(() => blockAccessListsCodec.decode(rlpEncode([1, [hash(1)]])), RlpError);
    assert.throws(() => blockAccessListsCodec.decode(rlpEncode([1, hash(1)])), RlpError);
    assert.throws(() => blockAccessListsCodec.encode({ requestId: 1n, accessLists: [hexToBytes('8180')] }), RlpError);
    const tooMany = rlpEncode([1, Array.from({ length: MAX_BALS_SERVE + 1 }, () => new Uint8Array(0))]);
    assert.throws(() => blockAccessListsCodec.decode(tooMany), isLimit('response-items'));
  });

  const address = (n: number): Uint8Array => new Uint8Array(20).fill(n);

  // EIP-7928's "Concrete Example": the EIP-2935 history contract, Alice's balance check target 0x2222…, Alice
  // (tx 1), Eve (withdrawal, index 3 = len(transactions) + 1), addresses ascending. Elided values are stand-ins.
  const example: BlockAccessList = [
    {
      address: hexToBytes('0000f90827f1c53a10cb7a02335b175320002935'),
      storageChanges: [{ slot: 0xfa0n, changes: [{ index: 0, value: 0x1234n }] }],
      storageReads: [],
      balanceChanges: [],
      nonceChanges: [],
      codeChanges: [],
    },
    {
      address: address(0x22),
      storageChanges: [],
      storageReads: [],
      balanceChanges: [],
      nonceChanges: [],
      codeChanges: [],
    },
    {
      address: address(0xaa),
      storageChanges: [],
      storageReads: [],
      balanceChanges: [{ index: 1, balance: 0x29a241an }],
      nonceChanges: [{ index: 1, nonce: 10n }],
      codeChanges: [],
    },
    {
      address: hexToBytes(`abcd${'00'.repeat(18)}`),
      storageChanges: [],
      storageReads: [],
      balanceChanges: [{ index: 3, balance: 0x5f5e100n }],
      nonceChanges: [],
      codeChanges: [],
    },
  ];

  it("decodes EIP-7928's example BAL, with slots and values as RLP integers", () => {
    const bytes = roundTrip(blockAccessListCodec, example);
    assert.deepEqual(
      bytes,
      rlpEncode([
        [hexToBytes('0000f90827f1c53a10cb7a02335b175320002935'), [[0xfa0, [[0, 0x1234]]]], [], [], [], []],
        [address(0x22), [], [], [], [], []],
        [address(0xaa), [], [], [[1, 0x29a241a]], [[1, 10]], []],
        [hexToBytes(`abcd${'00'.repeat(18)}`), [], [], [[3, 0x5f5e100]], [], []],
      ]),
    );
    assert.deepEqual(blockAccessListCodec.decode(hexToBytes('c0')), []);
    // A code change and a storage read.
    roundTrip(blockAccessListCodec, [
      {
        address: address(0xdd),
        storageChanges: [{ slot: 1n, changes: [{ index: 2, value: 5n }] }],
        storageReads: [0n, 2n],
        balanceChanges: [],
        nonceChanges: [{ index: 2, nonce: 1n }],
        codeChanges: [{ index: 2, code: hexToBytes('6000') }],
      },
    ]);
  });

  it("refuses a BAL that breaks EIP-7928's order or types", () => {
    const [first, second] = example as [BlockAccessList[0], BlockAccessList[0]];
    const fails = (bal: BlockAccessList): void => {
      assert.throws(() => blockAccessListCodec.encode(bal), RangeError);
    };
    fails([second, first]); // addresses not ascending
    fails([first, first]); // not unique
    fails([{ ...second, storageReads: [2n, 1n] }]);
    fails([{ ...second, storageReads: [1n], storageChanges: [{ slot: 1n, changes: [] }] }]); // read and written
    fails([
      {
        ...second,
        balanceChanges: [
          { index: 2, balance: 1n },
          { index: 1, balance: 1n },
        ],
      },
    ]);
    fails([
      {
        ...second,
        storageChanges: [
          {
            slot: 1n,
            changes: [
              { index: 1, value: 1n },
              { index: 1, value: 2n },
            ],
          },
        ],
      },
    ]);
    fails([{ ...second, nonceChanges: [{ index: 0, nonce: 2n ** 64n }] }]);
    fails([{ ...second, balanceChanges: [{ index: 2 ** 32, balance: 1n }] }]);
    assert.throws(() => blockAccessListCodec.encode([{ ...second, address: new Uint8Array(19) }]), TypeError);
    // Decoding refuses the same, and non-canonical integers (a B_32 slot with leading zeros is not EIP-7928's).
    const encode = (entry: unknown[]): Uint8Array => rlpEncode([entry as Parameters<typeof rlpEncode>[0]]);
    assert.throws(
      () =>
        blockAccessListCodec.decode(
          rlpEncode([
            [address(2), [], [], [], [], []],
            [address(1), [], [], [], [], []],
          ]),
        ),
      RlpError,
    );
    assert.throws(() => blockAccessListCodec.decode(encode([address(1), [[hash(0), []]], [], [], [], []])), RlpError);
    assert.throws(() => blockAccessListCodec.decode(encode([address(1), [], [], [[2n ** 32n, 1]], [], []])), RlpError);
    assert.throws(() => blockAccessListCodec.decode(encode([address(1), [], [], [], []])), RlpError);
    assert.throws(() => blockAccessListCodec.decode(encode([hash(1), [], [], [], [], []])), RlpError);
  });
});

describe('eth/72 (EIP-8070): NewPooledTransactionHashes, GetCells, Cells', () => {
  it('cell bitmaps use geth’s bit order (index i is bit i % 8 of byte i / 8)', () => {
    assert.equal(bytesToHex(cellMask([0, 9])), `0102${'00'.repeat(14)}`);
    assert.equal(bytesToHex(cellMask([127])), `${'00'.repeat(15)}80`);
    const all = Array.from({ length: 128 }, (_, i) => i);
    assert.equal(bytesToHex(cellMask(all)), 'ff'.repeat(16));
    assert.deepEqual(cellIndices(cellMask(all)), all);
    assert.deepEqual(cellIndices(cellMask([64, 3, 3])), [3, 64]);
    assert.throws(() => cellMask([128]), RangeError);
    assert.throws(() => cellMask([-1]), RangeError);
    assert.throws(() => cellIndices(new Uint8Array(15)), TypeError);
  });

  it('NewPooledTransactionHashes is [types, [size, ...], [hash, ...], cells: B_16]', () => {
    const m = { types: Uint8Array.of(3, 2), sizes: [131_300, 120], hashes: [hash(1), hash(2)], mask: cellMask([0, 1]) };
    const bytes = roundTrip(newPooledTransactionHashes72Codec, m);
    assert.deepEqual(
      bytes,
      rlpEncode([Uint8Array.of(3, 2), [131_300, 120], [hash(1), hash(2)], hexToBytes(`03${'00'.repeat(15)}`)]),
    );
    // The eth/68 to eth/71 form lacks the bitmap; the cells element is always 16 bytes (caps/eth.md, geth), also
    // with no blob transaction announced (EIP-8070's "nil" is not what geth decodes).
    const three = newPooledTransactionHashesCodec.encode(m);
    assert.throws(() => newPooledTransactionHashes72Codec.decode(three), RlpError);
    for (const mask of [new Uint8Array(0), new Uint8Array(15), new Uint8Array(17)]) {
      assert.throws(
        () => newPooledTransactionHashes72Codec.decode(rlpEncode([Uint8Array.of(2), [1], [hash(1)], mask])),
        RlpError,
      );
      assert.throws(() => newPooledTransactionHashes72Codec.encode({ ...m, mask }), TypeError);
    }
    assert.throws(
      () => newPooledTransactionHashes72Codec.decode(rlpEncode([Uint8Array.of(2), [1, 2], [hash(1)], cellMask([])])),
      RlpError,
    );
    // Extra trailing items are accepted (EIP-8).
    const extended = rlpEncode([Uint8Array.of(2), [1], [hash(1)], cellMask([5]), 7]);
    assert.deepEqual(newPooledTransactionHashes72Codec.decode(extended).mask, cellMask([5]));
  });

  it('GetCells is [request-id, [txhash, ...], cells: B_16]', () => {
    const bytes = roundTrip(getCellsCodec, { requestId: 2n, hashes: [hash(4)], mask: cellMask([0]) });
    assert.equal(bytesToHex(bytes), `f402e1a0${'04'.repeat(32)}9001${'00'.repeat(15)}`);
    assert.throws(() => getCellsCodec.decode(rlpEncode([2, [hash(4)]])), RlpError);
    assert.throws(() => getCellsCodec.decode(rlpEncode([2, [hash(4)], new Uint8Array(8)])), RlpError);
    assert.throws(() => getCellsCodec.encode({ requestId: 2n, hashes: [hash(4)], mask: new Uint8Array(4) }), TypeError);
  });

  it('Cells is [request-id, [txhash, ...], [[cell: B_2048, ...], ...], cells: B_16], a group per hash', () => {
    // Two indices set: a transaction with one blob has 2 cells, one with three blobs 6.
    const mask = cellMask([4, 70]);
    const m = {
      requestId: 3n,
      hashes: [hash(1), hash(2)],
      cells: [[cell(1), cell(2)], Array.from({ length: 6 }, (_, i) => cell(10 + i))],
      mask,
    };
    const bytes = roundTrip(cellsCodec, m);
    assert.deepEqual(bytes, rlpEncode([3, [hash(1), hash(2)], m.cells, mask]));
    roundTrip(cellsCodec, { requestId: 3n, hashes: [], cells: [], mask: cellMask([]) });
    roundTrip(cellsCodec, { requestId: 3n, hashes: [], cells: [], mask });
    const decodeFails = (value: Parameters<typeof rlpEncode>[0], check: (e: unknown) => boolean): void => {
      assert.throws(() => cellsCodec.decode(rlpEncode(value)), check);
    };
    const rlp = (e: unknown): boolean => e instanceof RlpError;
    decodeFails([3, [hash(1), hash(2)], [[cell(1), cell(2)]], mask], rlp); // a group missing
    decodeFails([3, [hash(1)], [[cell(1)]], mask], rlp); // one cell for two indices
    decodeFails([3, [hash(1)], [[cell(1), cell(2), cell(3)]], mask], rlp); // not a multiple
    decodeFails([3, [hash(1)], [[]], mask], rlp); // an empty group: the transaction should be left out
    decodeFails([3, [hash(1)], [[cell(1)]], cellMask([])], rlp); // cells for no index (geth: "empty custody mask")
    decodeFails([3, [hash(1)], [[cell(1).subarray(1), cell(2)]], mask], rlp); // a short cell
    decodeFails([3, [hash(1)], [[cell(1), cell(2)]]], rlp); // no bitmap
    decodeFails([3, [hash(1)], [cell(1)], mask], rlp); // a group is a list
    // geth: "cells per tx exceeded the possible maximum", 6 blobs × 128 cells.
    const all = cellMask(Array.from({ length: 128 }, (_, i) => i));
    const over = Array.from({ length: MAX_CELLS_PER_TRANSACTION + 128 }, () => new Uint8Array(CELL_SIZE));
    decodeFails([3, [hash(1)], [over], all], isLimit('cells-per-transaction'));
    assert.equal(MAX_CELLS_PER_TRANSACTION, 768);
    assert.throws(() => cellsCodec.encode({ ...m, cells: [[cell(1)], [cell(2)]] }), RangeError);
    assert.throws(() => cellsCodec.encode({ ...m, cells: [[cell(1), new Uint8Array(2047)], m.cells[1]!] }), TypeError);
    assert.throws(() => cellsCodec.encode({ ...m, hashes: [hash(1)] }), RangeError);
  });
});
