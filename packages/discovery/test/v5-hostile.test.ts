import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionClosedError, defaultLogger } from '@devp2p/core';
import { generatePrivateKey, randomBytes } from '@devp2p/crypto';
import { Enr, logDistance, Node, NodeId } from '@devp2p/enode';
import { until } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import { udpTransport } from '@devp2p/transport-node';
import {
  DISCV5_MAX_PACKET_SIZE,
  DISCV5_MIN_PACKET_SIZE,
  Discv5,
  type Discv5Message,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  ERR_DISCV5_BUSY,
  encodeDiscv5HandshakePacket,
  encodeDiscv5Message,
  encodeDiscv5MessagePacket,
  encodeDiscv5WhoareyouPacket,
  HANDSHAKE_TIMEOUT_MS,
  MAX_CHALLENGES_PER_IP,
  MAX_PENDING_CALLS,
  TOTAL_NODES_RESPONSE_LIMIT,
  verifyResponseRecord,
} from '../src/index.ts';
import { Lifecycle } from '../src/lifecycle.ts';
import { VerifiedRecords } from '../src/v5/nodes.ts';
import { TalkSystem } from '../src/v5/talk.ts';
import { sleep, V5Harness } from './v5-helpers.ts';

const start = (): Promise<Discv5> =>
  Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });

/** A signed record on `ip`:`port` at log distance `distance` from `from` (by trying keys). */
function recordAt(from: NodeId, distance: number, ip = '127.0.0.1', port = 40_000): Enr {
  for (;;) {
    const record = Enr.create({ ip, udp: port }, 1n).sign(generatePrivateKey());
    if (logDistance(from, record.nodeId!) === distance) return record;
  }
}

