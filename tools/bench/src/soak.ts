// Soak: the real `devp2p node` (the CLI, a child process on this bench's runtime: its dist/ on Node, its sources on
// Bun and Deno) under ten peers that flood base-protocol Pings and never read, plus 300 silent sockets, for
// SOAK_SECONDS (60), while the admin JSON-RPC is called every 100 ms from a process of its own. Reports the node's
// peak RSS, its RSS and open file descriptors once the attack is over, where its memory is (JS heap, external, after
// a forced collection) and the RPC latency during the attack; then the same attack on a plain node:net server (the
// runtime's floor, lib/floor-server.mjs). Everything is on 127.0.0.1; Linux only (/proc). See README.md (soak). Run
// through run.mjs (build first), or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/soak.ts
// Environment: SOAK_SECONDS=60 (the attack's length), SOAK_SETTLE_SECONDS=30 (the pause before the "after" figures),
// SOAK_NODE_LOG=<file> (append everything the node prints to that file), SOAK_ATTACK=all|flood|silent (one half of
// the attack alone), SOAK_NODE_RUNTIME=node|bun|deno (run the node on another runtime than the attacker's),
// SOAK_FLOOR=0 (skip the floor run), SOAK_PROBE_GC=1 (the node's probe forces a full collection before each sample:
// the JS heap and external peaks are then live memory, and the node runs slower).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RLPxConnection } from '@devp2p/rlpx';
import { BaseMessageCode } from '@devp2p/server';
import { repoRoot, runtime } from '@devp2p/test-utils';
import { type BenchRow, envNumber, progress, runBench } from './lib/harness.ts';
import { HOST } from './lib/loopback.ts';
import {
  assertDistFresh,
  BASELINE_SETTLE_MS,
  cpuSeconds,
  MiB,
  mean,
  mib,
  type NodeCode,
  type NodeProcess,
  openFds,
  percentile,
  REMOTE_SUFFIX,
  type Runtime,
  STOP_GRACE_MS,
  sleep,
  startNode,
  statusMiB,
  stopNode,
} from './lib/node-process.ts';
import { dialPingPeer } from './lib/ping-peer.ts';
import { callAdminPeers, RPC_TIMEOUT_MS, type RpcOutcome } from './lib/rpc-probe.ts';

/** Peers flooding Pings at once; each reconnects with a new key when the node drops it. */
const FLOODERS = 10;
/** Plain TCP sockets that never send a byte; each is reopened when the node closes it. */
const SILENT_SOCKETS = 300;
/** Pings a flooder sends between two turns of the event loop, so the bench's timers and RPC calls still run. */
const PINGS_PER_TURN = 256;
/** A Ping: base-protocol code 0x02 with an empty list. */
const PING_PAYLOAD = Uint8Array.of(0xc0);
/**
 * A flooder's own deadlines, longer than the node's so that it is the node that ends a connection: the RLPx and
 * Hello handshakes may wait behind the silent sockets for a handshake slot (the node's waiting queue), and its
 * writes may block for longer than the node's 20 s write deadline.
 */
const FLOOD_HANDSHAKE_TIMEOUT_MS = 15_000;
const FLOOD_WRITE_TIMEOUT_MS = 120_000;
/** Pause before a flooder or silent socket tries again after a failed connection, so a refusal is no busy loop. */
const RETRY_PAUSE_MS = 100;

/** Admin RPC calls: one every RPC_INTERVAL_MS, whether or not the last one has answered. */
const RPC_INTERVAL_MS = 100;
/** The RPC prober's entry point (a process of its own). */
const PROBER = join(repoRoot, 'tools', 'bench', 'src', 'lib', 'rpc-prober.ts');
/** RSS (and the other samples) are read this often during the attack. */
const SAMPLE_MS = 250;
/** The bench's own event-loop lag is measured with a timer of this period. */
const LAG_TICK_MS = 20;

/**
 * RSS is also read this long after the attack, besides after the whole settle: the engines give memory back late
 * (V8 shrinks its young generation and releases pages in collections it starts once allocation has slowed down).
 */
