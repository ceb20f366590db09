// Why the NAT-PMP client is ours: runs `@achingbrain/nat-port-mapper` (4.0.5) against a NAT-PMP gateway on
// 127.0.0.1 and prints what it sends. A strictness check, not a bench (run.mjs runs src/ only):
//   node --import tsx --conditions devp2p-source tools/bench/checks/nat-port-mapper.ts
// NAT-PMP has fixed ports (the gateway listens on 5351, the library binds 5350), so both must be free.
import { createSocket } from 'node:dgram';
import { pmpNat } from '@achingbrain/nat-port-mapper';

const requests: { op: number; internalPort: number; lifetime: number }[] = [];
const gateway = createSocket('udp4');
gateway.on('message', (msg, from) => {
  const op = msg[1]!;
  const reply = new Uint8Array(op === 0 ? 12 : 16);
  const view = new DataView(reply.buffer);
  reply[1] = 128 + op;
  if (op === 0) reply.set([203, 0, 113, 9], 8);
  else {
    const request = new DataView(msg.buffer, msg.byteOffset, msg.length);
    requests.push({ op, internalPort: request.getUint16(4), lifetime: request.getUint32(8) });
    view.setUint16(8, request.getUint16(4));
    view.setUint16(10, request.getUint16(6));
    view.setUint32(12, request.getUint32(8));
  }
  gateway.send(reply, from.port, from.address);
});
await new Promise<void>((resolve) => gateway.bind(5351, '127.0.0.1', resolve));

const TEN_MINUTES_MS = 600_000;
const client = pmpNat('127.0.0.1', { ttl: TEN_MINUTES_MS });
await client.map(30303, '192.168.1.10', { protocol: 'tcp' });
await client.map(30303, '192.168.1.10', { protocol: 'udp' });
const maps = requests.filter((r) => r.lifetime > 0);
console.log(
  `asked for ${TEN_MINUTES_MS} ms (600 s); the library sent lifetimes of ${maps.map((r) => `${r.lifetime} s`).join(', ')}`,
);
// stop() is where the mappings are removed; its failure is thrown from a socket callback, so catch it there.
const crashed = new Promise<string>((resolve) => {
  process.once('uncaughtException', (error) =>
    resolve(`stop() threw, uncaught: ${(error as NodeJS.ErrnoException).code}`),
  );
});
const stopped = client.stop().then(
  () => 'stop() resolved',
  (error: unknown) => `stop() rejected: ${(error as Error).message}`,
);
const outcome = await Promise.race([
  crashed,
  stopped,
  new Promise<string>((r) => setTimeout(() => r('stop() hung'), 3_000)),
]);
const unmaps = requests.filter((r) => r.lifetime === 0);
console.log(
  `${outcome}; mappings removed: ${unmaps.map((r) => (r.op === 1 ? 'UDP' : 'TCP')).join(', ') || 'none'} of TCP, UDP`,
);
gateway.close();
process.exit(0);
