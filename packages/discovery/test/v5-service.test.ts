import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToUtf8, ConnectionClosedError, equalBytes, utf8ToBytes } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { Enr, logDistance, Node, NodeId } from '@devp2p/enode';
import { countingClock } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import {
  DISCV5_MAX_PACKET_SIZE,
  Discv5,
  type Discv5Nodes,
  lookupDistances,
  NODES_RESPONSE_SIZE_LIMIT,
} from '../src/index.ts';
import { V5Harness } from './v5-helpers.ts';

const start = (options: Partial<Parameters<typeof Discv5.start>[0]> = {}): Promise<Discv5> =>
  Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1', ...options });

/** A signed record of a fresh key on loopback, at log distance `distance` from `from` (by trying keys). */
function recordAtDistance(from: NodeId, distance: number, port = 40_000): Node {
  for (;;) {
    const key = generatePrivateKey();
    const record = Enr.create({ ip: '127.0.0.1', udp: port, tcp: port }, 1n).sign(key);
    if (logDistance(from, record.nodeId!) === distance) return Node.fromRecord(record);
  }
}

describe('Discv5 between two of our nodes', () => {
  it('PING/PONG after a handshake: enr-seq and the recipient address', async () => {
    const a = await start();
    const b = await start();
    const pong = await b.ping(a.self);
    assert.equal(pong.enrSeq, a.self.seq);
    assert.equal(pong.ip, '127.0.0.1');
    assert.equal(pong.port, b.address.port);
    // One handshake each way counted: b answered a's WHOAREYOU, a verified it.
    assert.equal(a.stats.challenges, 1);
    assert.equal(a.stats.handshakes, 1);
    assert.equal(b.stats.handshakes, 1);
    // The session stands: a second ping needs no new challenge.
    await b.ping(a.self);
    assert.equal(a.stats.challenges, 1);
    // a learned b's record from the handshake, at the address it came from: a live table entry.
    assert.ok(a.table.get(b.self.id));
    assert.equal(a.table.entries().find((e) => e.node.id.equals(b.self.id))?.isValidatedLive, true);
    // And the other way round, a to b, on b's side of the same keys.
    const back = await a.ping(b.self);
    assert.equal(back.port, a.address.port);
    await Promise.all([a.close(), b.close()]);
  });

  it('handshakes started by both sides at once still carry every message', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await start();
      const b = await start();
      const [ab, ba] = await Promise.all([a.ping(b.self), b.ping(a.self)]);
      assert.equal(ab.port, a.address.port);
      assert.equal(ba.port, b.address.port);
      // And afterwards, whichever keys each side ended with.
      await Promise.all([a.ping(b.self), b.ping(a.self), a.requestENR(b.self), b.requestENR(a.self)]);
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('FINDNODE: distance 0 is the node itself, other distances the live nodes of its table', async () => {
    const a = await start();
    const b = await start();
    const self = await b.findNode(a.self, [0]);
    assert.equal(self.length, 1);
    assert.ok(self[0]!.id.equals(a.self.id));
    assert.ok(equalBytes(self[0]!.record.encode(), a.self.record.encode()));
    assert.ok((await b.requestENR(a.self)).id.equals(a.self.id));
    // b is in a's table now (its handshake); a answers FINDNODE for b's distance with it.
    const d = logDistance(a.self.id, b.self.id);
    const found = await b.findNode(a.self, [d, d === 256 ? 255 : d + 1]);
    assert.deepEqual(
      found.map((n) => n.id.hex),
      [b.self.id.hex],
    );
    // An empty distance: an empty answer (one NODES with total 1), not a timeout.
    const other = d === 1 ? 2 : 1;
    assert.deepEqual(await b.findNode(a.self, [other]), []);
    await Promise.all([a.close(), b.close()]);
  });

  it('TALKREQ: a registered protocol answers, an unknown one gets an empty TALKRESP', async () => {
    const a = await start();
    const b = await start();
    const seen: string[] = [];
    const unregister = a.registerTalkProtocol('echo', async (request, { node, protocol, from }) => {
      seen.push(`${protocol}:${node.id.short()}:${from.port}`);
      return utf8ToBytes(`re: ${bytesToUtf8(request)}`);
    });
    assert.throws(() => a.registerTalkProtocol('echo', (r) => r), /already registered/);
    assert.equal(bytesToUtf8(await b.talkRequest(a.self, 'echo', utf8ToBytes('hi'))), 're: hi');
    assert.deepEqual(seen, [`echo:${b.self.id.short()}:${b.address.port}`]);
    assert.equal((await b.talkRequest(a.self, 'nothing-here', utf8ToBytes('hi'))).length, 0);
    unregister();
    assert.equal((await b.talkRequest(a.self, 'echo', utf8ToBytes('hi'))).length, 0);
    // A handler that throws sends nothing: the request times out.
    a.registerTalkProtocol('broken', () => {
      throw new Error('no');
    });
    await assert.rejects(b.talkRequest(a.self, 'broken', new Uint8Array(0)), { code: 'ERR_TIMEOUT' });
    await Promise.all([a.close(), b.close()]);
  });

  it('NODES: an answer larger than one packet is split, each packet naming the total', async () => {
    const a = await start();
    // 16 live records at distance 256 from a: more than NODES_RESPONSE_SIZE_LIMIT bytes of records.
    const filler = Array.from({ length: 16 }, () => recordAtDistance(a.self.id, 256));
    for (const n of filler) assert.ok(a.table.addInboundNode(n));
    const totalSize = filler.reduce((sum, n) => sum + n.record.size, 0);
    assert.ok(totalSize > NODES_RESPONSE_SIZE_LIMIT);
    const harness = await V5Harness.create();
    const requestId = Uint8Array.of(7);
    const { session } = await harness.handshake(a.self, { type: 'findnode', requestId, distances: [256] });
    const messages: Discv5Nodes[] = [];
    for (;;) {
      const packet = await harness.nextPacket(1_000);
      if (!packet) break;
      assert.ok(packet.datagram.bytes.length <= DISCV5_MAX_PACKET_SIZE);
      assert.equal(packet.kind, 'message');
      const { decryptDiscv5Message } = await import('../src/index.ts');
      const message = decryptDiscv5Message(packet as Parameters<typeof decryptDiscv5Message>[0], session.readKey);
      assert.equal(message.type, 'nodes');
      messages.push(message as Discv5Nodes);
      if (messages.length === (message as Discv5Nodes).total) break;
    }
    assert.ok(messages.length >= 2, `${messages.length} NODES packets`);
    for (const m of messages) {
      assert.equal(m.total, messages.length);
      assert.ok(equalBytes(m.requestId, requestId));
    }
    const ids = new Set(messages.flatMap((m) => m.records.map((r) => r.nodeId!.hex)));
    assert.deepEqual([...ids].sort(), filler.map((n) => n.id.hex).sort());
    // Our own querier reads every packet of the answer.
    const b = await start();
    const found = await b.findNode(a.self, [256]);
    assert.equal(found.length, 16);
    await Promise.all([a.close(), b.close(), harness.close()]);
  });

  it('lookups and randomNodes() find the network through a bootnode', async () => {
    const boot = await start();
    const nodes = await Promise.all([0, 1, 2, 3].map(() => start({ bootnodes: [boot.self] })));
    await Promise.all(nodes.map((n) => n.refresh()));
    const target = nodes[0]!.self.id;
    const closest = await nodes[3]!.lookup(target);
    assert.ok(
      closest.some((n) => n.id.equals(target)),
      'lookup found the target',
    );
    const controller = new AbortController();
    const seen = new Set<string>();
    for await (const n of nodes[1]!.randomNodes({ signal: controller.signal })) {
      assert.ok(n.record.verify());
      seen.add(n.id.hex);
      if (seen.size >= 3) controller.abort();
    }
    assert.ok(seen.size >= 3);
    // resolve() finds the current record of a node whose record changed.
    const old = nodes[0]!.self;
    nodes[0]!.localNode.set({ tcp: 30_999 });
    const resolved = await nodes[2]!.resolve(old);
    assert.ok(resolved.id.equals(old.id));
    assert.ok(resolved.seq > old.seq);
    assert.equal(resolved.tcp, 30_999);
    await Promise.all([boot, ...nodes].map((d) => d.close()));
  });

  it('lookupDistances picks the target distance and its neighbours (geth)', () => {
    const a = NodeId.fromBytes(new Uint8Array(32));
    const far = new Uint8Array(32);
    far[0] = 0x80;
    assert.deepEqual(lookupDistances(a, NodeId.fromBytes(far)), [256, 255, 254]);
    const near = new Uint8Array(32);
    near[31] = 1;
    assert.deepEqual(lookupDistances(a, NodeId.fromBytes(near)), [1, 2, 3]);
    const mid = new Uint8Array(32);
    mid[16] = 1;
    assert.deepEqual(lookupDistances(a, NodeId.fromBytes(mid)), [121, 122, 120]);
  });

  it('close() releases the socket and every timer, fails pending requests, and is idempotent', async () => {
    const clock = countingClock();
    const silent = await V5Harness.create();
    const a = await start({ clock, bootnodes: [silent.node()] });
    const pending = a.ping(silent.node());
    const iterator = a.randomNodes();
    const first = iterator.next();
    assert.ok(a.pendingCalls >= 1);
    const rejected = assert.rejects(pending, ConnectionClosedError);
    const port = a.address.port;
    await a.close();
    await a.close();
    await rejected;
    await first;
    assert.equal((await iterator.next()).done, true);
    assert.equal(a.pendingCalls, 0);
    assert.equal(a.activeTimers, 0);
    assert.equal(clock.active, 0, 'no timer left');
    await assert.rejects(a.ping(silent.node()), ConnectionClosedError);
    const again = await udpTransport.bind({ host: '127.0.0.1', port }, () => undefined);
    await again.close();
    await silent.close();
  });
});
