import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { equalBytes, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, randomBytes } from '@devp2p/crypto';
import { until } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { DISCV5_MESSAGE_TYPE, Discv5, Discv5PacketError, decryptDiscv5Message } from '../src/index.ts';
import { type HarnessSession, V5Harness } from './v5-helpers.ts';

const start = (): Promise<Discv5> =>
  Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });

/** Requests a node may send us on its own once we are in its table (revalidation, lookups). */
const NODE_REQUESTS: ReadonlySet<string> = new Set(['ping', 'findnode']);

const ping = (id = 1) => ({ type: 'ping' as const, requestId: Uint8Array.of(id), enrSeq: 1n });

/** Reads the next packet and expects a PONG under `session`, answering `requestId`, seen at harness socket `socket`. */
async function expectPong(harness: V5Harness, session: HarnessSession, requestId: number, socket = 0): Promise<void> {
  const message = await harness.nextMessage(session, 1_000, socket);
  assert.equal(message?.type, 'pong');
  if (message?.type !== 'pong') return;
  assert.ok(equalBytes(message.requestId, Uint8Array.of(requestId)));
  assert.equal(message.port, harness.sockets[socket]!.address.port);
}

describe('Discv5 handshakes', () => {
  it('repeats the same WHOAREYOU for packets sent before the handshake (geth HandshakeResend)', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const nonce = harness.sendRandom(a.self);
    const first = await harness.nextPacket();
    harness.sendRandom(a.self);
    const second = await harness.nextPacket();
    assert.equal(first?.kind, 'whoareyou');
    assert.equal(second?.kind, 'whoareyou');
    assert.ok(equalBytes(first!.datagram.bytes, second!.datagram.bytes), 'the same challenge, byte for byte');
    assert.ok(equalBytes(first!.nonce, nonce), 'naming the first packet');
    assert.equal(a.stats.challenges, 2);
    // Answering it works.
    if (first?.kind !== 'whoareyou') return;
    const { session } = harness.answerChallenge(a.self, first, ping(5));
    await expectPong(harness, session, 5);
    await Promise.all([a.close(), harness.close()]);
  });

  it('challenges with the enr-seq it knows, and takes the newer record a handshake brings', async () => {
    const a = await start();
    const harness = await V5Harness.create({ seq: 1n });
    // A stranger: enr-seq 0, so it must send its record.
    harness.sendRandom(a.self);
    const unknown = await harness.nextPacket();
    assert.equal(unknown?.kind === 'whoareyou' && unknown.enrSeq, 0n);
    await harness.close();

    const known = await V5Harness.create({ seq: 1n });
    assert.ok(a.table.addFoundNode(known.node(0, 1n)));
    known.seq = 2n;
    known.sendRandom(a.self);
    const challenge = await known.nextPacket();
    assert.equal(challenge?.kind, 'whoareyou');
    if (challenge?.kind !== 'whoareyou') return;
    assert.equal(challenge.enrSeq, 1n, 'the sequence number of our copy');
    const { session, recordSent } = known.answerChallenge(a.self, challenge, ping(2));
    assert.equal(recordSent, true, 'stale at the challenger: the record goes along');
    await expectPong(known, session, 2);
    assert.equal(a.table.get(known.id)?.seq, 2n, 'the newer record replaced the stale one');

    // Same sequence number on both sides: no record sent, the known one used.
    const current = await V5Harness.create({ seq: 3n });
    assert.ok(a.table.addFoundNode(current.node(0, 3n)));
    current.sendRandom(a.self);
    const c2 = await current.nextPacket();
    if (c2?.kind !== 'whoareyou') return assert.fail('expected WHOAREYOU');
    assert.equal(c2.enrSeq, 3n);
    const answer = current.answerChallenge(a.self, c2, ping(3));
    assert.equal(answer.recordSent, false);
    await expectPong(current, answer.session, 3);
    await Promise.all([a.close(), known.close(), current.close()]);
  });

  it('sends our record in its handshake only when the challenger has an older one', async () => {
    const a = await start();
    for (const [enrSeq, wantRecord] of [
      [a.self.seq, false],
      [a.self.seq - 1n, true],
      [0n, true],
    ] as const) {
      const harness = await V5Harness.create();
      const pending = a.ping(harness.node());
      const first = await harness.nextPacket();
      assert.equal(first?.kind, 'message', 'random bytes to start the handshake');
      const { session, message, recordSent } = await harness.challenge(a.self, first!, enrSeq);
      assert.equal(recordSent, wantRecord, `challenge with enr-seq ${enrSeq}`);
      assert.equal(message.type, 'ping');
      harness.send(a.self, session, {
        type: 'pong',
        requestId: message.requestId,
        enrSeq: 1n,
        ip: '127.0.0.1',
        port: 1,
      });
      assert.equal((await pending).enrSeq, 1n);
      await harness.close();
    }
    await a.close();
  });

  it('re-handshakes when the remote cannot decrypt what we send (it lost its keys)', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const p1 = a.ping(harness.node());
    const hello = await harness.nextPacket();
    const first = await harness.challenge(a.self, hello!, 0n);
    harness.send(a.self, first.session, {
      type: 'pong',
      requestId: first.message.requestId,
      enrSeq: 1n,
      ip: '127.0.0.1',
      port: 1,
    });
    await p1;
    assert.equal(a.stats.handshakes, 1);
    // The harness "restarts": a's next ping uses the old session, which the harness can no longer read.
    const p2 = a.ping(harness.node());
    const stale = await harness.nextPacket();
    assert.equal(stale?.kind, 'message');
    const second = await harness.challenge(a.self, stale!, 0n);
    assert.notDeepEqual(second.session.readKey, first.session.readKey, 'new keys');
    harness.send(a.self, second.session, {
      type: 'pong',
      requestId: second.message.requestId,
      enrSeq: 1n,
      ip: '127.0.0.1',
      port: 1,
    });
    await p2;
    assert.equal(a.stats.handshakes, 2);
    await Promise.all([a.close(), harness.close()]);
  });

  it('challenges a known session whose packet does not decrypt (we lost nothing, they did)', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const { session } = await harness.handshake(a.self, ping(1));
    await expectPong(harness, session, 1);
    // Keys the node does not hold: it answers WHOAREYOU, and the new handshake works.
    harness.send(a.self, { writeKey: randomBytes(16), readKey: randomBytes(16) }, ping(2));
    const challenge = await harness.nextPacket();
    assert.equal(challenge?.kind, 'whoareyou');
    if (challenge?.kind !== 'whoareyou') return;
    const next = harness.answerChallenge(a.self, challenge, ping(3));
    await expectPong(harness, next.session, 3);
    assert.equal(a.stats.challenges, 2);
    await Promise.all([a.close(), harness.close()]);
  });

  it('never uses the keys of one address for another (geth PingMultiIP), both ways', async () => {
    const a = await start();
    const harness = await V5Harness.create({ sockets: 2 });
    const { session: s0 } = await harness.handshake(a.self, ping(1), 0);
    await expectPong(harness, s0, 1, 0);
    // The session of socket 0 used from socket 1: challenged.
    harness.send(a.self, s0, ping(2), 1);
    const challenge = await harness.nextPacket(1_000, 1);
    assert.equal(challenge?.kind, 'whoareyou');
    if (challenge?.kind !== 'whoareyou') return;
    const { session: s1 } = harness.answerChallenge(a.self, challenge, ping(2), 1);
    await expectPong(harness, s1, 2, 1);
    // The keys of socket 1 from socket 0: challenged; socket 0's own keys still work.
    harness.send(a.self, s1, ping(3), 0);
    assert.equal((await harness.nextPacket(1_000, 0))?.kind, 'whoareyou');
    harness.send(a.self, s0, ping(4), 0);
    await expectPong(harness, s0, 4, 0);

    // Our side: a session with the harness at socket 0 does not carry over to socket 1.
    harness.clear();
    const p1 = a.ping(harness.node(0));
    const hello0 = await harness.nextPacket(1_000, 0);
    const at0 = await harness.challenge(a.self, hello0!, 0n);
    harness.send(
      a.self,
      at0.session,
      { type: 'pong', requestId: at0.message.requestId, enrSeq: 1n, ip: '127.0.0.1', port: 1 },
      0,
    );
    await p1;
    const p2 = a.ping(harness.node(1));
    const hello1 = await harness.nextPacket(1_000, 1);
    assert.equal(hello1?.kind, 'message');
    if (hello1?.kind !== 'message') return;
    assert.throws(() => decryptDiscv5Message(hello1, at0.session.readKey), Discv5PacketError, 'not under the old keys');
    const at1 = await harness.challenge(a.self, hello1, 0n);
    harness.send(
      a.self,
      at1.session,
      { type: 'pong', requestId: at1.message.requestId, enrSeq: 1n, ip: '127.0.0.1', port: 1 },
      1,
    );
    await p2;
    await Promise.all([a.close(), harness.close()]);
  });

  it('answers one challenge per request: a second WHOAREYOU for it is ignored', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const pending = a.ping(harness.node());
    const hello = await harness.nextPacket();
    const first = await harness.challenge(a.self, hello!, 0n);
    assert.equal(first.message.type, 'ping');
    // Challenge the handshake packet too: a second handshake for one request is refused.
    const { encodeDiscv5WhoareyouPacket } = await import('../src/index.ts');
    const rejected = assert.rejects(pending, { code: 'ERR_TIMEOUT' });
    harness.sendRaw(
      encodeDiscv5WhoareyouPacket({ destId: a.self.id, nonce: first.handshakeNonce, enrSeq: 0n }).bytes,
      a.self,
    );
    // The first packet's nonce is no longer the request's: unsolicited.
    harness.sendRaw(encodeDiscv5WhoareyouPacket({ destId: a.self.id, nonce: hello!.nonce, enrSeq: 0n }).bytes, a.self);
    await rejected;
    assert.equal(a.stats.dropped['second-challenge'], 1);
    assert.equal(a.stats.dropped.unsolicited, 1);
    assert.equal(a.stats.handshakes, 1);
    await Promise.all([a.close(), harness.close()]);
  });

  it('drops a request id over 8 bytes without answering (geth PingLargeRequestID)', async () => {
    const a = await start();
    const harness = await V5Harness.create();
    const { session } = await harness.handshake(a.self, ping(1));
    await expectPong(harness, session, 1);
    const plaintext = new Uint8Array([DISCV5_MESSAGE_TYPE.ping, ...rlpEncode([new Uint8Array(9), 1n])]);
    harness.sendPlaintext(a.self, session, plaintext);
    await until(() => a.stats.dropped['bad-message'] === 1, 5_000, 'the message dropped');
    // No PONG for it. The node may send us requests meanwhile (it revalidates and looks up with what it just put in
    // its table): those are not answers.
    const quietUntil = Date.now() + 300;
    for (let left = 300; left > 0; left = quietUntil - Date.now()) {
      const message = await harness.nextMessage(session, left);
      if (message) assert.ok(NODE_REQUESTS.has(message.type), `an answer to the dropped request: ${message.type}`);
    }
    // An empty request id is fine.
    harness.send(a.self, session, {
      type: 'talkreq',
      requestId: new Uint8Array(0),
      protocol: Uint8Array.of(1),
      request: new Uint8Array(0),
    });
    let resp = await harness.nextMessage(session);
    while (resp && NODE_REQUESTS.has(resp.type)) resp = await harness.nextMessage(session);
    assert.equal(resp?.type, 'talkresp');
    assert.equal(resp?.requestId.length, 0);
    await Promise.all([a.close(), harness.close()]);
  });
});
