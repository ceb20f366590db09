import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, type LogRecord } from '@devp2p/core';
import { FileNodeDatabase } from '../src/index.ts';
import { cheapNode, fakeClock, idFor, prng, tempDir, testSeed } from './helpers.ts';

const WRITER = fileURLToPath(new URL('./fixtures/nodedb-writer.ts', import.meta.url));
/**
 * Kill/reopen rounds. Odd rounds kill the writer at a random moment; even rounds kill it as soon as a
 * compaction's temporary file appears, i.e. inside a compaction.
 */
const ROUNDS = 6;
/** How long a compaction-targeted round waits for one before killing anyway. */
const COMPACTION_WAIT_MS = 5000;

/** The command that runs a TypeScript file on the runtime running this test, from source. */
function sameRuntime(script: string, args: string[]): [string, string[]] {
  if ('Bun' in globalThis) return [process.execPath, ['--conditions', 'devp2p-source', script, ...args]];
  if ('Deno' in globalThis) return [process.execPath, ['run', '-A', '--conditions', 'devp2p-source', script, ...args]];
  return [process.execPath, ['--import', 'tsx', '--conditions', 'devp2p-source', script, ...args]];
}

/** Resolves once `path` exists (polling every millisecond), or after `timeoutMs`. */
function waitForFile(path: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (existsSync(path) || Date.now() - started > timeoutMs) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
}

/** Resolves with the writer's first progress count once it has written at least `minWrites` more nodes. */
function waitForProgress(child: ChildProcess, minWrites: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let start: number | undefined;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        const [word, count] = line.split(' ');
        if (word === 'start') start ??= Number(count);
        if (word === 'at' && start !== undefined && Number(count) - start >= minWrites) {
          child.stdout!.off('data', onData);
          resolve();
          return;
        }
      }
    };
    child.stdout!.on('data', onData);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code, signal) => reject(new Error(`writer exited early (${code ?? signal}): ${stderr}`)));
  });
}

describe('file node database: crash safety', () => {
  const temp = tempDir();
  after(temp.cleanup);

  it('survives kill -9 mid-write: reopens and holds a consistent prefix of what was written', async () => {
    const dir = join(temp.dir, 'nodes');
    const rand = prng(testSeed());
    const truncations: LogRecord[] = [];
    const logger = createLogger({
      level: 'warn',
      sink: (record) => {
        truncations.push(record);
      },
    });
    let previous = 0;
    let killedMidCompaction = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const [cmd, args] = sameRuntime(WRITER, [dir]);
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        await waitForProgress(child, 500);
        if (round % 2 === 0) await waitForFile(join(dir, 'nodes.db.tmp'), COMPACTION_WAIT_MS);
        else await new Promise((resolve) => setTimeout(resolve, rand.int(0, 150)));
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      if (existsSync(join(dir, 'nodes.db.tmp'))) killedMidCompaction++;
      const db = FileNodeDatabase.open(dir, { logger, clock: fakeClock() });
      try {
        const count = db.size;
        const context = `round ${round} (seed ${rand.seed}): ${count} nodes`;
        assert.ok(count >= previous + 490, `${context}: what was flushed before the kill is kept`);
        // A prefix: nodes 0..count-1 and nothing after, each with its record and (except perhaps the last,
        // whose pong came after it) the pong written with it.
        for (let i = 0; i < count; i++) {
          const expected = cheapNode(i);
          const node = db.node(expected.id);
          assert.ok(node, `${context}: node ${i} missing`);
          assert.deepEqual(node.record.encode(), expected.record.encode(), `${context}: node ${i} record`);
          const pong = db.lastPongReceived(expected.id, expected.ip!);
          if (i < count - 1) assert.equal(pong, i + 1, `${context}: node ${i} pong`);
          else assert.ok(pong === i + 1 || pong === 0, `${context}: last node pong ${pong}`);
        }
        assert.equal(db.node(idFor(count)), undefined, `${context}: nothing after the prefix`);
        previous = count;
      } finally {
        db.close();
      }
    }
    for (const record of truncations) assert.match(record.message, /damaged entry; truncating/);
    assert.ok(killedMidCompaction > 0, 'at least one kill landed inside a compaction');
  });
});