const EARLY_AFTER_SECONDS = 5;
/** A Ping frame on the wire (32-byte header and MAC, one 16-byte block, 16-byte MAC): the floor's unit. */
const PING_FRAME_BYTES = 64;
/** The floor's server (lib/floor-server.mjs) and what its flooders write at once: 256 Ping-sized units. */
const FLOOR_SERVER = join(repoRoot, 'tools', 'bench', 'src', 'lib', 'floor-server.mjs');
const FLOOR_WRITE = new Uint8Array(256 * PING_FRAME_BYTES).fill(0x5a);

/** Targets (issue 13): RSS growth under the attack, RSS once it is over, admin RPC latency during it. */
const RSS_GROWTH_TARGET_MIB = 64;
const RSS_AFTER_TARGET_PERCENT = 10;
const RPC_P99_TARGET_MS = 100;

/** SOAK_PROBE_GC=1 (read by the node's probe, lib/node-probe.mjs, which inherits this environment): said in the notes. */
const LIVE_NOTE = process.env.SOAK_PROBE_GC === '1' ? '; each sample after a forced full collection (live)' : '';

/** What the flooders did. */
interface FloodStats {
  /** Connections that completed the Hello exchange and started flooding. */
  connected: number;
  /** Connections or attempts that failed before flooding (refused, timed out), with a sample of the errors. */
  failedAttempts: number;
  errors: Map<string, number>;
  /** Flooding connections that ended in an error before the attack was over: the node dropped them. */
  dropped: number;
  /** For each dropped connection, the time from its Hello to its end. */
  lifetimesMs: number[];
  pings: number;
}

function countError(stats: FloodStats, error: unknown): void {
  const { name, message, cause } = error as Error;
  const text = `${name}: ${message}${cause instanceof Error ? ` (${cause.message})` : ''}`.replace(REMOTE_SUFFIX, '');
  stats.errors.set(text, (stats.errors.get(text) ?? 0) + 1);
}

/**
 * One flooder: dials the node with a new key, completes the RLPx handshake and the Hello exchange (png/1), then
 * writes Pings back to back and never reads, until the node drops it; then again, until `stop` is aborted.
 */
async function flooder(
  node: NodeProcess,
  stats: FloodStats,
  live: Set<RLPxConnection>,
  stop: AbortSignal,
): Promise<void> {
  while (!stop.aborted) {
    let conn: RLPxConnection;
    try {
      conn = await dialPingPeer(node.p2pPort, node.publicKey, {
        clientName: 'soak-flood',
        timeoutMs: FLOOD_HANDSHAKE_TIMEOUT_MS,
        writeTimeoutMs: FLOOD_WRITE_TIMEOUT_MS,
        live,
        signal: stop,
      });
    } catch (error) {
      if (stop.aborted) return;
      stats.failedAttempts++;
      countError(stats, error);
      await sleep(RETRY_PAUSE_MS, stop);
      continue;
    }
    stats.connected++;
    const since = performance.now();
    try {
      while (!stop.aborted) {
        for (let i = 0; i < PINGS_PER_TURN && !stop.aborted; i++) {
          await conn.writeMessage(BaseMessageCode.Ping, PING_PAYLOAD);
          stats.pings++;
        }
        await nextTurn();
      }
    } catch (error) {
      if (!stop.aborted) {
        stats.dropped++;
        stats.lifetimesMs.push(performance.now() - since);
        countError(stats, error);
      }
    } finally {
      conn.close();
      live.delete(conn);
    }
  }
}

/** The silent sockets: `count` of them open to `port`, each reopened when the server closes it, until stop(). */
function silentSockets(
  port: number,
  count: number,
): { readonly open: number; readonly closedByNode: number; stop(): void } {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let stopped = false;
  let closedByNode = 0;
  const open = (): void => {
    if (stopped) return;
    const socket = connect({ host: HOST, port });
    let connected = false;
    socket.once('connect', () => {
      connected = true;
    });
    socket.on('error', () => undefined); // a reset by the node ends in 'close', handled there
    socket.once('close', () => {
      sockets.delete(socket);
      if (stopped) return;
      if (connected) closedByNode++;
      // Reopen at once after a close; after a failed connect, a short pause.
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          open();
        },
        connected ? 0 : RETRY_PAUSE_MS,
      );
      timers.add(timer);
    });
    sockets.add(socket);
  };
  for (let i = 0; i < count; i++) open();
  return {
    get open() {
      let count = 0;
      for (const socket of sockets) if (!socket.connecting && !socket.destroyed) count++;
      return count;
    },
    get closedByNode() {
      return closedByNode;
    },
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
  };
}

