/**
 * The programs in examples/ run to completion on this runtime, from the sources, and print what they promise.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, runtimeCommand } from '@devp2p/test-utils';

function run(file: string): Promise<{ code: number | null; output: string }> {
  const [cmd, args] = runtimeCommand(join(repoRoot, 'examples', file), { source: true });
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not finish within 60 s:\n${output}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('examples/', () => {
  it('header-fetcher.ts fetches the served headers over eth', async () => {
    const { code, output } = await run('header-fetcher.ts');
    assert.equal(code, 0, output);
    assert.match(output, /eth\/72: fetched 3 headers/);
  });

  it('tx-listener.ts sees the broadcast transactions without a plugin', async () => {
    const { code, output } = await run('tx-listener.ts');
    assert.equal(code, 0, output);
    assert.match(output, /received 2 transactions/);
  });
});
