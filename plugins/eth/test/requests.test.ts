// Requests and replies between two attached instances: served from a ChainProvider, empty without one,
// timeouts, aborts, unsolicited replies, and the typed API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortError, DisconnectReason, rlpEncode, TimeoutError } from '@devp2p/core';
import {
  announceBlockRange,
  blockHeadersCodec,
  type ChainProvider,
  type Eth68Context,
  type Eth69Context,
  eth,
  getBlockBodies,
  getBlockHeaders,
  getPooledTransactions,
  getReceipts,
  MAX_HEADERS_SERVE,
  mainnet,
} from '../src/index.ts';
import { connect } from './fake-peer.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const header = (n: number): Uint8Array => rlpEncode([hash(n), BigInt(n)]);
const query = { origin: { number: 1n }, amount: 3n, skip: 0n, reverse: false };

const full: ChainProvider = {
  head: () => ({ hash: hash(9), number: 100n, time: 1_800_000_000 }),
  getHeaders: (q, limit) => {
    const start = 'number' in q.origin ? Number(q.origin.number) : 0;
    return Array.from({ length: Math.min(limit, 5) }, (_, i) => header(start + i));
  },
  getBodies: (hashes) => hashes.map(() => rlpEncode([[], []])),
  getReceipts: (hashes, version) =>
    hashes.map(() => rlpEncode([version === 69 ? [2n, 1n, 21000n, []] : [1n, 21000n, new Uint8Array(256), []]])),
  getPooledTransactions: (hashes) => hashes.slice(0, 1).map(() => rlpEncode(Uint8Array.of(2, 0xc0))),
};

async function pair(provider: ChainProvider | undefined, options: { requestTimeoutMs?: number } = {}) {
  const client = eth({ chain: mainnet, handshakeTimeoutMs: 500, ...options });
  const server = eth({ chain: mainnet, handshakeTimeoutMs: 500, ...(provider ? { provider } : {}) });
  const { left, right, results } = await connect(client.eth69, server.eth69);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled'],
  );
  return { left, right };
}

