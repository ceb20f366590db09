// Unit tests of the png/1 plugin: its codecs, and its handlers driven through FakePeer (test/fake-peer.ts), an
// in-test stand-in for the server. The test between real peers over RLPx comes with the server package.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AbortError,
  bytesToHex,
  Devp2pError,
  DisconnectError,
  DisconnectReason,
  hexToBytes,
  RlpError,
  rlpEncode,
  TimeoutError,
} from '@devp2p/core';
import {
  createPingProtocol,
  MAX_ABANDONED_PINGS,
  MAX_NONCE,
  MAX_PENDING_PINGS,
  measureRtt,
  PING_TIMEOUT_MS,
  type PingContext,
  type PingMessages,
  type PingState,
  ping,
  pingCodec,
  pongCodec,
} from '../src/index.ts';
import { FakePeer } from './fake-peer.ts';

type PingPeer = FakePeer<PingMessages, PingState>;

/** The nonce of the last Ping `peer` sent. */
function lastPingNonce(peer: PingPeer): bigint {
  const message = peer.sent.at(-1);
  assert.ok(message?.name === 'Ping', `last sent: ${message?.name}`);
  return message.payload.nonce;
}

describe('codecs', () => {
  it('encode [nonce] and decode it back', () => {
    const cases: [bigint, string][] = [
      [0n, 'c180'],
      [1n, 'c101'],
      [0x7fn, 'c17f'],
      [0x80n, 'c28180'],
      [0x1_0000_0000n, 'c6850100000000'],
      [MAX_NONCE, 'c988ffffffffffffffff'],
    ];
    for (const codec of [pingCodec, pongCodec]) {
      for (const [nonce, hex] of cases) {
        assert.equal(bytesToHex(codec.encode({ nonce })), hex);
        assert.deepEqual(codec.decode(hexToBytes(hex)), { nonce });
      }
    }
  });

  it('accept and ignore extra list items (forward compatibility)', () => {
    assert.deepEqual(pingCodec.decode(rlpEncode([5n, 'from a later version', [1, 2]])), { nonce: 5n });
    assert.deepEqual(pongCodec.decode(rlpEncode([MAX_NONCE, new Uint8Array(3)])), { nonce: MAX_NONCE });
  });

  it('reject malformed payloads with an RlpError', () => {
    const bad: [string, string][] = [
      ['', 'empty input'],
      ['01', 'not a list'],
      ['80', 'not a list'],
      ['c0', 'empty list'],
      ['c1c0', 'nonce is a list'],
      ['c3820001', 'leading zero byte'],
      ['c100', 'single zero byte (zero is 0x80)'],
      ['c28101', 'byte below 0x80 with a string header'],
      ['ca89010000000000000000', '2^64: nine bytes'],
      ['c101ff', 'trailing bytes'],
      ['c201', 'list longer than the input'],
    ];
    for (const codec of [pingCodec, pongCodec]) {
      for (const [hex, why] of bad) {
        assert.throws(() => codec.decode(hexToBytes(hex)), RlpError, `${hex}: ${why}`);
      }
    }
  });

  it('refuse to encode a nonce outside uint64', () => {
    assert.throws(() => pingCodec.encode({ nonce: -1n }), RangeError);
    assert.throws(() => pongCodec.encode({ nonce: MAX_NONCE + 1n }), RangeError);
    // @ts-expect-error the nonce is a bigint, not a number
    assert.throws(() => pingCodec.encode({ nonce: 1 }), TypeError);
  });
});

describe('protocol definition', () => {
  it('is png/1 with two message codes', () => {
    assert.deepEqual(ping.cap, { name: 'png', version: 1 });
    assert.equal(ping.length, 2);
    assert.equal(ping.messageNames.get(0), 'Ping');
    assert.equal(ping.messageNames.get(1), 'Pong');
    assert.deepEqual(ping.nodeInfo(), { version: 1 });
    assert.equal(PING_TIMEOUT_MS, 10_000);
    assert.equal(MAX_PENDING_PINGS, 16);
  });

  it('createPingProtocol rejects a bad timeout or limit', () => {
    assert.throws(() => createPingProtocol({ timeoutMs: 0 }), RangeError);
    assert.throws(() => createPingProtocol({ timeoutMs: Number.NaN }), RangeError);
    assert.throws(() => createPingProtocol({ timeoutMs: Number.POSITIVE_INFINITY }), RangeError);
    assert.throws(() => createPingProtocol({ maxPending: 0 }), RangeError);
    assert.throws(() => createPingProtocol({ maxPending: 1.5 }), RangeError);
    assert.deepEqual(createPingProtocol({ timeoutMs: 1 }).cap, ping.cap);
  });

  it('type-checks payloads (compile time: checked by tsc)', () => {
    const misuse = (ctx: PingContext): void => {
      // @ts-expect-error the nonce is a bigint
      void ctx.send('Pong', { nonce: 1 });
      // @ts-expect-error a Pong carries { nonce }, not a bare bigint
      void ctx.send('Pong', 1n);
      // @ts-expect-error png/1 has no message called Hello
      void ctx.send('Hello', { nonce: 1n });
      const rtt: Promise<number> = measureRtt(ctx);
      void rtt;
    };
    assert.equal(typeof misuse, 'function');
  });
});

