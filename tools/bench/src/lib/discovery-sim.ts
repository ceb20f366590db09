// The discovery simulation the discv4 and discv5 benches share: N nodes of one protocol in this one process, on
// real UDP sockets on 127.0.0.1 (or the in-memory datagram network), joining from one bootnode in waves as
// packages/discovery's simulation test does, converging, then looking each other up. Per scale: time to
// convergence, lookups' success rate, packets per lookup and CPU per packet received.
import process from 'node:process';
import type { DatagramTransport } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { BUCKET_SIZE } from '@devp2p/discovery';
import type { Node } from '@devp2p/enode';
import { MemoryDatagramNetwork, udpTransport } from '@devp2p/transport-node';
import { type BenchRow, envNumber, progress } from './harness.ts';
import { HOST } from './loopback.ts';

/** Node counts per scale point: 64 is the simulation test's (a sanity check), then the 500 and 1000. */
const DEFAULT_SIZES = [64, 500, 1000];
/** A table is converged when it holds at least this many nodes: one bucket's worth, as in the simulation test. */
const MIN_KNOWN = BUCKET_SIZE;
/** The network is converged when at least this fraction of its tables are. */
const CONVERGED_FRACTION = 0.95;
/** Nodes joining together, each wave's initial refresh (a self lookup) running at once: the test's wave. */
const JOIN_WAVE = 16;
/** Concurrent lookups, in joining's catch-up rounds and in the lookup phase: the test's LOOKUP_WAVE. */
const LOOKUP_WAVE = 8;
/**
 * Per-scale cap on joining plus converging (<PREFIX>_CAP_S): with ~1 CPU shared by every node, 1000 discv4 nodes
 * converge in about 90 s; the cap leaves room for a slower run. A scale that hits it reports how far it got.
 */
const DEFAULT_CAP_S = 150;
/** Lookups measured per scale (<PREFIX>_LOOKUPS), each from a random member for another random member's id. */
const DEFAULT_LOOKUPS = 32;
/** The lookup phase may not take longer than this; lookups not started by then are not counted. */
const LOOKUP_PHASE_CAP_MS = 20_000;
/** Sleep between catch-up rounds, as in the test. */
const ROUND_PAUSE_MS = 10;

/**
 * The simulation test's shortened timings, for ~1 CPU shared by all nodes: only the self lookup per refresh,
 * slow fast-revalidation (60 s instead of PING_INTERVAL_MS's 3 s), and late replies allowed (1.5 s instead of
 * 500 ms). Both protocols' services take these options under these names.
 */
export const SIM_TIMINGS = { refreshRandomLookups: 0, pingIntervalMs: 60_000, respTimeoutMs: 1_500 } as const;
const TIMINGS_TEXT = 'refreshRandomLookups 0, pingIntervalMs 60 s, respTimeoutMs 1.5 s (the simulation test’s)';

/** What the simulation needs of a discovery service: Discv4 and Discv5 both fit. */
export interface SimNode {
  readonly self: Node;
  readonly table: { readonly size: number };
  readonly stats: { readonly sent: number; readonly received: number };
  refresh(): Promise<void>;
  lookup(target: Node): Promise<Node[]>;
  close(): Promise<void>;
}

/** How to start one node of the protocol under test, with the simulation's timings. */
export interface SimNodeOptions {
  readonly privateKey: Uint8Array;
  readonly transport: DatagramTransport;
  readonly host: string;
  readonly bootnodes?: readonly Node[];
  readonly refreshRandomLookups: number;
  readonly pingIntervalMs: number;
  readonly respTimeoutMs: number;
}

type TransportName = 'udp' | 'memory';

