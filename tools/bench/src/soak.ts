// Soak: the real `devp2p node` (the CLI from source, a child process on this bench's runtime) under ten peers that
// flood base-protocol Pings and never read, plus 300 silent sockets, for SOAK_SECONDS (60), while the admin JSON-RPC
// is called every 100 ms from a process of its own. Reports the node's peak RSS, its RSS and open file descriptors
// once the attack is over, where its memory is (JS heap, external, after a forced collection) and the RPC latency
// during the attack. Everything is on 127.0.0.1; Linux only (/proc). See README.md (soak). Run through run.mjs, or
// alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/soak.ts
// Environment: SOAK_SECONDS=60 (the attack's length), SOAK_SETTLE_SECONDS=5 (the pause before the "after" figures),
// SOAK_NODE_LOG=<file> (append everything the node prints to that file), SOAK_ATTACK=all|flood|silent (one half of
// the attack alone), SOAK_NODE_RUNTIME=node|bun|deno (run the node on another runtime than the attacker's).
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { hexToBytes } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { ping } from '@devp2p/plugin-ping';
import { RLPxConnection } from '@devp2p/rlpx';
import { BaseMessageCode, exchangeHello, P2P_VERSION, SNAPPY_MIN_VERSION } from '@devp2p/server';
import { repoRoot, runtime } from '@devp2p/test-utils';
import { tcpTransport } from '@devp2p/transport-node';
import { type BenchRow, runBench } from './lib/harness.ts';
import { HOST } from './lib/loopback.ts';
import { callAdminPeers, RPC_TIMEOUT_MS, type RpcOutcome } from './lib/rpc-probe.ts';

/**
 * The node's entry point: the CLI from source (as the CLI's own process tests run it) behind a memory probe that
 * reports `process.memoryUsage()` and forces a full collection on SIGUSR2 (lib/soak-node.ts).
 */
const NODE_ENTRY = join(repoRoot, 'tools', 'bench', 'src', 'lib', 'soak-node.ts');
/** How long the node has to answer SIGUSR2 (a forced collection) with its probe line. */
const GC_PROBE_TIMEOUT_MS = 5_000;

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

/** The node's start-up deadline, and the pause between its start and the baseline figures. */
const START_TIMEOUT_MS = 30_000;
const BASELINE_SETTLE_MS = 3_000;
/** After SIGTERM, the node has this long to stop before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Lines of the node's log kept for an error message. */
const LOG_TAIL_LINES = 40;

/** Targets (issue 13): RSS growth under the attack, RSS once it is over, admin RPC latency during it. */
const RSS_GROWTH_TARGET_MIB = 64;
const RSS_AFTER_TARGET_PERCENT = 10;
const RPC_P99_TARGET_MS = 100;

/** The peer address errors end with, left out when errors are tallied by kind. */
const REMOTE_SUFFIX = / \(remote [^)]*\)/g;

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks per second. */
const CLOCK_TICKS_PER_SECOND = 100;

