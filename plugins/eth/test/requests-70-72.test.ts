// Requests eth/70, eth/71 and eth/72 add or change, between two attached instances (test/fake-peer.ts): partial
// receipt lists (EIP-7975), block access lists (EIP-8159), cells (EIP-8070), served from a ChainProvider or empty
// without one; replies that break their request end the peer with "subprotocol error", as geth.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DisconnectError,
  DisconnectReason,
  equalBytes,
  type MessageMap,
  type Protocol,
  rlpEncode,
  rlpEncodeRawList,
} from '@devp2p/core';
import {
  CELL_SIZE,
  type ChainProvider,
  cellMask,
  type Eth68Context,
  type Eth69Context,
  type Eth70Context,
  type Eth71Context,
  type Eth72Context,
  EthLimitError,
  type EthProtocols,
  EthResponseError,
  type EthVersion,
  eth,
  getBlockAccessLists,
  getBlockAccessListsCodec,
  getBlockHeaders,
  getCells,
  getCellsCodec,
  getPooledTransactions,
  getReceipts,
  getReceipts70Codec,
  getReceiptsPage,
  MAX_MESSAGE_SIZE,
  MAX_RECEIPT_PAGES,
  mainnet,
} from '../src/index.ts';
import { connect, type FakePeer } from './fake-peer.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const cell = (n: number): Uint8Array => new Uint8Array(CELL_SIZE).fill(n);
/** An eth/69-style receipt with `logBytes` of log data. */
const receipt = (n: number, logBytes = 0): Uint8Array =>
  rlpEncode([2n, 1n, BigInt(21_000 * (n + 1)), [[new Uint8Array(20), [], new Uint8Array(logBytes)]]]);
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** Receipts of block n: 3 small ones; block 0xbb: 12 of 1 MiB each, more than one 10 MiB message holds. */
const receiptsOf = (block: Uint8Array): Uint8Array[] =>
  block[0] === 0xbb
    ? Array.from({ length: 12 }, (_, i) => receipt(i, 1024 * 1024))
    : Array.from({ length: 3 }, (_, i) => receipt(i + block[0]!));

const versionsSeen: EthVersion[] = [];
const full: ChainProvider = {
  head: () => ({ hash: hash(9), number: 100n, time: 1_800_000_000 }),
  getHeaders: () => [rlpEncode([hash(1), 1n])],
  getReceipts: (hashes, version) => {
    versionsSeen.push(version);
    // Ends at the first block it lacks (0xee).
    const known = hashes.findIndex((h) => h[0] === 0xee);
    return hashes.slice(0, known < 0 ? hashes.length : known).map((h) => rlpEncodeRawList(receiptsOf(h)));
  },
  getPooledTransactions: (hashes, version) => hashes.map(() => rlpEncode(Uint8Array.of(3, version))),
  getBlockAccessLists: (hashes) => hashes.map((h) => (h[0] === 0xee ? null : rlpEncode([]))).slice(0, 2),
  getCells: (hashes, mask) => {
    const indices = [...mask].reduce((n, byte) => n + byte.toString(2).replaceAll('0', '').length, 0);
    // Transaction 1: one blob; 2: two blobs; 0xee: unknown; 0xbd: a wrong count and 0xbe short cells (both skipped
    // by the server, which does not send what the codec would refuse).
    return hashes.map((h) => {
      if (h[0] === 0xee) return null;
      if (h[0] === 0xbd) return [cell(0)];
      if (h[0] === 0xbe) return Array.from({ length: indices }, () => new Uint8Array(5));
      return Array.from({ length: indices * h[0]! }, (_, i) => cell(i + 1));
    });
  },
};

