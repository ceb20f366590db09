import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AbortError,
  type ByteStream,
  createLogger,
  type DatagramSocket,
  type DatagramTransport,
  DisconnectReason,
  type Discovery,
  type Transport,
} from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import type { LocalNode, Node } from '@devp2p/enode';
import { eth, forkId, mainnet, sepolia } from '@devp2p/plugin-eth';
import { ping } from '@devp2p/plugin-ping';
import { countingClock, until } from '@devp2p/test-utils';
import { tcpTransport, udpTransport } from '@devp2p/transport-node';
import { createNode, type DevP2PNode, type NodeConfig } from '../src/index.ts';

const loopback = { listenAddr: '127.0.0.1:0' } as const;

async function started(config: NodeConfig): Promise<DevP2PNode> {
  const node = createNode({ ...loopback, ...config });
  await node.start();
  return node;
}

/** Counts the TCP streams and UDP sockets a node opens, and whether each was released. */
function countingTransports(): {
  tcp: Transport;
  udp: DatagramTransport;
  readonly open: number;
} {
  const streams = new Set<ByteStream>();
  const sockets = new Set<DatagramSocket>();
  const track = (stream: ByteStream): ByteStream => {
    streams.add(stream);
    return {
      get remoteAddress() {
        return stream.remoteAddress;
      },
      get localAddress() {
        return stream.localAddress;
      },
      read: () => stream.read(),
      write: (data) => stream.write(data),
      end: () => {
        streams.delete(stream);
        stream.end();
      },
      destroy: () => {
        streams.delete(stream);
        stream.destroy();
      },
    };
  };
  return {
    tcp: {
      listen: (options, onStream) => tcpTransport.listen(options, (stream) => onStream(track(stream))),
      dial: async (host, port, options) => track(await tcpTransport.dial(host, port, options)),
    },
    udp: {
      bind: async (options, onMessage) => {
        const socket = await udpTransport.bind(options, onMessage);
        sockets.add(socket);
        return {
          address: socket.address,
          send: (data, host, port) => socket.send(data, host, port),
          close: () => {
            sockets.delete(socket);
            return socket.close();
          },
        };
      },
    },
    get open() {
      return streams.size + sockets.size;
    },
  };
}

