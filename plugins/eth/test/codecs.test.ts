// Codecs of every eth/68 and eth/69 message: round trips, hand-checked bytes, malformed input, limits. The messages
// eth/70 to eth/72 add or change are in codecs-70-72.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, hexToBytes, type MessageCodec, RlpError, rlpEncode } from '@devp2p/core';
import {
  blockBodiesCodec,
  blockHeadersCodec,
  blockRangeUpdateCodec,
  EthLimitError,
  eth68Messages,
  eth69Messages,
  getBlockBodiesCodec,
  getBlockHeadersCodec,
  getPooledTransactionsCodec,
  getReceiptsCodec,
  MAX_HEADERS_SERVE,
  MAX_REQUEST_HASHES,
  MAX_TRANSACTIONS_PER_MESSAGE,
  MAX_TX_ANNOUNCEMENTS,
  mainnet,
  newBlockCodec,
  newBlockHashesCodec,
  newPooledTransactionHashesCodec,
  pooledTransactionsCodec,
  receipts68Codec,
  receipts69Codec,
  status68Codec,
  status69Codec,
  transactionsCodec,
} from '../src/index.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const header = rlpEncode([hash(1), hash(2), 5n, new Uint8Array(256)]);
const body = rlpEncode([[], []]);
const legacyTx = rlpEncode([0n, 1n, 21000n, new Uint8Array(20), 0n, new Uint8Array(0), 27n, 1n, 2n]);
const typedTx = rlpEncode(Uint8Array.of(2, ...rlpEncode([1n, 0n, 1n]))); // 0x02 ‖ payload, as a byte string
const receipt69 = rlpEncode([2n, 1n, 21000n, []]);
const legacyReceipt68 = rlpEncode([1n, 21000n, new Uint8Array(256), []]);
const typedReceipt68 = rlpEncode(Uint8Array.of(2, ...legacyReceipt68));

function roundTrip<T>(codec: MessageCodec<T>, value: T): Uint8Array {
  const bytes = codec.encode(value);
  assert.deepEqual(codec.decode(bytes), value);
  return bytes;
}

const status68 = {
  version: 68,
  networkId: 1n,
  td: 17_179_869_184n,
  head: hash(9),
  genesis: mainnet.genesisHash,
  forkId: { hash: 0xfc64ec04, next: 1_150_000n },
};
const status69 = {
  version: 69,
  networkId: 1n,
  genesis: mainnet.genesisHash,
  forkId: { hash: 0x07c9462e, next: 0n },
  earliestBlock: 0n,
  latestBlock: 22_000_000n,
  latestBlockHash: hash(7),
};

describe('message tables', () => {
  it('use the codes of caps/eth.md', () => {
    const codes68 = Object.fromEntries(Object.entries(eth68Messages).map(([name, spec]) => [name, spec.code]));
    assert.deepEqual(codes68, {
      Status: 0,
      NewBlockHashes: 1,
      Transactions: 2,
      GetBlockHeaders: 3,
      BlockHeaders: 4,
      GetBlockBodies: 5,
      BlockBodies: 6,
      NewBlock: 7,
      NewPooledTransactionHashes: 8,
      GetPooledTransactions: 9,
      PooledTransactions: 10,
      GetReceipts: 15,
      Receipts: 16,
    });
    assert.equal('NewBlock' in eth69Messages, false);
    assert.equal('NewBlockHashes' in eth69Messages, false);
    assert.equal(eth69Messages.BlockRangeUpdate.code, 0x11);
  });
});

