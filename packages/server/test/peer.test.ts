import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToHex,
  DisconnectError,
  DisconnectReason,
  defineProtocol,
  type MessageCodec,
  silentLogger,
} from '@devp2p/core';
import { generatePrivateKey, keccak256, publicKeyFromPrivate } from '@devp2p/crypto';
import { RLPxConnection } from '@devp2p/rlpx';
import { createMemoryStreamPair } from '@devp2p/transport-node';
import { checkHello, exchangeHello } from '../src/handshake.ts';
import { type Hello, P2P_VERSION } from '../src/hello.ts';
import { Peer, type PeerMessageEvent } from '../src/peer.ts';
import { ProtocolRegistry } from '../src/registry.ts';

const num: MessageCodec<number> = {
  encode: (n) => Uint8Array.of(n),
  decode: (b) => {
    if (b.length !== 1) throw new RangeError('expected one byte');
    return b[0]!;
  },
};

/** A tiny protocol: Add(n) is answered with Sum(n + 1); Fail(0) throws in the handler. */
const adder = defineProtocol({
  name: 'add',
  version: 1,
  length: 3,
  messages: { Add: { code: 0, codec: num }, Sum: { code: 1, codec: num }, Fail: { code: 2, codec: num } },
  handshake: () => ({ sums: [] as number[] }),
  handlers: {
    Add: (n, ctx) => ctx.send('Sum', n + 1),
    Sum: (n, ctx) => {
      ctx.state.sums.push(n);
    },
    Fail: () => {
      throw new Error('plugin bug');
    },
  },
  peerInfo: (ctx) => ({ sums: ctx.state.sums.length }),
});

const other = defineProtocol({ name: 'zzz', version: 2, length: 1, messages: { X: { code: 0, codec: num } } });

function hello(key: Uint8Array, caps = [adder.cap]): Hello {
  return { version: P2P_VERSION, clientName: 'test', caps, listenPort: 0, nodeId: publicKeyFromPrivate(key) };
}

/** Two peers connected over an in-memory stream pair, through both handshakes, running `protocols`. */
async function connectedPeers(options: { messageEvents?: boolean | (() => boolean); pingIntervalMs?: number } = {}) {
  const keyA = generatePrivateKey();
  const keyB = generatePrivateKey();
  const [sa, sb] = createMemoryStreamPair({ addresses: ['10.0.0.2:30303', '10.0.0.1:30303'] });
  const a = new RLPxConnection(sa, { privateKey: keyA, remotePublicKey: publicKeyFromPrivate(keyB) });
  const b = new RLPxConnection(sb, { privateKey: keyB });
  const [_pubB, _pubA] = await Promise.all([a.handshake(), b.handshake()]);
  const [helloB, helloA] = await Promise.all([exchangeHello(a, hello(keyA)), exchangeHello(b, hello(keyB))]);
  a.setSnappy(true);
  b.setSnappy(true);
  const registry = new ProtocolRegistry([adder, other]);
  const make = (conn: RLPxConnection, remote: Hello, inbound: boolean) =>
    new Peer({
      connection: conn,
      id: bytesToHex(keccak256(remote.nodeId)),
      publicKey: remote.nodeId,
      hello: remote,
      matched: registry.match(remote.caps),
      inbound,
      trusted: false,
      static: false,
      localAddress: 'local',
      remoteAddress: conn.remoteAddress ?? '',
      logger: silentLogger,
      messageEvents: options.messageEvents ?? false,
      ...(options.pingIntervalMs ? { pingIntervalMs: options.pingIntervalMs } : {}),
    });
  const peerA = make(a, helloB, false);
  const peerB = make(b, helloA, true);
  peerA.run();
  peerB.run();
  return { peerA, peerB, a, b, keyA, keyB };
}

