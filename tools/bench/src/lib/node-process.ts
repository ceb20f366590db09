// The real `devp2p node` as a child process for the benches that measure a whole node (soak, idle-peers): started
// from source on a chosen runtime behind the memory probe (soak-node.ts), with discovery off, free ports and only
// loopback peers allowed; and what /proc says about it (RSS, CPU time, open descriptors). Linux only.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { hexToBytes } from '@devp2p/core';
import { repoRoot, runtime } from '@devp2p/test-utils';
import { HOST } from './loopback.ts';

/**
 * The node's entry point: the CLI behind a memory probe that reports `process.memoryUsage()` and forces a full
 * collection on SIGUSR2 (lib/node-probe.mjs).
 */
const NODE_ENTRY = join(repoRoot, 'tools', 'bench', 'src', 'lib', 'node-probe.mjs');
/** How long the node has to answer SIGUSR2 (a forced collection) with its probe line. */
const GC_PROBE_TIMEOUT_MS = 5_000;

/** The node's start-up deadline, and the pause between its start and the baseline figures. */
const START_TIMEOUT_MS = 30_000;
export const BASELINE_SETTLE_MS = 3_000;
/** After SIGTERM, the node has this long to stop before SIGKILL. */
export const STOP_GRACE_MS = 5_000;
/** Lines of the node's log kept for an error message. */
const LOG_TAIL_LINES = 40;

/** The peer address errors end with, left out when errors are tallied by kind. */
export const REMOTE_SUFFIX: RegExp = / \(remote [^)]*\)/g;

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks per second. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A timer-backed sleep that a stop can cut short, so no timer outlives the bench. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
export function statusMiB(pid: number, field: string): number {
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
export function openFds(pid: number, ports: readonly number[]): { total: number; connections: number[] } {
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
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** The nearest-rank percentile `q` (0..1) of `values`; undefined when there are none. */
export function percentile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const MiB: number = 1024 * 1024;

/** Bytes as MiB with one decimal, for progress lines and notes. */
export function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / MiB).toFixed(1);
}

export function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The node under test: its process, what it logged, and where it listens. */
export interface NodeProcess {
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
export interface MemoryUsage {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export type Runtime = 'node' | 'bun' | 'deno';

/**
 * How the node is run on `nodeRuntime`, from source, with a full collection allowed (Bun has Bun.gc; Node and Deno
 * need V8's --expose-gc). On the bench's own runtime, its own executable; otherwise the workspace's.
 */
function nodeCommand(nodeRuntime: Runtime, from: NodeCode): [string, string[]] {
  const own = nodeRuntime === runtime;
  const source = ['--conditions', 'devp2p-source'];
  if (nodeRuntime === 'node' && from === 'dist') return [own ? process.execPath : 'node', ['--expose-gc', NODE_ENTRY]];
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
 * Where the node's code comes from on Node: the TypeScript sources through tsx (as the CLI's process tests run it),
 * or the packages' built dist/. tsx compiles with esbuild's keepNames, which gives every function an own `name`
 * property (a dictionary of about 250 bytes each, about 4 KiB per connected peer), so memory per peer is measured on
 * dist/. Bun and Deno run the sources as they are.
 */
export type NodeCode = 'source' | 'dist';

/**
 * Throws unless every package's dist/ is at least as new as its src/: a node run from dist/ must run the code
 * measured. `npm run build` (or `npm run bench`, which builds first) makes it so.
 */
export function assertDistFresh(): void {
  const newest = (dir: string): number => {
    let latest = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
    return latest;
  };
  for (const group of ['packages', 'plugins']) {
    for (const name of readdirSync(join(repoRoot, group))) {
      const dir = join(repoRoot, group, name);
      const src = newest(join(dir, 'src'));
      let dist = 0;
      try {
        dist = newest(join(dir, 'dist'));
      } catch {
        // no dist/ at all
      }
      if (dist < src) throw new Error(`${group}/${name}/dist is older than its src/: run npm run build first`);
    }
  }
}

/**
 * Starts `devp2p node` on this runtime (on Node from `from`, by default its sources), with a fresh data directory, discovery off, the P2P port and
 * the admin RPC on free ports, and only loopback peers allowed; resolves once it logged its enode and RPC endpoint.
 */
export async function startNode(
  datadir: string,
  logFile: string | undefined,
  nodeRuntime: Runtime,
  extraArgs: readonly string[] = [],
  from: NodeCode = 'source',
): Promise<NodeProcess> {
  const [cmd, runArgs] = nodeCommand(nodeRuntime, from);
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
    ...extraArgs,
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
export async function stopNode(node: NodeProcess): Promise<{ ms: number; killed: boolean }> {
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
