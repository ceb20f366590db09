// The soak's admin RPC client, in a process of its own so that the attacker's busy event loop does not delay it:
// calls admin_peers at <url> every <interval> ms, whether or not the last call has answered, and prints each
// outcome as a JSON line; when its stdin closes it waits for the calls in flight and exits.
//   <runtime> rpc-prober.ts <url> <interval ms>
import process from 'node:process';
import { callAdminPeers } from './rpc-probe.ts';

const [url, intervalText] = process.argv.slice(2);
const interval = Number(intervalText);
if (!url || !(interval > 0)) throw new Error('usage: rpc-prober.ts <url> <interval ms>');
const inFlight = new Set<Promise<void>>();
const timer = setInterval(() => {
  const call = callAdminPeers(url).then((outcome) => {
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  });
  inFlight.add(call);
  void call.then(() => inFlight.delete(call));
}, interval);
process.stdin.on('data', () => undefined);
process.stdin.once('end', () => {
  clearInterval(timer);
  void Promise.all(inFlight).then(() => process.exit(0));
});
