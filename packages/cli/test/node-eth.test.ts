import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { NodeInfo, PeerInfo } from '@devp2p/server';
import { type RunningProcess, rpc, runCommand, startNodeProcess, until } from './node-process.ts';

const SEPOLIA_GENESIS = '0x25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9';

const tmp = mkdtempSync(join(tmpdir(), 'devp2p-cli-eth-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Starts processes with their own data directories under `tmp`; `stopAll` stops them all. */
function processGroup() {
  const procs: RunningProcess[] = [];
  return {
    async start(args: string[]): Promise<RunningProcess> {
      const dir = mkdtempSync(join(tmp, 'node-'));
      const proc = await startNodeProcess(['--datadir', dir, '--port', '0', '--nodiscover', ...args]);
      procs.push(proc);
      return proc;
    },
    logs: (): string => procs.map((p, i) => `--- process ${i}\n${p.output()}`).join('\n'),
    stopAll: (): Promise<boolean[]> => Promise.all(procs.map((p) => p.stop())),
  };
}

const peers = async (proc: RunningProcess): Promise<PeerInfo[]> => (await rpc(proc, 'admin_peers')) as PeerInfo[];

interface EthNodeInfo {
  readonly network: number;
  readonly genesis: string;
  readonly head: string;
  readonly config: { readonly name: string };
}

describe('devp2p node --network (real processes on this runtime)', () => {
  it('connects two sepolia nodes: both list each other with eth/72 and png/1, and the eth info', async () => {
    const group = processGroup();
    try {
      const a = await group.start(['--network', 'sepolia', '--http', '--http.port', '0']);
      const b = await group.start(['--network', 'sepolia', '--http', '--http.port', '0']);
      const infoA = (await rpc(a, 'admin_nodeInfo')) as NodeInfo;
      const infoB = (await rpc(b, 'admin_nodeInfo')) as NodeInfo;
      const ethA = infoA.protocols.eth as unknown as EthNodeInfo;
      assert.equal(ethA.network, 11_155_111);
      assert.equal(ethA.genesis, SEPOLIA_GENESIS);
      assert.equal(ethA.head, SEPOLIA_GENESIS, 'no chain data: genesis is the head');
      assert.equal(ethA.config.name, 'sepolia');
      assert.ok(infoA.protocols.png !== undefined);
      assert.equal(await rpc(b, 'admin_addPeer', [a.enode]), true);
      await until(
        async () =>
          (await peers(a)).some((p) => p.id === infoB.id && p.protocols.eth !== undefined) &&
          (await peers(b)).some((p) => p.id === infoA.id && p.protocols.eth !== undefined),
        20_000,
        'A and B list each other with eth running',
        group.logs,
      );
      for (const [proc, otherId] of [
        [a, infoB.id],
        [b, infoA.id],
      ] as const) {
        const peer = (await peers(proc)).find((p) => p.id === otherId)!;
        assert.ok(peer.caps.includes('eth/72'), `caps ${peer.caps}`);
        assert.ok(peer.caps.includes('png/1'), `caps ${peer.caps}`);
        assert.equal((peer.protocols.eth as { version: number }).version, 72);
        assert.ok(peer.protocols.png !== undefined);
      }
    } finally {
      assert.deepEqual(await group.stopAll(), [true, true], group.logs());
    }
  });

  it('--eth.versions: a node running eth/68-70 and a default one (68-72) agree on eth/70', async () => {
    const group = processGroup();
    try {
      const a = await group.start(['--network', 'sepolia', '--http', '--http.port', '0', '--eth.versions', '70,69,68']);
      const b = await group.start(['--network', 'sepolia', '--http', '--http.port', '0']);
      const infoA = (await rpc(a, 'admin_nodeInfo')) as NodeInfo;
      assert.equal(await rpc(b, 'admin_addPeer', [a.enode]), true);
      await until(
        async () => (await peers(b)).some((p) => p.id === infoA.id && p.protocols.eth !== undefined),
        20_000,
        'B lists A with eth running',
        group.logs,
      );
      const peer = (await peers(b)).find((p) => p.id === infoA.id)!;
      assert.deepEqual(
        peer.caps.filter((cap) => cap.startsWith('eth/')),
        ['eth/68', 'eth/69', 'eth/70'],
      );
      assert.equal((peer.protocols.eth as { version: number }).version, 70);
      assert.match(a.output(), /eth protocol on network.*versions=70,69,68/);
    } finally {
      assert.deepEqual(await group.stopAll(), [true, true], group.logs());
    }
  });

  it('refuses a sepolia peer from a mainnet node with the eth Status mismatch ("subprotocol error")', async () => {
    const group = processGroup();
    try {
      const a = await group.start(['--network', 'mainnet', '--http', '--http.port', '0']);
      const b = await group.start(['--network', 'sepolia', '--http', '--http.port', '0']);
      assert.equal(await rpc(b, 'admin_addPeer', [a.enode]), true);
      // EthStatusError: "subprotocol error: eth status network-id mismatch: <theirs> (!= <ours>)".
      const mismatch = /subprotocol error: eth status network-id mismatch: (1 \(!= 11155111\)|11155111 \(!= 1\))/;
      await until(() => mismatch.test(a.output() + b.output()), 20_000, 'a Status mismatch logged', group.logs);
      assert.match(a.output() + b.output(), /peer disconnected .*subprotocol error/);
      assert.equal(
        (await peers(a)).some((p) => p.protocols.eth !== undefined),
        false,
        'A has no eth peer',
      );
      assert.equal(
        (await peers(b)).some((p) => p.protocols.eth !== undefined),
        false,
        'B has no eth peer',
      );
    } finally {
      assert.deepEqual(await group.stopAll(), [true, true], group.logs());
    }
  });

  it('rlpx ping against a running node prints eth/72 to eth/68 and png/1 among the caps', async () => {
    const group = processGroup();
    try {
      const a = await group.start([]);
      const result = await runCommand(['rlpx', 'ping', '--timeout', '5s', a.enode.replace(/@[^:]+:/, '@127.0.0.1:')]);
      assert.equal(result.code, 0, result.stderr);
      for (const version of [68, 69, 70, 71, 72]) assert.match(result.stdout, new RegExp(`Caps: .*eth/${version}`));
      assert.match(result.stdout, /Caps: .*png\/1/);
    } finally {
      assert.deepEqual(await group.stopAll(), [true], group.logs());
    }
  });

  it('runs a custom network from a genesis file and reports it in admin_nodeInfo', async () => {
    const file = join(tmp, 'devnet.json');
    const genesisHash = `0x${'ab'.repeat(32)}`;
    writeFileSync(
      file,
      JSON.stringify({
        networkId: 1337,
        genesisHash,
        forks: [
          { name: 'london', block: 0 },
          { name: 'prague', time: 0 },
          { name: 'osaka', time: 1_900_000_000 },
        ],
      }),
    );
    const group = processGroup();
    try {
      const a = await group.start(['--network', file, '--http', '--http.port', '0']);
      const eth = ((await rpc(a, 'admin_nodeInfo')) as NodeInfo).protocols.eth as unknown as EthNodeInfo;
      assert.equal(eth.network, 1337);
      assert.equal(eth.genesis, genesisHash);
      assert.equal(eth.head, genesisHash);
      assert.equal(eth.config.name, 'devnet');
    } finally {
      assert.deepEqual(await group.stopAll(), [true], group.logs());
    }
  });

  it('rejects a bad --network with exit code 2 and the usage', async () => {
    const gethGenesis = join(tmp, 'geth-genesis.json');
    writeFileSync(gethGenesis, JSON.stringify({ config: { chainId: 1337 }, alloc: {} }));
    const badHash = join(tmp, 'bad-hash.json');
    writeFileSync(badHash, JSON.stringify({ networkId: 1, genesisHash: '0x1234' }));
    const cases: [string, RegExp][] = [
      ['goerli', /--network: expected mainnet, sepolia, hoodi or a genesis file, got "goerli"/],
      [gethGenesis, /geth's genesis\.json/],
      [badHash, /genesisHash must be 32 bytes/],
    ];
    const results = await Promise.all(
      cases.map(([network]) => runCommand(['node', '--datadir', join(tmp, 'unused'), '--network', network])),
    );
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, cases[i]![1]);
      assert.match(result.stderr, /devp2p node \[flags\]/);
    }
  });
});
