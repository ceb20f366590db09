import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * The public test vectors, kept in the repository at `test/vectors/` (a copy of the workspace's shared vectors,
 * each file naming its source; see its README), so every clone runs every vector test.
 */
export const vectorsDir: string = join(repoRoot, 'test', 'vectors');

/** Reads and parses one JSON vector file, e.g. `readVectorJson('rlp/rlptest.json')`; a missing file throws. */
export function readVectorJson<T = unknown>(relativePath: string): T {
  return JSON.parse(readFileSync(vectorPath(relativePath), 'utf8')) as T;
}

/** Reads one vector file as raw bytes; a missing file throws. */
export function readVectorBytes(relativePath: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(relativePath)));
}

function vectorPath(relativePath: string): string {
  const path = join(vectorsDir, relativePath);
  if (!existsSync(path)) throw new Error(`test vector ${relativePath} is missing from test/vectors`);
  return path;
}

/** Parses hex with or without a 0x prefix (test input only; the packages have their own strict parser). */
export function hex(text: string): Uint8Array {
  const clean = text.startsWith('0x') ? text.slice(2) : text;
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex in vector: ${text.slice(0, 40)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The runtime running this test: tests that spawn a child process spawn the same one. */
export const runtime: 'node' | 'bun' | 'deno' = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';

/**
 * The command line that runs `script` on the current runtime. With `source: true` the child resolves the
 * workspace packages to their TypeScript sources (and Node gets the tsx loader); without it, to `dist/`,
 * exactly as an npm user would.
 */
export function runtimeCommand(script: string, options: { source?: boolean } = {}): [string, string[]] {
  const source = options.source ?? false;
  const condition = source ? ['--conditions', 'devp2p-source'] : [];
  switch (runtime) {
    case 'deno':
      return [process.execPath, ['run', '-A', ...condition, script]];
    case 'bun':
      return [process.execPath, [...condition, script]];
    default:
      return [process.execPath, [...(source ? ['--import', 'tsx'] : []), ...condition, script]];
  }
}

/** The clock components accept (structurally `Clock` from `@devp2p/core`). */
export interface ClockFunctions {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock, counting how many timers are live, so a test can prove a component leaves none behind.
 * @example const clock = countingClock(); ...; assert.equal(clock.active, 0)
 */
export function countingClock(): ClockFunctions & { readonly active: number } {
  const live = new Set<unknown>();
  return {
    now: () => Date.now(),
    setTimeout(callback, ms) {
      const handle = setTimeout(() => {
        live.delete(handle);
        callback();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      live.delete(handle);
      clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
    },
    get active() {
      return live.size;
    },
  };
}

/** How {@link until} polls and what it reports when it gives up. */
export interface UntilOptions {
  /** Pause between checks (default 5 ms; longer where a check is itself costly, e.g. an RPC). */
  intervalMs?: number;
  /** Extra text for the timeout error, e.g. the logs of the processes under test. */
  context?: () => string;
}

/**
 * Polls `check` until it is true; throws `timed out waiting for <what>` after `timeoutMs`.
 * @example await until(() => server.peerCount === 1, 5_000, 'the peer to connect')
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  options: UntilOptions = {},
): Promise<void> {
  const { intervalMs = 5, context } = options;
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