/** Two instances of `version`, the right one serving from `provider`. */
async function pair<M extends MessageMap, S>(
  version: 70 | 71 | 72,
  provider: ChainProvider | undefined,
): Promise<{ left: FakePeer<M, S>; right: FakePeer<M, S> }> {
  const pick = (p: EthProtocols): Protocol<M, S> => p[`eth${version}`] as unknown as Protocol<M, S>;
  const client = eth({ chain: mainnet, handshakeTimeoutMs: 500 });
  const server = eth({ chain: mainnet, handshakeTimeoutMs: 500, ...(provider ? { provider } : {}) });
  const { left, right, results } = await connect(pick(client), pick(server));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled'],
  );
  return { left, right };
}

async function pair72(provider?: ChainProvider) {
  const { left, right } = await pair(72, provider);
  return {
    left: left as unknown as FakePeer<MessageMap, unknown> & { ctx: Eth72Context },
    right: right as unknown as FakePeer<MessageMap, unknown> & { ctx: Eth72Context },
  };
}
async function pair71(provider?: ChainProvider) {
  const { left, right } = await pair(71, provider);
  return {
    left: left as unknown as FakePeer<MessageMap, unknown> & { ctx: Eth71Context },
    right: right as unknown as FakePeer<MessageMap, unknown> & { ctx: Eth71Context },
  };
}

/** The request id of the last message `peer` sent with `code`, decoded with `decode`. */
function lastRequestId(
  peer: FakePeer<MessageMap, unknown>,
  code: number,
  decode: (b: Uint8Array) => { requestId: bigint },
) {
  const sent = peer.sent.filter((m) => m.code === code).at(-1);
  assert.ok(sent, `a message with code ${code} was sent`);
  return decode(sent.payload).requestId;
}