function envSeconds(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a positive number, got ${raw}`);
  return value;
}

function progress(text: string): void {
  process.stderr.write(`    ${text}\n`);
}

/** A timer-backed sleep that a stop can cut short, so no timer outlives the bench. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), as MiB. */
function statusMiB(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) / 1024;
}

/** TCP state 0A in /proc/net/tcp: a listening socket. */
const TCP_LISTEN = '0A';

/**
 * Open file descriptors of a process (the entries of /proc/<pid>/fd), and how many of them are TCP connections (not
 * listeners) on each of `ports`, found by matching the fds' socket inodes with /proc/<pid>/net/tcp and tcp6.
 */
function openFds(pid: number, ports: readonly number[]): { total: number; connections: number[] } {
  const inodes = new Set<string>();
  const fds = readdirSync(`/proc/${pid}/fd`);
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed between readdir and readlink
    }
  }
  const connections = ports.map(() => 0);
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] === TCP_LISTEN || !inodes.has(fields[9]!)) continue;
      const port = Number.parseInt(fields[1]!.split(':')[1]!, 16);
      const index = ports.indexOf(port);
      if (index >= 0) connections[index]!++;
    }
  }
  return { total: fds.length, connections };
}

/** CPU seconds (user + system, all threads) a process has used: utime and stime of /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** The nearest-rank percentile `q` (0..1) of `values`; undefined when there are none. */
function percentile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const MiB = 1024 * 1024;

/** Bytes as MiB with one decimal, for progress lines and notes. */
function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / MiB).toFixed(1);
}

function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The node under test: its process, what it logged, and where it listens. */
interface NodeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Its static public key (64 bytes), from the enode it logged. */
  readonly publicKey: Uint8Array;
  readonly p2pPort: number;
  readonly rpcUrl: string;
  readonly rpcPort: number;
  readonly exited: Promise<void>;
  /** The last lines it logged. */
  tail(): string;
  /** `peer disconnected` lines logged so far, by their reason and cause. */
  readonly disconnects: Map<string, number>;
  /** The probe's latest `process.memoryUsage()` (bytes), and the highest heapUsed and external seen. */
  readonly memory: { latest: MemoryUsage | undefined; peakHeapUsed: number; peakExternal: number };
  /** The node's own event-loop lag: how late each of the probe's 20 ms timer ticks fired (ms), once recording. */
  readonly lags: { recording: boolean; values: number[] };
  /** Forces a full collection in the node (SIGUSR2) and resolves with its memory afterwards. */
  collect(): Promise<(MemoryUsage & { forced: boolean }) | undefined>;
}

/** What the node's probe reports (bytes). */
interface MemoryUsage {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

type Runtime = 'node' | 'bun' | 'deno';

/**
 * How the node is run on `nodeRuntime`, from source, with a full collection allowed (Bun has Bun.gc; Node and Deno
 * need V8's --expose-gc). On the bench's own runtime, its own executable; otherwise the workspace's.
 */
function nodeCommand(nodeRuntime: Runtime): [string, string[]] {
  const own = nodeRuntime === runtime;
  const source = ['--conditions', 'devp2p-source'];
  switch (nodeRuntime) {
    case 'deno':
      return [
        own ? process.execPath : join(repoRoot, 'node_modules', '.bin', 'deno'),
        ['run', '-A', '--v8-flags=--expose-gc', ...source, NODE_ENTRY],
      ];
    case 'bun':
      return [own ? process.execPath : join(repoRoot, 'node_modules', '.bin', 'bun'), [...source, NODE_ENTRY]];
    default:
      return [own ? process.execPath : 'node', ['--expose-gc', '--import', 'tsx', ...source, NODE_ENTRY]];
  }
}

/**
 * Starts `devp2p node` on this runtime, from source, with a fresh data directory, discovery off, the P2P port and
 * the admin RPC on free ports, and only loopback peers allowed; resolves once it logged its enode and RPC endpoint.
 */
async function startNode(datadir: string, logFile: string | undefined, nodeRuntime: Runtime): Promise<NodeProcess> {
  const [cmd, runArgs] = nodeCommand(nodeRuntime);
  const args = [
    ...runArgs,
    'node',
    '--datadir',
    datadir,
    '--port',
    '0',
    '--nodiscover',
    '--nat',
    'none',
    '--netrestrict',
    '127.0.0.0/8',
    '--http',
    '--http.addr',
    HOST,
    '--http.port',
    '0',
  ];
  const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  // 'error' without 'exit' when the runtime cannot be spawned at all.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const lines: string[] = [];
  const disconnects = new Map<string, number>();
  const memory: NodeProcess['memory'] = { latest: undefined, peakHeapUsed: 0, peakExternal: 0 };
  const lags: NodeProcess['lags'] = { recording: false, values: [] };
  let onCollected: ((usage: MemoryUsage & { forced: boolean }) => void) | undefined;
  let partial = '';
  let startup = '';
  const onData = (chunk: Buffer): void => {
    if (logFile) appendFileSync(logFile, chunk);
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      if (line.startsWith('soak-probe')) {
        const usage = JSON.parse(line.slice(line.indexOf('{'))) as MemoryUsage & { forced: boolean; lags?: number[] };
        if (lags.recording && usage.lags) lags.values.push(...usage.lags);
        if (line.startsWith('soak-probe-gc ')) onCollected?.(usage);
        memory.latest = usage;
        memory.peakHeapUsed = Math.max(memory.peakHeapUsed, usage.heapUsed);
        memory.peakExternal = Math.max(memory.peakExternal, usage.external);
        continue;
      }
      if (startup.length < 64 * 1024) startup += `${line}\n`;
      lines.push(line);
      if (lines.length > LOG_TAIL_LINES) lines.shift();
      const removed = /peer disconnected .*?reason=("(?:[^"\\]|\\.)*"|\S+)(?: cause=("(?:[^"\\]|\\.)*"|\S+))?/.exec(
        line,
      );
      if (removed) {
        const key = `${removed[1]}${removed[2] ? ` (${removed[2]})` : ''}`.replace(REMOTE_SUFFIX, '');
        disconnects.set(key, (disconnects.get(key) ?? 0) + 1);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const tail = (): string => [...lines, partial].join('\n');
  try {
    const { enode, rpc } = await new Promise<{ enode: RegExpExecArray; rpc: RegExpExecArray }>((resolve, reject) => {
      const deadline = performance.now() + START_TIMEOUT_MS;
      const timer = setInterval(() => {
        const enode = /Started P2P networking self="?enode:\/\/([0-9a-f]{128})@[^:]+:(\d+)/.exec(startup);
        const rpc = /HTTP server started endpoint="?([\d.]+:\d+)/.exec(startup);
        if (enode && rpc) {
          clearInterval(timer);
          resolve({ enode, rpc });
        } else if (performance.now() > deadline) {
          clearInterval(timer);
          reject(new Error(`the node did not start within ${START_TIMEOUT_MS / 1000} s:\n${tail()}`));
        }
      }, 20);
      void exited.then(() => {
        clearInterval(timer);
        reject(new Error(`the node exited before starting:\n${tail()}`));
      });
    });
    return {
      child,
      pid: child.pid!,
      publicKey: hexToBytes(enode[1]!),
      p2pPort: Number(enode[2]),
      rpcUrl: `http://${rpc[1]}`,
      rpcPort: Number(rpc[1]!.split(':')[1]),
      exited,
      tail,
      disconnects,
      memory,
      lags,
      collect: () =>
        new Promise((resolve) => {
          const timer = setTimeout(() => {
            onCollected = undefined;
            resolve(undefined);
          }, GC_PROBE_TIMEOUT_MS);
          onCollected = (usage) => {
            clearTimeout(timer);
            onCollected = undefined;
            resolve(usage);
          };
          // process.kill, not child.kill: Deno's ChildProcess records any signal it sends as the one that ended it.
          process.kill(child.pid!, 'SIGUSR2');
        }),
    };
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
}

