/**
 * nextTurn(): a loop that yields with it lets the process's sockets deliver their data as it comes, on every runtime
 * (on Deno, a loop yielding with setImmediate left them unpolled for dozens of turns: see src/turn.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runtimeCommand } from '@devp2p/test-utils';
import { nextTurn } from '../src/turn.ts';

const TICKER = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'ticker.ts');
/** The ticker writes a byte this often; this process spins for SPIN_MS doing BUSY_MS of work a turn meanwhile. */
const WRITE_EVERY_MS = 10;
const SPIN_MS = 1_500;
const BUSY_MS = 1;

it('a loop yielding with nextTurn() lets a socket deliver its data as it comes', async () => {
  let accepted!: (socket: Socket) => void;
  const connection = new Promise<Socket>((resolve) => {
    accepted = resolve;
  });
  const server = createServer((socket) => accepted(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const [cmd, args] = runtimeCommand(TICKER, { source: true });
  const child = spawn(cmd, [...args, String(address.port), String(WRITE_EVERY_MS)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const socket = await Promise.race([
      connection,
      exited.then(() => Promise.reject(new Error('the ticker exited before connecting'))),
    ]);
    socket.on('error', () => undefined);
    // Wait for the first byte: the ticker is running.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    // Data events, not bytes: bytes that wait for the runtime to poll the socket arrive together, in one event.
    let events = 0;
    let spinning = true;
    socket.on('data', () => {
      if (spinning) events++;
    });
    const started = performance.now();
    let turns = 0;
    while (performance.now() - started < SPIN_MS) {
      const busyUntil = performance.now() + BUSY_MS;
      while (performance.now() < busyUntil);
      turns++;
      await nextTurn();
    }
    spinning = false;
    const expected = (performance.now() - started) / WRITE_EVERY_MS;
    socket.destroy();
    // Node, Bun and Deno see over 90% of the writes as they come; Deno with setImmediate about 30%.
    assert.ok(
      events >= expected * 0.6,
      `${events} data events for about ${Math.round(expected)} writes, ${turns} turns`,
    );
  } finally {
    child.kill();
    await exited;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