describe('Status', () => {
  it('eth/68 round-trips with the layout [version, networkid, td, head, genesis, forkid]', () => {
    const bytes = roundTrip(status68Codec, status68);
    assert.equal(
      bytesToHex(bytes),
      bytesToHex(
        rlpEncode([68, 1, 17_179_869_184n, hash(9), mainnet.genesisHash, [hexToBytes('fc64ec04'), 1_150_000]]),
      ),
    );
  });

  it('eth/69 round-trips with the layout [version, networkid, genesis, forkid, earliest, latest, hash]', () => {
    const bytes = roundTrip(status69Codec, status69);
    assert.equal(
      bytesToHex(bytes),
      bytesToHex(rlpEncode([69, 1, mainnet.genesisHash, [hexToBytes('07c9462e'), 0], 0, 22_000_000, hash(7)])),
    );
  });

  it('accepts extra trailing items', () => {
    const extra = rlpEncode([69, 1, mainnet.genesisHash, [hexToBytes('07c9462e'), 0], 0, 1, hash(7), 'later']);
    assert.equal(status69Codec.decode(extra).latestBlock, 1n);
  });

  it('rejects malformed input', () => {
    const bad = [
      new Uint8Array(0),
      hexToBytes('80'),
      hexToBytes('c0'),
      rlpEncode([68, 1, 1, hash(9), mainnet.genesisHash]), // no fork id
      rlpEncode([68, 1, 1, hash(9).subarray(1), mainnet.genesisHash, [hexToBytes('fc64ec04'), 0]]), // 31-byte hash
      rlpEncode([68, Uint8Array.of(0, 1), 1, hash(9), mainnet.genesisHash, [hexToBytes('fc64ec04'), 0]]), // leading zero
      rlpEncode([68, 2n ** 64n, 1, hash(9), mainnet.genesisHash, [hexToBytes('fc64ec04'), 0]]), // network id > uint64
      rlpEncode([68, 1, 2n ** 256n, hash(9), mainnet.genesisHash, [hexToBytes('fc64ec04'), 0]]), // td > uint256
      rlpEncode([68, 1, 1, hash(9), mainnet.genesisHash, [hexToBytes('fc64ec'), 0]]), // 3-byte fork hash
      Uint8Array.of(...status68Codec.encode(status68), 0), // trailing byte
    ];
    for (const payload of bad) assert.throws(() => status68Codec.decode(payload), RlpError, bytesToHex(payload));
    assert.throws(
      () => status69Codec.decode(rlpEncode([69, 1, mainnet.genesisHash, [hexToBytes('07c9462e'), 0], 0, 1])),
      RlpError,
    );
  });

  it('refuses to encode invalid values', () => {
    assert.throws(() => status68Codec.encode({ ...status68, networkId: -1n }), RangeError);
    assert.throws(() => status68Codec.encode({ ...status68, head: hash(1).subarray(1) }), TypeError);
    assert.throws(() => status69Codec.encode({ ...status69, latestBlock: 2n ** 64n }), RangeError);
  });
});

