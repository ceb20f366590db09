// The socket layer alone, node:net / node:dgram against the runtime's own socket API (Bun.listen, Bun.connect and
// Bun.udpSocket on Bun; Deno.listen, Deno.connect and Deno.listenDatagram on Deno), over 127.0.0.1: one-way TCP
// throughput, 64-byte round trips, connection setup, UDP datagrams. See README.md (sockets) for what each figure
// counts. Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/sockets.ts
import process from 'node:process';
import type { Transport } from '@devp2p/core';
import { tcpTransport } from '@devp2p/transport-node';
import { type BenchRow, runBench, runtimeInfo } from './lib/harness.ts';
import { withTimeout } from './lib/loopback.ts';
import {
  type DatagramRun,
  type DatagramSide,
  measureRate,
  type Rate,
  runDatagrams,
  type StreamSide,
  transportSide,
} from './lib/sockets.ts';
import { bunNative, bunTransport, bunUdp } from './lib/sockets-bun.ts';
import { denoNative, denoTransport, denoUdp, denoUdpUnavailable } from './lib/sockets-deno.ts';
import { nodeDgram, nodeNet, ours, oursUdp } from './lib/sockets-node.ts';
import { rlpxOneWay, rlpxPingPong } from './lib/sockets-rlpx.ts';

/** No figure may take longer than this (a stalled side is reported n/a, not waited for). */
const FIGURE_TIMEOUT_MS = 20_000;
/** Warm-up and counted window of one throughput run (three runs: about 2 s per API and write size). */
const THROUGHPUT_WARMUP_MS = 200;
const THROUGHPUT_WINDOW_MS = 500;
/** Warm-up and counted window of one run of the other figures. */
const WARMUP_MS = 150;
const WINDOW_MS = 400;

const WRITE_SIZES: readonly { label: string; bytes: number }[] = [
  { label: '1 KiB', bytes: 1024 },
  { label: '64 KiB', bytes: 64 * 1024 },
];
/** A small devp2p message: a Ping, a status update, a request for a few hashes. */
const MESSAGE_BYTES = 64;
/** A discovery packet's size, under the 1,280-byte limit discv4 and discv5 keep to. */
const DATAGRAM_BYTES = 1200;

/** One API under test: where it runs, or why it does not on this runtime. */
type Candidate<T> = { side: T } | { missing: string };

function nativeStream(runtime: string): Candidate<StreamSide> {
  if (runtime === 'bun') return { side: bunNative };
  if (runtime === 'deno') return { side: denoNative };
  return { missing: 'Node has no socket API besides node:net and node:dgram' };
}

function nativeTransport(runtime: string): Candidate<Transport> {
  if (runtime === 'bun') return { side: bunTransport };
  if (runtime === 'deno') return { side: denoTransport };
  return { missing: 'Node has no socket API besides node:net and node:dgram' };
}

function nativeByteStream(runtime: string): Candidate<StreamSide> {
  const transport = nativeTransport(runtime);
  return 'side' in transport ? { side: transportSide(transport.side) } : transport;
}

function nativeDatagram(runtime: string): Candidate<DatagramSide> {
  if (runtime === 'bun') return { side: bunUdp };
  if (runtime === 'deno') {
    const missing = denoUdpUnavailable();
    return missing ? { missing } : { side: denoUdp };
  }
  return { missing: 'Node has no socket API besides node:net and node:dgram' };
}

/** Interleaved runs per figure (each API once per round), whose median is reported. */
const ROUNDS = 3;

/** One API's figure in one case: how to take it, or why it cannot be taken on this runtime. */
interface Contender {
  /** Its part of the row names: `node:net`, `tcpTransport (ours)`, `native`. */
  readonly name: string;
  readonly run: ((onEvent: (units: number) => boolean) => Promise<{ note?: string }>) | { missing: string };
}

/** The median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The rows of one case: each contender's rate (the median of {@link ROUNDS} interleaved runs), per CPU-second
 * when `perCpuUnit` is given, then `ratios` as [numerator, denominator] contender names: the median of the
 * per-round ratios.
 */
