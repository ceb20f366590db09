import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Node, parseNode } from '@devp2p/enode';
import { RLPxConnection } from '@devp2p/rlpx';
import { exchangeHello, P2P_VERSION } from '@devp2p/server';
import { repoRoot, runtime, runtimeCommand } from '@devp2p/test-utils';
import { tcpTransport } from '@devp2p/transport-node';

const BIN = join(repoRoot, 'packages', 'cli', 'src', 'bin.ts');

interface RunningProcess {
  readonly child: ChildProcess;
  readonly enode: string;
  output(): string;
  /** Sends SIGTERM; true when the process shut down cleanly. */
  stop(): Promise<boolean>;
}

/** Starts `devp2p node` on this test's runtime and waits for its "Started P2P networking" line. */
async function startNodeProcess(args: string[]): Promise<RunningProcess> {
  const [cmd, baseArgs] = runtimeCommand(BIN, { source: true });
  const child = spawn(cmd, [...baseArgs, 'node', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /**
   * Resolves once the process has exited after a clean shutdown: its last log line says it stopped, and where the
   * runtime reports the exit code of a child it signalled, it is 0 (Bun's and Deno's child_process report a child
   * they sent SIGTERM to as killed, code null, even when it exited 0 by itself: checked by hand with a shell).
   */
  const stoppedCleanly = async (): Promise<boolean> => {
    const code = await exited;
    return /Stopped P2P networking/.test(output) && (code === 0 || (code === null && runtime !== 'node'));
  };
  const enode = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Started P2P networking self="?(enode:\/\/[^"\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before starting:\n${output}`));
    });
  });
  return {
    child,
    enode,
    output: () => output,
    stop: () => {
      child.kill('SIGTERM');
      return stoppedCleanly();
    },
  };
}

describe('devp2p node (a real process on this runtime)', () => {
  it('starts, answers a Hello with png/1, keeps its enode across a restart, and stops cleanly on SIGTERM', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
    try {
      const first = await startNodeProcess(['--datadir', datadir, '--port', '0', '--identity', 'cli-test']);
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
      assert.equal(hello.clientName, 'devp2p.ts/cli-test');
      assert.deepEqual(hello.caps, [{ name: 'png', version: 1 }]);
      conn.close();
      assert.ok(await first.stop(), `clean exit on SIGTERM:\n${first.output()}`);

      const second = await startNodeProcess(['--datadir', datadir, '--port', '0']);
      assert.equal(parseNode(second.enode).id.hex, node.id.hex, 'same node id after a restart');
      assert.ok(await second.stop());
    } finally {
      rmSync(datadir, { recursive: true, force: true });
    }
  });

  it('connects to the static nodes listed in its data directory', async () => {
    const dirA = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
    const dirB = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
    try {
      const a = await startNodeProcess(['--datadir', dirA, '--port', '0']);
      const aNode = parseNode(a.enode);
      writeFileSync(
        join(dirB, 'static-nodes.json'),
        JSON.stringify([Node.fromPublicKey(aNode.publicKey!, { ip: '127.0.0.1', tcp: aNode.tcp }).toEnodeUrl()]),
      );
      const b = await startNodeProcess(['--datadir', dirB, '--port', '0']);
      const started = Date.now();
      while (!/peer connected/.test(b.output()) || !/peer connected/.test(a.output())) {
        if (Date.now() - started > 20_000) throw new Error(`no connection:\n${a.output()}\n${b.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(await b.stop());
      assert.ok(await a.stop());
    } finally {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
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
