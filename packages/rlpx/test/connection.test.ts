import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  AbortError,
  type ByteStream,
  bytesToHex,
  ConnectionClosedError,
  Devp2pError,
  ManualClock,
  ProtocolError,
  TimeoutError,
  TooLargeError,
} from '@devp2p/core';
import { createMemoryStreamPair, nodeSocketStream } from '@devp2p/transport-node';
import {
  ERR_HANDSHAKE,
  ERR_WRITE_QUEUE_FULL,
  FRAME_READ_TIMEOUT_MS,
  FRAME_WRITE_TIMEOUT_MS,
  HANDSHAKE_MAX_SIZE,
  HANDSHAKE_TIMEOUT_MS,
  MAX_FRAME_SIZE,
  MAX_MESSAGE_SIZE,
  MAX_WRITE_QUEUE_BYTES,
  QUEUED_FRAME_OVERHEAD,
  RLPxConnection,
  type RLPxConnectionOptions,
  type RLPxMessage,
  snappyCompress,
  WRITE_BATCH_BYTES,
} from '../src/index.ts';
import { countingClock, encodeAuthPrefix, keyPair, rawDial, seededBytes, sleep, xorshift } from './helpers.ts';

// Unhandled rejections would be bugs: count them across this file (Node, Bun and Deno all emit this event).
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
before(() => {
  process.on('unhandledRejection', onUnhandled);
});
after(() => {
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejections');
});

const SHORT = 200;

function memoryPair(options: Partial<RLPxConnectionOptions> = {}, highWaterMark?: number) {
  const a = keyPair();
  const b = keyPair();
  const [sa, sb] = createMemoryStreamPair(highWaterMark === undefined ? {} : { highWaterMark });
  const dialer = new RLPxConnection(sa, { ...options, privateKey: a.privateKey, remotePublicKey: b.publicKey });
  const listener = new RLPxConnection(sb, { ...options, privateKey: b.privateKey });
  return { a, b, dialer, listener };
}

async function exchange(from: RLPxConnection, to: RLPxConnection, code: number, payload: Uint8Array): Promise<void> {
  const [, got] = await Promise.all([from.writeMessage(code, payload), to.readMessage()]);
  assert.equal(got.code, code);
  assert.deepEqual(got.payload, payload);
}

/** A listening server on 127.0.0.1, port 0, handing each accepted socket to `onSocket`. */
async function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port };
}

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function dialSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

