// Two servers over real TCP on 127.0.0.1, through RLPx and Hello: one serves state from a provider, the other asks
// for each of the four kinds of data; a peer whose reply breaks its request, or that answers nothing we asked, is
// dropped with "breach of protocol" (0x02), which both sides see.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisconnectReason, defineProtocol, ERR_UNEXPECTED_MESSAGE, ProtocolError } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { createServer, type Peer, type Server } from '@devp2p/server';
import { until } from '@devp2p/test-utils';
import {
  type AccountData,
  compareBytes,
  createSnapProtocol,
  EMPTY_CODE_HASH,
  EMPTY_ROOT_HASH,
  getAccountRange,
  getByteCodes,
  getStorageRanges,
  getTrieNodes,
  SNAP_PROTOCOL_NAME,
  SNAP_VERSION,
  SNAP1_LENGTH,
  type Snap1Messages,
  type SnapProtocol,
  SnapResponseError,
  snap,
  snap1Messages,
} from '../src/index.ts';

const fill = (n: number, length = 32): Uint8Array => new Uint8Array(length).fill(n);
const ROOT = fill(0x77);
const ACCOUNTS: AccountData[] = [1, 2, 3].map((n) => ({
  hash: fill(n * 16),
  account: { nonce: BigInt(n), balance: 10n ** 18n, storageRoot: fill(0xa0 + n), codeHash: fill(0xc0 + n) },
}));
const SLOTS = [{ hash: fill(4), data: Uint8Array.of(0x2a) }];
const CODE = Uint8Array.of(0x60, 0x80, 0x60, 0x40, 0x52);

const serving: SnapProtocol = createSnapProtocol({
  provider: {
    accountRange: (q) =>
      compareBytes(q.root, ROOT) === 0
        ? { accounts: ACCOUNTS.filter((a) => compareBytes(a.hash, q.origin) >= 0), proof: [fill(0xee, 80)] }
        : undefined,
    storageRanges: (q) => ({ slots: q.accounts.map(() => SLOTS), proof: [] }),
    byteCode: (hash) => (hash[0] === 0xc1 ? CODE : undefined),
    trieNode: ({ storagePath }) => (storagePath === undefined ? Uint8Array.of(0xc0) : Uint8Array.of(0xc1, 0x80)),
  },
});

async function start(name: string, protocols: Parameters<typeof createServer>[0]['protocols']): Promise<Server> {
  const server = createServer({ privateKey: generatePrivateKey(), listenAddr: '127.0.0.1:0', name, protocols });
  await server.start();
  return server;
}

/** Connects `a` to `b` and resolves with `a`'s peer for `b`. */
async function connect(a: Server, b: Server): Promise<Peer> {
  a.addPeer(b.self.toEnodeUrl());
  await until(() => a.peers().some((p) => p.id === b.id), 10_000, 'the peers to connect');
  return a.peers().find((p) => p.id === b.id)!;
}