/** The admin RPC prober's results. */
interface RpcStats {
  /** Latency of every call made, a timed-out one counted as RPC_TIMEOUT_MS. */
  latenciesMs: number[];
  timeouts: number;
  /** Calls that failed otherwise (connection error, HTTP error, JSON-RPC error), with a sample of the errors. */
  failures: number;
  errors: Map<string, number>;
  /** The peer count each answered admin_peers reported. */
  peerCounts: number[];
}

/** Adds one call's outcome to `stats`. */
function record(stats: RpcStats, outcome: RpcOutcome): void {
  if ('ms' in outcome) {
    stats.latenciesMs.push(outcome.ms);
    stats.peerCounts.push(outcome.peers);
  } else if ('timeout' in outcome) {
    stats.timeouts++;
    stats.latenciesMs.push(RPC_TIMEOUT_MS);
  } else {
    stats.failures++;
    stats.errors.set(outcome.error, (stats.errors.get(outcome.error) ?? 0) + 1);
  }
}

/** How this runtime runs a TypeScript file of the bench (no workspace imports), as run.mjs runs the benches. */
function benchCommand(file: string): [string, string[]] {
  if (runtime === 'deno') return [process.execPath, ['run', '-A', file]];
  if (runtime === 'bun') return [process.execPath, [file]];
  return [process.execPath, ['--import', 'tsx', file]];
}

/**
 * The RPC prober: a child process on this runtime (lib/rpc-prober.ts) calling admin_peers every RPC_INTERVAL_MS, so
 * that the calls wait for the node, not for this process's flooders; `stop()` resolves once its last call settled.
 */
function startProber(url: string, stats: RpcStats): { stop(): Promise<void> } {
  const [cmd, args] = benchCommand(PROBER);
  const child = spawn(cmd, [...args, url, String(RPC_INTERVAL_MS)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) record(stats, JSON.parse(line) as RpcOutcome);
  });
  return {
    async stop() {
      child.stdin!.end();
      await Promise.race([exited, sleep(RPC_TIMEOUT_MS + STOP_GRACE_MS)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Waits `settleSeconds` after the attack; returns the RSS read EARLY_AFTER_SECONDS in (undefined when the settle is
 * shorter).
 */
async function rssAfter(pid: number, settleSeconds: number): Promise<number | undefined> {
  if (settleSeconds <= EARLY_AFTER_SECONDS) {
    await sleep(settleSeconds * 1000);
    return undefined;
  }
  await sleep(EARLY_AFTER_SECONDS * 1000);
  const early = statusMiB(pid, 'VmRSS');
  await sleep((settleSeconds - EARLY_AFTER_SECONDS) * 1000);
  return early;
}

/** The floor run's figures (MiB, and bytes answered). */
interface FloorFigures {
  baselineRss: number;
  peakRss: number;
  earlyRss: number | undefined;
  afterRss: number;
  answeredBytes: number;
}

/**
 * The same attack, for as long, against lib/floor-server.mjs on this runtime instead of the node: FLOODERS plain
 * sockets writing Ping-sized units back to back as fast as the socket takes them and never reading, each reopened
 * when the server closes it, and the silent sockets. What RSS does there is the runtime's share of the node's
 * figures: no devp2p code runs.
 */
async function runFloor(
  seconds: number,
  settleSeconds: number,
  attack: { flood: boolean; silent: boolean },
): Promise<FloorFigures> {
  // Plain JavaScript: Node runs it without the TypeScript loader, whose own memory would count in the floor.
  const [cmd, args] =
    runtime === 'deno' ? [process.execPath, ['run', '-A', FLOOR_SERVER]] : [process.execPath, [FLOOR_SERVER]];
  const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /floor-port (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error(`the floor server exited before listening: ${output}`)));
  });
  const pid = child.pid!;
  try {
    await sleep(BASELINE_SETTLE_MS);
    const baselineRss = statusMiB(pid, 'VmRSS');
    progress(
      `floor: the same attack on a plain node:net server (pid ${pid}), baseline RSS ${baselineRss.toFixed(1)} MiB`,
    );
    const stop = new AbortController();
    const open = new Set<Socket>();
    const flood = (): void => {
      if (stop.signal.aborted) return;
      const socket = connect({ host: HOST, port });
      open.add(socket);
      socket.pause();
      socket.on('error', () => undefined);
      const write = (): void => {
        while (!stop.signal.aborted && socket.write(FLOOR_WRITE));
      };
      socket.on('connect', write);
      socket.on('drain', () => setImmediate(write));
      socket.once('close', () => {
        open.delete(socket);
        if (!stop.signal.aborted) setTimeout(flood, RETRY_PAUSE_MS);
      });
    };
    for (let i = 0; i < (attack.flood ? FLOODERS : 0); i++) flood();
    const silent = silentSockets(port, attack.silent ? SILENT_SOCKETS : 0);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(statusMiB(pid, 'VmRSS')), SAMPLE_MS);
    await sleep(seconds * 1000);
    stop.abort();
    clearInterval(sampler);
    silent.stop();
    for (const socket of open) socket.destroy();
    const earlyRss = await rssAfter(pid, settleSeconds);
    const afterRss = statusMiB(pid, 'VmRSS');
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(STOP_GRACE_MS)]);
    const answered = /floor-answered (\d+)/.exec(output);
    return {
      baselineRss,
      peakRss: Math.max(baselineRss, ...samples),
      earlyRss,
      afterRss,
      answeredBytes: answered ? Number(answered[1]) : 0,
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}