function closedEvent(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Resolves with the rejection of `promise`, failing when it fulfils. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

/** A handshaken pair of connections over memory streams; every write of the dialer's stream goes to `onWrite` first. */
async function recordedPair(
  onWrite: (data: Uint8Array) => void,
): Promise<{ dialer: RLPxConnection; listener: RLPxConnection }> {
  const a = keyPair();
  const b = keyPair();
  const [sa, sb] = createMemoryStreamPair();
  const recorded: ByteStream = {
    get remoteAddress() {
      return sa.remoteAddress;
    },
    get localAddress() {
      return sa.localAddress;
    },
    read: () => sa.read(),
    write: (data) => {
      onWrite(data);
      return sa.write(data);
    },
    end: () => sa.end(),
    destroy: () => sa.destroy(),
  };
  const dialer = new RLPxConnection(recorded, { privateKey: a.privateKey, remotePublicKey: b.publicKey });
  const listener = new RLPxConnection(sb, { privateKey: b.privateKey });
  await Promise.all([dialer.handshake(), listener.handshake()]);
  return { dialer, listener };
}
describe('limits and deadlines', () => {
  it("default to geth's values", () => {
    assert.equal(HANDSHAKE_TIMEOUT_MS, 5_000);
    assert.equal(FRAME_READ_TIMEOUT_MS, 30_000);
    assert.equal(FRAME_WRITE_TIMEOUT_MS, 20_000);
    assert.equal(MAX_FRAME_SIZE, 2 ** 24 - 1);
    assert.equal(MAX_MESSAGE_SIZE, 2 ** 24 - 1);
    assert.equal(HANDSHAKE_MAX_SIZE, 2048);
  });
});

describe('RLPxConnection over an in-memory pair', () => {
  it('handshakes in both roles and moves messages both ways, then with snappy', async () => {
    const { a, b, dialer, listener } = memoryPair();
    assert.equal(dialer.initiator, true);
    assert.equal(listener.initiator, false);
    const [toB, toA] = await Promise.all([dialer.handshake(), listener.handshake()]);
    assert.deepEqual(toB, b.publicKey);
    assert.deepEqual(toA, a.publicKey);
    assert.deepEqual(listener.remotePublicKey, a.publicKey);
    const next = xorshift(21);
    for (const snappy of [false, true]) {
      dialer.setSnappy(snappy);
      listener.setSnappy(snappy);
      for (const size of [0, 1, 15, 16, 17, 1000, 100_000]) {
        await exchange(dialer, listener, 0x10 + (size % 7), seededBytes(next, size));
        await exchange(listener, dialer, size, new Uint8Array(size).fill(7));
      }
      await exchange(dialer, listener, 0, new Uint8Array(0));
      await exchange(listener, dialer, Number.MAX_SAFE_INTEGER, new Uint8Array([1]));
    }
    dialer.close('bye');
    const err = await rejection(listener.readMessage());
    assert.ok(err instanceof ConnectionClosedError);
    assert.equal(err.remoteAddress, 'memory:a');
    assert.ok(dialer.closed && listener.closed);
  });

  it('serialises concurrent writers: frames never interleave, order is call order', async () => {
    const { dialer, listener } = memoryPair({}, 4096);
    await Promise.all([dialer.handshake(), listener.handshake()]);
    const next = xorshift(22);
    const payloads = Array.from({ length: 40 }, (_, i) => seededBytes(next, i * 997));
    const writes = Promise.all(payloads.map((p, i) => dialer.writeMessage(i, p)));
    const received: RLPxMessage[] = [];
    for (let i = 0; i < payloads.length; i++) received.push(await listener.readMessage());
    await writes;
    received.forEach((m, i) => {
      assert.equal(m.code, i);
      assert.deepEqual(m.payload, payloads[i]);
    });
    dialer.close();
    listener.close();
  });

  it('async iteration yields messages and ends when the peer closes', async () => {
    const { dialer, listener } = memoryPair();
    await Promise.all([dialer.handshake(), listener.handshake()]);
    const sent = [new Uint8Array([1]), new Uint8Array([2, 2]), new Uint8Array(0)];
    for (const [i, p] of sent.entries()) await dialer.writeMessage(i, p);
    dialer.close();
    const got: RLPxMessage[] = [];
    for await (const m of listener) got.push(m);
    assert.deepEqual(
      got.map((m) => [m.code, [...m.payload]]),
      sent.map((p, i) => [i, [...p]]),
    );
  });

  it('rejects a dialed peer whose key differs from the one we dialed', async () => {
    const a = keyPair();
    const b = keyPair();
    const someoneElse = keyPair();
    const [sa, sb] = createMemoryStreamPair();
    const dialer = new RLPxConnection(sa, { privateKey: a.privateKey, remotePublicKey: someoneElse.publicKey });
    const listener = new RLPxConnection(sb, { privateKey: b.privateKey });
    const [dialErr, listenErr] = await Promise.all([rejection(dialer.handshake()), rejection(listener.handshake())]);
    // B cannot decrypt an auth sealed to another key, so it drops the connection; A sees it closed.
    assert.ok(listenErr instanceof ProtocolError && listenErr.code === ERR_HANDSHAKE, String(listenErr));
    assert.equal(listenErr.remoteAddress, 'memory:a');
    assert.ok(dialErr instanceof ConnectionClosedError, String(dialErr));
    assert.equal(dialErr.remoteAddress, 'memory:b');
  });

  it('too-large writes are refused locally and the connection stays usable', async () => {
    const { dialer, listener } = memoryPair();
    await Promise.all([dialer.handshake(), listener.handshake()]);
    assert.ok((await rejection(dialer.writeMessage(1, new Uint8Array(MAX_FRAME_SIZE)))) instanceof TooLargeError);
    dialer.setSnappy(true);
    listener.setSnappy(true);
    const err = await rejection(dialer.writeMessage(1, new Uint8Array(MAX_MESSAGE_SIZE + 1)));
    assert.ok(err instanceof TooLargeError && err.limit === MAX_MESSAGE_SIZE);
    await exchange(dialer, listener, 3, new Uint8Array(100));
    // Highly compressible: 16 MiB - 1 of zeros fits in a small frame and decompresses within the limit.
    await exchange(dialer, listener, 4, new Uint8Array(MAX_MESSAGE_SIZE));
    dialer.close();
    listener.close();
  });

  it('a snappy payload declaring more than 16 MiB - 1 is rejected before decompression', async () => {
    const b = keyPair();
    const a = keyPair();
    const [sa, sb] = createMemoryStreamPair();
    const listener = new RLPxConnection(sb, { privateKey: b.privateKey });
    const [peer] = await Promise.all([rawDial(sa, a.privateKey, b.publicKey), listener.handshake()]);
    listener.setSnappy(true);
    // varint 0x1000000 = 16 MiB, then a few bytes: the declared size alone must be refused.
    await sa.write(peer.encoder.encodeFrame(0x10, new Uint8Array([0x80, 0x80, 0x80, 0x08, 0x00, 0x01])));
    const err = await rejection(listener.readMessage());
    assert.ok(err instanceof TooLargeError && err.limit === MAX_MESSAGE_SIZE, String(err));
    assert.equal(err.remoteAddress, 'memory:a');
    assert.ok(listener.closed);
  });

  it('corrupt snappy data closes the connection with a typed error', async () => {
    const a = keyPair();
    const b = keyPair();
    const [sa, sb] = createMemoryStreamPair();
    const listener = new RLPxConnection(sb, { privateKey: b.privateKey });
    const [peer] = await Promise.all([rawDial(sa, a.privateKey, b.publicKey), listener.handshake()]);
    listener.setSnappy(true);
    const packed = snappyCompress(new Uint8Array(1000).fill(1));
    await sa.write(peer.encoder.encodeFrame(0x10, packed.subarray(0, packed.length - 2)));
    const err = await rejection(listener.readMessage());
    assert.ok(err instanceof ProtocolError && err.remoteAddress === 'memory:a', String(err));
  });

  it('drops a peer that stops mid-frame at the read deadline', async () => {
    const clock = countingClock();
    const a = keyPair();
    const b = keyPair();
    const [sa, sb] = createMemoryStreamPair();
    const listener = new RLPxConnection(sb, { privateKey: b.privateKey, readTimeoutMs: SHORT, clock });
    const [peer] = await Promise.all([rawDial(sa, a.privateKey, b.publicKey), listener.handshake()]);
    const frame = peer.encoder.encodeFrame(0x10, new Uint8Array(500));
    await sa.write(frame.subarray(0, 300));
    const started = Date.now();
    const err = await rejection(listener.readMessage());
    const elapsed = Date.now() - started;
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(elapsed >= SHORT - 20 && elapsed < SHORT + 1000, `dropped after ${elapsed} ms`);
    assert.ok(listener.closed);
    assert.equal(await sa.read(), null, 'the peer sees the connection closed');
    assert.equal(clock.active, 0);
  });

  it('counts the read deadline from the start of each wait, not from the first (one timer, moved)', async () => {
    const clock = new ManualClock();
    const a = keyPair();
    const b = keyPair();
    const [sa, sb] = createMemoryStreamPair();
    const listener = new RLPxConnection(sb, { privateKey: b.privateKey, readTimeoutMs: 1_000, clock });
    const [peer] = await Promise.all([rawDial(sa, a.privateKey, b.publicKey), listener.handshake()]);
    const first = listener.readMessage();
    await clock.advance(600);
    await sa.write(peer.encoder.encodeFrame(0x10, Uint8Array.of(1)));
    assert.equal((await first).code, 0x10);
    // The second wait starts at 600 ms: still open at 1,500 (past the first wait's deadline), failed at 1,600.
    const second = rejection(listener.readMessage());
    await clock.advance(900);
    assert.equal(listener.closed, false);
    await clock.advance(100);
    assert.ok((await second) instanceof TimeoutError);
    assert.equal(clock.pendingTimers, 0, 'no timer left once closed');
  });

  it('fails a write the peer does not drain within the write deadline', async () => {
    const clock = countingClock();
    const { dialer, listener } = memoryPair({ writeTimeoutMs: SHORT, clock }, 1024);
    await Promise.all([dialer.handshake(), listener.handshake()]);
    const err = await rejection(dialer.writeMessage(0x10, new Uint8Array(10_000)));
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(dialer.closed);
    assert.ok((await rejection(dialer.writeMessage(0x10, new Uint8Array(1)))) instanceof TimeoutError);
    assert.equal(clock.active, 0);
    listener.close();
  });

  it('honours an AbortSignal, before and during the handshake', async () => {
    const { dialer } = memoryPair();
    const err = await rejection(dialer.handshake({ signal: AbortSignal.abort('stop') }));
    assert.ok(err instanceof AbortError && err.cause === 'stop');
    const { listener } = memoryPair();
    const controller = new AbortController();
    const pending = rejection(listener.handshake({ signal: controller.signal }));
    await sleep(10);
    controller.abort();
    assert.ok((await pending) instanceof AbortError);
    assert.ok(listener.closed);
  });

  it('refuses misuse', async () => {
    assert.throws(() => new RLPxConnection(createMemoryStreamPair()[0], { privateKey: new Uint8Array(32) }), TypeError);
    assert.throws(
      () => new RLPxConnection(createMemoryStreamPair()[0], { privateKey: keyPair().privateKey, readTimeoutMs: 0 }),
      RangeError,
    );
    assert.throws(
      () =>
        new RLPxConnection(createMemoryStreamPair()[0], {
          privateKey: keyPair().privateKey,
          remotePublicKey: new Uint8Array(64),
        }),
      TypeError,
    );
    const { dialer } = memoryPair();
    await assert.rejects(dialer.readMessage(), /before the handshake/);
    await assert.rejects(dialer.writeMessage(1, new Uint8Array(0)), /before the handshake/);
    dialer.close();
    await assert.rejects(dialer.handshake(), ConnectionClosedError);
    await assert.rejects(dialer.handshake(), /only be called once/);
  });
});

describe('RLPxConnection: bounded writes and frame limits', () => {
  it('bounds the write queue: writable() waits for room, and a write that ignores it fails the connection', async () => {
    const bound = 8 * 1024;
    const { dialer, listener } = memoryPair({ maxWriteQueueBytes: bound }, 1024);
    await Promise.all([dialer.handshake(), listener.handshake()]);
    assert.equal(MAX_WRITE_QUEUE_BYTES, 1024 * 1024);
    // The listener does not read: frames queue once the stream's 1 KiB is taken.
    const sent: Promise<void>[] = [];
    // Fill, let the stream take what it can, and fill again: now only the unread stream holds the queue up.
    while (!dialer.writeQueueFull) sent.push(dialer.writeMessage(0x10, new Uint8Array(500)));
    await sleep(10);
    while (!dialer.writeQueueFull) sent.push(dialer.writeMessage(0x10, new Uint8Array(500)));
    assert.ok(dialer.queuedBytes >= bound);
    assert.ok(dialer.queuedBytes < bound + 500 + 64 + QUEUED_FRAME_OVERHEAD, `queued ${dialer.queuedBytes}`);
    let roomMade = false;
    const room = dialer.writable().then(() => {
      roomMade = true;
    });
    await sleep(20);
    assert.equal(roomMade, false, 'writable() waits while the queue is full');
    // Reading makes room; every queued write then completes in order.
    for (let i = 0; i < sent.length; i++) assert.equal((await listener.readMessage()).payload.length, 500);
    await room;
    await Promise.all(sent);
    assert.equal(dialer.queuedBytes, 0);

    while (!dialer.writeQueueFull) dialer.writeMessage(0x10, new Uint8Array(500)).catch(() => undefined);
    const error = await rejection(dialer.writeMessage(0x10, new Uint8Array(1)));
    assert.ok(error instanceof ProtocolError && error.code === ERR_WRITE_QUEUE_FULL, String(error));
    assert.equal(dialer.closed, true);
    await assert.rejects(dialer.writable(), ProtocolError);
    listener.close();
  });

  it('writable(below) waits until fewer than `below` bytes are queued', async () => {
    const { dialer, listener } = memoryPair({}, 1024);
    await Promise.all([dialer.handshake(), listener.handshake()]);
    // The listener does not read: what the stream's 1 KiB does not take stays queued.
    const sent = Array.from({ length: 20 }, () => dialer.writeMessage(0x10, new Uint8Array(500)));
    await sleep(10);
    const below = 2 * (500 + 64 + QUEUED_FRAME_OVERHEAD);
    assert.ok(dialer.queuedBytes >= below, `queued ${dialer.queuedBytes}`);
    assert.equal(dialer.writeQueueFull, false);
    let resolved = false;
    const room = dialer.writable(below).then(() => {
      resolved = true;
    });
    await sleep(20);
    assert.equal(resolved, false, 'waits while `below` or more bytes are queued');
    for (let i = 0; i < sent.length; i++) await listener.readMessage();
    await room;
    assert.ok(dialer.queuedBytes < below);
    await Promise.all(sent);
    dialer.close();
  });

  it('hands the frames queued in one turn to the stream in one write, up to 64 KiB each', async () => {
    const writes: number[] = [];
    const { dialer, listener } = await recordedPair((data) => writes.push(data.length));
    assert.equal(WRITE_BATCH_BYTES, 64 * 1024);
    writes.length = 0;
    // 100 Pings in one turn: one write of 100 frames (64 bytes each), not 100 writes.
    const pings = Array.from({ length: 100 }, () => dialer.writeMessage(0x02, Uint8Array.of(0xc0)));
    for (let i = 0; i < 100; i++) assert.equal((await listener.readMessage()).code, 0x02);
    await Promise.all(pings);
    assert.deepEqual(writes, [100 * 64]);
    // Three 40 KiB messages: no two fit in 64 KiB, so three writes. One 100 KiB message goes in parts: its header
    // (33 bytes) joins the write before it, its data goes alone, uncopied, then its padding and MAC (31 bytes).
    writes.length = 0;
    const big = [40 * 1024, 40 * 1024, 40 * 1024, 100 * 1024].map((size) =>
      dialer.writeMessage(0x10, new Uint8Array(size)),
    );
    for (let i = 0; i < big.length; i++) await listener.readMessage();
    await Promise.all(big);
    assert.deepEqual(writes, [41_024, 41_024, 41_024 + 33, 100 * 1024, 31]);
    dialer.close();
    listener.close();
  });

  it('readBufferedMessage() takes what is already received, without waiting, and leaves it to a pending read', async () => {
    const a = keyPair();
    const b = keyPair();
    const [sa, sb] = createMemoryStreamPair();
    const listener = new RLPxConnection(sb, { privateKey: b.privateKey });
    const [peer] = await Promise.all([rawDial(sa, a.privateKey, b.publicKey), listener.handshake()]);
    assert.equal(listener.readBufferedMessage(), undefined, 'nothing received yet');
    const frames = (codes: number[]): Uint8Array => {
      const parts = codes.map((code) => peer.encoder.encodeFrame(code, Uint8Array.of(code)));
      const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        out.set(part, offset);
        offset += part.length;
      }
      return out;
    };
    const pending = listener.readMessage();
    // Five frames in one chunk.
    await sa.write(frames([0x10, 0x11, 0x12, 0x13, 0x14]));
    assert.equal(listener.readBufferedMessage(), undefined, 'a pending readMessage() comes first');
    assert.equal((await pending).code, 0x10);
    for (let code = 0x11; code <= 0x14; code++) {
      const message = listener.readBufferedMessage();
      assert.deepEqual([message?.code, [...(message?.payload ?? [])]], [code, [code]]);
    }
    assert.equal(listener.readBufferedMessage(), undefined, 'then more bytes are needed');
    // Half a frame is not enough either; with its other half, and a corrupt frame after it, in one chunk, the whole
    // one is read and the corrupt one fails the connection from readBufferedMessage() as it would from readMessage().
    const next = frames([0x15, 0x16]);
    await sa.write(next.subarray(0, 40));
    const waiting = listener.readMessage();
    assert.equal(await Promise.race([waiting.then(() => 'read'), sleep(20).then(() => 'waiting')]), 'waiting');
    const rest = next.slice(40);
    rest[rest.length - 1]! ^= 1;
    await sa.write(rest);
    assert.equal((await waiting).code, 0x15);
    assert.throws(() => listener.readBufferedMessage(), ProtocolError);
    assert.ok(listener.closed);
  });

  it('sendMessage() queues like writeMessage() without a promise, and reports a failed write to onFailure', async () => {
    const { dialer, listener } = memoryPair({ writeTimeoutMs: SHORT }, 1024);
    await Promise.all([dialer.handshake(), listener.handshake()]);
    dialer.sendMessage(0x02, Uint8Array.of(0xc0));
    await dialer.writeMessage(0x10, Uint8Array.of(1));
    assert.deepEqual([(await listener.readMessage()).code, (await listener.readMessage()).code], [0x02, 0x10]);
    assert.throws(() => dialer.sendMessage(0x10, new Uint8Array(MAX_FRAME_SIZE)), TooLargeError);
    assert.equal(dialer.closed, false, 'a message too large leaves the connection open');
    // The listener stops reading: a write the stream does not take fails at the write deadline, and says so.
    const failures: unknown[] = [];
    const onFailure = (error: unknown): void => {
      failures.push(error);
    };
    for (let i = 0; i < 3; i++) dialer.sendMessage(0x10, new Uint8Array(2_000), onFailure);
    await sleep(SHORT + 100);
    assert.ok(failures.length > 0 && failures.every((e) => e instanceof TimeoutError), String(failures));
    assert.ok(dialer.closed);
    assert.throws(() => dialer.sendMessage(0x02, Uint8Array.of(0xc0)), TimeoutError);
    listener.close();
  });

  it('sendMessage() keeps call order with writeMessage() while it encodes a turn of frames into one buffer', async () => {
    const writes: number[] = [];
    const { dialer, listener } = await recordedPair((data) => writes.push(data.length));
    writes.length = 0;
    // 100 Pongs with two promised writes among them: order kept, one stream write.
    const codes: number[] = [];
    const promised: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      if (i === 10 || i === 70) {
        promised.push(dialer.writeMessage(0x10 + i, Uint8Array.of(i)));
        codes.push(0x10 + i);
      }
      dialer.sendMessage(0x03, Uint8Array.of(0xc0));
      codes.push(0x03);
    }
    assert.ok(dialer.queuedBytes > 0);
    const received: number[] = [];
    for (let i = 0; i < codes.length; i++) received.push((await listener.readMessage()).code);
    await Promise.all(promised);
    assert.deepEqual(received, codes);
    assert.equal(writes.length, 1, `writes of ${writes.join(', ')} bytes`);
    assert.equal(dialer.queuedBytes, 0);
    dialer.close();
    listener.close();
  });

  it('sendMessage() frames are encrypted before they leave, also when close() flushes them in the same turn', async () => {
    const writes: Uint8Array[] = [];
    const { dialer, listener } = await recordedPair((data) => writes.push(data.slice()));
    writes.length = 0;
    const payload = new Uint8Array(200).fill(0x5a);
    for (let i = 0; i < 3; i++) dialer.sendMessage(0x10 + i, payload);
    dialer.close();
    for (let i = 0; i < 3; i++) {
      const message = await listener.readMessage();
      assert.deepEqual([message.code, message.payload], [0x10 + i, payload]);
    }
    // Staged frames hold the payload in plaintext until they are sealed: none of it reached the stream so.
    const plaintextRun = bytesToHex(payload.subarray(0, 32));
    assert.ok(writes.length > 0);
    for (const write of writes) assert.ok(!bytesToHex(write).includes(plaintextRun), 'a write held plaintext');
    listener.close();
  });

  it('a message larger than a send batch goes out in three writes, its data as the cipher returned it', async () => {
    const writes: { length: number; arrayBytes: number }[] = [];
    const { dialer, listener } = await recordedPair((data) =>
      writes.push({ length: data.length, arrayBytes: data.buffer.byteLength }),
    );
    const next = xorshift(41);
    for (const [size, promised] of [
      [200_000, false],
      [65_536, true],
      [1_048_576, false],
      [300_007, true],
    ] as const) {
      writes.length = 0;
      const data = seededBytes(next, size);
      const written = promised ? dialer.writeMessage(0x10, data) : dialer.sendMessage(0x10, data);
      const message = await listener.readMessage();
      await written;
      assert.equal(message.code, 0x10);
      assert.equal(bytesToHex(message.payload), bytesToHex(data), `${size} bytes`);
      // The header, its MAC and the code; the data alone, in the cipher's array (not a view of a frame-sized array that
      // was filled and copied: Bun's cipher makes its array a byte larger); the padding and the frame MAC.
      const frame = 32 + ((1 + size + 15) & ~15) + 16;
      const tail = frame - 33 - size;
      assert.deepEqual(
        writes.map((w) => w.length),
        [33, size, tail],
      );
      assert.equal(writes[0]!.arrayBytes, 33);
      assert.ok(writes[1]!.arrayBytes < frame, `the data's write is a view of ${writes[1]!.arrayBytes} bytes`);
      assert.equal(writes[2]!.arrayBytes, tail);
      assert.equal(dialer.queuedBytes, 0);
    }
    // A failure settles each message once: the first send's handler is called once, for its three queued parts.
    const failures: unknown[] = [];
    dialer.sendMessage(0x10, new Uint8Array(MAX_WRITE_QUEUE_BYTES), (error) => failures.push(error));
    assert.throws(() => dialer.sendMessage(0x10, Uint8Array.of(1)), ProtocolError);
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof ProtocolError && failures[0].code === ERR_WRITE_QUEUE_FULL, String(failures[0]));
    listener.close();
  });

  it('sendMessage() encodes a turn into one array of the size the last turn ended at, and writes it uncopied', async () => {
    const writes: { length: number; arrayBytes: number }[] = [];
    const { dialer, listener } = await recordedPair((data) =>
      writes.push({ length: data.length, arrayBytes: data.buffer.byteLength }),
    );
    const FRAME = 32 + 1040 + 16; // a 1 KiB message with code 0x10
    const turn = async (messages: number, size: number): Promise<{ length: number; arrayBytes: number }[]> => {
      writes.length = 0;
      for (let i = 0; i < messages; i++) dialer.sendMessage(0x10, new Uint8Array(size));
      for (let i = 0; i < messages; i++) assert.equal((await listener.readMessage()).payload.length, size);
      return [...writes];
    };
    // The first bulk turn grows its array by doubling; the next one starts at the size the first ended at.
    const [first] = await turn(15, 1024);
    assert.equal(first?.length, 15 * FRAME);
    assert.deepEqual(await turn(15, 1024), [{ length: 15 * FRAME, arrayBytes: 15 * FRAME }]);
    // A lone Pong after it wastes at most that size once; the turn after costs the Pong's 64 bytes.
    assert.deepEqual(await turn(1, 1), [{ length: 48 + 16, arrayBytes: 15 * FRAME }]);
    assert.deepEqual(await turn(1, 1), [{ length: 64, arrayBytes: 64 }]);
    // A turn of more than 64 KiB of frames: one write per full array (60 frames), none copied.
    const large = await turn(70, 1024);
    assert.deepEqual(
      large.map((w) => w.length),
      [60 * FRAME, 10 * FRAME],
    );
    assert.ok(large.every((w) => w.arrayBytes <= 64 * 1024));
    dialer.close();
    listener.close();
  });

  it('setMaxFrameSize refuses a larger frame from its header', async () => {
    const { dialer, listener } = memoryPair();
    await Promise.all([dialer.handshake(), listener.handshake()]);
    listener.setMaxFrameSize(100);
    await exchange(dialer, listener, 0x00, new Uint8Array(99));
    dialer.writeMessage(0x00, new Uint8Array(100)).catch(() => undefined);
    const error = await rejection(listener.readMessage());
    assert.ok(error instanceof TooLargeError && error.limit === 100, String(error));
    dialer.close();
  });

  it('delivers a Disconnect sent uncompressed while snappy is on as it came; other codes still fail', async () => {
    const { dialer, listener } = memoryPair();
    await Promise.all([dialer.handshake(), listener.handshake()]);
    listener.setSnappy(true);
    await exchange(dialer, listener, 0x01, Uint8Array.of(0xc1, 0x04));
    await exchange(dialer, listener, 0x01, Uint8Array.of(0x04));
    dialer.writeMessage(0x02, Uint8Array.of(0xc1, 0x04)).catch(() => undefined);
    const error = await rejection(listener.readMessage());
    assert.ok(error instanceof ProtocolError, String(error));
    dialer.close();
  });
});

