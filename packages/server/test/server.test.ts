import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ByteStream, DisconnectReason, defineProtocol, type MessageCodec, systemClock } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { LocalNode, Node } from '@devp2p/enode';
import { createPingProtocol, measureRtt, ping } from '@devp2p/plugin-ping';
import { countingClock, until } from '@devp2p/test-utils';
import { MemoryNetwork, tcpTransport } from '@devp2p/transport-node';
import { createServer, type Server } from '../src/server.ts';
import { connectOrRefusal, enodeOf, rawClient, recordingTransport, refusalReason, startServer } from './helpers.ts';

async function stopAll(...servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => s.close()));
}

describe('Server: peers over real sockets on 127.0.0.1', () => {
  it('two servers connect through addPeer and run the ping plugin both ways', async () => {
    const a = await startServer({ name: 'node-a' });
    const b = await startServer({ name: 'node-b' });
    try {
      assert.ok(a.listenAddress!.port > 0, 'port 0 becomes a real port');
      a.addPeer(enodeOf(b));
      await until(() => a.peerCount === 1 && b.peerCount === 1, 10_000, 'peers');
      const [peerOfA] = a.peers();
      const [peerOfB] = b.peers();
      assert.equal(peerOfA!.id, b.id);
      assert.equal(peerOfB!.id, a.id);
      assert.equal(peerOfA!.clientName, 'node-b');
      const rtt = await measureRtt((await peerOfA!.protocolReady(ping))!);
      assert.ok(rtt >= 0);
      const rttBack = await measureRtt((await peerOfB!.protocolReady(ping))!);
      assert.equal(await peerOfA!.protocolReady(createPingProtocol()), undefined, 'not a protocol of this peer');
      assert.ok(rttBack >= 0);

      const [info] = a.peersInfo();
      assert.equal(info!.id, b.id);
      assert.equal(info!.name, 'node-b');
      assert.deepEqual(info!.caps, ['png/1']);
      assert.deepEqual(
        { inbound: info!.network.inbound, trusted: info!.network.trusted, static: info!.network.static },
        { inbound: false, trusted: false, static: true },
      );
      assert.equal(info!.network.remoteAddress, `127.0.0.1:${b.listenAddress!.port}`);
      assert.match(info!.enode, new RegExp(`^enode://[0-9a-f]{128}@127\\.0\\.0\\.1:${b.listenAddress!.port}$`));
      assert.equal((info!.protocols.png as { pongsReceived: number }).pongsReceived, 1);
      assert.equal(b.peersInfo()[0]!.network.inbound, true);

      const node = a.nodeInfo();
      assert.equal(node.id, a.id);
      assert.equal(node.name, 'node-a');
      assert.equal(node.ports.listener, a.listenAddress!.port);
      assert.equal(node.enode, enodeOf(a));
      assert.match(node.enr, /^enr:/);
      assert.deepEqual(node.protocols, { png: { version: 1 } });
    } finally {
      await stopAll(a, b);
    }
  });

  it('three servers form a triangle; removePeer disconnects with "disconnect requested"', async () => {
    const [a, b, c] = await Promise.all([startServer(), startServer(), startServer()]);
    try {
      a.addPeer(enodeOf(b));
      a.addPeer(enodeOf(c));
      b.addPeer(enodeOf(c));
      await until(() => a.peerCount === 2 && b.peerCount === 2 && c.peerCount === 2, 10_000, 'triangle');
      for (const server of [a, b, c]) {
        for (const peer of server.peers()) assert.ok((await measureRtt(peer.protocol(ping)!)) >= 0);
      }
      const removed = c.once('peer:removed');
      a.removePeer(enodeOf(c));
      const event = await removed;
      assert.equal(event.peer.id, a.id);
      assert.deepEqual([event.reason, event.initiator], [DisconnectReason.Requested, 'remote']);
      assert.equal(a.peerCount, 1);
    } finally {
      await stopAll(a, b, c);
    }
  });

  it('matches caps across overlapping versions and several protocols, with the same offsets on both sides', async () => {
    const raw: MessageCodec<Uint8Array> = { encode: (b) => b, decode: (b) => b };
    const proto = (name: string, version: number, length: number) =>
      defineProtocol({ name, version, length, messages: { M: { code: 0, codec: raw } } });
    const a = await startServer({ protocols: [proto('eth', 68, 17), proto('eth', 69, 18), proto('snap', 1, 8), ping] });
    const b = await startServer({ protocols: [proto('eth', 69, 18), proto('eth', 70, 19), proto('snap', 1, 8), ping] });
    try {
      a.addPeer(enodeOf(b));
      await until(() => a.peerCount === 1 && b.peerCount === 1);
      const layout = (s: Server) =>
        s.peers()[0]!.matched.map((m) => `${m.protocol.cap.name}/${m.protocol.cap.version}@${m.offset}`);
      assert.deepEqual(layout(a), ['eth/69@16', 'png/1@34', 'snap/1@36']);
      assert.deepEqual(layout(b), layout(a));
    } finally {
      await stopAll(a, b);
    }
  });

  it('refuses a peer with no shared protocol as a useless peer', async () => {
    const server = await startServer();
    try {
      assert.equal(await refusalReason(server, { caps: [{ name: 'eth', version: 68 }] }), DisconnectReason.UselessPeer);
      assert.equal(server.peerCount, 0);
    } finally {
      await server.close();
    }
  });

  it('drops a peer that sends an unknown message code with "breach of protocol"', async () => {
    const server = await startServer();
    try {
      const client = await rawClient(server);
      await until(() => server.peerCount === 1);
      const removed = server.once('peer:removed');
      await client.conn.writeMessage(0x10 + 5, Uint8Array.of(0xc0));
      const event = await removed;
      assert.deepEqual([event.reason, event.initiator], [DisconnectReason.ProtocolError, 'local']);
      const reply = await client.conn.readMessage();
      assert.deepEqual([reply.code, reply.payload], [0x01, Uint8Array.of(0xc1, 0x02)]);
      client.conn.close();
    } finally {
      await server.close();
    }
  });

  it('refuses self-dials, duplicates and identity mismatches with their reasons', async () => {
    const server = await startServer();
    try {
      const key = generatePrivateKey();
      const first = await rawClient(server, { key });
      await until(() => server.peerCount === 1);
      assert.equal(await refusalReason(server, { key }), DisconnectReason.AlreadyConnected);
      assert.equal(
        await refusalReason(server, { helloKey: generatePrivateKey() }),
        DisconnectReason.UnexpectedIdentity,
      );
      first.conn.close();
    } finally {
      await server.close();
    }
    const privateKey = generatePrivateKey();
    const self = await startServer({ privateKey });
    try {
      // A connection proving our own key (as when an enode list holds ourselves) is refused.
      assert.equal(await refusalReason(self, { key: privateKey }), DisconnectReason.ConnectedToSelf);
      self.addPeer(enodeOf(self));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(self.peerCount, 0, 'never a peer of itself');
    } finally {
      await self.close();
    }
  });
  it('drops a peer that goes silent, and reports messages when enableMsgEvents is on', async () => {
    const server = await startServer({ readTimeoutMs: 300, enableMsgEvents: true });
    try {
      const seen: string[] = [];
      const client = await rawClient(server);
      await until(() => server.peerCount === 1);
      // Subscribed after the peer connected: peers ask for listeners at each message, not once at the start.
      server.on('peer:message', (m) => seen.push(`${m.direction}:${m.protocol}:${m.code}:${m.size}`));
      const removed = server.once('peer:removed');
      await client.conn.writeMessage(0x10, Uint8Array.of(0xc1, 0x07));
      // The client now says nothing more (it does not even answer pings).
      const event = await removed;
      assert.deepEqual([event.reason, event.initiator], [DisconnectReason.ReadTimeout, 'local']);
      assert.ok(seen.includes('received:png:0:2'), `a Ping of ours was reported: ${seen.join(' ')}`);
      assert.ok(seen.includes('sent:png:1:2'), 'the Pong to it was reported');
      client.conn.close();
    } finally {
      await server.close();
    }
  });
});

