import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCommand, startNodeProcess } from './node-process.ts';

describe('devp2p eth', () => {
  it('status, headers and bodies against a Sepolia node; a mismatching network and bad flags fail with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devp2p-eth-cmd-'));
    const node = await startNodeProcess([
      '--datadir',
      dir,
      '--port',
      '0',
      '--nodiscover',
      '--network',
      'sepolia',
      '--ipcdisable',
    ]);
    const enode = node.enode.replace(/@[^:]+:/, '@127.0.0.1:');
    try {
      const status = await runCommand(['eth', 'status', '--network', 'sepolia', enode]);
      assert.equal(status.code, 0, status.stderr);
      const parsed = JSON.parse(status.stdout) as { version: number; status: { networkId: string; genesis: string } };
      assert.equal(parsed.version, 72);
      assert.equal(parsed.status.networkId, '11155111');
      assert.match(parsed.status.genesis, /^0x25a5cc10/);

      // The node has no chain data: it answers, with nothing.
      const headers = await runCommand([
        'eth',
        'headers',
        '--network',
        'sepolia',
        '--start',
        '0',
        '--count',
        '2',
        enode,
      ]);
      assert.equal(headers.code, 0, headers.stderr);
      assert.deepEqual(JSON.parse(headers.stdout), { headers: [] });
      const bodies = await runCommand([
        'eth',
        'bodies',
        '--network',
        'sepolia',
        '--hash',
        `0x${'11'.repeat(32)}`,
        enode,
      ]);
      assert.equal(bodies.code, 0, bodies.stderr);
      assert.deepEqual(JSON.parse(bodies.stdout), { bodies: [] });

      const foreign = await runCommand(['eth', 'status', '--network', 'mainnet', '--timeout', '5s', enode]);
      assert.equal(foreign.code, 1);
      assert.match(foreign.stderr, /network-id|genesis|subprotocol|fork/);
      const badHash = await runCommand(['eth', 'bodies', '--hash', '0x1234', enode]);
      assert.equal(badHash.code, 2);
      assert.match(badHash.stderr, /--hash: a block hash is 32 bytes/);
      const badCount = await runCommand(['eth', 'headers', '--count', '5000', enode]);
      assert.equal(badCount.code, 2);
      assert.match(badCount.stderr, /--count: expected 1 to 1024/);
    } finally {
      assert.ok(await node.stop(), node.output());
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
