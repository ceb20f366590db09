// Two of our servers over real TCP on 127.0.0.1: they negotiate the highest eth version both run (68↔72 → 68,
// 72↔72 → 72, 69↔70 → 69, 71↔72 → 71) and exchange every request type of that version, served from a provider. A
// peer that breaks one of geth's limits is dropped with "subprotocol error" (0x10), which its side sees as the
// remote's reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DisconnectError,
  DisconnectReason,
  defineProtocol,
  type MessageCodec,
  rlpEncode,
  rlpEncodeRawList,
} from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { createServer, type Peer, type Server } from '@devp2p/server';
import { until } from '@devp2p/test-utils';
import {
  announceBlockRange,
  CELL_SIZE,
  type ChainProvider,
  cellMask,
  type Eth69PlusContext,
  type Eth70PlusContext,
  type Eth71PlusContext,
  type Eth72Context,
  type EthContext,
  EthLimitError,
  type EthProtocols,
  type EthVersion,
  eth,
  forkId,
  getBlockAccessLists,
  getBlockBodies,
  getBlockHeaders,
  getBlockHeadersCodec,
  getCells,
  getPooledTransactions,
  getReceipts,
  getReceiptsPage,
  MAX_MESSAGE_SIZE,
  MAX_TRANSACTIONS_PER_MESSAGE,
  mainnet,
  status69Codec,
} from '../src/index.ts';

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const header = (n: number): Uint8Array => rlpEncode([hash(n), BigInt(n)]);
const receipt = (n: number): Uint8Array => rlpEncode([2n, 1n, BigInt(21_000 * n), []]);
const legacyReceipt = (n: number): Uint8Array => rlpEncode([1n, BigInt(21_000 * n), new Uint8Array(256), []]);
const body = rlpEncode([[], [], []]);
const tx = rlpEncode(Uint8Array.of(2, 0xc0));
const bal = rlpEncode([[new Uint8Array(20).fill(1), [], [], [[1, 5]], [], []]]);

/** A node with a little chain: 5 headers, bodies and receipts for any block, one pooled tx, BALs and cells. */
const provider: ChainProvider = {
  head: () => ({ hash: hash(9), number: 5n, time: 1_700_000_000 }),
  getHeaders: (query, limit) => {
    const start = 'number' in query.origin ? Number(query.origin.number) : 1;
    return Array.from({ length: Math.min(limit, 5) }, (_, i) => header(start + i));
  },
  getBodies: (hashes) => hashes.map(() => body),
  getReceipts: (hashes, version) =>
    hashes.map((_, b) =>
      rlpEncodeRawList([1, 2, 3].map((n) => (version === 68 ? legacyReceipt(n + b) : receipt(n + b)))),
    ),
  getPooledTransactions: (hashes) => hashes.slice(0, 1).map(() => tx),
  getBlockAccessLists: (hashes) => hashes.map((h) => (h[0] === 0xee ? null : bal)),
  getCells: (hashes, mask) => {
    const cells = [...mask].reduce((n, byte) => n + byte.toString(2).replaceAll('0', '').length, 0);
    return hashes.map(() => Array.from({ length: cells }, (_, i) => new Uint8Array(CELL_SIZE).fill(i + 1)));
  },
};

interface Node {
  readonly server: Server;
  readonly eth: EthProtocols;
}

async function startNode(versions: readonly EthVersion[]): Promise<Node> {
  const protocols = eth({ chain: mainnet, versions, provider });
  const server = createServer({
    privateKey: generatePrivateKey(),
    listenAddr: '127.0.0.1:0',
    protocols: [...protocols.protocols],
  });
  await server.start();
  return { server, eth: protocols };
}

/** `a` dials `b`; resolves with a's peer for b once both list each other. */
async function link(a: Server, b: Server): Promise<Peer> {
  a.addPeer(b.self.toEnodeUrl());
  await until(() => a.peerCount === 1 && b.peerCount === 1, 10_000, 'the two servers to peer');
  return a.peers()[0]!;
}

/** The eth context of `peer`, for whichever of `protocols` the two sides agreed on. */
async function ethContext(peer: Peer, protocols: EthProtocols): Promise<EthContext> {
  for (const protocol of protocols.protocols) {
    const ctx = await peer.protocolReady(protocol as EthProtocols['eth69']);
    if (ctx) return ctx as EthContext;
  }
  throw new assert.AssertionError({ message: 'no eth protocol is running' });
}

