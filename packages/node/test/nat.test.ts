import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { Devp2pError, ManualClock, silentLogger } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { LocalNode } from '@devp2p/enode';
import { ping } from '@devp2p/plugin-ping';
import { until } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { createNode } from '../src/index.ts';
import { PORT_MAP_LIFETIME_S, PORT_MAP_REFRESH_MS, PortMapper } from '../src/nat/mapper.ts';
import { ERR_NAT_PMP, PmpClient } from '../src/nat/pmp.ts';

/** A request the responder received: the opcode, and for mappings the ports and lifetime asked for. */
interface Seen {
  readonly op: number;
  readonly internalPort?: number;
  readonly externalPort?: number;
  readonly lifetime?: number;
}

/**
 * A NAT-PMP gateway on 127.0.0.1 (RFC 6886 wire format), on an OS-assigned port: it reports `external` as its
 * address and grants mappings, moving UDP ones to `udpOffset` above the port asked for; `drop` requests are ignored.
 */
async function pmpResponder(options: { external?: string; udpOffset?: number; drop?: number; result?: number } = {}) {
  const seen: Seen[] = [];
  let toDrop = options.drop ?? 0;
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, from) => {
    if (toDrop-- > 0) return;
    const op = msg[1]!;
    const reply = (bytes: Uint8Array): void => void socket.send(bytes, from.port, from.address);
    const header = (size: number): { out: Uint8Array; view: DataView } => {
      const out = new Uint8Array(size);
      const view = new DataView(out.buffer);
      out[1] = 128 + op;
      view.setUint16(2, options.result ?? 0);
      view.setUint32(4, 1234);
      return { out, view };
    };
    if (op === 0) {
      seen.push({ op });
      const { out } = header(12);
      out.set((options.external ?? '203.0.113.7').split('.').map(Number), 8);
      reply(out);
      return;
    }
    const request = new DataView(msg.buffer, msg.byteOffset, msg.length);
    const internalPort = request.getUint16(4);
    const lifetime = request.getUint32(8);
    seen.push({ op, internalPort, externalPort: request.getUint16(6), lifetime });
    const { out, view } = header(16);
    view.setUint16(8, internalPort);
    view.setUint16(10, op === 1 && lifetime > 0 ? internalPort + (options.udpOffset ?? 0) : internalPort);
    view.setUint32(12, lifetime);
    reply(out);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    seen,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

describe('NAT-PMP client', () => {
  it('gets the external address and maps ports, retransmitting until the gateway answers', async () => {
    const gateway = await pmpResponder({ drop: 2 });
    const client = await PmpClient.open(udpTransport, '127.0.0.1', { port: gateway.port });
    try {
      assert.equal(await client.externalAddress(), '203.0.113.7');
      const mapping = await client.map('tcp', 30303, 30303, 600);
      assert.deepEqual(mapping, { protocol: 'tcp', internalPort: 30303, externalPort: 30303, lifetime: 600 });
      assert.deepEqual(gateway.seen.at(-1), { op: 2, internalPort: 30303, externalPort: 30303, lifetime: 600 });
    } finally {
      await client.close();
      await gateway.close();
    }
  });

  it('turns a refusal into a typed error, and close() fails a request in flight', async () => {
    const refusing = await pmpResponder({ result: 2 });
    const client = await PmpClient.open(udpTransport, '127.0.0.1', { port: refusing.port });
    try {
      await assert.rejects(client.map('udp', 1, 1, 60), (error: unknown) => {
        return error instanceof Devp2pError && error.code === ERR_NAT_PMP && /not authorized/.test(error.message);
      });
    } finally {
      await client.close();
      await refusing.close();
    }
    const silent = await pmpResponder({ drop: 100 });
    const waiting = await PmpClient.open(udpTransport, '127.0.0.1', { port: silent.port });
    const request = assert.rejects(waiting.externalAddress(), /closed/);
    await waiting.close();
    await request;
    await silent.close();
  });
});

describe('NAT port mapping', () => {
  it('refreshes each mapping before it lapses and removes them all on close', async () => {
    const gateway = await pmpResponder();
    const clock = new ManualClock();
    const client = await PmpClient.open(udpTransport, '127.0.0.1', { port: gateway.port, clock });
    const localNode = new LocalNode(generatePrivateKey());
    const mapper = new PortMapper(client, { localNode, clock, logger: silentLogger });
    mapper.add('tcp', 30303);
    mapper.add('udp', 30303);
    const maps = (lifetime: number) => gateway.seen.filter((s) => s.op !== 0 && s.lifetime === lifetime);
    await until(() => maps(PORT_MAP_LIFETIME_S).length === 2 && localNode.node.ip === '203.0.113.7', 5_000, 'mapped');
    await clock.advance(PORT_MAP_REFRESH_MS);
    await until(() => maps(PORT_MAP_LIFETIME_S).length === 4, 5_000, 'refreshed');
    await mapper.close();
    assert.deepEqual(
      maps(0).map((s) => [s.op, s.internalPort]),
      [
        [2, 30303],
        [1, 30303],
      ],
      'TCP and UDP mappings of the same port both removed',
    );
    assert.equal(clock.pendingTimers, 0, 'no refresh left scheduled');
    await gateway.close();
  });

  it('createNode({ nat: { extIp } }) announces that IP in its record and enode, and a peer dials it there', async () => {
    const node = createNode({
      listenAddr: '127.0.0.1:0',
      protocols: [ping],
      bootnodes: [],
      nat: { extIp: '127.0.0.1' },
    });
    const other = createNode({
      listenAddr: '127.0.0.1:0',
      protocols: [ping],
      discovery: false,
      nat: { extIp: '203.0.113.9' },
    });
    await Promise.all([node.start(), other.start()]);
    try {
      assert.match(other.nodeInfo().enode, /@203\.0\.113\.9:\d+\?discport=0$/, 'discovery off: no UDP port, as geth');
      assert.equal(other.localNode.node.ip, '203.0.113.9');
      const added = node.once('peer:added');
      other.server.addPeer(node.nodeInfo().enode);
      assert.equal((await added).peer.id, other.localNode.id.hex);
    } finally {
      await Promise.all([node.close(), other.close()]);
    }
  });

  it('createNode({ nat: { pmp } }) maps the TCP and UDP ports, announces the external endpoint, and unmaps on close', async () => {
    const gateway = await pmpResponder({ udpOffset: 1000 });
    const node = createNode({
      listenAddr: '127.0.0.1:0',
      protocols: [ping],
      bootnodes: [],
      nat: { pmp: '127.0.0.1', port: gateway.port },
    });
    await node.start();
    const tcp = node.server.listenAddress!.port;
    try {
      await until(
        () => node.localNode.node.ip === '203.0.113.7' && node.localNode.node.record.udp === tcp + 1000,
        5_000,
        'the external IP and the mapped UDP port in our record',
      );
      assert.equal(node.localNode.node.record.tcp, tcp);
      assert.match(node.nodeInfo().enode, /@203\.0\.113\.7:/);
    } finally {
      await node.close();
    }
    const removed = gateway.seen.filter((s) => s.lifetime === 0).map((s) => [s.op, s.internalPort]);
    assert.deepEqual(removed, [
      [2, tcp],
      [1, tcp],
    ]);
    await gateway.close();
  });
});