function formatTally(tally: Map<string, number>): string {
  return [...tally]
    .sort((a, b) => b[1] - a[1])
    .map(([what, n]) => `${n}× ${what}`)
    .join('; ');
}

async function* soak(): AsyncGenerator<BenchRow> {
  if (process.platform !== 'linux') throw new Error('the soak bench reads /proc: Linux only');
  const soakSeconds = envNumber('SOAK_SECONDS', 60);
  const settleSeconds = envNumber('SOAK_SETTLE_SECONDS', 30);
  const attackName = process.env.SOAK_ATTACK || 'all';
  if (!['all', 'flood', 'silent'].includes(attackName)) {
    throw new Error(`SOAK_ATTACK: expected all, flood or silent, got ${attackName}`);
  }
  const attack = { flood: attackName !== 'silent', silent: attackName !== 'flood' };
  const datadir = mkdtempSync(join(tmpdir(), 'devp2p-soak-'));
  let node: NodeProcess | undefined;
  try {
    const nodeRuntime = (process.env.SOAK_NODE_RUNTIME || runtime) as Runtime;
    if (!['node', 'bun', 'deno'].includes(nodeRuntime)) {
      throw new Error(`SOAK_NODE_RUNTIME: expected node, bun or deno, got ${nodeRuntime}`);
    }
    // On Node the node runs its built dist/, as the published CLI does (see NodeCode): through tsx its heap also
    // holds the loader and every module's source map, which sets how far V8 lets the heap grow.
    const from: NodeCode = nodeRuntime === 'node' ? 'dist' : 'source';
    if (from === 'dist') assertDistFresh();
    node = await startNode(datadir, process.env.SOAK_NODE_LOG || undefined, nodeRuntime, [], from);
    const n = node;
    progress(`node pid ${n.pid}: p2p 127.0.0.1:${n.p2pPort}, rpc ${n.rpcUrl}`);
    // The endpoint answers before the baseline is taken, so the baseline includes a served request.
    const warmup: RpcStats = { latenciesMs: [], timeouts: 0, failures: 0, errors: new Map(), peerCounts: [] };
    record(warmup, await callAdminPeers(n.rpcUrl));
    if (warmup.latenciesMs.length === 0) throw new Error(`admin RPC does not answer: ${formatTally(warmup.errors)}`);
    await sleep(BASELINE_SETTLE_MS);
    const baselineRss = statusMiB(n.pid, 'VmRSS');
    const baselineMemory = n.memory.latest;
    const ports = [n.p2pPort, n.rpcPort];
    const baselineFds = openFds(n.pid, ports);
    progress(
      `baseline: RSS ${baselineRss.toFixed(1)} MiB, ${baselineFds.total} fds (P2P connections ` +
        `${baselineFds.connections[0]}, RPC connections ${baselineFds.connections[1]}); attacking for ${soakSeconds} s`,
    );

    // The attack: flooders, silent sockets, and meanwhile the samplers and the RPC prober.
    const stop = new AbortController();
    const flood: FloodStats = {
      connected: 0,
      failedAttempts: 0,
      errors: new Map(),
      dropped: 0,
      lifetimesMs: [],
      pings: 0,
    };
    const rpc: RpcStats = { latenciesMs: [], timeouts: 0, failures: 0, errors: new Map(), peerCounts: [] };
    const rssSamples: number[] = [];
    const silentSamples: number[] = [];
    const lagMs: number[] = [];
    const nodeCpuStart = cpuSeconds(n.pid);
    const benchCpuStart = process.cpuUsage();
    const attackStart = performance.now();
    n.lags.recording = true;

    const liveFloods = new Set<RLPxConnection>();
    const flooders = Array.from({ length: attack.flood ? FLOODERS : 0 }, () =>
      flooder(n, flood, liveFloods, stop.signal),
    );
    const silent = silentSockets(n.p2pPort, attack.silent ? SILENT_SOCKETS : 0);
    const sampler = setInterval(() => {
      rssSamples.push(statusMiB(n.pid, 'VmRSS'));
      silentSamples.push(silent.open);
    }, SAMPLE_MS);
    const prober = startProber(n.rpcUrl, rpc);
    let lagTimer: ReturnType<typeof setTimeout> | undefined;
    const lagTick = (expected: number): void => {
      lagTimer = setTimeout(() => {
        const now = performance.now();
        lagMs.push(Math.max(0, now - expected));
        lagTick(now + LAG_TICK_MS);
      }, LAG_TICK_MS);
    };
    lagTick(performance.now() + LAG_TICK_MS);
    const reporter = setInterval(() => {
      progress(
        `${Math.round((performance.now() - attackStart) / 1000)} s: RSS ${rssSamples.at(-1)?.toFixed(1)} MiB, ` +
          `${liveFloods.size} flooding, ${silent.open} silent, ${rpc.latenciesMs.length} RPC calls`,
      );
    }, 10_000);

    try {
      await Promise.race([sleep(soakSeconds * 1000), n.exited]);
    } finally {
      stop.abort();
      clearInterval(sampler);
      clearInterval(reporter);
      clearTimeout(lagTimer);
      silent.stop();
      for (const conn of liveFloods) conn.close();
    }
    const attackMs = performance.now() - attackStart;
    n.lags.recording = false;
    const nodeCpu = cpuSeconds(n.pid) - nodeCpuStart;
    const benchCpuUsage = process.cpuUsage(benchCpuStart);
    await Promise.all(flooders);
    await prober.stop();
    if (n.child.exitCode !== null || n.child.signalCode !== null) {
      throw new Error(`the node exited during the attack:\n${n.tail()}`);
    }

    progress(`attack over; settling for ${settleSeconds} s`);
    const earlyRss = await rssAfter(n.pid, settleSeconds);
    const afterRss = statusMiB(n.pid, 'VmRSS');
    const afterFds = openFds(n.pid, ports);
    const hwm = statusMiB(n.pid, 'VmHWM');
    progress(
      `after: RSS ${afterRss.toFixed(1)} MiB (VmHWM ${hwm.toFixed(1)} MiB), ${afterFds.total} fds (P2P connections ` +
        `${afterFds.connections[0]}, RPC connections ${afterFds.connections[1]})`,
    );
    const afterMemory = n.memory.latest;
    const collected = await n.collect();
    if (collected) {
      progress(
        `after a forced collection (${collected.forced ? 'forced' : 'not available'}): RSS ${mib(collected.rss)} MiB, ` +
          `heap used ${mib(collected.heapUsed)} MiB of ${mib(collected.heapTotal)}, external ${mib(collected.external)} MiB`,
      );
    }
    progress(`node's peer disconnects: ${formatTally(n.disconnects) || 'none'}`);
    progress(`flood errors: ${formatTally(flood.errors) || 'none'}; ${flood.pings} Pings sent`);
    if (rpc.errors.size > 0) progress(`RPC failures: ${formatTally(rpc.errors)}`);
    const stopped = await stopNode(n);
    node = undefined;

    const peakRss = rssSamples.length > 0 ? Math.max(...rssSamples) : null;
    const duration = `${soakSeconds} s attack, ${settleSeconds} s settle`;
    const floor = process.env.SOAK_FLOOR === '0' ? undefined : await runFloor(soakSeconds, settleSeconds, attack);
    const p50 = percentile(rpc.latenciesMs, 0.5);
    const p99 = percentile(rpc.latenciesMs, 0.99);
    const medianLifetime = percentile(flood.lifetimesMs, 0.5);
    yield { name: 'RSS baseline', unit: 'MiB', value: baselineRss, note: duration };
    yield { name: 'RSS peak during', unit: 'MiB', value: peakRss };
    yield {
      name: 'RSS growth (peak − baseline)',
      unit: 'MiB',
      value: peakRss === null ? null : peakRss - baselineRss,
      target: RSS_GROWTH_TARGET_MIB,
      lowerIsBetter: true,
    };
    yield {
      name: `RSS ${EARLY_AFTER_SECONDS} s after vs baseline`,
      unit: '%',
      value: earlyRss === undefined ? null : ((earlyRss - baselineRss) / baselineRss) * 100,
      note:
        earlyRss === undefined ? `the settle is shorter than ${EARLY_AFTER_SECONDS} s` : `${mib(earlyRss * MiB)} MiB`,
    };
    yield { name: `RSS after (${settleSeconds} s)`, unit: 'MiB', value: afterRss };
    yield {
      name: `RSS after (${settleSeconds} s) vs baseline`,
      unit: '%',
      value: ((afterRss - baselineRss) / baselineRss) * 100,
      target: RSS_AFTER_TARGET_PERCENT,
      lowerIsBetter: true,
    };
    if (floor) {
      yield {
        name: 'floor: RSS growth (peak − baseline)',
        unit: 'MiB',
        value: floor.peakRss - floor.baselineRss,
        note: `baseline ${mib(floor.baselineRss * MiB)} MiB; ${mib(floor.answeredBytes)} MiB answered, ours ${mib(flood.pings * PING_FRAME_BYTES)} MiB of Pings sent`,
      };
      yield {
        name: `floor: RSS ${EARLY_AFTER_SECONDS} s after vs baseline`,
        unit: '%',
        value: floor.earlyRss === undefined ? null : ((floor.earlyRss - floor.baselineRss) / floor.baselineRss) * 100,
      };
      yield {
        name: `floor: RSS after (${settleSeconds} s) vs baseline`,
        unit: '%',
        value: ((floor.afterRss - floor.baselineRss) / floor.baselineRss) * 100,
      };
    }
    // Where the memory is, from the node's own probe (process.memoryUsage()): the JS heap, what it has committed, and
    // external memory (array buffers and other native allocations the engine knows of). RSS stays the target.
    yield {
      name: 'JS heap used peak',
      unit: 'MiB',
      value: n.memory.peakHeapUsed / MiB,
      note: `baseline ${mib(baselineMemory?.heapUsed)} MiB; sampled every 250 ms${LIVE_NOTE}`,
    };
    yield { name: 'JS heap used after', unit: 'MiB', value: afterMemory ? afterMemory.heapUsed / MiB : null };
    yield {
      name: 'JS heap committed after (heapTotal)',
      unit: 'MiB',
      value: afterMemory ? afterMemory.heapTotal / MiB : null,
      note: `baseline ${mib(baselineMemory?.heapTotal)} MiB`,
    };
    yield {
      name: 'external peak',
      unit: 'MiB',
      value: n.memory.peakExternal / MiB,
      note: `baseline ${mib(baselineMemory?.external)} MiB${LIVE_NOTE}`,
    };
    yield { name: 'external after', unit: 'MiB', value: afterMemory ? afterMemory.external / MiB : null };
    yield {
      name: 'RSS after a forced full GC',
      unit: 'MiB',
      value: collected?.forced ? collected.rss / MiB : null,
      note: collected?.forced ? undefined : 'the runtime cannot force a collection',
    };
    yield {
      name: '… JS heap used / committed after it',
      unit: 'MiB',
      value: collected?.forced ? collected.heapUsed / MiB : null,
      note: collected?.forced ? `committed ${mib(collected.heapTotal)} MiB` : undefined,
    };
    yield { name: 'open fds baseline', unit: 'count', value: baselineFds.total };
    yield { name: 'open fds after', unit: 'count', value: afterFds.total };
    yield { name: '… P2P connections after', unit: 'count', value: afterFds.connections[0]! };
    yield { name: '… RPC connections after', unit: 'count', value: afterFds.connections[1]! };
    yield {
      name: 'admin RPC p50',
      unit: 'ms',
      value: p50 ?? null,
      note: p50 === undefined ? 'no call answered' : undefined,
    };
    yield {
      name: 'admin RPC p99',
      unit: 'ms',
      value: p99 ?? null,
      target: RPC_P99_TARGET_MS,
      lowerIsBetter: true,
      note: p99 === undefined ? 'no call answered' : undefined,
    };
    yield { name: 'admin RPC max', unit: 'ms', value: percentile(rpc.latenciesMs, 1) ?? null };
    yield { name: 'admin RPC calls', unit: 'count', value: rpc.latenciesMs.length + rpc.failures };
    yield { name: 'admin RPC timeouts (> 5 s)', unit: 'count', value: rpc.timeouts };
    yield { name: 'admin RPC failures', unit: 'count', value: rpc.failures };
    yield { name: 'peers during (admin_peers, median)', unit: 'count', value: percentile(rpc.peerCounts, 0.5) ?? null };
    yield { name: 'flood connections made', unit: 'count', value: flood.connected };
    yield { name: 'flood connections dropped by the node', unit: 'count', value: flood.dropped };
    yield {
      name: 'flood connection lifetime (median)',
      unit: 'ms',
      value: medianLifetime ?? null,
      note: medianLifetime === undefined ? 'no flood connection was dropped during the attack' : undefined,
    };
    yield { name: 'flood attempts failed', unit: 'count', value: flood.failedAttempts };
    yield { name: 'silent sockets open (mean)', unit: 'count', value: mean(silentSamples) ?? null };
    yield { name: 'silent sockets closed by the node', unit: 'count', value: silent.closedByNode };
    yield { name: 'CPU during: node under test (of one core)', unit: '%', value: (nodeCpu / (attackMs / 1000)) * 100 };
    yield {
      name: 'CPU during: bench, the attacker (of one core)',
      unit: '%',
      value: ((benchCpuUsage.user + benchCpuUsage.system) / 1e6 / (attackMs / 1000)) * 100,
    };
    yield {
      name: 'node event-loop lag p99 / max',
      unit: 'ms',
      value: percentile(n.lags.values, 0.99) ?? null,
      note: `max ${percentile(n.lags.values, 1) ?? '?'} ms`,
    };
    yield { name: 'bench event-loop lag p99', unit: 'ms', value: percentile(lagMs, 0.99) ?? null };
    yield {
      name: 'node stop after SIGTERM',
      unit: 'ms',
      value: stopped.ms,
      note: stopped.killed ? `not stopped within ${STOP_GRACE_MS / 1000} s: killed` : undefined,
    };
  } finally {
    if (node) await stopNode(node);
    rmSync(datadir, { recursive: true, force: true });
  }
}

await runBench('soak', soak);