/** Every request of the negotiated version, checked against the provider's data. */
async function exchangeAll(ctx: EthContext, version: EthVersion): Promise<void> {
  const query = { origin: { number: 2n }, amount: 3n, skip: 0n, reverse: false };
  assert.deepEqual(await getBlockHeaders(ctx, query), [header(2), header(3), header(4)]);
  assert.deepEqual(await getBlockBodies(ctx, [hash(1), hash(2)]), [body, body]);
  assert.deepEqual(await getPooledTransactions(ctx, [hash(1), hash(2)]), [tx]);
  const encode = version === 68 ? legacyReceipt : receipt;
  assert.deepEqual(await getReceipts(ctx, [hash(1), hash(2)]), [
    rlpEncodeRawList([encode(1), encode(2), encode(3)]),
    rlpEncodeRawList([encode(2), encode(3), encode(4)]),
  ]);
  if (version >= 69) {
    await announceBlockRange(ctx as Eth69PlusContext, { earliestBlock: 1n, latestBlock: 5n, latestBlockHash: hash(9) });
  }
  if (version >= 70) {
    const page = await getReceiptsPage(ctx as Eth70PlusContext, [hash(1)], { firstBlockReceiptIndex: 1n });
    assert.deepEqual(page, { receipts: [rlpEncodeRawList([receipt(2), receipt(3)])], lastBlockIncomplete: false });
  }
  if (version >= 71) {
    assert.deepEqual(await getBlockAccessLists(ctx as Eth71PlusContext, [hash(1), hash(0xee)]), [bal, null]);
  }
  if (version >= 72) {
    const mask = cellMask([0, 100]);
    const reply = await getCells(ctx as Eth72Context, [hash(1), hash(2)], mask);
    assert.deepEqual(reply.hashes, [hash(1), hash(2)]);
    assert.deepEqual(
      reply.cells.map((group) => group.map((cell) => cell[0])),
      [
        [1, 2],
        [1, 2],
      ],
    );
    assert.deepEqual(reply.mask, mask);
  }
}

/** The versions of a node whose newest is `top`: it still talks to peers that stop earlier, down to 68. */
const upTo = (top: EthVersion): EthVersion[] => ([72, 71, 70, 69, 68] as const).filter((v) => v <= top);

describe('eth over TCP between two servers', () => {
  for (const [mine, theirs] of [
    [68, 72],
    [72, 72],
    [69, 70],
    [71, 72],
  ] as const) {
    const agreed = Math.min(mine, theirs) as EthVersion;
    it(`eth/68-${mine} ↔ eth/68-${theirs}: agree on eth/${agreed} and exchange every request of it, both ways`, async () => {
      const a = await startNode(upTo(mine));
      const b = await startNode(upTo(theirs));
      try {
        const peer = await link(a.server, b.server);
        const caps = peer.caps.filter((cap) => cap.name === 'eth').map((cap) => cap.version);
        assert.deepEqual(caps.sort(), upTo(theirs).sort());
        const ctx = await ethContext(peer, a.eth);
        assert.equal(ctx.state.version, agreed);
        await exchangeAll(ctx, agreed);
        const back = await ethContext(b.server.peers()[0]!, b.eth);
        assert.equal(back.state.version, agreed);
        await exchangeAll(back, agreed);
        if (agreed >= 69) {
          await until(() => back.state.range?.earliestBlock === 1n, 5_000, 'the BlockRangeUpdate to arrive');
        }
        assert.deepEqual([a.server.peerCount, b.server.peerCount], [1, 1], 'still connected');
      } finally {
        await Promise.all([a.server.close(), b.server.close()]);
      }
    });
  }

  it('eth/69 only ↔ eth/70 only: no shared version, so the dialer is refused as a useless peer', async () => {
    const a = await startNode([69]);
    const b = await startNode([70]);
    try {
      const outcome = a.server.once('dial');
      a.server.addPeer(b.server.self.toEnodeUrl());
      const { outcome: result } = await outcome;
      assert.equal(result.kind, 'handshake-failed');
      assert.equal(result.kind === 'handshake-failed' && result.reason, DisconnectReason.UselessPeer);
      assert.equal(a.server.peerCount, 0);
    } finally {
      await Promise.all([a.server.close(), b.server.close()]);
    }
  });
});