describe('Server: a shared LocalNode', () => {
  it('uses the given LocalNode, runs onListening once the TCP port is in it, and undoes start() when it fails', async () => {
    const privateKey = generatePrivateKey();
    const localNode = new LocalNode(privateKey);
    let seenTcp = -1;
    const server = createServer({
      privateKey,
      localNode,
      listenAddr: '127.0.0.1:0',
      onListening: async () => {
        seenTcp = localNode.node.tcp;
        localNode.setFallbackUdp(40404);
      },
    });
    await server.start();
    try {
      assert.equal(seenTcp, server.listenAddress!.port);
      assert.equal(server.self, localNode.node);
      assert.equal(server.nodeInfo().ports.discovery, 40404);
    } finally {
      await server.close();
    }
    assert.throws(
      () => createServer({ privateKey: generatePrivateKey(), localNode }),
      /localNode must be the LocalNode of privateKey/,
    );
    const failing = createServer({
      privateKey,
      localNode,
      listenAddr: '127.0.0.1:0',
      onListening: () => Promise.reject(new Error('udp port taken')),
    });
    await assert.rejects(failing.start(), /udp port taken/);
    assert.equal(failing.listenAddress, undefined, 'listener closed');
  });
});

describe('Server: limits', () => {
  it('holds maxPeers (and the inbound share) under 50 simultaneous inbound attempts; trusted peers still get in', async () => {
    const server = await startServer({ maxPeers: 10 });
    try {
      assert.equal(server.maxDialedConns, 3);
      assert.equal(server.maxInboundConns, 7);
      const results = await Promise.all(Array.from({ length: 50 }, () => connectOrRefusal(server)));
      assert.equal(server.peerCount, 7);
      assert.equal(results.filter((r) => r.client).length, 7);
      assert.equal(results.filter((r) => r.reason === DisconnectReason.TooManyPeers).length, 43);
      const trustedKey = generatePrivateKey();
      const trustedEnode = Node.fromPublicKey(publicKeyFromPrivate(trustedKey), {
        ip: '127.0.0.1',
        tcp: 1,
      }).toEnodeUrl();
      assert.equal(await refusalReason(server, { key: trustedKey }), DisconnectReason.TooManyPeers);
      server.addTrustedPeer(trustedEnode);
      const trusted = await rawClient(server, { key: trustedKey });
      await until(() => server.peerCount === 8);
      assert.equal(server.peersInfo().find((p) => p.id === server.peers().at(-1)!.id)!.network.trusted, true);
      trusted.conn.close();
      for (const r of results) r.client?.conn.close();
    } finally {
      await server.close();
    }
  });

  it('static peers do not exceed maxPeers', async () => {
    const server = await startServer({ maxPeers: 2, dialRatio: 1 });
    const others = await Promise.all([startServer(), startServer(), startServer()]);
    try {
      for (const other of others) server.addPeer(enodeOf(other));
      await until(() => server.peerCount === 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(server.peerCount, 2);
      assert.ok(server.peers().every((p) => p.static));
    } finally {
      await stopAll(server, ...others);
    }
  });

  it('60 silent connections do not keep a real peer out once the handshake deadline frees their slots', async () => {
    const server = await startServer({ handshakeTimeoutMs: 400 });
    const silent: ByteStream[] = [];
    try {
      const firstSilent = Date.now();
      for (let i = 0; i < 60; i++) silent.push(await tcpTransport.dial('127.0.0.1', server.listenAddress!.port));
      const client = await rawClient(server);
      await until(() => server.peerCount === 1);
      // No slot frees before the first silent connections reach their 400 ms deadline.
      const waited = Date.now() - firstSilent;
      assert.ok(waited >= 350, `the real peer waited for a slot (${waited} ms after the first silent socket)`);
      client.conn.close();
    } finally {
      for (const s of silent) s.destroy();
      await server.close();
    }
  });

  it('NetRestrict refuses inbound connections and dials outside the list', async () => {
    const server = await startServer({ netRestrict: ['10.0.0.0/8'] });
    const other = await startServer();
    try {
      await assert.rejects(rawClient(server));
      assert.equal(server.peerCount, 0);
      server.addPeer(enodeOf(other));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(other.peerCount, 0, 'never dialed');
    } finally {
      await stopAll(server, other);
    }
  });

  it('refuses a second attempt from the same non-LAN IP within 30 s (in-memory network, fake clock)', async () => {
    const net = new MemoryNetwork();
    let now = 1_000_000;
    const server = createServer({
      privateKey: generatePrivateKey(),
      listenAddr: '203.0.113.1:30303',
      protocols: [ping],
      transport: net.transport('203.0.113.1'),
      clock: { ...systemClock, now: () => now },
    });
    await server.start();
    const dialer = (host: string) =>
      createServer({
        privateKey: generatePrivateKey(),
        listenAddr: null,
        protocols: [ping],
        transport: net.transport(host),
      });
    const clients = [
      dialer('198.51.100.7'),
      dialer('198.51.100.7'),
      dialer('198.51.100.7'),
      dialer('192.168.1.5'),
      dialer('192.168.1.5'),
    ];
    try {
      for (const c of clients) await c.start();
      clients[0]!.addPeer(enodeOf(server));
      await until(() => server.peerCount === 1);
      clients[1]!.addPeer(enodeOf(server));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(server.peerCount, 1, 'second attempt from the same public IP refused');
      clients[3]!.addPeer(enodeOf(server));
      clients[4]!.addPeer(enodeOf(server));
      await until(() => server.peerCount === 3, 5_000, 'LAN peers are exempt');
      now += 30_001;
      clients[2]!.addPeer(enodeOf(server));
      await until(() => server.peerCount === 4, 5_000, 'allowed again after 30 s');
    } finally {
      await stopAll(server, ...clients);
    }
  });
});

describe('Server: lifecycle', () => {
  it('validates its config with clear errors', () => {
    const privateKey = generatePrivateKey();
    assert.throws(() => createServer({ privateKey: new Uint8Array(32) }), /privateKey/);
    assert.throws(() => createServer({ privateKey, maxPeers: -1 }), /maxPeers/);
    assert.throws(() => createServer({ privateKey, dialRatio: 0 }), /dialRatio/);
    assert.throws(() => createServer({ privateKey, listenAddr: 'nope' }), /listenAddr/);
    assert.throws(() => createServer({ privateKey, netRestrict: ['10.0.0.0/33'] }), /invalid network/);
    assert.throws(() => createServer({ privateKey, staticNodes: ['enode://zz'] }), /staticNodes\[0\]/);
    assert.throws(() => createServer({ privateKey, protocols: [ping, ping] }), /registered twice/);
  });

  it('close() under load closes every connection and clears every timer; it is idempotent', async () => {
    const clock = countingClock();
    const transport = recordingTransport(tcpTransport);
    const server = await startServer({ transport, clock, pingIntervalMs: 50 });
    const others = await Promise.all([startServer(), startServer(), startServer()]);
    const silent: ByteStream[] = [];
    try {
      for (const other of others) other.addPeer(enodeOf(server));
      await until(() => server.peerCount === 3);
      for (let i = 0; i < 5; i++) silent.push(await tcpTransport.dial('127.0.0.1', server.listenAddress!.port));
      const busy = server.peers().map(async (peer) => {
        for (let i = 0; i < 20; i++) await measureRtt(peer.protocol(ping)!).catch(() => undefined);
      });
      await until(() => transport.streams.length >= 8);
      const removed: number[] = [];
      server.on('peer:removed', (e) => removed.push(e.reason));
      await Promise.all([server.close(), server.close()]);
      await Promise.all(busy);
      assert.equal(server.peerCount, 0);
      assert.deepEqual(removed, [
        DisconnectReason.ClientQuitting,
        DisconnectReason.ClientQuitting,
        DisconnectReason.ClientQuitting,
      ]);
      assert.ok(
        transport.streams.every((s) => s.released),
        'every connection released',
      );
      assert.equal(clock.active, 0, 'no timer left');
      assert.equal(server.listenAddress, undefined);
      await until(() => others.every((o) => o.peerCount === 0), 5_000, 'remotes saw the disconnect');
      for (const other of others) assert.equal(other.peers().length, 0);
    } finally {
      for (const s of silent) s.destroy();
      await stopAll(server, ...others);
    }
  });

  it('await using disposes the server', async () => {
    let port = 0;
    {
      const server = await startServer();
      port = server.listenAddress!.port;
      await server[Symbol.asyncDispose]();
    }
    await assert.rejects(tcpTransport.dial('127.0.0.1', port), /ERR_DIAL|failed/);
  });
});
