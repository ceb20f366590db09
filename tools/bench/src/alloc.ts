// Alloc: what a node allocates on its JavaScript heap per message, measured with V8's sampling heap profiler
// (node:inspector) counting the objects later collected too: the garbage a flood of small messages makes, which sets
// how far the collector lets the heap grow (see soak). A node (createNode with png/1, on 127.0.0.1) answers Pings
// from a peer in a process of its own (lib/ping-flooder.ts); after WARMUP_PINGS, the profile covers PINGS more.
// Node and Deno (Bun has no heap profiler behind node:inspector). Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/alloc.ts
// Environment: ALLOC_PINGS=100000.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import process from 'node:process';
import { createNode } from '@devp2p/node';
import { ping } from '@devp2p/plugin-ping';
import { repoRoot, runtime } from '@devp2p/test-utils';
import { type BenchRow, envNumber, progress, runBench } from './lib/harness.ts';

/** Pings answered before profiling, so that the JIT has settled and the connection's buffers exist. */
const WARMUP_PINGS = 20_000;
/** The profiler takes a sample every this many bytes on average: fine enough for per-message figures. */
const SAMPLING_INTERVAL_BYTES = 256;
/** Allocation sites printed to stderr. */
const TOP_SITES = 8;
const FLOODER = join(repoRoot, 'tools', 'bench', 'src', 'lib', 'ping-flooder.ts');

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

interface InspectorSession {
  connect(): void;
  post(method: string, params?: object): Promise<unknown>;
  disconnect(): void;
}

/** The flooder's command on this runtime, with the workspace's sources. */
function flooderCommand(enode: string): [string, string[]] {
  const source = ['--conditions', 'devp2p-source'];
  if (runtime === 'deno') return [process.execPath, ['run', '-A', ...source, FLOODER, enode]];
  if (runtime === 'bun') return [process.execPath, [...source, FLOODER, enode]];
  return [process.execPath, ['--import', 'tsx', ...source, FLOODER, enode]];
}

/** Bytes by allocation site (function and file), and the total. */
function sites(root: ProfileNode): { total: number; bySite: Map<string, number> } {
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode): void => {
    if (node.selfSize > 0) {
      const { functionName, url } = node.callFrame;
      const site = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) walk(child);
  };
  walk(root);
  return { total, bySite };
}

async function* alloc(): AsyncGenerator<BenchRow> {
  const pings = Math.floor(envNumber('ALLOC_PINGS', 100_000));
  const name = 'JS heap allocated per Ping answered (node side)';
  let inspector: { Session: new () => InspectorSession } | undefined;
  if (runtime !== 'bun') inspector = (await import('node:inspector/promises')) as unknown as typeof inspector;
  if (!inspector) {
    yield { name, unit: 'bytes', value: null, note: 'no heap profiler behind node:inspector on this runtime' };
    return;
  }
  const node = createNode({ listenAddr: '127.0.0.1:0', protocols: [ping], discovery: false });
  await node.start();
  const [cmd, args] = flooderCommand(node.nodeInfo().enode);
  const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
    waiting?.();
  });
  const next = async (): Promise<string> => {
    while (lines.length === 0) {
      if (child.exitCode !== null) throw new Error('the flooder exited');
      await new Promise<void>((resolve) => {
        waiting = resolve;
        void exited.then(resolve);
      });
    }
    return lines.shift()!;
  };
  const session = new inspector.Session();
  try {
    if ((await next()) !== 'ready') throw new Error('the flooder did not connect');
    child.stdin!.write(`${WARMUP_PINGS}\n`);
    await next();
    session.connect();
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const start = performance.now();
    child.stdin!.write(`${pings}\n`);
    await next();
    const seconds = (performance.now() - start) / 1000;
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
    const { total, bySite } = sites(profile.head);
    for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, TOP_SITES)) {
      progress(`${Math.round(bytes / pings)} bytes per Ping: ${site}`);
    }
    yield { name, unit: 'bytes', value: total / pings, note: `${pings} Pings answered in ${seconds.toFixed(1)} s` };
  } finally {
    session.disconnect();
    child.stdin!.end();
    await exited;
    await node.close();
  }
}

await runBench('alloc', alloc);
