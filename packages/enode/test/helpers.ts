import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import type { FileHandle, FileLock, FileLockHeld, Files } from '@devp2p/core';
import { Enr, Node, NodeId } from '../src/index.ts';

/**
 * A seeded PRNG (mulberry32) so property tests are reproducible: a failure message carries the seed.
 * Set ENODE_TEST_SEED to replay one.
 */
export function prng(seed: number): {
  seed: number;
  next(): number;
  int(min: number, max: number): number;
  bytes(n: number): Uint8Array;
  pick<T>(items: readonly T[]): T;
} {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    bytes: (n) => Uint8Array.from({ length: n }, () => int(0, 255)),
    pick: (items) => items[int(0, items.length - 1)]!,
  };
}

/** The seed property tests use unless ENODE_TEST_SEED is set. */
const DEFAULT_TEST_SEED = 0x5eed;

export function testSeed(): number {
  const fromEnv = Number(process.env['ENODE_TEST_SEED']);
  // A fixed default keeps every run (and CI) reproducible; set ENODE_TEST_SEED to explore other inputs.
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_TEST_SEED;
}

/** A fresh temporary directory and a function removing it. */
export function tempDir(prefix = 'enode-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Node id `i` (big-endian in the last 4 bytes, a marker byte first so ids are spread over the keyspace). */
export function idFor(i: number): NodeId {
  const bytes = new Uint8Array(32);
  bytes[0] = (i * 2654435761) >>> 24;
  new DataView(bytes.buffer).setUint32(28, i);
  return NodeId.fromBytes(bytes);
}

/**
 * A node without a key, cheap to make by the thousand: an unsigned record with an address, under an
 * explicit id (what the node database stores is the id and the record bytes).
 */
export function cheapNode(i: number, seq = 1n): Node {
  const ip = `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`;
  return Node.fromTrustedRecord(Enr.create({ ip, tcp: 30303, udp: 30303 + (i % 7) }, seq), idFor(i));
}

/**
 * A clock whose timers fire only when told: `fire(ms)` runs the callbacks set with that delay (a database's expiry
 * and flush periods); `now` is the given function's.
 */
export function fakeClock(now: () => number = Date.now): {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  fire(ms: number): void;
  active(): number[];
} {
  const timers = new Map<number, { callback: () => void; ms: number }>();
  let nextHandle = 1;
  return {
    now,
    setTimeout(callback, ms) {
      const handle = nextHandle++;
      timers.set(handle, { callback, ms });
      return handle;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    fire(ms) {
      for (const [handle, timer] of [...timers]) {
        if (timer.ms !== ms) continue;
        timers.delete(handle);
        timer.callback();
      }
    },
    active: () => [...timers.values()].map((t) => t.ms),
  };
}

/**
 * A file system in memory, for showing that the node key and node database need nothing of the runtime's: paths
 * are `/`-joined under `/memory`, `calls` names every operation made, and a lock already taken answers `heldBy: 1`.
 */
export function memoryFiles(): Files & { readonly data: Map<string, Uint8Array>; readonly calls: string[] } {
  const data = new Map<string, Uint8Array>();
  const locks = new Set<string>();
  const calls: string[] = [];
  const missing = (path: string) => Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  const handle = (path: string): FileHandle => ({
    write(bytes, position) {
      const old = data.get(path)!;
      const grown = new Uint8Array(Math.max(old.length, position + bytes.length));
      grown.set(old);
      grown.set(bytes, position);
      data.set(path, grown);
    },
    truncate: (length) => data.set(path, data.get(path)!.slice(0, length)),
    sync: () => calls.push(`sync ${path}`),
    close: () => calls.push(`close ${path}`),
  });
  return {
    data,
    calls,
    resolve: (...segments) =>
      segments.reduce((dir, segment) => (segment.startsWith('/') ? segment : `${dir}/${segment}`), '/memory'),
    readFile(path) {
      calls.push(`readFile ${path}`);
      return data.get(path)?.slice();
    },
    open(path, how) {
      calls.push(`open ${how} ${path}`);
      if (how === 'create') data.set(path, new Uint8Array(0));
      else if (!data.has(path)) throw missing(path);
      return handle(path);
    },
    rename(from, to) {
      calls.push(`rename ${from} ${to}`);
      const bytes = data.get(from);
      if (!bytes) throw missing(from);
      data.delete(from);
      data.set(to, bytes);
    },
    remove(path) {
      calls.push(`remove ${path}`);
      data.delete(path);
    },
    chmod: (path) => calls.push(`chmod ${path}`),
    mkdir: (path) => calls.push(`mkdir ${path}`),
    syncDirectory: (path) => calls.push(`syncDirectory ${path}`),
    lock(path): FileLock | FileLockHeld {
      calls.push(`lock ${path}`);
      if (locks.has(path)) return { heldBy: 1 };
      locks.add(path);
      return { release: () => locks.delete(path) };
    },
  };
}