describe('RLPxConnection over node:net on 127.0.0.1', () => {
  it('handshakes in both roles, exchanges messages and leaves no socket or timer behind', async () => {
    const clock = countingClock();
    const a = keyPair();
    const b = keyPair();
    const accepted: Promise<RLPxConnection>[] = [];
    const { server, port } = await listen((socket) => {
      const conn = new RLPxConnection(nodeSocketStream(socket, { clock }), { privateKey: b.privateKey, clock });
      accepted.push(conn.handshake().then(() => conn));
    });
    const socket = await dialSocket(port);
    const dialer = new RLPxConnection(nodeSocketStream(socket, { clock }), {
      privateKey: a.privateKey,
      remotePublicKey: b.publicKey,
      clock,
    });
    assert.deepEqual(await dialer.handshake(), b.publicKey);
    assert.equal(dialer.remoteAddress, `127.0.0.1:${port}`);
    const listener = await accepted[0]!;
    assert.deepEqual(listener.remotePublicKey, a.publicKey);
    assert.match(listener.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/);
    const next = xorshift(31);
    for (const snappy of [false, true]) {
      dialer.setSnappy(snappy);
      listener.setSnappy(snappy);
      for (const size of [0, 100, 70_000, 1 << 20]) {
        await exchange(dialer, listener, 0x11, seededBytes(next, size));
        await exchange(listener, dialer, 0x12, seededBytes(next, size));
      }
    }
    // Written then closed at once: the flush on close still delivers the message.
    const last = dialer.writeMessage(0x01, new Uint8Array([0xc1, 0x08]));
    dialer.close();
    await last;
    const bye = await listener.readMessage();
    assert.deepEqual([bye.code, [...bye.payload]], [0x01, [0xc1, 0x08]]);
    assert.ok((await rejection(listener.readMessage())) instanceof ConnectionClosedError);
    await closedEvent(socket);
    await sleep(20);
    assert.equal(await connectionCount(server), 0);
    assert.equal(clock.active, 0);
    await closeServer(server);
  });

  it('accepts a legacy (pre-EIP-8) auth and answers with a legacy ack', async () => {
    const a = keyPair();
    const b = keyPair();
    const accepted: Promise<RLPxConnection>[] = [];
    const { server, port } = await listen((socket) => {
      const conn = new RLPxConnection(nodeSocketStream(socket), { privateKey: b.privateKey });
      accepted.push(conn.handshake().then(() => conn));
    });
    const stream = nodeSocketStream(await dialSocket(port));
    const peer = await rawDial(stream, a.privateKey, b.publicKey, true);
    const listener = await accepted[0]!;
    assert.deepEqual(listener.remotePublicKey, a.publicKey);
    await stream.write(peer.encoder.encodeFrame(0x00, new Uint8Array([0xc0])));
    const hello = await listener.readMessage();
    assert.deepEqual([hello.code, [...hello.payload]], [0, [0xc0]]);
    await listener.writeMessage(0x02, new Uint8Array([0xc0]));
    const pong = await peer.readFrame();
    assert.equal(pong?.code, 0x02);
    listener.close();
    assert.equal(await peer.readFrame(), null);
    stream.destroy();
    await closeServer(server);
  });

  it('closes on an EIP-8 size prefix above 2048 bytes with TooLargeError', async () => {
    const b = keyPair();
    const errors: Promise<unknown>[] = [];
    const { server, port } = await listen((socket) => {
      const conn = new RLPxConnection(nodeSocketStream(socket), { privateKey: b.privateKey });
      errors.push(rejection(conn.handshake()));
    });
    const socket = await dialSocket(port);
    socket.write(new Uint8Array([0x08, 0x01, 1, 2, 3]));
    await closedEvent(socket);
    const err = await errors[0];
    assert.ok(err instanceof TooLargeError && err.limit === HANDSHAKE_MAX_SIZE, String(err));
    assert.match(err.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/);
    await closeServer(server);
  });

  it('drops a peer that goes silent mid-handshake at the handshake deadline, in either role', async () => {
    const clock = countingClock();
    const a = keyPair();
    const b = keyPair();
    const errors: Promise<unknown>[] = [];
    const { server, port } = await listen((socket) => {
      const conn = new RLPxConnection(nodeSocketStream(socket, { clock }), {
        privateKey: b.privateKey,
        handshakeTimeoutMs: SHORT,
        clock,
      });
      errors.push(rejection(conn.handshake()));
    });
    // Listener side: half an auth, then silence.
    const socket = await dialSocket(port);
    socket.write(encodeAuthPrefix(a.privateKey, b.publicKey, 100));
    const started = Date.now();
    await closedEvent(socket);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= SHORT - 20 && elapsed < SHORT + 1000, `dropped after ${elapsed} ms`);
    const err = await errors[0];
    assert.ok(err instanceof TimeoutError, String(err));
    // Dialer side: a listener that accepts and never answers.
    // It reads and ignores everything (resume), so it notices when the dialer closes.
    const { server: mute, port: mutePort } = await listen((s) => s.on('error', () => undefined).resume());
    const dialer = new RLPxConnection(nodeSocketStream(await dialSocket(mutePort), { clock }), {
      privateKey: a.privateKey,
      remotePublicKey: b.publicKey,
      handshakeTimeoutMs: SHORT,
      clock,
    });
    const dialErr = await rejection(dialer.handshake());
    assert.ok(dialErr instanceof TimeoutError && dialErr.remoteAddress === `127.0.0.1:${mutePort}`, String(dialErr));
    await sleep(20);
    assert.equal(await connectionCount(server), 0);
    assert.equal(await connectionCount(mute), 0);
    assert.equal(clock.active, 0);
    await Promise.all([closeServer(server), closeServer(mute)]);
  });

  it('a flood of 50 garbage connections leaves no open socket and no timer behind', async () => {
    const clock = countingClock();
    const b = keyPair();
    const outcomes: Promise<unknown>[] = [];
    const { server, port } = await listen((socket) => {
      const conn = new RLPxConnection(nodeSocketStream(socket, { clock }), {
        privateKey: b.privateKey,
        handshakeTimeoutMs: 300,
        clock,
      });
      outcomes.push(rejection(conn.handshake()));
    });
    const next = xorshift(41);
    const clients: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      const socket = await dialSocket(port);
      const closed = closedEvent(socket);
      const garbage = seededBytes(next, [0, 1, 2, 306, 307, 400, 2050, 70_000][i % 8]!);
      if (i % 5 === 0 && garbage.length > 0) garbage[0] = 0x04; // looks like a legacy auth
      if (i % 5 === 1 && garbage.length > 1) garbage.set([0x01, 0x90]); // a plausible EIP-8 prefix (400)
      if (garbage.length > 0) socket.write(garbage);
      if (i % 3 === 0)
        socket.end(); // half-close after the garbage
      else if (i % 7 === 0) socket.destroy(); // reset
      clients.push(closed);
    }
    await Promise.all(clients);
    const errors = await Promise.all(outcomes);
    assert.equal(errors.length, 50);
    for (const err of errors) {
      assert.ok(err instanceof Devp2pError, `typed: ${String(err)}`);
      assert.ok(
        err instanceof ProtocolError || err instanceof TimeoutError || err instanceof ConnectionClosedError,
        String(err),
      );
      assert.match(err.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/, 'the error names the remote');
    }
    await sleep(50);
    assert.equal(await connectionCount(server), 0);
    assert.equal(clock.active, 0);
    await closeServer(server);
  });
});

describe('ByteStream adapters', () => {
  it('node:net adapter: reads end with null, writes after close reject with ConnectionClosedError', async () => {
    let serverSide: ByteStream | undefined;
    const { server, port } = await listen((socket) => {
      serverSide = nodeSocketStream(socket);
    });
    const client = nodeSocketStream(await dialSocket(port));
    await client.write(new Uint8Array([1, 2, 3]));
    await sleep(20);
    assert.ok(serverSide);
    assert.deepEqual(await serverSide.read(), new Uint8Array([1, 2, 3]));
    client.end();
    assert.equal(await serverSide.read(), null);
    await assert.rejects(client.write(new Uint8Array([4])), ConnectionClosedError);
    serverSide.destroy();
    await closeServer(server);
  });
});