describe('announcements', () => {
  it('NewBlockHashes round-trips and rejects bad entries', () => {
    roundTrip(newBlockHashesCodec, {
      announcements: [
        { hash: hash(1), number: 1n },
        { hash: hash(2), number: 2n },
      ],
    });
    assert.throws(() => newBlockHashesCodec.decode(rlpEncode([[hash(1)]])), RlpError);
    assert.throws(() => newBlockHashesCodec.decode(rlpEncode([hash(1)])), RlpError);
  });

  it('NewBlock keeps the block raw and types the td', () => {
    const block = rlpEncode([rlpEncode([]), [], []]);
    const m = roundTrip(newBlockCodec, { block, td: 123n });
    assert.deepEqual(m, rlpEncode([[rlpEncode([]), [], []], 123n]));
    assert.throws(() => newBlockCodec.decode(rlpEncode([hash(1), 1n])), RlpError); // block must be a list
    assert.throws(() => newBlockCodec.encode({ block: Uint8Array.of(0xc1), td: 1n }), RlpError); // malformed raw
  });

  it('NewPooledTransactionHashes checks equal lengths and the limit', () => {
    const m = { types: Uint8Array.of(0, 2), sizes: [100, 200_000], hashes: [hash(1), hash(2)] };
    assert.deepEqual(
      newPooledTransactionHashesCodec.encode(m),
      rlpEncode([Uint8Array.of(0, 2), [100, 200_000], [hash(1), hash(2)]]),
    );
    roundTrip(newPooledTransactionHashesCodec, m);
    assert.throws(
      () => newPooledTransactionHashesCodec.decode(rlpEncode([Uint8Array.of(0), [1, 2], [hash(1), hash(2)]])),
      RlpError,
    );
    assert.throws(
      () => newPooledTransactionHashesCodec.decode(rlpEncode([Uint8Array.of(0), [2n ** 32n], [hash(1)]])),
      RlpError,
    );
    assert.throws(() => newPooledTransactionHashesCodec.encode({ ...m, sizes: [1] }), RangeError);
    const many = MAX_TX_ANNOUNCEMENTS + 1;
    const tooMany = rlpEncode([
      new Uint8Array(many),
      Array.from({ length: many }, () => 1),
      Array.from({ length: many }, () => hash(1)),
    ]);
    assert.throws(
      () => newPooledTransactionHashesCodec.decode(tooMany),
      (e: EthLimitError) => e instanceof EthLimitError && e.limit === 'announcements' && e.size === many,
    );
  });

  it('Transactions keeps legacy and typed transactions raw', () => {
    const bytes = roundTrip(transactionsCodec, { transactions: [legacyTx, typedTx] });
    assert.deepEqual(transactionsCodec.decode(bytes).transactions[1], typedTx);
    assert.throws(() => transactionsCodec.decode(rlpEncode([hexToBytes('ff00')])), RlpError); // not a typed envelope
    assert.throws(() => transactionsCodec.decode(rlpEncode([new Uint8Array(0)])), RlpError);
    assert.throws(() => transactionsCodec.encode({ transactions: [hexToBytes('c2')] }), RlpError);
    // geth's maxTransactionAnnouncements: 5000 go, 5001 end the peer ("too many transactions").
    const txs = (n: number): Uint8Array => rlpEncode(Array.from({ length: n }, () => Uint8Array.of(2, 0xc0)));
    assert.equal(transactionsCodec.decode(txs(MAX_TRANSACTIONS_PER_MESSAGE)).transactions.length, 5000);
    assert.throws(
      () => transactionsCodec.decode(txs(MAX_TRANSACTIONS_PER_MESSAGE + 1)),
      (e: EthLimitError) => e.limit === 'transactions' && e.size === 5001 && e.max === 5000,
    );
  });

  it('BlockRangeUpdate round-trips', () => {
    const m = roundTrip(blockRangeUpdateCodec, { earliestBlock: 10n, latestBlock: 20n, latestBlockHash: hash(3) });
    assert.deepEqual(m, rlpEncode([10, 20, hash(3)]));
    assert.throws(() => blockRangeUpdateCodec.decode(rlpEncode([10, 20])), RlpError);
  });
});

