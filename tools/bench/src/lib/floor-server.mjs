// The soak's floor: what the runtime itself costs for the flood's traffic, with no devp2p at all. A plain node:net
// server on 127.0.0.1 that answers every chunk it reads with a new array of the same length (as a node answers each
// Ping with a Pong, a turn's Pongs in one write), stops reading a socket while more than READ_PAUSE_BYTES of its
// answers wait to be written (as the node's read loop stops at 64 KiB of queued replies), and closes a socket whose
// writes have not drained for WRITE_TIMEOUT_MS (the node's 20 s write deadline). Prints `floor-port <port>` once it
// listens, and `floor-answered <bytes>` on SIGTERM before it exits. Plain JavaScript, run on each runtime as it is.
import { createServer } from 'node:net';
import process from 'node:process';

/** The node's READ_PAUSE_QUEUED_BYTES. */
const READ_PAUSE_BYTES = 64 * 1024;
/** The node's write deadline (geth's frameWriteTimeout). */
const WRITE_TIMEOUT_MS = 20_000;

let answered = 0;
const sockets = new Set();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  let stalled;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearTimeout(stalled);
    sockets.delete(socket);
  });
  socket.on('data', (chunk) => {
    const answer = new Uint8Array(chunk.length);
    for (let i = 0; i < chunk.length; i += 64) answer[i] = chunk[i];
    answered += chunk.length;
    socket.write(answer);
    if (socket.writableLength > READ_PAUSE_BYTES && !socket.isPaused()) {
      socket.pause();
      stalled = setTimeout(() => socket.destroy(), WRITE_TIMEOUT_MS);
      socket.once('drain', () => {
        clearTimeout(stalled);
        socket.resume();
      });
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`floor-port ${server.address().port}\n`));
process.on('SIGTERM', () => {
  process.stdout.write(`floor-answered ${answered}\n`);
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});
