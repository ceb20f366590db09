import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePrivateKey } from '@devp2p/crypto';
import { Discv4 } from '@devp2p/discovery';
import { LocalNode, type Node } from '@devp2p/enode';
import { ping } from '@devp2p/plugin-ping';
import { createServer, type Server, type ServerConfig, type ServerEvents } from '@devp2p/server';
import { udpTransport } from '@devp2p/transport-node';
import { until } from './node-process.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Member {
  readonly server: Server;
  readonly discovery: Discv4;
}

/**
 * A server and a discv4 instance on 127.0.0.1 sharing one LocalNode, wired as `devp2p node` wires them: discovery
 * starts once the TCP port is in the record and feeds the dialer.
 */
async function startMember(bootnodes: readonly Node[], config: Partial<ServerConfig> = {}): Promise<Member> {
  const privateKey = generatePrivateKey();
  const localNode = new LocalNode(privateKey);
  let discovery: Discv4 | undefined;
  const server = createServer({
    privateKey,
    localNode,
    listenAddr: '127.0.0.1:0',
    protocols: [ping],
    onListening: async () => {
      discovery = await Discv4.start({ privateKey, localNode, transport: udpTransport, host: '127.0.0.1', bootnodes });
    },
    nodeSources: [(signal) => discovery!.randomNodes({ signal })],
    resolveNode: (node, { signal }) => discovery!.resolve(node, { signal }),
    ...config,
  });
  await server.start();
  return { server, discovery: discovery! };
}

describe('Server + discv4 on 127.0.0.1', () => {
  it('fills exactly its outbound slots from a 30-node discovery network, then stops dialing', async () => {
    const boot = await startMember([], { noDial: true });
    const rest = await Promise.all(Array.from({ length: 29 }, () => startMember([boot.server.self], { noDial: true })));
    const network = [boot, ...rest];
    const node = await startMember([boot.server.self], { maxPeers: 15 });
    const dials: ServerEvents['dial'][] = [];
    node.server.on('dial', (e) => dials.push(e));
    try {
      assert.equal(node.server.maxDialedConns, 5);
      assert.equal(node.server.self.udp, node.discovery.address.port, 'one record: the UDP port is in it');
      await until(() => node.server.peerCount === 5, 20_000, 'outbound slots filled');
      // The over-dialed surplus (up to twice the free slots) settles, then nothing more is dialed.
      await sleep(1_000);
      const settled = dials.length;
      await sleep(1_000);
      assert.equal(dials.length, settled, 'no dials while the slots are full');
      assert.equal(node.server.peerCount, 5, 'exactly maxDialedConns');
      assert.ok(node.server.peers().every((p) => !p.inbound && !p.static));
      assert.ok(dials.filter((d) => d.outcome.kind === 'connected').length >= 5);
      assert.ok(settled <= 10, `at most twice the slots dialed, got ${settled}`);
      const members = new Set(network.map((m) => m.server.id));
      assert.ok(
        node.server.peers().every((p) => members.has(p.id)),
        'peers found by discovery',
      );
      assert.equal(
        network.reduce((sum, m) => sum + m.server.peerCount, 0),
        5,
      );
    } finally {
      await Promise.all(
        [node, ...network].map(async (m) => {
          await m.server.close();
          await m.discovery.close();
        }),
      );
    }
  });
});