describe('handlers', () => {
  it('answer a Ping with a Pong carrying the same nonce', async () => {
    const peer = await FakePeer.connect(ping);
    await peer.deliver('Ping', { nonce: 7n });
    await peer.receive(0, pingCodec.encode({ nonce: MAX_NONCE }));
    assert.deepEqual(
      peer.sent.map((m) => [m.code, m.name, m.payload.nonce]),
      [
        [1, 'Pong', 7n],
        [1, 'Pong', MAX_NONCE],
      ],
    );
    assert.deepEqual(peer.disconnects, []);
    peer.close();
  });

  it('end the peer with a breach of protocol on an undecodable message or unknown code', async () => {
    const malformed = await FakePeer.connect(ping);
    await malformed.receive(1, hexToBytes('c3820001'));
    assert.deepEqual(malformed.disconnects, [DisconnectReason.ProtocolError]);
    const unknown = await FakePeer.connect(ping);
    await unknown.receive(2, hexToBytes('c101'));
    assert.deepEqual(unknown.disconnects, [DisconnectReason.ProtocolError]);
  });

  it('end the peer with a subprotocol error when the Pong cannot be sent', async () => {
    const peer = await FakePeer.connect(ping);
    peer.sendError = new Error('socket gone');
    await peer.deliver('Ping', { nonce: 1n });
    assert.deepEqual(peer.disconnects, [DisconnectReason.SubprotocolError]);
  });

  it('end the peer with a breach of protocol on an unsolicited Pong', async () => {
    const peer = await FakePeer.connect(ping);
    await peer.deliver('Pong', { nonce: 42n });
    assert.deepEqual(peer.disconnects, [DisconnectReason.ProtocolError]);
    assert.equal(peer.closed?.reason, DisconnectReason.ProtocolError);
    assert.equal(peer.ctx.state.pongsReceived, 0);
  });

  it('report the initial state to the admin API', async () => {
    const peer = await FakePeer.connect(ping);
    assert.deepEqual(peer.instance.info(), { version: 1, lastRttMs: null, pingsSent: 0, pongsReceived: 0 });
    peer.close();
  });
});