/** SIGTERM, then SIGKILL after STOP_GRACE_MS; resolves with the time it took and whether SIGKILL was needed. */
async function stopNode(node: NodeProcess): Promise<{ ms: number; killed: boolean }> {
  const started = performance.now();
  if (node.child.exitCode !== null || node.child.signalCode !== null) return { ms: 0, killed: false };
  node.child.kill('SIGTERM');
  const grace = new AbortController();
  const stopped = await Promise.race([
    node.exited.then(() => true),
    sleep(STOP_GRACE_MS, grace.signal).then(() => false),
  ]);
  grace.abort();
  if (!stopped) {
    node.child.kill('SIGKILL');
    await node.exited;
  }
  return { ms: performance.now() - started, killed: !stopped };
}

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
    const key = generatePrivateKey();
    let conn: RLPxConnection | undefined;
    try {
      const stream = await tcpTransport.dial(HOST, node.p2pPort, { timeoutMs: 5_000 });
      conn = new RLPxConnection(stream, {
        privateKey: key,
        remotePublicKey: node.publicKey,
        handshakeTimeoutMs: FLOOD_HANDSHAKE_TIMEOUT_MS,
        writeTimeoutMs: FLOOD_WRITE_TIMEOUT_MS,
      });
      live.add(conn);
      if (stop.aborted) throw new Error('the attack is over');
      await conn.handshake();
      const hello = await exchangeHello(
        conn,
        {
          version: P2P_VERSION,
          clientName: 'soak-flood',
          caps: [ping.cap],
          listenPort: 0,
          nodeId: publicKeyFromPrivate(key),
        },
        { timeoutMs: FLOOD_HANDSHAKE_TIMEOUT_MS },
      );
      conn.setSnappy(hello.version >= SNAPPY_MIN_VERSION);
    } catch (error) {
      conn?.close();
      if (conn) live.delete(conn);
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

/** The silent sockets: SILENT_SOCKETS of them open, each reopened when the node closes it, until stop(). */
function silentSockets(
  node: NodeProcess,
  count: number,
): { readonly open: number; readonly closedByNode: number; stop(): void } {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let stopped = false;
  let closedByNode = 0;
  const open = (): void => {
    if (stopped) return;
    const socket = connect({ host: HOST, port: node.p2pPort });
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

function formatTally(tally: Map<string, number>): string {
  return [...tally]
    .sort((a, b) => b[1] - a[1])
    .map(([what, n]) => `${n}× ${what}`)
    .join('; ');
}

async function* soak(): AsyncGenerator<BenchRow> {
  if (process.platform !== 'linux') throw new Error('the soak bench reads /proc: Linux only');
  const soakSeconds = envSeconds('SOAK_SECONDS', 60);
  const settleSeconds = envSeconds('SOAK_SETTLE_SECONDS', 5);
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
    node = await startNode(datadir, process.env.SOAK_NODE_LOG || undefined, nodeRuntime);
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
    const silent = silentSockets(n, attack.silent ? SILENT_SOCKETS : 0);
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
    await sleep(settleSeconds * 1000);
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
    yield { name: 'RSS after', unit: 'MiB', value: afterRss };
    yield {
      name: 'RSS after vs baseline',
      unit: '%',
      value: ((afterRss - baselineRss) / baselineRss) * 100,
      target: RSS_AFTER_TARGET_PERCENT,
      lowerIsBetter: true,
    };
    // Where the memory is, from the node's own probe (process.memoryUsage()): the JS heap, what it has committed, and
    // external memory (array buffers and other native allocations the engine knows of). RSS stays the target.
    yield {
      name: 'JS heap used peak',
      unit: 'MiB',
      value: n.memory.peakHeapUsed / MiB,
      note: `baseline ${mib(baselineMemory?.heapUsed)} MiB; sampled every 250 ms`,
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
      note: `baseline ${mib(baselineMemory?.external)} MiB`,
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