describe('eth/70 receipts (EIP-7975)', () => {
  it('getReceipts fetches whole lists, ending at the first block the peer lacks', async () => {
    const { left } = await pair71(full);
    const lists = await getReceipts(left.ctx, [hash(1), hash(2), hash(0xee), hash(3)]);
    assert.deepEqual(lists, [rlpEncodeRawList(receiptsOf(hash(1))), rlpEncodeRawList(receiptsOf(hash(2)))]);
    assert.equal(versionsSeen.at(-1), 71, 'the provider is asked for the version it serves');
    left.close();
  });

  it('getReceiptsPage leaves out the first block’s receipts before firstBlockReceiptIndex', async () => {
    const { left } = await pair71(full);
    const page = await getReceiptsPage(left.ctx, [hash(4), hash(5)], { firstBlockReceiptIndex: 2n });
    assert.deepEqual(page, {
      receipts: [rlpEncodeRawList(receiptsOf(hash(4)).slice(2)), rlpEncodeRawList(receiptsOf(hash(5)))],
      lastBlockIncomplete: false,
    });
    const past = await getReceiptsPage(left.ctx, [hash(4)], { firstBlockReceiptIndex: 9n });
    assert.deepEqual(past, { receipts: [rlpEncodeRawList([])], lastBlockIncomplete: false });
    left.close();
  });

  it('a list over 10 MiB is served in parts flagged lastBlockIncomplete, and getReceipts puts it back together', async () => {
    const { left, right } = await pair72(full);
    const first = await getReceiptsPage(left.ctx, [hash(1), hash(0xbb), hash(2)]);
    assert.equal(first.lastBlockIncomplete, true);
    assert.equal(first.receipts.length, 2, 'the reply stops at the cut block');
    const reply = right.sent.filter((m) => m.code === 0x10).at(-1)!;
    assert.ok(reply.payload.length <= MAX_MESSAGE_SIZE, `${reply.payload.length} bytes`);
    // (equalBytes, not deepEqual: a failing deepEqual of 12 MiB prints a diff of every byte)
    const whole = await getReceipts(left.ctx, [hash(1), hash(0xbb)]);
    assert.equal(whole.length, 2);
    assert.ok(equalBytes(whole[0]!, rlpEncodeRawList(receiptsOf(hash(1)))));
    assert.ok(equalBytes(whole[1]!, rlpEncodeRawList(receiptsOf(hash(0xbb)))), 'the 12 MiB list, whole');
    const requests = left.sent.filter((m) => m.code === 0x0f).map((m) => getReceipts70Codec.decode(m.payload));
    assert.deepEqual(
      requests.slice(-2).map((r) => [r.hashes.length, r.firstBlockReceiptIndex]),
      [
        [2, 0n],
        [1, 9n],
      ],
      'the second request starts at the cut block, after the 9 receipts of 1 MiB received',
    );
    left.close();
  });

  it('a page flagged incomplete without a receipt to continue ends the peer with "subprotocol error"', async () => {
    const { left, right } = await pair72(full);
    left.forward = false; // the request does not reach the right side; we answer by hand
    const pending = getReceiptsPage(left.ctx, [hash(1)]);
    const requestId = lastRequestId(left, 0x0f, getReceipts70Codec.decode);
    await right.ctx.send('Receipts', { requestId, lastBlockIncomplete: true, receipts: [] });
    await assert.rejects(pending, (e: DisconnectError) => e.reason === DisconnectReason.SubprotocolError);
    assert.deepEqual(left.disconnects, [DisconnectReason.SubprotocolError]);
  });

  it(`a peer that keeps a list incomplete past ${MAX_RECEIPT_PAGES} pages is dropped`, async () => {
    const { left, right } = await pair72(full);
    left.forward = false;
    const pending = getReceipts(left.ctx, [hash(1)]);
    pending.catch(() => undefined);
    for (let page = 0; page < MAX_RECEIPT_PAGES; page++) {
      await tick();
      const requestId = lastRequestId(left, 0x0f, getReceipts70Codec.decode);
      await right.ctx.send('Receipts', {
        requestId,
        lastBlockIncomplete: true,
        receipts: [rlpEncodeRawList([receipt(page)])],
      });
    }
    await assert.rejects(pending, (e: EthLimitError) => e instanceof EthLimitError && e.limit === 'receipt-pages');
    assert.deepEqual(left.disconnects, [DisconnectReason.SubprotocolError]);
  });

  it('a reply with more lists than blocks asked for ends the peer with an EthLimitError', async () => {
    const { left, right } = await pair72(full);
    left.forward = false;
    const pending = getReceiptsPage(left.ctx, [hash(1)]);
    const requestId = lastRequestId(left, 0x0f, getReceipts70Codec.decode);
    const list = rlpEncodeRawList([receipt(1)]);
    await right.ctx.send('Receipts', { requestId, lastBlockIncomplete: false, receipts: [list, list] });
    await assert.rejects(pending, (e: DisconnectError) => e.reason === DisconnectReason.SubprotocolError);
    assert.deepEqual(left.disconnects, [DisconnectReason.SubprotocolError]);
  });
});

describe('eth/71 block access lists (EIP-8159)', () => {
  it('are served one entry per hash, null where the provider has none', async () => {
    const { left } = await pair71(full);
    const bals = await getBlockAccessLists(left.ctx, [hash(1), hash(0xee), hash(3)]);
    // The provider returned two entries; the third counts as missing.
    assert.deepEqual(bals, [rlpEncode([]), null, null]);
    left.close();
  });

  it('a node without chain data answers null for each block, as geth without BALs', async () => {
    const { left } = await pair71(undefined);
    assert.deepEqual(await getBlockAccessLists(left.ctx, [hash(1), hash(2)]), [null, null]);
    left.close();
  });

  it('a reply with more entries than blocks asked for ends the peer', async () => {
    const { left, right } = await pair71(full);
    left.forward = false;
    const pending = getBlockAccessLists(left.ctx, [hash(1)]);
    const requestId = lastRequestId(left, 0x12, getBlockAccessListsCodec.decode);
    await right.ctx.send('BlockAccessLists', { requestId, accessLists: [null, null] });
    await assert.rejects(pending, (e: DisconnectError) => e.reason === DisconnectReason.SubprotocolError);
    assert.deepEqual(left.disconnects, [DisconnectReason.SubprotocolError]);
  });
});

