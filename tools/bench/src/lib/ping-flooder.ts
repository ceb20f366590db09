// The alloc bench's peer, a process of its own so that its allocations stay out of the profile:
//   <runtime> ping-flooder.ts <enode>
// Dials the node, completes the RLPx and Hello handshakes (png/1) and prints `ready`; then for each line `<n>` on
// stdin sends n Pings back to back (a turn of the event loop every PINGS_PER_TURN) and reads until n Pongs came back,
// then prints `done`. It exits when its stdin closes.
import process from 'node:process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { hexToBytes } from '@devp2p/core';
import { BaseMessageCode } from '@devp2p/server';
import { dialPingPeer } from './ping-peer.ts';

const PINGS_PER_TURN = 256;
/** The flooder waits for its write queue to fall below this before the next Ping (the node may be slow to read). */
const QUEUE_PAUSE_BYTES = 64 * 1024;
const PING_PAYLOAD = Uint8Array.of(0xc0);

const match = /^enode:\/\/([0-9a-f]{128})@127\.0\.0\.1:(\d+)/.exec(process.argv[2] ?? '');
if (!match) throw new Error('usage: ping-flooder.ts <enode on 127.0.0.1>');
const conn = await dialPingPeer(Number(match[2]), hexToBytes(match[1]!), {
  clientName: 'alloc-bench',
  timeoutMs: 5_000,
});
process.stdout.write('ready\n');

async function round(count: number): Promise<void> {
  let pongs = 0;
  const reading = (async () => {
    while (pongs < count) {
      const { code } = conn.readBufferedMessage() ?? (await conn.readMessage());
      if (code === BaseMessageCode.Pong) pongs++;
    }
  })();
  for (let sent = 0; sent < count; sent++) {
    if (conn.queuedBytes >= QUEUE_PAUSE_BYTES) await conn.writable(QUEUE_PAUSE_BYTES);
    conn.sendMessage(BaseMessageCode.Ping, PING_PAYLOAD);
    if (sent % PINGS_PER_TURN === PINGS_PER_TURN - 1) await nextTurn();
  }
  await reading;
}

let rounds = Promise.resolve();
let partial = '';
process.stdin.on('data', (chunk: Buffer) => {
  const lines = (partial + chunk.toString()).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const count = Number(line);
    if (!(count > 0)) continue;
    rounds = rounds.then(() => round(count)).then(() => void process.stdout.write('done\n'));
  }
});
process.stdin.once('end', () => {
  conn.close();
  process.exit(0);
});
