import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { it } from 'node:test';
import { equalBytes } from '@devp2p/core';
import { nodeSocketStream } from '@devp2p/transport-node';
import { RLPxConnection } from '../src/index.ts';
import { below, countingClock, keyPair, seededBytes, xorshift } from './helpers.ts';

/** Messages per direction: 10,000 in all. */
const PER_DIRECTION = 5_000;
const KiB = 1024;
const MiB = 1024 * KiB;
const LARGEST = 4 * MiB;

/**
 * Size distribution, chosen so the test moves every size class on a one-CPU machine in a few seconds
 * (about 100 MB in all, hashed, encrypted and compressed on both ends):
 * - 90%   uniform in [0, 1 KiB)             most devp2p messages (pings, announcements, small requests)
 * - 9%    uniform in [1 KiB, 64 KiB)        block headers, transactions, small responses
 * - 0.9%  log-uniform in [64 KiB, 1 MiB)    bodies and receipts
 * - 0.1%  log-uniform in [1 MiB, 4 MiB]     the largest responses
 * plus, in each direction, one message of exactly 0 bytes and one of exactly 4 MiB.
 * Payloads alternate between incompressible (random) and compressible (a repeated random block) data, so snappy
 * sees both; message codes are random below 0x10000, with the occasional very large one.
 */
function drawSize(next: () => number): number {
  const r = below(next, 1000);
  const logUniform = (lo: number, hi: number): number =>
    Math.min(hi, Math.floor(Math.exp(Math.log(lo) + (next() / 0x100000000) * (Math.log(hi) - Math.log(lo)))));
  if (r < 900) return below(next, KiB);
  if (r < 990) return KiB + below(next, 63 * KiB);
  if (r < 999) return logUniform(64 * KiB, MiB - 1);
  return logUniform(MiB, LARGEST);
}

interface Planned {
  readonly code: number;
  readonly payload: Uint8Array;
}

/** The same seeded plan on both ends: the reader knows exactly which bytes to expect. */
function plan(seed: number, random: Uint8Array, repetitive: Uint8Array): Planned[] {
  const next = xorshift(seed);
  return Array.from({ length: PER_DIRECTION }, (_, i) => {
    const size = i === 10 ? 0 : i === 20 ? LARGEST : drawSize(next);
    const pool = i % 2 === 0 ? random : repetitive;
    const offset = below(next, pool.length - size + 1);
    const code = i % 500 === 7 ? 2 ** 40 + i : below(next, 0x10000);
    return { code, payload: pool.subarray(offset, offset + size) };
  });
}

it(`two connections on loopback exchange ${2 * PER_DIRECTION} random messages (0 B to 4 MiB) both ways, byte-exact`, async () => {
  const clock = countingClock();
  const a = keyPair();
  const b = keyPair();
  const next = xorshift(77);
  const random = seededBytes(next, LARGEST + 64 * KiB);
  const block = seededBytes(next, 1000);
  const repetitive = new Uint8Array(LARGEST + 64 * KiB).map((_, i) => block[i % block.length]!);
  const toListener = plan(1, random, repetitive);
  const toDialer = plan(2, random, repetitive);
  const total = [...toListener, ...toDialer].reduce((sum, m) => sum + m.payload.length, 0);

  let accepted: ((conn: RLPxConnection) => void) | undefined;
  const listenerReady = new Promise<RLPxConnection>((resolve) => {
    accepted = resolve;
  });
  const server = createServer((socket: Socket) => {
    const conn = new RLPxConnection(nodeSocketStream(socket, { clock }), { privateKey: b.privateKey, clock });
    conn.handshake().then(
      () => accepted?.(conn),
      () => undefined,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const socket = connect(address.port, '127.0.0.1');
  const dialer = new RLPxConnection(nodeSocketStream(socket, { clock }), {
    privateKey: a.privateKey,
    remotePublicKey: b.publicKey,
    clock,
  });
  await dialer.handshake();
  const listener = await listenerReady;
  dialer.setSnappy(true);
  listener.setSnappy(true);

  const send = async (conn: RLPxConnection, messages: Planned[]): Promise<void> => {
    for (const m of messages) await conn.writeMessage(m.code, m.payload);
  };
  const receive = async (conn: RLPxConnection, messages: Planned[]): Promise<void> => {
    for (const [i, m] of messages.entries()) {
      const got = await conn.readMessage();
      assert.equal(got.code, m.code, `message ${i}`);
      assert.equal(got.payload.length, m.payload.length, `message ${i}`);
      assert.ok(equalBytes(got.payload, m.payload), `message ${i} differs`);
    }
  };
  const started = performance.now();
  await Promise.all([
    send(dialer, toListener),
    receive(listener, toListener),
    send(listener, toDialer),
    receive(dialer, toDialer),
  ]);
  const seconds = (performance.now() - started) / 1000;
  console.log(`# ${2 * PER_DIRECTION} messages, ${(total / MiB).toFixed(1)} MiB in ${seconds.toFixed(1)} s`);

  const socketClosed = new Promise((resolve) => socket.once('close', resolve));
  dialer.close();
  listener.close();
  await Promise.all([socketClosed, new Promise<void>((resolve) => server.close(() => resolve()))]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(clock.active, 0);
});