describe('Hello exchange', () => {
  it('checks a Hello: its id must be the key proven in the RLPx handshake, non-zero, and its version ours', async () => {
    const keyA = generatePrivateKey();
    const keyB = generatePrivateKey();
    const [sa, sb] = createMemoryStreamPair();
    const a = new RLPxConnection(sa, { privateKey: keyA, remotePublicKey: publicKeyFromPrivate(keyB) });
    const b = new RLPxConnection(sb, { privateKey: keyB });
    const [pubB, pubA] = await Promise.all([a.handshake(), b.handshake()]);
    const liar = hello(generatePrivateKey());
    const [fromB, fromA] = await Promise.all([exchangeHello(a, liar), exchangeHello(b, hello(keyB))]);
    assert.equal(checkHello(fromB, pubB), undefined);
    assert.equal(checkHello(fromA, pubA), DisconnectReason.UnexpectedIdentity);
    assert.equal(checkHello({ ...fromB, nodeId: new Uint8Array(64) }, pubB), DisconnectReason.InvalidIdentity);
    assert.equal(checkHello({ ...fromB, nodeId: pubB.subarray(0, 32) }, pubB), DisconnectReason.InvalidIdentity);
    assert.equal(checkHello({ ...fromB, version: 3 }, pubB), DisconnectReason.IncompatibleVersion);
    a.close();
    b.close();
  });

  it('reports a Disconnect sent instead of a Hello, and times out a silent peer', async () => {
    const keyA = generatePrivateKey();
    const keyB = generatePrivateKey();
    const [sa, sb] = createMemoryStreamPair();
    const a = new RLPxConnection(sa, { privateKey: keyA, remotePublicKey: publicKeyFromPrivate(keyB) });
    const b = new RLPxConnection(sb, { privateKey: keyB });
    const [_pubB] = await Promise.all([a.handshake(), b.handshake()]);
    await b.writeMessage(0x01, Uint8Array.of(0xc1, 0x04));
    await assert.rejects(
      exchangeHello(a, hello(keyA)),
      (err: unknown) => err instanceof DisconnectError && err.reason === DisconnectReason.TooManyPeers,
    );
    b.close();

    const [sc, sd] = createMemoryStreamPair();
    const c = new RLPxConnection(sc, { privateKey: keyA, remotePublicKey: publicKeyFromPrivate(keyB) });
    const d = new RLPxConnection(sd, { privateKey: keyB });
    const [_pubD] = await Promise.all([c.handshake(), d.handshake()]);
    await assert.rejects(exchangeHello(c, hello(keyA), { timeoutMs: 50 }), /Hello exchange timed out/);
    d.close();
  });
});