describe('measureRtt', () => {
  it('resolves with the round-trip time when the matching Pong arrives', async () => {
    const peer = await FakePeer.connect(ping);
    const rtt = measureRtt(peer.ctx);
    const nonce = lastPingNonce(peer);
    assert.ok(nonce >= 0n && nonce <= MAX_NONCE);
    assert.equal(peer.ctx.state.pending.pending, 1);
    await peer.deliver('Pong', { nonce });
    const ms = await rtt;
    assert.equal(typeof ms, 'number');
    assert.ok(ms >= 0, `rtt ${ms}`);
    assert.deepEqual(peer.instance.info(), { version: 1, lastRttMs: ms, pingsSent: 1, pongsReceived: 1 });
    assert.equal(peer.ctx.state.pending.pending, 0);
    assert.deepEqual(peer.disconnects, []);
    peer.close();
  });

  it('measures between two peers, through the codecs, with several pings in flight', async () => {
    const [a, b] = await FakePeer.pair(ping);
    const rtts = await Promise.all([measureRtt(a.ctx), measureRtt(a.ctx), measureRtt(b.ctx)]);
    for (const ms of rtts) assert.ok(ms >= 0);
    const nonces = a.sent.filter((m) => m.name === 'Ping').map((m) => m.payload.nonce);
    assert.equal(new Set(nonces).size, 2, 'fresh nonce per ping');
    assert.deepEqual(
      b.sent.filter((m) => m.name === 'Pong').map((m) => m.payload.nonce),
      nonces,
    );
    assert.equal(a.ctx.state.pongsReceived, 2);
    assert.equal(b.ctx.state.pongsReceived, 1);
    assert.deepEqual([...a.disconnects, ...b.disconnects], []);
    a.close();
    assert.equal(b.closed?.initiator, 'remote');
  });

  it('rejects with a TimeoutError, and drops the late Pong without ending the peer', async () => {
    const quick = createPingProtocol({ timeoutMs: 20 });
    const peer = await FakePeer.connect(quick);
    const rtt = measureRtt(peer.ctx);
    const nonce = lastPingNonce(peer);
    await assert.rejects(rtt, TimeoutError);
    assert.equal(peer.ctx.state.lastRttMs, null);
    await peer.deliver('Pong', { nonce });
    assert.deepEqual(peer.disconnects, []);
    assert.equal(peer.ctx.state.pongsReceived, 1);
    // Only once: the same nonce again is unsolicited.
    await peer.deliver('Pong', { nonce });
    assert.deepEqual(peer.disconnects, [DisconnectReason.ProtocolError]);
  });

  it('rejects with an AbortError when its signal aborts, before or while waiting', async () => {
    const peer = await FakePeer.connect(ping);
    await assert.rejects(measureRtt(peer.ctx, { signal: AbortSignal.abort() }), AbortError);
    assert.equal(peer.sent.length, 0, 'nothing sent for an aborted signal');

    const controller = new AbortController();
    const rtt = measureRtt(peer.ctx, { signal: controller.signal });
    const nonce = lastPingNonce(peer);
    controller.abort(new Error('user gave up'));
    await assert.rejects(rtt, (err: unknown) => err instanceof AbortError && /user gave up/.test(String(err.cause)));
    assert.equal(peer.ctx.state.pending.pending, 0);
    await peer.deliver('Pong', { nonce });
    assert.deepEqual(peer.disconnects, [], 'the Pong to an aborted ping is not a breach');
    peer.close();
  });

  it(`remembers at most ${MAX_ABANDONED_PINGS} abandoned pings`, async () => {
    const peer = await FakePeer.connect(ping);
    const nonces: bigint[] = [];
    for (let i = 0; i <= MAX_ABANDONED_PINGS; i++) {
      const controller = new AbortController();
      const rtt = measureRtt(peer.ctx, { signal: controller.signal });
      nonces.push(lastPingNonce(peer));
      controller.abort();
      await assert.rejects(rtt, AbortError);
    }
    assert.equal(peer.ctx.state.abandoned.size, MAX_ABANDONED_PINGS);
    await peer.deliver('Pong', { nonce: nonces.at(-1)! });
    assert.deepEqual(peer.disconnects, []);
    await peer.deliver('Pong', { nonce: nonces[0]! });
    assert.deepEqual(peer.disconnects, [DisconnectReason.ProtocolError], 'the oldest was forgotten');
  });

  it('refuses more than maxPending pings at once', async () => {
    const peer = await FakePeer.connect(createPingProtocol({ maxPending: 2 }));
    const first = measureRtt(peer.ctx);
    const second = measureRtt(peer.ctx);
    await assert.rejects(
      measureRtt(peer.ctx),
      (err: unknown) => err instanceof Devp2pError && err.code === 'ERR_TOO_MANY_REQUESTS',
    );
    peer.close();
    await assert.rejects(first, DisconnectError);
    await assert.rejects(second, DisconnectError);
  });

  it('rejects pending and later pings with the DisconnectError when the peer ends (onClose)', async () => {
    const peer = await FakePeer.connect(ping);
    const rtt = measureRtt(peer.ctx);
    peer.close(DisconnectReason.TooManyPeers, 'remote');
    await assert.rejects(
      rtt,
      (err: unknown) =>
        err instanceof DisconnectError && err.reason === DisconnectReason.TooManyPeers && err.initiator === 'remote',
    );
    await assert.rejects(measureRtt(peer.ctx), DisconnectError);
    assert.equal(peer.ctx.state.pending.pending, 0);
  });

  it('has no context to measure with before the handshake has run', () => {
    const peer = new FakePeer(ping);
    assert.equal(ping.context(peer.instance), undefined);
    assert.equal(peer.sent.length, 0);
  });

  it('rejects with the send error when the Ping cannot be sent', async () => {
    const peer = await FakePeer.connect(ping);
    peer.sendError = new Error('socket gone');
    await assert.rejects(measureRtt(peer.ctx), /socket gone/);
    assert.equal(peer.ctx.state.pingsSent, 0);
    assert.equal(peer.ctx.state.pending.pending, 0);
    peer.close();
  });
});