describe('requests', () => {
  it('GetBlockHeaders by number and by hash', () => {
    const byNumber = { requestId: 7n, origin: { number: 100n }, amount: 5n, skip: 1n, reverse: true };
    assert.equal(bytesToHex(roundTrip(getBlockHeadersCodec, byNumber)), 'c607c464050101');
    roundTrip(getBlockHeadersCodec, { requestId: 1n, origin: { hash: hash(4) }, amount: 1n, skip: 0n, reverse: false });
    assert.deepEqual(getBlockHeadersCodec.decode(rlpEncode([7, [100, 5, 1, 1]])), byNumber);
    assert.throws(() => getBlockHeadersCodec.decode(rlpEncode([7, [100, 5, 1, 2]])), RlpError); // reverse not a bool
    assert.throws(() => getBlockHeadersCodec.decode(rlpEncode([7, [new Uint8Array(9).fill(1), 5, 1, 0]])), RlpError);
    assert.throws(() => getBlockHeadersCodec.decode(rlpEncode([7, [100, 5, 1]])), RlpError);
    assert.throws(() => getBlockHeadersCodec.decode(rlpEncode([2n ** 64n, [100, 5, 1, 0]])), RlpError);
  });

  it('hash requests round-trip and bound their length', () => {
    for (const codec of [getBlockBodiesCodec, getReceiptsCodec, getPooledTransactionsCodec]) {
      const m = { requestId: 1n, hashes: [hash(1), hash(2)] };
      assert.deepEqual(roundTrip(codec, m), rlpEncode([1, [hash(1), hash(2)]]));
      assert.throws(() => codec.decode(rlpEncode([1, [hash(1).subarray(1)]])), RlpError);
      assert.throws(() => codec.decode(rlpEncode([1, hash(1)])), RlpError);
      const tooMany = rlpEncode([1, Array.from({ length: MAX_REQUEST_HASHES + 1 }, () => hash(1))]);
      assert.throws(
        () => codec.decode(tooMany),
        (e: EthLimitError) => e.limit === 'request-hashes',
      );
      assert.throws(() => codec.encode({ requestId: 1n, hashes: [new Uint8Array(3)] }), TypeError);
    }
  });
});

describe('responses', () => {
  it('BlockHeaders and BlockBodies keep items raw', () => {
    const headers = roundTrip(blockHeadersCodec, { requestId: 3n, headers: [header, header] });
    assert.deepEqual(blockHeadersCodec.decode(headers).headers[0], header);
    roundTrip(blockHeadersCodec, { requestId: 3n, headers: [] });
    roundTrip(blockBodiesCodec, { requestId: 4n, bodies: [body] });
    assert.throws(() => blockHeadersCodec.decode(rlpEncode([3, [hash(1)]])), RlpError); // a header is a list
    assert.throws(() => blockHeadersCodec.decode(rlpEncode([3])), RlpError);
    const tooMany = rlpEncode([3, Array.from({ length: MAX_HEADERS_SERVE + 1 }, () => [])]);
    assert.throws(
      () => blockHeadersCodec.decode(tooMany),
      (e: EthLimitError) => e instanceof EthLimitError && e.limit === 'response-items' && e.reason === 0x10,
    );
    assert.throws(() => blockBodiesCodec.encode({ requestId: 1n, bodies: [hexToBytes('c1')] }), RlpError);
  });

  it('PooledTransactions keeps transactions raw', () => {
    roundTrip(pooledTransactionsCodec, { requestId: 5n, transactions: [typedTx, legacyTx] });
    assert.throws(() => pooledTransactionsCodec.decode(rlpEncode([5, [hexToBytes('8180')]])), RlpError);
  });

  it('Receipts: eth/68 allows typed receipts as byte strings, eth/69 only lists', () => {
    const block68 = headerOf([legacyReceipt68, typedReceipt68]);
    roundTrip(receipts68Codec, { requestId: 6n, receipts: [block68] });
    const block69 = headerOf([receipt69, receipt69]);
    roundTrip(receipts69Codec, { requestId: 6n, receipts: [block69] });
    // A typed (byte-string) receipt is not valid eth/69.
    assert.throws(
      () => receipts69Codec.decode(receipts68Codec.encode({ requestId: 6n, receipts: [block68] })),
      RlpError,
    );
    assert.throws(() => receipts69Codec.encode({ requestId: 6n, receipts: [block68] }), RlpError);
    // The per-block item must be a list.
    assert.throws(() => receipts68Codec.decode(rlpEncode([6, [hash(1)]])), RlpError);
  });
});

/** The RLP list of already encoded items. */
function headerOf(items: Uint8Array[]): Uint8Array {
  const payload = Uint8Array.from(items.flatMap((item) => [...item]));
  const head = payload.length < 56 ? [0xc0 + payload.length] : lengthHeader(payload.length);
  return Uint8Array.from([...head, ...payload]);
}

function lengthHeader(length: number): number[] {
  const bytes: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0xf7 + bytes.length, ...bytes];
}
