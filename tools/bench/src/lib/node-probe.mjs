// The node of the soak and idle-peers benches: the CLI (`@devp2p/cli/bin`: its sources under the devp2p-source
// condition, else its built dist/) with a probe installed first, for figures the node's
// /proc entries do not give. Every PROBE_MS it prints one `soak-probe {json}` line to stderr: process.memoryUsage()
// (rss, heapUsed, heapTotal, external, arrayBuffers; bytes) and `lags`, how late each tick of a LAG_TICK_MS timer
// fired since the last line (ms): the node's own event-loop lag. On SIGUSR2 it forces a full garbage collection
// where the runtime allows it (Bun.gc; Node's and Deno's V8 with --expose-gc, which the benches pass) and prints a
// `soak-probe-gc {json}` line with `forced` and the memory figures after it. With SOAK_PROBE_GC=1 in its environment
// it forces a full collection before every line, so that the lines give live memory rather than live and dead (the
// node runs slower). Plain JavaScript, so that Node can run it without a TypeScript loader when the node runs from
// dist/ (see node-process.ts).
import process from 'node:process';

/** How often the probe prints its line. */
const PROBE_MS = 250;
/** The period of the timer whose lateness is the event-loop lag. */
const LAG_TICK_MS = 20;
/** Whether every line follows a forced full collection (SOAK_PROBE_GC=1). */
const COLLECT_EACH_LINE = process.env.SOAK_PROBE_GC === '1';

/** @returns {Record<string, number>} */
function usage() {
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

/** A full, synchronous collection; false when the runtime offers none. */
/** @returns {boolean} */
function forceGc() {
  const bun = /** @type {{ Bun?: { gc(sync: boolean): void } }} */ (globalThis).Bun;
  if (bun) {
    bun.gc(true);
    return true;
  }
  const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
  if (!gc) return false;
  gc();
  return true;
}

/** @type {number[]} */
let lags = [];
let expected = performance.now() + LAG_TICK_MS;
const lagTimer = setInterval(() => {
  const now = performance.now();
  lags.push(Math.max(0, Math.round(now - expected)));
  expected = now + LAG_TICK_MS;
}, LAG_TICK_MS);
const probeTimer = setInterval(() => {
  if (COLLECT_EACH_LINE) forceGc();
  process.stderr.write(`soak-probe ${JSON.stringify({ ...usage(), lags })}\n`);
  lags = [];
}, PROBE_MS);
// The probe never keeps the node alive: it stops when the CLI does.
for (const timer of [lagTimer, probeTimer]) timer.unref?.();
process.on('SIGUSR2', () => {
  const forced = forceGc();
  process.stderr.write(`soak-probe-gc ${JSON.stringify({ forced, ...usage() })}\n`);
});

await import('@devp2p/cli/bin');
