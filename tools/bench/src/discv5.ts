// Node Discovery v5 at scale: the discv4 bench's simulation (src/lib/discovery-sim.ts) run with Discv5 nodes, so
// the two protocols' rows compare line by line: 64, 500 and 1000 nodes in this one process, on real UDP sockets on
// 127.0.0.1, with the same shortened timings. Every first contact is a WHOAREYOU handshake and every FINDNODE
// answer carries signed records, so discv5 spends more CPU per node met than discv4. See README.md (discv5) for
// what each figure counts. Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/discv5.ts
// Environment: DISCV5_BENCH_SIZES=64,500,1000 (node counts), DISCV5_BENCH_TRANSPORTS=udp,memory (default udp),
// DISCV5_BENCH_CAP_S=150 (per-scale cap on joining and converging, in seconds), DISCV5_BENCH_LOOKUPS=32.
import { Discv5 } from '@devp2p/discovery';
import { simulationRows } from './lib/discovery-sim.ts';
import { runBench } from './lib/harness.ts';

await runBench('discv5', () => simulationRows('DISCV5_BENCH', (options) => Discv5.start(options)));
