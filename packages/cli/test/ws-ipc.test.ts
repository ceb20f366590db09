import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseNode } from '@devp2p/enode';
import { until } from '@devp2p/test-utils';
import { WebSocket } from 'ws';
import { runCommand, startNodeProcess } from './node-process.ts';

const QUIET = ['--port', '0', '--bootnodes', '', '--discovery.dns', ''];

function endpointOf(output: string, namespace: string): string {
  const match = new RegExp(`${namespace} HTTP server started endpoint="?([\\d.]+:\\d+)`).exec(output);
  if (!match) throw new Error(`no ${namespace} endpoint in:\n${output}`);
  return match[1]!;
}

describe('devp2p node --ws and IPC, devp2p attach', () => {
  it('streams peerEvents over WebSocket, answers over IPC, and devp2p attach calls both', async () => {
    const dirA = mkdtempSync(join(tmpdir(), 'devp2p-ws-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'devp2p-ws-b-'));
    const a = await startNodeProcess([
      '--datadir',
      dirA,
      ...QUIET,
      '--ws',
      '--ws.port',
      '0',
      '--ws.origins',
      'http://ok.example',
    ]);
    const b = await startNodeProcess(['--datadir', dirB, ...QUIET, '--ipcdisable']);
    let ws: WebSocket | undefined;
    try {
      await until(() => /devp2p:cli:ws HTTP server started/.test(a.output()), 10_000, 'the WebSocket server');
      const endpoint = endpointOf(a.output(), 'devp2p:cli:ws');
      const ipc = join(dirA, 'devp2p.ipc');
      await until(() => existsSync(ipc), 10_000, 'the IPC socket');
      assert.equal(statSync(ipc).mode & 0o777, 0o600, 'only the owner may connect');
      assert.ok(!existsSync(join(dirB, 'devp2p.ipc')), '--ipcdisable');

      // A page from a foreign origin is refused; one from an allowed origin, and a script (no Origin), are served.
      const refused = new WebSocket(`ws://${endpoint}`, { headers: { origin: 'http://evil.example' } });
      await new Promise<void>((resolve) => refused.once('error', () => resolve()));
      ws = new WebSocket(`ws://${endpoint}`, { headers: { origin: 'http://ok.example' } });
      const messages: {
        id?: number;
        result?: unknown;
        method?: string;
        params?: { result: { type: string; peer: string } };
      }[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(String(data))));
      await new Promise<void>((resolve, reject) => {
        ws!.once('open', () => resolve());
        ws!.once('error', reject);
      });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin_subscribe', params: ['peerEvents'] }));
      await until(() => messages.some((m) => m.id === 1), 5_000, 'the subscription id');

      // B connects to A through A's IPC endpoint, with devp2p attach.
      const added = await runCommand(['attach', ipc, '--exec', `admin_addPeer ${JSON.stringify([b.enode])}`]);
      assert.equal(added.code, 0, added.stderr);
      assert.equal(JSON.parse(added.stdout), true);
      const bId = parseNode(b.enode).id.hex;
      await until(
        () => messages.some((m) => m.params?.result.type === 'add' && m.params.result.peer === bId),
        10_000,
        'the add event',
      );
      await until(
        () => messages.some((m) => m.params?.result.type === 'msgsend' || m.params?.result.type === 'msgrecv'),
        10_000,
        'message events (the eth Status exchange)',
      );

      // Malformed frames get a JSON-RPC error and the connection lives on; an oversized frame ends only its own
      // connection.
      ws.send('{"jsonrpc":"2.0","id":7,');
      await until(
        () => messages.some((m) => (m as { error?: { code: number } }).error?.code === -32700),
        5_000,
        'the parse error',
      );
      const big = new WebSocket(`ws://${endpoint}`);
      await new Promise<void>((resolve) => big.once('open', () => resolve()));
      const closed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
      big.send('x'.repeat(6 * 1024 * 1024));
      assert.equal(await closed, 1009, 'message too big');
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'net_listening' }));
      await until(
        () => messages.some((m) => m.id === 8 && m.result === true),
        5_000,
        'the first connection still served',
      );

      // B leaves: the subscription sees it dropped.
      assert.ok(await b.stop(), b.output());
      await until(
        () => messages.some((m) => m.params?.result.type === 'drop' && m.params.result.peer === bId),
        10_000,
        'the drop event',
      );

      // IPC serves every module, discv5 with it (it runs by default).
      const modules = await runCommand(['attach', ipc, '--exec', 'rpc_modules']);
      assert.deepEqual(JSON.parse(modules.stdout), {
        admin: '1.0',
        discv5: '1.0',
        net: '1.0',
        rpc: '1.0',
        web3: '1.0',
      });
      const version = await runCommand(['attach', ipc, '--exec', 'web3_clientVersion']);
      assert.match(JSON.parse(version.stdout), /^devp2p\.ts\/v/);
      const count = await runCommand(['attach', `ws://${endpoint}`, '--exec', 'net_peerCount']);
      assert.equal(JSON.parse(count.stdout), '0x0', 'B has left');
      const info = await runCommand(['attach', `ws://${endpoint}`, '--exec', 'admin_datadir']);
      assert.equal(JSON.parse(info.stdout), dirA);
      const bad = await runCommand(['attach', ipc, '--exec', 'admin_addPeer ["enode://nope"]']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /invalid argument 0/);
      const gone = await runCommand(['attach', join(dirB, 'devp2p.ipc'), '--exec', 'rpc_modules']);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /cannot connect/);
    } finally {
      ws?.close();
      assert.ok(await a.stop(), a.output());
      if (b.child.exitCode === null && b.child.signalCode === null) assert.ok(await b.stop(), b.output());
      assert.ok(!existsSync(join(dirA, 'devp2p.ipc')), 'the socket file is removed on exit');
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });
});
