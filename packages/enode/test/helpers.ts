import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
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

/** Fake timers recording the intervals a database schedules; `fire(ms)` runs the callbacks with that period. */
export function fakeTimers(): {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  fire(ms: number): void;
  active(): number[];
} {
  const timers = new Map<number, { callback: () => void; ms: number }>();
  let nextHandle = 1;
  return {
    setInterval(callback, ms) {
      const handle = nextHandle++;
      timers.set(handle, { callback, ms });
      return handle;
    },
    clearInterval(handle) {
      timers.delete(handle as number);
    },
    fire(ms) {
      for (const timer of [...timers.values()]) if (timer.ms === ms) timer.callback();
    },
    active: () => [...timers.values()].map((t) => t.ms),
  };
}
