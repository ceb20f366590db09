/**
 * Attacks on a server over real sockets on 127.0.0.1, each bounded in count and time: a peer that floods Pings and
 * never reads, silent sockets that fill the handshake slots, refusals whose Disconnect must arrive, frames too big
 * for a Hello, and Disconnect messages in every form real clients send.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import {
  type ByteStream,
  createLogger,
  DisconnectReason,
  type LogRecord,
  rlpEncode,
  TimeoutError,
  type Transport,
} from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { ping } from '@devp2p/plugin-ping';
import { MAX_WRITE_QUEUE_BYTES, QUEUED_FRAME_OVERHEAD, RLPxConnection, snappyCompress } from '@devp2p/rlpx';
import { until } from '@devp2p/test-utils';
import { tcpTransport } from '@devp2p/transport-node';
import { BaseMessageCode, decodeDisconnect, encodeHello, type Hello, P2P_VERSION } from '../src/hello.ts';
import { READ_PAUSE_QUEUED_BYTES } from '../src/limits.ts';
import type { Server } from '../src/server.ts';
import { rawClient, startServer } from './helpers.ts';

const PING_FRAME_PAYLOAD = Uint8Array.of(0xc0);

/** A dialed, handshaken RLPx connection to `server` that has not sent its Hello yet. */
async function dialRaw(server: Server, key = generatePrivateKey()): Promise<RLPxConnection> {
  const stream = await tcpTransport.dial('127.0.0.1', server.listenAddress!.port, { timeoutMs: 5_000 });
  const conn = new RLPxConnection(stream, { privateKey: key, remotePublicKey: server.self.publicKey! });
  await conn.handshake();
  return conn;
}

function helloFrom(key: Uint8Array, overrides: Partial<Hello> = {}): Hello {
  return {
    version: P2P_VERSION,
    clientName: 'hostile-test',
    caps: [ping.cap],
    listenPort: 0,
    nodeId: publicKeyFromPrivate(key),
    ...overrides,
  };
}

/**
 * Sends our Hello followed at once by Pings the server will not read before it refuses us (unread bytes are what
 * turned a close into a reset that lost the Disconnect), then reads until the Disconnect: its reason, or -1 when
 * the connection ended without one.
 */
async function refusalAfterEagerHello(conn: RLPxConnection, hello: Hello): Promise<number> {
  await conn.writeMessage(BaseMessageCode.Hello, encodeHello(hello));
  for (let i = 0; i < 50; i++) conn.writeMessage(BaseMessageCode.Ping, PING_FRAME_PAYLOAD).catch(() => undefined);
  try {
    for (;;) {
      const message = await conn.readMessage();
      if (message.code === BaseMessageCode.Hello) conn.setSnappy(true);
      if (message.code === BaseMessageCode.Disconnect) return decodeDisconnect(message.payload);
    }
  } catch {
    return -1;
  } finally {
    conn.close();
  }
}