const identity: MessageCodec<Uint8Array> = { encode: (bytes) => bytes, decode: (bytes) => bytes };

/**
 * A rogue eth/72: a valid Status, then whatever the test sends as raw payloads; it answers GetBlockHeaders with one
 * header more than asked.
 */
const rogue = defineProtocol({
  name: 'eth',
  version: 72,
  length: 22,
  messages: {
    Status: { code: 0x00, codec: status69Codec },
    Transactions: { code: 0x02, codec: identity },
    GetBlockHeaders: { code: 0x03, codec: getBlockHeadersCodec },
    BlockHeaders: { code: 0x04, codec: identity },
  },
  handshake: async (ctx) => {
    await ctx.send('Status', {
      version: 72,
      networkId: 1n,
      genesis: mainnet.genesisHash,
      forkId: forkId(mainnet, { number: 0n, time: mainnet.genesisTime }),
      earliestBlock: 0n,
      latestBlock: 0n,
      latestBlockHash: mainnet.genesisHash,
    });
    await ctx.receive('Status');
  },
  handlers: {
    GetBlockHeaders: ({ requestId, amount }, ctx) =>
      ctx.send(
        'BlockHeaders',
        rlpEncode([requestId, Array.from({ length: Number(amount) + 1 }, (_, i) => [hash(i), BigInt(i)])]),
      ),
  },
});

async function startRogue(): Promise<Server> {
  const server = createServer({ privateKey: generatePrivateKey(), listenAddr: '127.0.0.1:0', protocols: [rogue] });
  await server.start();
  return server;
}

/** Connects an honest node to the rogue; resolves with both sides' peers once the eth handshakes are done. */
async function withRogue(): Promise<{ honest: Node; bad: Server; peer: Peer; badPeer: Peer }> {
  const honest = await startNode([72, 71, 70, 69, 68]);
  const bad = await startRogue();
  const peer = await link(honest.server, bad);
  const badPeer = bad.peers()[0]!;
  assert.ok(await badPeer.protocolReady(rogue));
  await ethContext(peer, honest.eth);
  return { honest, bad, peer, badPeer };
}

describe('a peer breaking a limit over TCP', () => {
  for (const [what, payload, limit] of [
    [
      `a Transactions message of ${MAX_TRANSACTIONS_PER_MESSAGE + 1} transactions`,
      () => rlpEncode(Array.from({ length: MAX_TRANSACTIONS_PER_MESSAGE + 1 }, () => Uint8Array.of(2, 0xc0))),
      'transactions',
    ],
    ['a message over 10 MiB', () => rlpEncode([new Uint8Array(MAX_MESSAGE_SIZE)]), 'message-size'],
  ] as const) {
    it(`${what} is dropped with "subprotocol error" (EthLimitError ${limit})`, async () => {
      const { honest, bad, peer, badPeer } = await withRogue();
      try {
        await (await badPeer.protocolReady(rogue))!.send('Transactions', payload());
        const ended = await peer.closed;
        assert.equal(ended.reason, DisconnectReason.SubprotocolError);
        assert.equal(ended.initiator, 'local');
        assert.ok(ended.error.cause instanceof EthLimitError, String(ended.error.cause));
        assert.equal(ended.error.cause.limit, limit);
        // The rogue is told why.
        const told = await badPeer.closed;
        assert.deepEqual([told.reason, told.initiator], [DisconnectReason.SubprotocolError, 'remote']);
      } finally {
        await Promise.all([honest.server.close(), bad.close()]);
      }
    });
  }

  it('a reply with more headers than asked ends the peer, and the request rejects with that disconnect', async () => {
    const { honest, bad, peer, badPeer } = await withRogue();
    try {
      const ctx = await ethContext(peer, honest.eth);
      await assert.rejects(
        getBlockHeaders(ctx, { origin: { number: 1n }, amount: 2n, skip: 0n, reverse: false }),
        (e: DisconnectError) => e instanceof DisconnectError && e.reason === DisconnectReason.SubprotocolError,
      );
      const ended = await peer.closed;
      assert.ok(ended.error.cause instanceof EthLimitError);
      assert.equal(ended.error.cause.limit, 'response-items');
      assert.equal((await badPeer.closed).reason, DisconnectReason.SubprotocolError);
    } finally {
      await Promise.all([honest.server.close(), bad.close()]);
    }
  });
});
