import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseNode } from '@devp2p/enode';
import type { NodeInfo, PeerInfo } from '@devp2p/server';
import { type RunningProcess, rpc, startNodeProcess, until } from './node-process.ts';

/** Starts processes with their own temporary data directories; `stopAll` stops them and removes the directories. */
function processGroup() {
  const dirs: string[] = [];
  const procs: RunningProcess[] = [];
  return {
    async start(args: string[]): Promise<RunningProcess> {
      const dir = mkdtempSync(join(tmpdir(), 'devp2p-cli-'));
      dirs.push(dir);
      const proc = await startNodeProcess(['--datadir', dir, '--port', '0', '--http', '--http.port', '0', ...args]);
      procs.push(proc);
      return proc;
    },
    logs: (): string => procs.map((p, i) => `--- process ${i}\n${p.output()}`).join('\n'),
    async stopAll(): Promise<boolean[]> {
      const clean = await Promise.all(procs.map((p) => p.stop()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      return clean;
    },
  };
}

const peerIds = async (proc: RunningProcess): Promise<string[]> =>
  ((await rpc(proc, 'admin_peers')) as PeerInfo[]).map((p) => p.id);

describe('devp2p node on a network (real processes on this runtime)', () => {
  it('connects two nodes through admin_addPeer; both list each other with eth/68 to eth/72 and png/1', async () => {
    const group = processGroup();
    try {
      const a = await group.start(['--nodiscover']);
      const b = await group.start(['--nodiscover']);
      const infoA = (await rpc(a, 'admin_nodeInfo')) as NodeInfo;
      const infoB = (await rpc(b, 'admin_nodeInfo')) as NodeInfo;
      assert.equal(infoA.enode, a.enode);
      assert.equal(infoA.ports.discovery, 0, '--nodiscover: no UDP port');
      assert.equal(await rpc(b, 'net_listening'), true);
      assert.equal(await rpc(b, 'net_peerCount'), '0x0');
      assert.equal(await rpc(b, 'admin_addPeer', [a.enode]), true);
      await until(
        async () => (await peerIds(a)).includes(infoB.id) && (await peerIds(b)).includes(infoA.id),
        20_000,
        'A and B list each other',
        group.logs,
      );
      const [peerOfB] = (await rpc(b, 'admin_peers')) as PeerInfo[];
      assert.deepEqual(peerOfB!.caps, ['eth/68', 'eth/69', 'eth/70', 'eth/71', 'eth/72', 'png/1']);
      assert.equal(peerOfB!.network.inbound, false);
      assert.equal(peerOfB!.network.static, true);
      const [peerOfA] = (await rpc(a, 'admin_peers')) as PeerInfo[];
      assert.deepEqual(peerOfA!.caps, ['eth/68', 'eth/69', 'eth/70', 'eth/71', 'eth/72', 'png/1']);
      assert.equal(peerOfA!.network.inbound, true);
      assert.equal(await rpc(a, 'net_peerCount'), '0x1');

      assert.equal(await rpc(b, 'admin_removePeer', [a.enode]), true);
      await until(async () => (await peerIds(b)).length === 0, 10_000, 'B dropped A', group.logs);
    } finally {
      assert.deepEqual(await group.stopAll(), [true, true], group.logs());
    }
  });

  it('finds and connects to a third node through a bootnode (discv4)', async () => {
    const group = processGroup();
    try {
      const a = await group.start(['--bootnodes', '', '--discovery.dns', '']);
      const bootnode = parseNode(a.enode);
      assert.ok(bootnode.udp > 0 && bootnode.udp !== bootnode.tcp, `discport in ${a.enode}`);
      const b = await group.start(['--bootnodes', a.enode, '--discovery.dns', '']);
      const c = await group.start(['--bootnodes', a.enode, '--discovery.dns', '']);
      const idC = ((await rpc(c, 'admin_nodeInfo')) as NodeInfo).id;
      // B and C find each other through A and one dials the other. Both may dial at the same moment: then each
      // side keeps its own outbound connection and refuses the other's ("already connected"), as geth's server
      // does, and they reconnect after the 35 s dial history. The handshake completing is the proof wanted here.
      await until(
        async () => (await peerIds(b)).includes(idC) || b.output().includes(`peer connected id=${idC.slice(0, 16)}`),
        30_000,
        'B connected to C',
        group.logs,
      );
    } finally {
      assert.deepEqual(await group.stopAll(), [true, true, true], group.logs());
    }
  });
});