async function* compare(
  label: string,
  unit: BenchRow['unit'],
  timing: { warmupMs: number; windowMs: number },
  contenders: readonly Contender[],
  ratios: readonly (readonly [string, string])[],
  perCpuUnit?: BenchRow['unit'],
): AsyncGenerator<BenchRow> {
  const { runtime } = runtimeInfo();
  const rates = new Map<string, Rate[]>(contenders.map((c) => [c.name, []]));
  const notes = new Map<string, string>();
  const failed = new Set<string>();
  for (const { name, run } of contenders) {
    if ('missing' in run) {
      notes.set(name, run.missing);
      failed.add(name);
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, run } of contenders) {
      if ('missing' in run || failed.has(name)) continue;
      const what = `${label}, ${name} on ${runtime}`;
      let note: string | undefined;
      try {
        const rate = await withTimeout(
          measureRate(
            async (onEvent) => {
              note = (await run(onEvent)).note;
            },
            timing.warmupMs,
            timing.windowMs,
          ),
          FIGURE_TIMEOUT_MS,
          what,
        );
        rates.get(name)!.push(rate);
        if (note) notes.set(name, `${what}: ${note}`);
      } catch (err) {
        // One failed run makes the figure n/a: a median over the runs that happened to work would flatter it.
        notes.set(name, `${what}: ${messageOf(err)}`);
        failed.add(name);
      }
    }
  }
  const rowOf = (name: string, rowName: string, rowUnit: BenchRow['unit'], pick: (rate: Rate) => number): BenchRow => {
    const note = notes.get(name);
    const base = { name: `${label}: ${rowName}`, unit: rowUnit };
    if (failed.has(name)) return { ...base, value: null, note };
    return { ...base, value: median(rates.get(name)!.map(pick)), ...(note ? { note } : {}) };
  };
  const perSecond = new Map(contenders.map(({ name }) => [name, rowOf(name, name, unit, (r) => r.perSecond)]));
  yield* perSecond.values();
  if (perCpuUnit) {
    for (const { name } of contenders) yield rowOf(name, `${name} per CPU-second`, perCpuUnit, (r) => r.perCpuSecond);
  }
  for (const [a, b] of ratios) {
    const name = `${label}: ${a} / ${b}`;
    if (failed.has(a) || failed.has(b)) {
      yield { name, unit: '×', value: null, note: notes.get(a) ?? notes.get(b) };
      continue;
    }
    // Paired: the two ran in the same round, one after the other, so load that comes and goes hits both alike.
    const runsOfB = rates.get(b)!;
    yield { name, unit: '×', value: median(rates.get(a)!.map((r, i) => r.perSecond / runsOfB[i]!.perSecond)) };
  }
}

/** A contender running `side`'s case, or missing with the reason. */
function streamContender(
  name: string,
  side: Candidate<StreamSide>,
  run: (side: StreamSide, onEvent: (units: number) => boolean) => Promise<void>,
): Contender {
  if ('missing' in side) return { name, run: side };
  return {
    name,
    run: async (onEvent) => {
      await run(side.side, onEvent);
      return {};
    },
  };
}

function transportContender(
  name: string,
  transport: Candidate<Transport>,
  run: (transport: Transport, onEvent: (units: number) => boolean) => Promise<void>,
): Contender {
  if ('missing' in transport) return { name, run: transport };
  return {
    name,
    run: async (onEvent) => {
      await run(transport.side, onEvent);
      return {};
    },
  };
}

function datagramContender(name: string, side: Candidate<DatagramSide>, datagram: Uint8Array): Contender {
  if ('missing' in side) return { name, run: side };
  return {
    name,
    run: async (onEvent) => {
      const stats: DatagramRun = { lost: 0 };
      await runDatagrams(side.side, datagram, onEvent, stats);
      return stats.lost > 0
        ? { note: `${stats.lost} datagrams written off as lost (nothing arrived for 100–200 ms) in a run` }
        : {};
    },
  };
}