describe('requests', () => {
  it('are answered from the provider (eth/69)', async () => {
    const { left } = await pair(full);
    const headers = await getBlockHeaders(left.ctx, query);
    assert.deepEqual(headers, [header(1), header(2), header(3)]);
    assert.deepEqual(await getBlockBodies(left.ctx, [hash(1), hash(2)]), [rlpEncode([[], []]), rlpEncode([[], []])]);
    assert.deepEqual(await getReceipts(left.ctx, [hash(1)]), [rlpEncode([[2n, 1n, 21000n, []]])]);
    assert.deepEqual(await getPooledTransactions(left.ctx, [hash(1), hash(2)]), [rlpEncode(Uint8Array.of(2, 0xc0))]);
    left.close();
  });

  it('are answered on eth/68 too, with eth/68 receipts', async () => {
    const { left } = await connect(
      eth({ chain: mainnet, handshakeTimeoutMs: 500 }).eth68,
      eth({ chain: mainnet, provider: full, handshakeTimeoutMs: 500 }).eth68,
    );
    const ctx: Eth68Context = left.ctx;
    assert.deepEqual(await getReceipts(ctx, [hash(1)]), [rlpEncode([[1n, 21000n, new Uint8Array(256), []]])]);
    assert.equal((await getBlockHeaders(ctx, query)).length, 3);
    left.close();
  });

  it('get empty replies from a node without chain data, and the peer stays up', async () => {
    const { left, right } = await pair(undefined);
    assert.deepEqual(await getBlockHeaders(left.ctx, query), []);
    assert.deepEqual(await getBlockBodies(left.ctx, [hash(1)]), []);
    assert.deepEqual(await getReceipts(left.ctx, [hash(1)]), []);
    assert.deepEqual(await getPooledTransactions(left.ctx, [hash(1)]), []);
    assert.equal(left.closed, undefined);
    assert.equal(right.closed, undefined);
    left.close();
  });

  it('get empty replies when the provider throws', async () => {
    const failing: ChainProvider = {
      head: full.head,
      getHeaders: () => {
        throw new Error('database closed');
      },
    };
    const { left, right } = await pair(failing);
    assert.deepEqual(await getBlockHeaders(left.ctx, query), []);
    assert.equal(right.closed, undefined);
    left.close();
  });

  it('time out with a TimeoutError, and a late reply is dropped without ending the peer', async () => {
    const { left, right } = await pair(full, { requestTimeoutMs: 30 });
    right.forward = false; // the server answers into the void
    await assert.rejects(getBlockHeaders(left.ctx, query), TimeoutError);
    const [late] = right.sent.filter((m) => m.code === 4);
    assert.ok(late);
    await left.receive(late.code, late.payload);
    assert.equal(left.closed, undefined);
    left.close();
  });

  it('abort through the signal', async () => {
    const { left, right } = await pair(full);
    right.forward = false;
    const controller = new AbortController();
    const pending = getBlockBodies(left.ctx, [hash(1)], { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, AbortError);
    left.close();
  });

  it('reject when the peer goes away', async () => {
    const { left, right } = await pair(full);
    right.forward = false;
    const pending = getReceipts(left.ctx, [hash(1)]);
    left.close(DisconnectReason.TooManyPeers, 'remote');
    await assert.rejects(
      pending,
      (error: Error & { reason?: number }) => error.reason === DisconnectReason.TooManyPeers,
    );
  });

  it('an unsolicited reply is a breach of protocol', async () => {
    const { left } = await pair(full);
    await left.receive(4, blockHeadersCodec.encode({ requestId: 12345n, headers: [] }));
    assert.deepEqual(left.disconnects, [DisconnectReason.ProtocolError]);
  });

  it('validate their arguments', async () => {
    const { left } = await pair(full);
    await assert.rejects(getBlockHeaders(left.ctx, { ...query, amount: BigInt(MAX_HEADERS_SERVE + 1) }), RangeError);
    await assert.rejects(getBlockHeaders(left.ctx, { ...query, amount: 0n }), RangeError);
    await assert.rejects(getBlockBodies(left.ctx, []), RangeError);
    await assert.rejects(
      announceBlockRange(left.ctx, { earliestBlock: 5n, latestBlock: 1n, latestBlockHash: hash(1) }),
      RangeError,
    );
    left.close();
  });

  it('BlockRangeUpdate updates the remote range; an invalid one ends the peer', async () => {
    const { left, right } = await pair(full);
    await announceBlockRange(right.ctx, { earliestBlock: 10n, latestBlock: 200n, latestBlockHash: hash(5) });
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(left.ctx.state.range, { earliestBlock: 10n, latestBlock: 200n, latestBlockHash: hash(5) });
    assert.equal(left.ctx.state.head.number, 200n);
    await left.receive(0x11, rlpEncode([10, 200, new Uint8Array(32)]));
    assert.deepEqual(left.disconnects, [DisconnectReason.SubprotocolError]);
  });
});

describe('types', () => {
  it('reject misuse at compile time', () => {
    const misuse = (ctx68: Eth68Context, ctx69: Eth69Context): void => {
      // @ts-expect-error eth/69 has no NewBlock
      void ctx69.send('NewBlock', { block: new Uint8Array(), td: 1n });
      // @ts-expect-error eth/68 has no BlockRangeUpdate
      void ctx68.send('BlockRangeUpdate', { earliestBlock: 0n, latestBlock: 0n, latestBlockHash: hash(1) });
      // @ts-expect-error the amount is a bigint
      void getBlockHeaders(ctx69, { origin: { number: 1n }, amount: 3, skip: 0n, reverse: false });
      // @ts-expect-error announceBlockRange is eth/69 only
      void announceBlockRange(ctx68, { earliestBlock: 0n, latestBlock: 0n, latestBlockHash: hash(1) });
      // @ts-expect-error request ids are bigints
      void ctx68.send('GetReceipts', { requestId: 1, hashes: [] });
    };
    assert.equal(typeof misuse, 'function');
  });
});