describe('Peer', () => {
  it('asks a messageEvents function before each message whether to emit it', async () => {
    let wanted = false;
    const { peerA, peerB } = await connectedPeers({ messageEvents: () => wanted });
    const events: PeerMessageEvent[] = [];
    peerB.on('message', (m) => events.push(m));
    const ctxA = peerA.protocol(adder)!;
    await ctxA.send('Add', 1);
    while (ctxA.state.sums.length < 1) await new Promise((r) => setTimeout(r, 5));
    assert.equal(events.length, 0, 'none while the function says no');
    wanted = true;
    await ctxA.send('Add', 2);
    while (ctxA.state.sums.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      events.filter((e) => e.protocol === 'add').map((e) => `${e.direction}:${e.code}`),
      ['received:0', 'sent:1'],
    );
    peerA.disconnect();
    await Promise.all([peerA.closed, peerB.closed]);
  });

  it('runs shared protocols both ways and reports their info', async () => {
    const { peerA, peerB } = await connectedPeers({ messageEvents: true });
    const events: PeerMessageEvent[] = [];
    peerB.on('message', (m) => events.push(m));
    assert.deepEqual(
      peerA.matched.map((m) => [m.protocol.cap.name, m.offset]),
      [['add', 0x10]],
    );
    const ctxA = peerA.protocol(adder)!;
    assert.ok(ctxA);
    assert.equal(peerA.protocol(other), undefined);
    await ctxA.send('Add', 41);
    await ctxA.send('Add', 1);
    while (ctxA.state.sums.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(ctxA.state.sums, [42, 2]);
    assert.deepEqual(peerA.protocolsInfo(), { add: { sums: 2 } });
    assert.deepEqual(
      events.filter((e) => e.protocol === 'add').map((e) => `${e.direction}:${e.code}`),
      ['received:0', 'sent:1', 'received:0', 'sent:1'],
    );
    peerA.disconnect();
    const [endA, endB] = await Promise.all([peerA.closed, peerB.closed]);
    assert.deepEqual([endA.reason, endA.initiator], [DisconnectReason.Requested, 'local']);
    assert.deepEqual([endB.reason, endB.initiator], [DisconnectReason.Requested, 'remote']);
    assert.ok(peerA.signal.aborted);
  });

  it('ends a peer sending a code outside every shared range with "breach of protocol"', async () => {
    const { peerA, peerB, a } = await connectedPeers();
    await a.writeMessage(0x10 + 3, Uint8Array.of(0x80));
    const [endA, endB] = await Promise.all([peerA.closed, peerB.closed]);
    assert.deepEqual([endB.reason, endB.initiator], [DisconnectReason.ProtocolError, 'local']);
    assert.deepEqual([endA.reason, endA.initiator], [DisconnectReason.ProtocolError, 'remote']);
  });

  it('ends a peer sending an undecodable message with "breach of protocol"', async () => {
    const { peerA, peerB, a } = await connectedPeers();
    await a.writeMessage(0x10, Uint8Array.of(1, 2, 3));
    const [, endB] = await Promise.all([peerA.closed, peerB.closed]);
    assert.equal(endB.reason, DisconnectReason.ProtocolError);
  });

  it('ends the peer with "subprotocol error" when a handler throws', async () => {
    const { peerA, peerB } = await connectedPeers();
    await peerA.protocol(adder)!.send('Fail', 0);
    const [endA, endB] = await Promise.all([peerA.closed, peerB.closed]);
    assert.deepEqual([endB.reason, endB.initiator], [DisconnectReason.SubprotocolError, 'local']);
    assert.deepEqual([endA.reason, endA.initiator], [DisconnectReason.SubprotocolError, 'remote']);
  });

  it('answers Pings, and records a network error when the connection drops', async () => {
    const { peerA, peerB, b } = await connectedPeers({ messageEvents: true, pingIntervalMs: 20 });
    const seen: string[] = [];
    peerA.on('message', (m) => seen.push(`${m.direction}:${m.protocol}:${m.code}`));
    while (!seen.includes('received:p2p:3')) await new Promise((r) => setTimeout(r, 5));
    assert.ok(seen.includes('sent:p2p:2'), 'sent a Ping');
    b.close();
    const endA = await peerA.closed;
    assert.deepEqual([endA.reason, endA.initiator], [DisconnectReason.NetworkError, 'remote']);
    await peerB.closed;
  });

  it('rejects sends once the peer has ended', async () => {
    const { peerA, peerB } = await connectedPeers();
    const ctx = peerA.protocol(adder)!;
    peerA.disconnect(DisconnectReason.TooManyPeers);
    const endB = await peerB.closed;
    assert.equal(endB.reason, DisconnectReason.TooManyPeers);
    await assert.rejects(ctx.send('Add', 1));
    assert.ok(ctx.signal.aborted);
  });

  it('makes a code outside the protocol length unsendable', async () => {
    const { peerA, peerB } = await connectedPeers();
    const ctx = peerA.protocol(adder)!;
    const io = ctx as unknown as { send(name: string, payload: number): Promise<void> };
    await assert.rejects(io.send('Nope', 1), /has no message Nope/);
    peerA.disconnect();
    await Promise.all([peerA.closed, peerB.closed]);
  });
});
