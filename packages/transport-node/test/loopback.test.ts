import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runtimeCommand } from '@devp2p/test-utils';
import { ERR_LOOPBACK_ONLY, LOOPBACK_ONLY_ENV, LOOPBACK_ONLY_EXIT_CODE } from '../src/index.ts';

const script = fileURLToPath(new URL('./fixtures/reach-out.ts', import.meta.url));

function run(how: string): Promise<{ code: number | null; output: string }> {
  const [cmd, args] = runtimeCommand(script, { source: true });
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args, how], { env: { ...process.env, [LOOPBACK_ONLY_ENV]: '1' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe(`${LOOPBACK_ONLY_ENV}=1`, () => {
  for (const how of ['tcp', 'udp', 'dns']) {
    it(`a ${how} attempt beyond loopback fails the process`, async () => {
      const { code, output } = await run(how);
      assert.equal(code, LOOPBACK_ONLY_EXIT_CODE, output);
      assert.ok(output.includes(ERR_LOOPBACK_ONLY), output);
      assert.ok(!output.includes('finished'), 'the process did not carry on');
    });
  }

  it('loopback traffic is untouched', async () => {
    const { code, output } = await run('loopback');
    assert.equal(code, 0, output);
    assert.match(output, /finished/);
  });
});