describe('Server under attack', () => {
  it('a peer that floods Pings and never reads: the write queue stays bounded and the peer is dropped', async () => {
    const server = await startServer({ writeTimeoutMs: 2_000 });
    const client = await rawClient(server);
    let peakQueued = 0;
    let flooding = true;
    const sampler = setInterval(() => {
      for (const peer of server.peers()) peakQueued = Math.max(peakQueued, peer.queuedBytes);
    }, 5);
    try {
      await until(() => server.peerCount === 1, 5_000, 'the flooding peer to be added');
      const removed = server.once('peer:removed');
      // The client never reads: Pongs pile up in the kernel's buffers, then in the server's write queue.
      const flood = (async () => {
        const deadline = Date.now() + 20_000;
        while (flooding && Date.now() < deadline) {
          try {
            await client.conn.writeMessage(BaseMessageCode.Ping, PING_FRAME_PAYLOAD);
          } catch {
            return;
          }
        }
      })();
      const event = await removed;
      flooding = false;
      await flood;
      assert.equal(event.initiator, 'local');
      // Dropped by the write deadline (the read loop waited for room instead of queueing more), not by a full queue.
      assert.ok(
        event.error.cause instanceof TimeoutError,
        `dropped by the write deadline: ${String(event.error.cause)}`,
      );
      assert.match(String(event.error.cause), /write/);
      assert.equal(
        event.reason,
        DisconnectReason.NetworkError,
        'a peer that takes nothing is a network error, as geth',
      );
      assert.ok(peakQueued > 0, 'Pongs were queued');
      // At most the bound plus one Pong frame (64 bytes and the per-frame overhead).
      assert.ok(peakQueued <= MAX_WRITE_QUEUE_BYTES + 64 + QUEUED_FRAME_OVERHEAD, `queued ${peakQueued} bytes`);
    } finally {
      flooding = false;
      clearInterval(sampler);
      client.conn.close();
      await server.close();
    }
  });

  it('a peer that floods Pings and never reads is read only while less than 64 KiB of replies wait for it', async () => {
    const server = await startServer({ writeTimeoutMs: 1_000 });
    const client = await rawClient(server);
    let peakQueued = 0;
    const sampler = setInterval(() => {
      for (const peer of server.peers()) peakQueued = Math.max(peakQueued, peer.queuedBytes);
    }, 2);
    try {
      await until(() => server.peerCount === 1, 5_000, 'the flooding peer to be added');
      const removed = server.once('peer:removed');
      let flooding = true;
      const flood = (async () => {
        const deadline = Date.now() + 20_000;
        while (flooding && Date.now() < deadline) {
          try {
            await client.conn.writeMessage(BaseMessageCode.Ping, PING_FRAME_PAYLOAD);
          } catch {
            return;
          }
        }
      })();
      const event = await removed;
      flooding = false;
      await flood;
      assert.ok(peakQueued > 0, 'Pongs were queued');
      // The read loop stops at the threshold; the Ping it had just read and our own periodic Ping add a frame each.
      const frame = 64 + QUEUED_FRAME_OVERHEAD;
      assert.equal(READ_PAUSE_QUEUED_BYTES, 64 * 1024);
      assert.ok(peakQueued < READ_PAUSE_QUEUED_BYTES + 2 * frame, `queued ${peakQueued} bytes`);
      assert.ok(
        event.error.cause instanceof TimeoutError,
        `dropped by the write deadline: ${String(event.error.cause)}`,
      );
    } finally {
      clearInterval(sampler);
      client.conn.close();
      await server.close();
    }
  });

  it('answers a burst of Pings in a few socket writes, not one per Pong', async () => {
    const writes = { count: 0 };
    const counting: Transport = {
      listen: (options, onStream) =>
        tcpTransport.listen(options, (stream) =>
          onStream({
            get remoteAddress() {
              return stream.remoteAddress;
            },
            get localAddress() {
              return stream.localAddress;
            },
            read: () => stream.read(),
            write: (data) => {
              writes.count++;
              return stream.write(data);
            },
            end: () => stream.end(),
            destroy: () => stream.destroy(),
          }),
        ),
      dial: (host, port, options) => tcpTransport.dial(host, port, options),
    };
    const server = await startServer({ transport: counting });
    const client = await rawClient(server);
    try {
      await until(() => server.peerCount === 1, 5_000, 'the peer to be added');
      const pings = 640;
      writes.count = 0;
      // Written in one turn: the client sends them in a few chunks, and the server reads them in bursts.
      const sent = Array.from({ length: pings }, () =>
        client.conn.writeMessage(BaseMessageCode.Ping, PING_FRAME_PAYLOAD),
      );
      let pongs = 0;
      while (pongs < pings) if ((await client.conn.readMessage()).code === BaseMessageCode.Pong) pongs++;
      await Promise.all(sent);
      // A turn's Pongs go out in one write: 640 Pongs in ten turns of 64, give or take how the bytes arrived.
      assert.ok(writes.count <= 40, `${writes.count} writes for ${pings} Pongs`);
    } finally {
      client.conn.close();
      await server.close();
    }
  });

  it('300 silent sockets are held, not closed, and a real peer still gets in within one handshake deadline', async () => {
    const handshakeTimeoutMs = 1_500;
    const server = await startServer({ handshakeTimeoutMs });
    const silent: Socket[] = [];
    let closedEarly = 0;
    let attackOver = false;
    try {
      await Promise.all(
        Array.from(
          { length: 300 },
          () =>
            new Promise<void>((resolve, reject) => {
              const socket = connect(server.listenAddress!.port, '127.0.0.1', () => resolve());
              socket.on('error', reject);
              socket.on('close', () => {
                if (!attackOver) closedEarly++;
              });
              silent.push(socket);
            }),
        ),
      );
      // The server holds every one of them: none is accepted and closed at once.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(closedEarly, 0, 'no silent socket was closed before its handshake deadline');
      const started = Date.now();
      const client = await rawClient(server);
      await until(() => server.peerCount === 1, 5_000, 'the real peer to be added');
      const waited = Date.now() - started;
      assert.ok(waited < 2 * handshakeTimeoutMs, `the real peer got in after ${waited} ms`);
      client.conn.close();

      // Once the attack ends, a peer gets in at once: the server does not wait out deadlines.
      attackOver = true;
      for (const socket of silent) socket.destroy();
      await until(() => server.peerCount === 0, 5_000, 'the first client to leave');
      const again = Date.now();
      const second = await rawClient(server);
      await until(() => server.peerCount === 1, 5_000, 'the second peer to be added');
      assert.ok(Date.now() - again < handshakeTimeoutMs, 'the second peer did not wait for a deadline');
      second.conn.close();
    } finally {
      attackOver = true;
      for (const socket of silent) socket.destroy();
      await server.close();
    }
  });

  it('every refusal delivers its Disconnect reason, even when the refused peer has sent more than its Hello', async () => {
    const full = await startServer({ maxPeers: 0 });
    const server = await startServer();
    try {
      const cases: { name: string; reason: DisconnectReason; run: () => Promise<number> }[] = [
        {
          name: 'too many peers (before the Hello)',
          reason: DisconnectReason.TooManyPeers,
          run: async () => {
            const key = generatePrivateKey();
            return refusalAfterEagerHello(await dialRaw(full, key), helloFrom(key));
          },
        },
        {
          name: 'useless peer',
          reason: DisconnectReason.UselessPeer,
          run: async () => {
            const key = generatePrivateKey();
            return refusalAfterEagerHello(
              await dialRaw(server, key),
              helloFrom(key, { caps: [{ name: 'zzz', version: 1 }] }),
            );
          },
        },
        {
          name: 'incompatible version',
          reason: DisconnectReason.IncompatibleVersion,
          run: async () => {
            const key = generatePrivateKey();
            return refusalAfterEagerHello(await dialRaw(server, key), helloFrom(key, { version: 3 }));
          },
        },
        {
          name: 'unexpected identity',
          reason: DisconnectReason.UnexpectedIdentity,
          run: async () => {
            const key = generatePrivateKey();
            return refusalAfterEagerHello(await dialRaw(server, key), helloFrom(generatePrivateKey()));
          },
        },
        {
          name: 'already connected',
          reason: DisconnectReason.AlreadyConnected,
          run: async () => {
            const first = await rawClient(server);
            await until(() => server.peerCount === 1, 5_000, 'the first connection');
            try {
              return await refusalAfterEagerHello(await dialRaw(server, first.key), helloFrom(first.key));
            } finally {
              first.conn.close();
              await until(() => server.peerCount === 0, 5_000, 'the first connection to end');
            }
          },
        },
      ];
      for (const c of cases) {
        for (let round = 0; round < 5; round++) {
          assert.equal(await c.run(), c.reason, `${c.name}, round ${round}`);
        }
      }
    } finally {
      await full.close();
      await server.close();
    }
  });

  it('a peer removed by the server reads the reason although it keeps sending', async () => {
    const server = await startServer();
    try {
      for (let round = 0; round < 5; round++) {
        const client = await rawClient(server);
        await until(() => server.peerCount === 1, 5_000, 'the peer to be added');
        for (let i = 0; i < 50; i++) client.conn.writeMessage(BaseMessageCode.Ping, PING_FRAME_PAYLOAD).catch(() => {});
        server.peers()[0]!.disconnect(DisconnectReason.Requested);
        let reason = -1;
        try {
          for (;;) {
            const message = await client.conn.readMessage();
            if (message.code === BaseMessageCode.Disconnect) {
              reason = decodeDisconnect(message.payload);
              break;
            }
          }
        } catch {
          // ended without a Disconnect: reason stays -1
        }
        client.conn.close();
        assert.equal(reason, DisconnectReason.Requested, `round ${round}`);
        await until(() => server.peerCount === 0, 5_000, 'the peer to be removed');
      }
    } finally {
      await server.close();
    }
  });

  it('refuses a 16 MiB frame before the Hello from its header, without waiting for its body', async () => {
    const records: LogRecord[] = [];
    const server = await startServer({
      handshakeTimeoutMs: 10_000,
      logger: createLogger({ level: 'debug', debug: 'devp2p:*', sink: (r) => records.push(r) }),
    });
    try {
      const key = generatePrivateKey();
      const stream = await tcpTransport.dial('127.0.0.1', server.listenAddress!.port, { timeoutMs: 5_000 });
      // Only the frame header and the first KiB of the body ever reach the server.
      const conn = new RLPxConnection(truncating(stream, 32 + 1024), {
        privateKey: key,
        remotePublicKey: server.self.publicKey!,
      });
      await conn.handshake();
      const started = Date.now();
      conn.writeMessage(BaseMessageCode.Hello, new Uint8Array(0xffffff - 1)).catch(() => undefined);
      // The server's own Hello may come first; then the connection ends.
      await assert.rejects(async () => {
        for (;;) await conn.readMessage();
      });
      // The server closed at once, well within its 10 s Hello deadline: it did not wait for the body.
      assert.ok(Date.now() - started < 5_000, `closed after ${Date.now() - started} ms`);
      await until(
        () => records.some((r) => /frame of 16777215 bytes exceeds the limit of 2049/.test(String(r.fields?.error))),
        2_000,
        'the refusal to be logged',
      );
    } finally {
      await server.close();
    }
  });

  it('reads a Disconnect in all four forms: a list or a bare reason, snappy-compressed or not', async () => {
    const server = await startServer();
    try {
      const forms: { name: string; payload: Uint8Array }[] = [
        { name: 'list, compressed', payload: snappyCompress(rlpEncode([DisconnectReason.TooManyPeers])) },
        { name: 'bare, compressed', payload: snappyCompress(rlpEncode(DisconnectReason.TooManyPeers)) },
        { name: 'list, uncompressed', payload: rlpEncode([DisconnectReason.TooManyPeers]) },
        { name: 'bare, uncompressed', payload: rlpEncode(DisconnectReason.TooManyPeers) },
      ];
      for (const form of forms) {
        const client = await rawClient(server);
        await until(() => server.peerCount === 1, 5_000, 'the peer to be added');
        const removed = server.once('peer:removed');
        // Snappy is on: write the frame's payload as given, bypassing the connection's own compression.
        client.conn.setSnappy(false);
        await client.conn.writeMessage(BaseMessageCode.Disconnect, form.payload);
        const event = await removed;
        assert.equal(event.reason, DisconnectReason.TooManyPeers, form.name);
        assert.equal(event.initiator, 'remote', form.name);
        assert.equal(event.error.message, 'remote: too many peers', form.name);
        client.conn.close();
      }
    } finally {
      await server.close();
    }
  });
});

/** `stream` that passes on only the first `limit` bytes written and silently drops the rest. */
function truncating(stream: ByteStream, limit: number): ByteStream {
  let handshakeDone = false;
  let passed = 0;
  return {
    get remoteAddress() {
      return stream.remoteAddress;
    },
    get localAddress() {
      return stream.localAddress;
    },
    read: () => {
      // The ack has arrived once we read: from the next write on, only the frame's start goes out.
      handshakeDone = true;
      return stream.read();
    },
    write: (data) => {
      if (!handshakeDone) return stream.write(data);
      const room = Math.max(0, limit - passed);
      passed += Math.min(room, data.length);
      return room > 0 ? stream.write(data.subarray(0, room)) : Promise.resolve();
    },
    end: () => stream.end(),
    destroy: () => stream.destroy(),
  };
}