describe('createNode', () => {
  it('two nodes find each other through discv4 and connect with the eth plugin', async () => {
    const a = await started({ protocols: eth({ chain: sepolia }).protocols });
    const candidates: string[] = [];
    const b = createNode({ ...loopback, protocols: eth({ chain: sepolia }).protocols, bootnodes: [a.localNode.node] });
    b.on('discovery:candidate', ({ source, node }) => candidates.push(`${source}:${node.id.hex}`));
    const added = b.once('peer:added');
    await b.start();
    try {
      const { peer } = await added;
      assert.equal(peer.id, a.localNode.id.hex);
      assert.ok(peer.caps.some((cap) => cap.name === 'eth'));
      assert.ok(candidates.includes(`discv4:${a.localNode.id.hex}`), 'discv4 offered A to the dialer');
      await until(() => a.peers().length === 1, 5_000, 'A to list B');
      const info = b.nodeInfo();
      // discv4 and discv5 share the TCP port by default, as geth does: one port in the enode, no discport.
      assert.equal(info.ports.discovery, info.ports.listener);
      assert.equal(b.discv4?.address.port, info.ports.listener);
      assert.equal(b.discv5?.address.port, info.ports.listener);
      assert.equal(b.discv5?.self, b.discv4?.self, 'one record for both');
      assert.match(info.enode, /@127\.0\.0\.1:\d+$/);
      assert.ok(info.protocols.eth, 'eth node info');
      assert.deepEqual(
        b.discovery.map((d) => d.name),
        ['discv4', 'discv5'],
      );
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('two nodes find each other through discv5 alone, or through discv5 on the port shared with discv4', async () => {
    const a = await started({ protocols: [ping] });
    const b = createNode({ ...loopback, protocols: [ping], bootnodes: [a.localNode.node], discovery: { v4: false } });
    const candidates: string[] = [];
    b.on('discovery:candidate', ({ source, node }) => candidates.push(`${source}:${node.id.hex}`));
    const added = b.once('peer:added');
    await b.start();
    try {
      assert.equal((await added).peer.id, a.localNode.id.hex);
      assert.ok(candidates.includes(`discv5:${a.localNode.id.hex}`), 'discv5 offered A to the dialer');
      assert.equal(b.discv4, undefined);
      assert.deepEqual(
        b.discovery.map((d) => d.name),
        ['discv5'],
      );
      // A learned B through its handshake on the shared port.
      await until(() => a.discv5?.table.get(b.localNode.id) !== undefined, 5_000, 'A to add B to its v5 table');
      assert.ok((a.discv4?.stats.unhandled ?? 0) > 0, 'discv4 handed the discv5 packets over');
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("announces the eth fork id in its record and dials only nodes whose record's fork id fits (geth's NodeFilter)", async () => {
    const ours = await started({ protocols: eth({ chain: sepolia }).protocols });
    const foreign = await started({ protocols: eth({ chain: mainnet }).protocols });
    const plain = await started({ protocols: [ping] });
    const bootnodes = [ours, foreign, plain].map((n) => n.localNode.node);
    const node = createNode({ ...loopback, protocols: eth({ chain: sepolia }).protocols, bootnodes });
    const rejected = new Set<string>();
    const dialed: string[] = [];
    node.on('discovery:rejected', ({ node: n }) => rejected.add(n.id.hex));
    node.on('dial', ({ node: n }) => dialed.push(n.id.hex));
    try {
      assert.deepEqual(node.localNode.node.record.eth, forkId(sepolia, { number: 0n, time: sepolia.genesisTime }));
      const added = node.once('peer:added');
      await node.start();
      assert.equal((await added).peer.id, ours.localNode.id.hex);
      await until(
        () => rejected.has(foreign.localNode.id.hex) && rejected.has(plain.localNode.id.hex),
        10_000,
        'the mainnet node and the node without eth to be rejected',
      );
      assert.ok(!dialed.includes(foreign.localNode.id.hex), 'never dialed the mainnet node');
      assert.ok(!dialed.includes(plain.localNode.id.hex), 'never dialed the node without an eth entry');
      assert.equal(foreign.peers().length, 0);
    } finally {
      await node.close();
      await Promise.all([ours.close(), foreign.close(), plain.close()]);
    }
  });

  it("takes the network preset's bootnodes unless given its own, and says when discovery has nowhere to start", async () => {
    const ours = await started({ protocols: eth({ chain: sepolia }).protocols });
    // Sepolia as the eth plugin ships it, with a loopback stand-in for its bootnodes and no DNS tree (tests never
    // reach the real ones: the loopback guard would end the process).
    const network = {
      ...sepolia,
      discovery: { ...sepolia.discovery, bootnodes: [ours.localNode.node.toEnodeUrl()], bootnodesV5: [], dnsTrees: [] },
    };
    const node = createNode({ ...loopback, network, protocols: eth({ chain: sepolia }).protocols });
    const messages: string[] = [];
    const logger = createLogger({ level: 'info', sink: (record) => messages.push(record.message) });
    const stranded = createNode({ ...loopback, network, bootnodes: [], protocols: [ping], logger });
    try {
      const added = node.once('peer:added');
      await node.start();
      assert.equal((await added).peer.id, ours.localNode.id.hex);
      await stranded.start();
      assert.ok(
        messages.some((w) => /nowhere to start/.test(w)),
        messages.join('; '),
      );
    } finally {
      await Promise.all([node.close(), stranded.close()]);
      await ours.close();
    }
  });

  it('dials static nodes and admits trusted ones above the peer limit; removal reasons are typed', async () => {
    const clientKey = generatePrivateKey();
    const a = await started({ protocols: [ping], discovery: false, maxPeers: 0 });
    const c = createNode({ ...loopback, privateKey: clientKey, protocols: [ping], discovery: false });
    try {
      a.server.addTrustedPeer(c.localNode.node.toEnodeUrl());
      const added = c.once('peer:added');
      await c.start();
      c.server.addPeer(a.localNode.node);
      assert.equal((await added).peer.id, a.localNode.id.hex);
      await until(() => a.peers().length === 1, 5_000, 'A to admit its trusted peer');
      const removed = c.once('peer:removed');
      a.server.removeTrustedPeer(c.localNode.node);
      a.peers()[0]!.disconnect(DisconnectReason.TooManyPeers);
      const event = await removed;
      assert.deepEqual(event.reason, { code: DisconnectReason.TooManyPeers, name: 'TooManyPeers' });
      assert.equal(event.initiator, 'remote');
    } finally {
      await c.close();
      await a.close();
    }
  });

  it('a static node from the config is kept connected', async () => {
    const a = await started({ protocols: [ping], discovery: false });
    const c = createNode({
      ...loopback,
      protocols: [ping],
      discovery: false,
      staticNodes: [a.localNode.node.toEnodeUrl()],
    });
    try {
      const added = c.once('peer:added');
      await c.start();
      assert.equal((await added).peer.id, a.localNode.id.hex);
      assert.equal(c.peers()[0]!.static, true);
    } finally {
      await c.close();
      await a.close();
    }
  });

  it('close() releases every socket and timer it opened', async () => {
    const clock = countingClock();
    const io = countingTransports();
    const a = await started({ protocols: [ping] });
    const b = createNode({
      ...loopback,
      protocols: [ping],
      bootnodes: [a.localNode.node],
      clock,
      transport: io.tcp,
      datagramTransport: io.udp,
    });
    await b.start();
    try {
      await until(() => b.peers().length === 1, 10_000, 'B to connect to A');
      assert.ok(io.open >= 2, `the peer stream and the UDP socket are open (${io.open})`);
      assert.ok(clock.active > 0);
    } finally {
      await b.close();
      await a.close();
    }
    assert.equal(io.open, 0, 'every stream and socket released');
    assert.equal(clock.active, 0, 'every timer cleared');
    assert.equal(b.discovery.length, 0);
  });

  it('keeps its key and database in datadir across restarts', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'devp2p-node-'));
    try {
      const first = await started({ datadir, protocols: [ping], discovery: false });
      const id = first.localNode.id.hex;
      const seq = first.localNode.node.seq;
      await first.close();
      const second = await started({ datadir, protocols: [ping], discovery: false });
      assert.equal(second.localNode.id.hex, id);
      assert.ok(second.localNode.node.seq >= seq);
      await second.close();
    } finally {
      rmSync(datadir, { recursive: true, force: true });
    }
  });

  it('start() with an aborted signal rejects with AbortError and leaves nothing running', async () => {
    const io = countingTransports();
    const node = createNode({ ...loopback, protocols: [ping], transport: io.tcp, datagramTransport: io.udp });
    await assert.rejects(node.start({ signal: AbortSignal.abort() }), AbortError);
    assert.equal(io.open, 0);
    await node.close();
  });

  it('mixes another discovery source with discv4 and resolves through it', async () => {
    const a = await started({ protocols: [ping], discovery: false });
    let closed = false;
    const list: Discovery<Node, LocalNode> = {
      name: 'list',
      localNode: a.localNode,
      async *randomNodes() {
        yield a.localNode.node;
      },
      resolve: async (node) => node,
      close: async () => {
        closed = true;
      },
    };
    const b = createNode({ ...loopback, protocols: [ping], discovery: { v4: false, v5: false, sources: [list] } });
    const candidates: string[] = [];
    b.on('discovery:candidate', ({ source }) => candidates.push(source));
    try {
      const added = b.once('peer:added');
      await b.start();
      assert.equal((await added).peer.id, a.localNode.id.hex);
      assert.deepEqual(candidates, ['list']);
    } finally {
      await b.close();
      await a.close();
    }
    assert.equal(closed, true, 'close() closes every source');
  });
});