describe('snap/1 between two servers over TCP', () => {
  it('each request type is answered from the provider', async () => {
    const client = await start('snap-client', [snap]);
    const server = await start('snap-server', [serving]);
    try {
      const peer = await connect(client, server);
      const ctx = await peer.protocolReady(snap);
      assert.ok(ctx, 'the peer speaks snap/1');

      const range = await getAccountRange(ctx, { root: ROOT, origin: fill(0x11) });
      assert.deepEqual(range.accounts, ACCOUNTS.slice(1));
      assert.deepEqual(range.proof, [fill(0xee, 80)]);
      assert.deepEqual(await getAccountRange(ctx, { root: fill(1) }), { accounts: [], proof: [] });

      const storage = await getStorageRanges(ctx, { root: ROOT, accounts: [fill(0x10), fill(0x20)] });
      assert.deepEqual(storage, { slots: [SLOTS, SLOTS], proof: [] });

      const codes = await getByteCodes(ctx, { hashes: [fill(0xc1), fill(0xc2), EMPTY_CODE_HASH] });
      assert.deepEqual(codes, [CODE, new Uint8Array(0)]);

      const nodes = await getTrieNodes(ctx, {
        root: ROOT,
        paths: [
          { accountPath: new Uint8Array(0), storagePaths: [] },
          { accountPath: fill(0x10), storagePaths: [Uint8Array.of(0x00), Uint8Array.of(0x13)] },
        ],
      });
      assert.deepEqual(nodes, [Uint8Array.of(0xc0), Uint8Array.of(0xc1, 0x80), Uint8Array.of(0xc1, 0x80)]);

      // The other direction: the serving node asks the client, which has no state.
      const back = server
        .peers()
        .find((p) => p.id === client.id)!
        .protocol(serving)!;
      assert.deepEqual(await getAccountRange(back, { root: ROOT }), { accounts: [], proof: [] });

      assert.deepEqual(client.peersInfo()[0]!.protocols, { snap: { version: SNAP_VERSION } });
      assert.deepEqual(server.nodeInfo().protocols, { snap: {} });
      assert.equal(client.peerCount, 1, 'still connected');
      assert.notDeepEqual(EMPTY_ROOT_HASH, ACCOUNTS[0]!.account.storageRoot);
    } finally {
      await Promise.all([client.close(), server.close()]);
    }
  });

  it('a peer replying with more bytecodes than asked is dropped with "breach of protocol"', async () => {
    // A snap/1 peer that pads every ByteCodes reply with one code nobody asked for.
    const padding = defineProtocol<Snap1Messages, undefined>({
      name: SNAP_PROTOCOL_NAME,
      version: SNAP_VERSION,
      length: SNAP1_LENGTH,
      messages: snap1Messages,
      handlers: {
        GetByteCodes: (request, ctx) =>
          ctx.send('ByteCodes', { requestId: request.requestId, codes: [...request.hashes, fill(1)].map(() => CODE) }),
      },
    });
    const client = await start('snap-client', [snap]);
    const liar = await start('snap-liar', [padding]);
    try {
      const peer = await connect(client, liar);
      const ctx = (await peer.protocolReady(snap))!;
      const removedHere = client.once('peer:removed');
      const removedThere = liar.once('peer:removed');
      await assert.rejects(
        getByteCodes(ctx, { hashes: [fill(0xc1)] }),
        (error: unknown) => error instanceof SnapResponseError && error.violation === 'too-many-items',
      );
      const here = await removedHere;
      assert.deepEqual([here.reason, here.initiator], [DisconnectReason.ProtocolError, 'local']);
      const there = await removedThere;
      assert.deepEqual([there.reason, there.initiator], [DisconnectReason.ProtocolError, 'remote']);
    } finally {
      await Promise.all([client.close(), liar.close()]);
    }
  });

  it('a peer sending a reply to no request is dropped with "breach of protocol"', async () => {
    // A snap/1 peer that sends an AccountRange as soon as the protocol starts.
    const chatty = defineProtocol<Snap1Messages, undefined>({
      name: SNAP_PROTOCOL_NAME,
      version: SNAP_VERSION,
      length: SNAP1_LENGTH,
      messages: snap1Messages,
      handshake: async (ctx) => {
        await ctx.send('AccountRange', { requestId: 0xdeadn, accounts: ACCOUNTS, proof: [] });
      },
    });
    const client = await start('snap-client', [snap]);
    const removedThere = client.once('peer:removed');
    const chatter = await start('snap-chatter', [chatty]);
    try {
      chatter.addPeer(client.self.toEnodeUrl());
      const there = await removedThere;
      assert.equal(there.peer.id, chatter.id);
      assert.deepEqual([there.reason, there.initiator], [DisconnectReason.ProtocolError, 'local']);
      assert.ok(there.error.cause instanceof ProtocolError);
      assert.equal(there.error.cause.code, ERR_UNEXPECTED_MESSAGE);
    } finally {
      await Promise.all([client.close(), chatter.close()]);
    }
  });
});