describe('Discv5 against hostile input', () => {
  it('drops datagrams outside 63..1280 bytes before any cryptography, and noise, without answering', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    harness.sendRaw(randomBytes(DISCV5_MIN_PACKET_SIZE - 1), a.self);
    harness.sendRaw(randomBytes(DISCV5_MAX_PACKET_SIZE + 1), a.self);
    harness.sendRaw(Uint8Array.of(1), a.self);
    for (let i = 0; i < 50; i++) harness.sendRaw(randomBytes(DISCV5_MIN_PACKET_SIZE + i * 20), a.self);
    await until(() => a.stats.received === 53, 5_000, 'every datagram handled');
    assert.equal(await harness.next(300), undefined, 'nothing answered');
    assert.equal(a.stats.dropped['too-small'], 2);
    assert.equal(a.stats.dropped['too-large'], 1);
    assert.equal(a.stats.dropped['bad-protocol-id'], 50);
    // Still serving.
    const b = await start();
    await b.ping(a.self);
    await Promise.all([a.close(), b.close(), harness.close()]);
  });

  it('drops a handshake it did not ask for before opening it, and a WHOAREYOU it did not provoke', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    // A handshake "answering" a challenge the node never sent.
    const fake = encodeDiscv5WhoareyouPacket({ destId: harness.id, nonce: randomBytes(12), enrSeq: 0n });
    const hs = encodeDiscv5HandshakePacket({
      srcId: harness.id,
      destId: a.self.id,
      privateKey: harness.key,
      destPublicKey: a.self.publicKey!,
      challengeData: fake.headerData,
      record: harness.record(),
      message: { type: 'ping', requestId: Uint8Array.of(1), enrSeq: 1n },
    });
    harness.sendRaw(hs.bytes, a.self);
    harness.sendRaw(
      encodeDiscv5WhoareyouPacket({ destId: a.self.id, nonce: randomBytes(12), enrSeq: 0n }).bytes,
      a.self,
    );
    await until(() => a.stats.received === 2, 5_000, 'both packets handled');
    assert.equal(await harness.next(300), undefined);
    assert.equal(a.stats.dropped['unexpected-handshake'], 1);
    assert.equal(a.stats.dropped.unsolicited, 1);
    assert.equal(a.stats.handshakes, 0);
    await Promise.all([a.close(), harness.close()]);
  });

  it('rate-limits challenges to one address, and gives the quota back after the handshake timeout', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const extra = 4;
    for (let i = 0; i < MAX_CHALLENGES_PER_IP + extra; i++) {
      harness.sendRandom(a.self, 0, NodeId.fromBytes(randomBytes(32)));
    }
    let challenges = 0;
    while (await harness.next(300)) challenges++;
    assert.equal(challenges, MAX_CHALLENGES_PER_IP);
    assert.equal(a.stats.dropped['rate-limited'], extra);
    await sleep(HANDSHAKE_TIMEOUT_MS + 50);
    harness.sendRandom(a.self);
    assert.equal((await harness.nextPacket())?.kind, 'whoareyou');
    await Promise.all([a.close(), harness.close()]);
  });

  it('drops responses that answer no request of ours', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const { session } = await harness.handshake(a.self, { type: 'ping', requestId: Uint8Array.of(1), enrSeq: 1n });
    await harness.nextMessage(session);
    harness.send(a.self, session, { type: 'pong', requestId: Uint8Array.of(9), enrSeq: 1n, ip: '127.0.0.1', port: 1 });
    harness.send(a.self, session, { type: 'nodes', requestId: Uint8Array.of(9), total: 1, records: [] });
    harness.send(a.self, session, { type: 'talkresp', requestId: Uint8Array.of(9), response: new Uint8Array(0) });
    await until(() => a.stats.dropped.unsolicited === 3, 5_000, 'three unsolicited responses dropped');
    await Promise.all([a.close(), harness.close()]);
  });

  it('keeps only the NODES records that verify and lie at a requested distance, reading at most 5 packets', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const pending = a.findNode(harness.node(), [256]);
    const hello = await harness.nextPacket();
    const { session, message } = await harness.challenge(a.self, hello!, 0n);
    assert.equal(message.type, 'findnode');
    const good = recordAt(harness.id, 256);
    const wrongDistance = recordAt(harness.id, 255);
    const forgedBytes = recordAt(harness.id, 256).encode().slice();
    forgedBytes[5] = (forgedBytes[5]! + 1) & 0xff; // inside the signature
    const forged = Enr.decode(forgedBytes, { verify: false });
    const lowPortPublic = recordAt(harness.id, 256, '8.8.8.8', 80);
    const records = [good, wrongDistance, forged, lowPortPublic, good];
    const reply = (m: Discv5Message): void => harness.send(a.self, session, m);
    reply({ type: 'nodes', requestId: message.requestId, total: 1, records });
    const found = await pending;
    assert.deepEqual(
      found.map((n) => n.id.hex),
      [good.nodeId!.hex],
    );

    // An answer announcing 255 packets is read up to TOTAL_NODES_RESPONSE_LIMIT of them (with more, or by the
    // timeout, the answer would hold more).
    const second = a.findNode(harness.node(), [256]);
    const request = await harness.nextMessage(session);
    assert.equal(request?.type, 'findnode');
    for (let i = 0; i < TOTAL_NODES_RESPONSE_LIMIT + 2; i++) {
      reply({ type: 'nodes', requestId: request!.requestId, total: 255, records: [recordAt(harness.id, 256)] });
    }
    assert.equal((await second).length, TOTAL_NODES_RESPONSE_LIMIT);
    await Promise.all([a.close(), harness.close()]);
  });

  it('verifyResponseRecord: no LAN or loopback addresses from a public sender, no special networks', () => {
    const responder = NodeId.fromBytes(randomBytes(32));
    const check = (sender: string, record: Enr): string | Node =>
      verifyResponseRecord(record, {
        sender: { ip: sender, port: 30303 },
        responderId: responder,
        distances: [logDistance(responder, record.nodeId!)],
        netRestrict: undefined,
        seen: new Set(),
      });
    const lan = recordAt(responder, 256, '192.168.1.7', 30303);
    const loop = recordAt(responder, 256, '127.0.0.1', 30303);
    const doc = recordAt(responder, 256, '198.51.100.1', 30303);
    const pub = recordAt(responder, 256, '8.8.4.4', 30303);
    assert.equal(typeof check('8.8.8.8', lan), 'string');
    assert.equal(typeof check('8.8.8.8', loop), 'string');
    assert.equal(typeof check('8.8.8.8', doc), 'string');
    assert.ok(check('8.8.8.8', pub) instanceof Node);
    assert.ok(check('192.168.1.1', lan) instanceof Node);
    const noIp = Enr.create({ udp: 30303 }, 1n).sign(generatePrivateKey());
    assert.equal(typeof check('127.0.0.1', noIp), 'string');
  });

  it('VerifiedRecords: an identical record reuses its node, a changed one under the same signature fails', () => {
    const verified = new VerifiedRecords();
    const record = Enr.create({ ip: '127.0.0.1', udp: 40_000 }, 1n).sign(generatePrivateKey());
    const first = verified.fromRecord(Enr.decode(record.encode(), { verify: false }));
    assert.equal(verified.fromRecord(Enr.decode(record.encode(), { verify: false })), first);
    // The udp value 40000 (0x82 0x9c 0x40) turned into 40001: same signature bytes, other content.
    const bytes = record.encode().slice();
    const at = bytes.findIndex((b, i) => b === 0x82 && bytes[i + 1] === 0x9c && bytes[i + 2] === 0x40);
    assert.ok(at > 0);
    bytes[at + 2] = 0x41;
    const forged = Enr.decode(bytes, { verify: false });
    assert.equal(forged.udp, 40_001);
    assert.throws(() => verified.fromRecord(forged));
    assert.equal(verified.fromRecord(Enr.decode(record.encode(), { verify: false })), first);
  });

  it('never throws out of the packet handler for mutated packets and plaintexts (fuzz)', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const { session } = await harness.handshake(a.self, { type: 'ping', requestId: Uint8Array.of(1), enrSeq: 1n });
    assert.equal((await harness.nextMessage(session))?.type, 'pong');
    const messages: Discv5Message[] = [
      { type: 'ping', requestId: Uint8Array.of(2), enrSeq: 1n },
      { type: 'findnode', requestId: Uint8Array.of(3), distances: [0, 256] },
      { type: 'talkreq', requestId: Uint8Array.of(4), protocol: Uint8Array.of(1), request: Uint8Array.of(2) },
      { type: 'pong', requestId: Uint8Array.of(5), enrSeq: 1n, ip: '127.0.0.1', port: 1 },
    ];
    const packets = [
      ...messages.map(
        (m) =>
          encodeDiscv5MessagePacket({ srcId: harness.id, destId: a.self.id, key: session.writeKey, message: m }).bytes,
      ),
      encodeDiscv5WhoareyouPacket({ destId: a.self.id, nonce: randomBytes(12), enrSeq: 0n }).bytes,
    ];
    const plaintexts = messages.map((m) => encodeDiscv5Message(m));
    const from = { host: '127.0.0.1', port: harness.sockets[0]!.address.port };
    // Mutated datagrams, then valid packets carrying mutated plaintexts: the handler returns, whatever comes.
    fuzzDecoder(
      fuzzInputs(packets, 1_300),
      (bytes) => a.receive(bytes, from),
      () => false,
    );
    fuzzDecoder(
      fuzzInputs(plaintexts, 600),
      (plaintext) => a.receive(harness.sealPlaintext(a.self, session, plaintext), from),
      () => false,
    );
    assert.equal(a.stats.dropped['handler-error'], 0);
    assert.ok(a.stats.dropped['bad-message'] > 0);
    // Still serving the same session.
    harness.clear();
    harness.send(a.self, session, { type: 'ping', requestId: Uint8Array.of(9), enrSeq: 1n });
    for (;;) {
      const datagram = await harness.next();
      assert.ok(datagram, 'a pong');
      // Challenges provoked by mutated packets (some to mutated source ids, masked for them) come first.
      let reply: Discv5Message;
      try {
        const packet = decodeDiscv5Packet(datagram.bytes, harness.id);
        if (packet.kind !== 'message') continue;
        reply = decryptDiscv5Message(packet, session.readKey);
      } catch {
        continue;
      }
      if (reply.type === 'pong' && reply.requestId[0] === 9) break;
    }
    await Promise.all([a.close(), harness.close()]);
  });

  it('bounds pending requests: beyond MAX_PENDING_CALLS a request fails at once', async () => {
    const a = await start();
    const silent = await V5Harness.create();
    const node = silent.node();
    const pending = Array.from({ length: MAX_PENDING_CALLS }, () => a.ping(node).catch((err: unknown) => err));
    assert.equal(a.pendingCalls, MAX_PENDING_CALLS);
    await assert.rejects(a.ping(node), { code: ERR_DISCV5_BUSY });
    await a.close();
    for (const err of await Promise.all(pending)) {
      assert.ok(err instanceof ConnectionClosedError || (err as { code?: string }).code === 'ERR_TIMEOUT');
    }
    await silent.close();
  });

  it('bounds running TALKREQ handlers: beyond the limit requests are dropped', async () => {
    const lifecycle = new Lifecycle({ now: Date.now, setTimeout, clearTimeout });
    const sent: Uint8Array[] = [];
    const talk = new TalkSystem({
      lifecycle,
      log: defaultLogger(),
      maxActive: 2,
      respond: (_node, _to, requestId) => sent.push(requestId),
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    talk.register('slow', async () => {
      await gate;
      return new Uint8Array(0);
    });
    const node = Node.fromRecord(Enr.create({ ip: '127.0.0.1', udp: 30303 }, 1n).sign(generatePrivateKey()));
    const from = { ip: '127.0.0.1', port: 30303 };
    const request = (id: number) => ({
      type: 'talkreq' as const,
      requestId: Uint8Array.of(id),
      protocol: new TextEncoder().encode('slow'),
      request: new Uint8Array(0),
    });
    assert.equal(talk.handle(request(1), node, from), undefined);
    assert.equal(talk.handle(request(2), node, from), undefined);
    assert.equal(talk.handle(request(3), node, from), 'talk-overload');
    // Unknown protocols are answered at once, whatever the load.
    assert.equal(talk.handle({ ...request(4), protocol: Uint8Array.of(0xff) }, node, from), undefined);
    assert.deepEqual(sent, [Uint8Array.of(4)]);
    release();
    await sleep(10);
    assert.equal(talk.active, 0);
    assert.deepEqual(
      sent.map((id) => id[0]),
      [4, 1, 2],
    );
    lifecycle.close();
  });
});
