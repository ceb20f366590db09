import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Node, parseNode } from '@devp2p/enode';
import { RLPxConnection } from '@devp2p/rlpx';
import { exchangeHello, P2P_VERSION } from '@devp2p/server';
import { repoRoot, runtimeCommand } from '@devp2p/test-utils';
import { tcpTransport } from '@devp2p/transport-node';
import { BIN, startNodeProcess } from './node-process.ts';

describe('devp2p node (a real process on this runtime)', () => {
  it('starts, answers a Hello with eth/68 to eth/72 and png/1, keeps its enode across a restart, and stops cleanly on SIGTERM', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
    try {
      const first = await startNodeProcess([
        '--datadir',
        datadir,
        '--port',
        '0',
        '--identity',
        'cli-test',
        '--bootnodes',
        '',
        '--discovery.dns',
        '',
      ]);
      const node = parseNode(first.enode);
      const endpoint = node.tcpEndpoint()!;
      const key = generatePrivateKey();
      const stream = await tcpTransport.dial(endpoint.ip, endpoint.port, { timeoutMs: 5_000 });
      const conn = new RLPxConnection(stream, { privateKey: key, remotePublicKey: node.publicKey! });
      await conn.handshake();
      const hello = await exchangeHello(conn, {
        version: P2P_VERSION,
        clientName: 'cli-test-client',
        caps: [{ name: 'png', version: 1 }],
        listenPort: 0,
        nodeId: publicKeyFromPrivate(key),
      });
      // geth's shape: name/identity/version/os-arch/runtime.
      assert.match(hello.clientName, /^devp2p\.ts\/cli-test\/v\d+\.\d+\.\d+\/[a-z0-9]+-[a-z0-9]+\/(node|bun|deno)\d/);
      // The default network (mainnet): eth/68 to eth/72, plus png/1.
      assert.deepEqual(
        hello.caps.map((c) => `${c.name}/${c.version}`),
        ['eth/68', 'eth/69', 'eth/70', 'eth/71', 'eth/72', 'png/1'],
      );
      conn.close();
      assert.ok(await first.stop(), `clean exit on SIGTERM:\n${first.output()}`);

      const second = await startNodeProcess([
        '--datadir',
        datadir,
        '--port',
        '0',
        '--bootnodes',
        '',
        '--discovery.dns',
        '',
      ]);
      assert.equal(parseNode(second.enode).id.hex, node.id.hex, 'same node id after a restart');
      assert.ok(await second.stop());
    } finally {
      rmSync(datadir, { recursive: true, force: true });
    }
  });

  it('connects to the static nodes listed in its data directory and given by --staticnodes', async () => {
    const dirA = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
    const dirB = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
    const dirC = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
    try {
      const a = await startNodeProcess(['--datadir', dirA, '--port', '0', '--bootnodes', '', '--discovery.dns', '']);
      const aNode = parseNode(a.enode);
      writeFileSync(
        join(dirB, 'static-nodes.json'),
        JSON.stringify([Node.fromPublicKey(aNode.publicKey!, { ip: '127.0.0.1', tcp: aNode.tcp }).toEnodeUrl()]),
      );
      const b = await startNodeProcess(['--datadir', dirB, '--port', '0', '--bootnodes', '', '--discovery.dns', '']);
      const started = Date.now();
      while (!/peer connected/.test(b.output()) || !/peer connected/.test(a.output())) {
        if (Date.now() - started > 20_000) throw new Error(`no connection:\n${a.output()}\n${b.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const enodeA = Node.fromPublicKey(aNode.publicKey!, { ip: '127.0.0.1', tcp: aNode.tcp }).toEnodeUrl();
      const c = await startNodeProcess(['--datadir', dirC, '--port', '0', '--nodiscover', '--staticnodes', enodeA]);
      while (!/peer connected/.test(c.output()) || (a.output().match(/peer connected/g) ?? []).length < 2) {
        if (Date.now() - started > 40_000) throw new Error(`no connection from C:\n${a.output()}\n${c.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(await c.stop());
      assert.ok(await b.stop());
      assert.ok(await a.stop());
    } finally {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
      rmSync(dirC, { recursive: true, force: true });
    }
  });

  it('rejects bad flags with exit code 2 and the usage', async () => {
    const [cmd, baseArgs] = runtimeCommand(BIN, { source: true });
    const child = spawn(cmd, [...baseArgs, 'node', '--port', 'abc'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /--port: expected an integer/);
    assert.match(stderr, /devp2p node \[flags\]/);
  });
});