function envList(name: string): string[] | undefined {
  const raw = process.env[name]?.trim();
  return raw ? raw.split(',').map((s) => s.trim()) : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time of this process since `since`, in microseconds (user + system, all threads). */
function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

function totals(nodes: readonly SimNode[]): { sent: number; received: number } {
  let sent = 0;
  let received = 0;
  for (const n of nodes) {
    sent += n.stats.sent;
    received += n.stats.received;
  }
  return { sent, received };
}

function convergedFraction(nodes: readonly SimNode[]): number {
  return nodes.filter((n) => n.table.size >= MIN_KNOWN).length / nodes.length;
}

/** What one scale point measured. */
interface ScaleResult {
  /** Nodes started (all of them, unless the cap stopped joining). */
  joined: number;
  /** From the first node's start until CONVERGED_FRACTION of tables held MIN_KNOWN nodes; undefined if never. */
  convergenceMs: number | undefined;
  /** Time spent before giving up, when not converged. */
  elapsedMs: number;
  /** Fraction of tables with MIN_KNOWN+ nodes at the end of the converge phase. */
  fraction: number;
  /** Packets sent by all nodes from the first start until converged (or the cap), per node. */
  joinPacketsPerNode: number;
  /** CPU µs per datagram received from the first start until converged (or the cap). */
  joinCpuPerPacket: number;
  lookups: number;
  found: number;
  lookupPackets: number;
  lookupReceived: number;
  lookupCpuMicros: number;
}

type StartNode = (options: SimNodeOptions) => Promise<SimNode>;

async function runScale(
  start: StartNode,
  size: number,
  transport: DatagramTransport,
  capMs: number,
  lookups: number,
): Promise<ScaleResult> {
  const options = { transport, host: HOST, ...SIM_TIMINGS };
  const started = performance.now();
  const joinCpu = process.cpuUsage();
  const deadline = started + capMs;
  const boot = await start({ ...options, privateKey: generatePrivateKey() });
  const nodes: SimNode[] = [boot];
  try {
    await boot.refresh();
    // Joining, in waves as the test does, until every node is up or the cap is reached.
    for (let i = 1; i < size && performance.now() < deadline; i += JOIN_WAVE) {
      const wave: SimNode[] = [];
      for (let j = i; j < Math.min(size, i + JOIN_WAVE); j++) {
        wave.push(await start({ ...options, privateKey: generatePrivateKey(), bootnodes: [boot.self] }));
      }
      nodes.push(...wave);
      await Promise.all(wave.map((n) => n.refresh()));
      if (nodes.length % 128 < JOIN_WAVE) progress(`${size}: ${nodes.length} joined, ${elapsed(started)}`);
    }
    // Catch-up rounds (the early joiners saw a small network): self lookups of the nodes still short of
    // MIN_KNOWN, LOOKUP_WAVE at a time, until CONVERGED_FRACTION of tables are full enough or the cap.
    let convergenceMs: number | undefined;
    for (;;) {
      const fraction = convergedFraction(nodes);
      if (nodes.length === size && fraction >= CONVERGED_FRACTION) {
        convergenceMs = performance.now() - started;
        break;
      }
      if (performance.now() >= deadline) break;
      const short = nodes.filter((n) => n.table.size < MIN_KNOWN);
      for (let w = 0; w < short.length && performance.now() < deadline; w += LOOKUP_WAVE) {
        await Promise.all(short.slice(w, w + LOOKUP_WAVE).map((n) => n.lookup(n.self).catch(() => [])));
      }
      await sleep(ROUND_PAUSE_MS);
    }
    const elapsedMs = performance.now() - started;
    const fraction = convergedFraction(nodes);
    const joined = totals(nodes);
    const joinCpuMicros = cpuMicros(joinCpu);
    progress(
      `${size}: ${nodes.length} joined, ${(fraction * 100).toFixed(1)}% with ${MIN_KNOWN}+, ` +
        `${convergenceMs === undefined ? 'not converged' : 'converged'} after ${elapsed(started)}`,
    );

    // The lookup phase: LOOKUP_WAVE at a time, a random member looks up another random member's id, once.
    const before = totals(nodes);
    const cpuStart = process.cpuUsage();
    const phaseEnd = performance.now() + LOOKUP_PHASE_CAP_MS;
    let done = 0;
    let found = 0;
    while (done < lookups && performance.now() < phaseEnd) {
      const wave = Math.min(LOOKUP_WAVE, lookups - done);
      const hits = await Promise.all(
        Array.from({ length: wave }, async () => {
          const searcher = nodes[Math.floor(Math.random() * nodes.length)]!;
          let target = searcher;
          while (target === searcher) target = nodes[Math.floor(Math.random() * nodes.length)]!;
          const result = await searcher.lookup(target.self).catch(() => []);
          return result.some((r) => r.id.equals(target.self.id));
        }),
      );
      done += wave;
      found += hits.filter(Boolean).length;
    }
    const lookupCpuMicros = cpuMicros(cpuStart);
    const after = totals(nodes);
    progress(`${size}: ${found} of ${done} lookups found their target`);
    return {
      joined: nodes.length,
      convergenceMs,
      elapsedMs,
      fraction,
      joinPacketsPerNode: joined.sent / nodes.length,
      joinCpuPerPacket: joined.received > 0 ? joinCpuMicros / joined.received : Number.NaN,
      lookups: done,
      found,
      lookupPackets: after.sent - before.sent,
      lookupReceived: after.received - before.received,
      lookupCpuMicros,
    };
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

function rowsFor(size: number, mode: TransportName, r: ScaleResult, capMs: number): BenchRow[] {
  const label = `${size} nodes${mode === 'memory' ? ', in-memory network' : ''}`;
  const partial =
    r.joined < size
      ? `cap of ${capMs / 1000} s reached while joining: ${r.joined} of ${size} nodes up, figures are for those`
      : undefined;
  const convergence: BenchRow = {
    name: `${label}: time to convergence`,
    unit: 'ms',
    value: r.convergenceMs ?? null,
  };
  if (r.convergenceMs === undefined) {
    convergence.note =
      partial ??
      `not converged within the cap of ${capMs / 1000} s: ${(r.fraction * 100).toFixed(1)}% of tables had ${MIN_KNOWN}+ nodes`;
  }
  const rows: BenchRow[] = [
    { name: `${label}: nodes up`, unit: 'nodes', value: r.joined, note: partial },
    convergence,
    {
      name: `${label}: packets sent to converge, per node`,
      unit: 'packets',
      value: r.joinPacketsPerNode,
      note: partial,
    },
    {
      name: `${label}: CPU per packet received, converging`,
      unit: 'µs',
      value: Number.isNaN(r.joinCpuPerPacket) ? null : r.joinCpuPerPacket,
      note: Number.isNaN(r.joinCpuPerPacket) ? 'no packet received while converging' : partial,
    },
    {
      name: `${label}: lookup success`,
      unit: '%',
      value: r.lookups > 0 ? (100 * r.found) / r.lookups : null,
      note: r.lookups > 0 ? partial : 'no lookup ran',
    },
    {
      name: `${label}: packets per lookup`,
      unit: 'packets',
      value: r.lookups > 0 ? r.lookupPackets / r.lookups : null,
      note: r.lookups > 0 ? partial : 'no lookup ran',
    },
    {
      name: `${label}: CPU per packet received`,
      unit: 'µs',
      value: r.lookupReceived > 0 ? r.lookupCpuMicros / r.lookupReceived : null,
      note: r.lookupReceived > 0 ? partial : 'no packet received in the lookup phase',
    },
  ];
  return rows;
}

/**
 * The rows of one protocol's simulation, for runBench: every size on every transport the environment names.
 * `envPrefix` names the variables: <PREFIX>_SIZES, _TRANSPORTS, _CAP_S, _LOOKUPS.
 * @example await runBench('discv4', () => simulationRows('DISCV4_BENCH', (options) => Discv4.start(options)))
 */
export async function* simulationRows(envPrefix: string, start: StartNode): AsyncGenerator<BenchRow> {
  const sizes = (envList(`${envPrefix}_SIZES`) ?? DEFAULT_SIZES.map(String)).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 2) throw new Error(`${envPrefix}_SIZES: ${s} is not a node count of 2 or more`);
    return n;
  });
  const modes = (envList(`${envPrefix}_TRANSPORTS`) ?? ['udp']).map((m) => {
    if (m !== 'udp' && m !== 'memory') throw new Error(`${envPrefix}_TRANSPORTS: ${m} is not udp or memory`);
    return m as TransportName;
  });
  const capMs = envNumber(`${envPrefix}_CAP_S`, DEFAULT_CAP_S) * 1000;
  const lookups = Math.round(envNumber(`${envPrefix}_LOOKUPS`, DEFAULT_LOOKUPS));
  progress(`timings: ${TIMINGS_TEXT}; cap ${capMs / 1000} s per scale; ${lookups} lookups per scale`);
  for (const mode of modes) {
    for (const size of sizes) {
      const transport = mode === 'udp' ? udpTransport : new MemoryDatagramNetwork();
      const result = await runScale(start, size, transport, capMs, lookups);
      yield* rowsFor(size, mode, result, capMs);
    }
  }
}
