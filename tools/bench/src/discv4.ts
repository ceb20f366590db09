// Node Discovery v4 at scale: the 64-node loopback simulation of packages/discovery (test/simulation.test.ts)
// grown to 500 and 1000 nodes in this one process, on real UDP sockets on 127.0.0.1 (and, on request, on the
// in-memory datagram network). Per scale: time to convergence, lookups' success rate, packets per lookup and CPU
// per packet (src/lib/discovery-sim.ts, shared with the discv5 bench). See README.md (discv4) for what each figure
// counts. Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/discv4.ts
// Environment: DISCV4_BENCH_SIZES=64,500,1000 (node counts), DISCV4_BENCH_TRANSPORTS=udp,memory (default udp),
// DISCV4_BENCH_CAP_S=150 (per-scale cap on joining and converging, in seconds), DISCV4_BENCH_LOOKUPS=32.
import { Discv4 } from '@devp2p/discovery';
import { simulationRows } from './lib/discovery-sim.ts';
import { runBench } from './lib/harness.ts';

await runBench('discv4', () => simulationRows('DISCV4_BENCH', (options) => Discv4.start(options)));
