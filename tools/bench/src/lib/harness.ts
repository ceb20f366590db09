// Shared by every bench in src/: timing, the runtime's name, and the report format run.mjs reads.
import process from 'node:process';
import { formatValue, renderTable } from '../../table.mjs';

/**
 * What a figure counts: MB (10^6 bytes) per second or per CPU-second, operations, handshakes, round trips,
 * connections or datagrams per second, a ratio of two figures (×), MiB (2^20 bytes) of memory, or a plain count.
 */
export type BenchUnit =
  | 'MB/s'
  | 'MB/CPU-s'
  | 'ops/s'
  | 'handshakes/s'
  | 'round trips/s'
  | 'round trips/CPU-s'
  | 'connections/s'
  | 'datagrams/s'
  | 'datagrams/CPU-s'
  | '×'
  | 'nodes'
  | 'ms'
  | '%'
  | 'packets'
  | 'µs'
  | 'MiB'
  | 'KiB'
  | 'bytes'
  | 's'
  | 'count';

/** One measured figure: a row of the table. `value` is null when the runtime has no such path (see `note`). */
export interface BenchRow {
  name: string;
  unit: BenchUnit;
  value: number | null;
  /** Shown as a footnote: a fallback taken, or why a figure is missing. */
  note?: string;
  /**
   * The least value this figure should reach (the most, with `lowerIsBetter`): the table prints PASS or FAIL after
   * it (a report, not a test).
   */
  target?: number;
  /** The figure passes at or below its `target` instead of at or above it (memory, latency). */
  lowerIsBetter?: boolean;
}

/** What one bench reports from one runtime; `--json` prints exactly this as the last stdout line. */
export interface BenchReport {
  bench: string;
  runtime: string;
  version: string;
  rows: BenchRow[];
}

/** Warm-up before measuring, so the JIT (and WebAssembly tier-up) has settled. */
const WARMUP_MS = 150;
/** Measured time per figure, split over RUNS runs whose median is reported. */
const BUDGET_MS = 500;
const RUNS = 3;

/**
 * The runtime this process runs on, and its version.
 * @example runtimeInfo() // { runtime: 'node', version: '20.20.2' }
 */
/**
 * A positive number from the environment variable `name`, or `fallback` when it is unset or empty; anything else
 * throws, naming the variable.
 * @example const seconds = envNumber('SOAK_SECONDS', 60)
 */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a positive number, got ${raw}`);
  return value;
}

/** One progress line on stderr, indented under the runner's "<bench> on <runtime>…" line. */
export function progress(text: string): void {
  process.stderr.write(`    ${text}\n`);
}

export function runtimeInfo(): { runtime: string; version: string } {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return { runtime: 'bun', version: g.Bun.version };
  if (g.Deno) return { runtime: 'deno', version: g.Deno.version.deno };
  return { runtime: 'node', version: process.versions.node };
}

/** Results land here so no engine can drop a call as dead code (written, never read). */
let _sink: unknown;

/**
 * Calls `fn` for WARMUP_MS, then for RUNS runs of BUDGET_MS / RUNS each, and returns the median calls per second.
 * Calls are batched (about 1 ms per batch) so reading the clock does not count.
 * @example opsPerSecond(() => keccak256(input)) * input.length / 1e6 // MB/s
 */
export function opsPerSecond(fn: () => unknown): number {
  const warmupEnd = performance.now() + WARMUP_MS;
  let calls = 0;
  const warmupStart = performance.now();
  while (performance.now() < warmupEnd) {
    _sink = fn();
    calls++;
  }
  const batch = Math.max(1, Math.round(calls / (performance.now() - warmupStart)));
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const end = start + BUDGET_MS / RUNS;
    let n = 0;
    let now = start;
    while (now < end) {
      for (let i = 0; i < batch; i++) _sink = fn();
      n += batch;
      now = performance.now();
    }
    rates.push((n * 1000) / (now - start));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(RUNS / 2)]!;
}

/**
 * Throughput in MB/s (10^6 bytes) of `fn`, which processes `bytes` bytes per call.
 * @example megabytesPerSecond(() => keccak256(mebibyte), mebibyte.length)
 */
export function megabytesPerSecond(fn: () => unknown, bytes: number): number {
  return (opsPerSecond(fn) * bytes) / 1e6;
}

/**
 * Runs a bench: collects its rows, sync or async (printing progress to stderr), then prints the report: as one
 * JSON line when the process got `--json` (what run.mjs reads), else as a table with this runtime's column.
 * @example await runBench('primitives', function* () { yield { name: 'noop', unit: 'ops/s', value: opsPerSecond(() => 0) }; })
 */
export async function runBench(bench: string, rows: () => Iterable<BenchRow> | AsyncIterable<BenchRow>): Promise<void> {
  const { runtime, version } = runtimeInfo();
  const report: BenchReport = { bench, runtime, version, rows: [] };
  for await (const row of rows()) {
    report.rows.push(row);
    process.stderr.write(`  ${runtime} ${row.name}: ${formatValue(row)} ${row.unit}\n`);
  }
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  process.stdout.write(`\n${renderTable(bench, [{ runtime, report }])}`);
}