async function* sockets(): AsyncGenerator<BenchRow> {
  const { runtime } = runtimeInfo();
  const tcp: readonly (readonly [string, Candidate<StreamSide>])[] = [
    ['node:net', { side: nodeNet }],
    ['tcpTransport (ours)', { side: ours }],
    ['native', nativeStream(runtime)],
    ['native ByteStream (sketch)', nativeByteStream(runtime)],
  ];
  const tcpRatios = [
    ['native', 'node:net'],
    ['tcpTransport (ours)', 'node:net'],
    ['native ByteStream (sketch)', 'tcpTransport (ours)'],
  ] as const;
  const streamCase = (run: (side: StreamSide, onEvent: (units: number) => boolean) => Promise<void>): Contender[] =>
    tcp.map(([name, side]) => streamContender(name, side, run));
  const short = { warmupMs: WARMUP_MS, windowMs: WINDOW_MS };

  for (const { label, bytes } of WRITE_SIZES) {
    const chunk = new Uint8Array(bytes).fill(0xa5);
    yield* compare(
      `TCP one-way, ${label} writes`,
      'MB/s',
      { warmupMs: THROUGHPUT_WARMUP_MS, windowMs: THROUGHPUT_WINDOW_MS },
      streamCase((side, onEvent) => side.oneWay(chunk, (received) => onEvent(received / 1e6))),
      tcpRatios,
      'MB/CPU-s',
    );
  }

  const message = new Uint8Array(MESSAGE_BYTES).fill(0x5a);
  yield* compare(
    `TCP ping-pong, ${MESSAGE_BYTES} B`,
    'round trips/s',
    short,
    streamCase((side, onEvent) => side.pingPong(message, () => onEvent(1))),
    tcpRatios,
    'round trips/CPU-s',
  );

  yield* compare(
    'TCP connect + accept + close',
    'connections/s',
    short,
    streamCase((side, onEvent) => side.connections(() => onEvent(1))),
    tcpRatios,
  );

  const datagram = new Uint8Array(DATAGRAM_BYTES).fill(0x3c);
  yield* compare(
    `UDP ${DATAGRAM_BYTES.toLocaleString('en-US')} B datagrams received`,
    'datagrams/s',
    short,
    [
      datagramContender('node:dgram', { side: nodeDgram }, datagram),
      datagramContender('udpTransport (ours)', { side: oursUdp }, datagram),
      datagramContender('native', nativeDatagram(runtime), datagram),
    ],
    [
      ['native', 'node:dgram'],
      ['udpTransport (ours)', 'node:dgram'],
    ],
    'datagrams/CPU-s',
  );

  if (process.env['SOCKETS_BENCH_RLPX'] !== '1') return;
  // Our RLPx over tcpTransport and over the native sketch: what the socket layer's share is worth end to end.
  const rlpx = (run: (transport: Transport, onEvent: (units: number) => boolean) => Promise<void>): Contender[] => [
    transportContender('over tcpTransport (ours)', { side: tcpTransport }, run),
    transportContender('over native ByteStream (sketch)', nativeTransport(runtime), run),
  ];
  const rlpxRatio = [['over native ByteStream (sketch)', 'over tcpTransport (ours)']] as const;
  for (const { label, bytes } of WRITE_SIZES) {
    const payload = new Uint8Array(bytes).fill(0xa5);
    yield* compare(
      `RLPx one-way, ${label} messages`,
      'MB/s',
      { warmupMs: THROUGHPUT_WARMUP_MS, windowMs: THROUGHPUT_WINDOW_MS },
      rlpx((transport, onEvent) => rlpxOneWay(transport, payload, (received) => onEvent(received / 1e6))),
      rlpxRatio,
    );
  }
  yield* compare(
    `RLPx ping-pong, ${MESSAGE_BYTES} B messages`,
    'round trips/s',
    short,
    rlpx((transport, onEvent) => rlpxPingPong(transport, message, () => onEvent(1))),
    rlpxRatio,
  );
}

await runBench('sockets', sockets);