describe('eth/72 cells (EIP-8070)', () => {
  it('getCells gets the cells at the indices asked for, of the transactions the peer has', async () => {
    const { left } = await pair72(full);
    const mask = cellMask([0, 64]);
    const reply = await getCells(left.ctx, [hash(1), hash(0xee), hash(2), hash(0xbd), hash(0xbe)], mask);
    assert.deepEqual(reply.hashes, [hash(1), hash(2)]);
    assert.deepEqual(
      reply.cells.map((group) => group.length),
      [2, 4],
      'two indices: two cells for the one-blob transaction, four for the two-blob one',
    );
    assert.deepEqual(reply.mask, mask);
    left.close();
  });

  it('a node without chain data answers with no transactions', async () => {
    const { left } = await pair72(undefined);
    assert.deepEqual(await getCells(left.ctx, [hash(1)], cellMask([3])), {
      hashes: [],
      cells: [],
      mask: cellMask([3]),
    });
    left.close();
  });

  for (const [what, reply] of [
    ['a transaction not asked for', { hashes: [hash(7)], cells: [[cell(1)]], mask: cellMask([0]) }],
    ['an index not asked for', { hashes: [hash(1)], cells: [[cell(1), cell(2)]], mask: cellMask([0, 1]) }],
    ['a transaction twice', { hashes: [hash(1), hash(1)], cells: [[cell(1)], [cell(1)]], mask: cellMask([0]) }],
  ] as const) {
    it(`a Cells reply with ${what} ends the peer with an EthResponseError ("subprotocol error")`, async () => {
      const { left, right } = await pair72(full);
      left.forward = false;
      const pending = getCells(left.ctx, [hash(1), hash(2)], cellMask([0]));
      const requestId = lastRequestId(left, 0x14, getCellsCodec.decode);
      await right.ctx.send('Cells', { requestId, ...reply });
      await assert.rejects(pending, (e: DisconnectError) => e.reason === DisconnectReason.SubprotocolError);
      assert.deepEqual(left.disconnects, [DisconnectReason.SubprotocolError]);
    });
  }

  it('pooled transactions are asked of the provider for eth/72 (blob transactions without blobs)', async () => {
    const { left } = await pair72(full);
    assert.deepEqual(await getPooledTransactions(left.ctx, [hash(1)]), [rlpEncode(Uint8Array.of(3, 72))]);
    assert.equal(
      (await getBlockHeaders(left.ctx, { origin: { number: 1n }, amount: 1n, skip: 0n, reverse: false })).length,
      1,
    );
    left.close();
  });

  it('EthResponseError and EthLimitError carry what was broken', () => {
    const response = new EthResponseError('cells-mask', 'detail');
    assert.equal(response.reason, DisconnectReason.SubprotocolError);
    assert.match(response.message, /subprotocol error: eth detail/);
    const limit = new EthLimitError('transactions', 'Transactions', 5001, 5000);
    assert.equal(limit.size, 5001);
    assert.match(limit.message, /5001 exceeds the limit of 5000/);
  });
});

describe('types', () => {
  it('reject version misuse at compile time', () => {
    const misuse = (ctx68: Eth68Context, ctx69: Eth69Context, ctx70: Eth70Context, ctx71: Eth71Context): void => {
      // @ts-expect-error eth/69 has no partial receipts
      void getReceiptsPage(ctx69, [hash(1)]);
      // @ts-expect-error eth/70 has no block access lists
      void getBlockAccessLists(ctx70, [hash(1)]);
      // @ts-expect-error eth/71 has no cells
      void getCells(ctx71, [hash(1)], cellMask([0]));
      // @ts-expect-error eth/70's GetReceipts needs the first index
      void ctx70.send('GetReceipts', { requestId: 1n, hashes: [] });
      // @ts-expect-error eth/68 has no GetCells
      void ctx68.send('GetCells', { requestId: 1n, hashes: [], mask: cellMask([]) });
    };
    assert.equal(typeof misuse, 'function');
  });
});
