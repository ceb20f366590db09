import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { buildTree, formatEnrTreeUrl, signTree, treeToTxt } from '@devp2p/dnsdisc';
import { eth, sepolia } from '@devp2p/plugin-eth';
import { measureRtt, ping } from '@devp2p/plugin-ping';
import { until } from '@devp2p/test-utils';
import { type DnsTestServer, startDnsServer } from '@devp2p/test-utils/dns';
import { createTxtResolver } from '@devp2p/transport-node';
import { createNode, type DevP2PNode, type NodeConfig } from '../src/index.ts';

const loopback = { listenAddr: '127.0.0.1:0' } as const;

async function started(config: NodeConfig): Promise<DevP2PNode> {
  const node = createNode({ ...loopback, ...config });
  await node.start();
  return node;
}

/** The value of one sample in a Prometheus text exposition (0 when absent). */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

let dns: DnsTestServer;
before(async () => {
  dns = await startDnsServer();
});
after(() => dns.close());

describe('createNode: DNS discovery (EIP-1459)', () => {
  it("takes the network's DNS tree, dials the Sepolia nodes listed there, and not the foreign one", async () => {
    const ours = await started({ protocols: eth({ chain: sepolia }).protocols, discovery: false });
    const foreign = await started({ protocols: [ping], discovery: false });
    const key = generatePrivateKey();
    const domain = 'all.sepolia.test';
    const tree = signTree(buildTree([ours.localNode.node, foreign.localNode.node], [], 1), key);
    for (const [name, text] of Object.entries(treeToTxt(tree, domain))) dns.setRecords(name, [text]);
    // Sepolia as the eth plugin ships it, with loopback stand-ins for its bootnodes (v4, v5) and its DNS tree.
    const network = {
      ...sepolia,
      discovery: {
        ...sepolia.discovery,
        bootnodes: [],
        bootnodesV5: [],
        dnsTrees: [formatEnrTreeUrl(publicKeyFromPrivate(key), domain)],
      },
    };
    const node = createNode({
      ...loopback,
      network,
      protocols: eth({ chain: sepolia }).protocols,
      discovery: { v4: false, txtResolver: createTxtResolver({ server: dns.address }) },
    });
    const candidates: string[] = [];
    const rejected: string[] = [];
    node.on('discovery:candidate', ({ source, node: n }) => candidates.push(`${source}:${n.id.hex}`));
    node.on('discovery:rejected', ({ node: n }) => rejected.push(n.id.hex));
    try {
      const added = node.once('peer:added');
      await node.start();
      assert.equal((await added).peer.id, ours.localNode.id.hex);
      assert.ok(candidates.includes(`dns:${ours.localNode.id.hex}`), candidates.join(', '));
      await until(() => rejected.includes(foreign.localNode.id.hex), 10_000, 'the node without eth to be rejected');
      assert.equal(foreign.peers().length, 0);
      assert.ok(dns.queries.includes(domain), 'the root was asked');
    } finally {
      await node.close();
      await Promise.all([ours.close(), foreign.close()]);
    }
  });
});

describe('createNode({ metrics: true })', () => {
  it("counts peers, dials, serves, traffic and messages under geth's names as a two-node exchange goes", async () => {
    // A runs discovery (its packets are counted); B dials A as a static node, so only B dials.
    const a = await started({ protocols: [ping], metrics: true, bootnodes: [] });
    const b = await started({ protocols: [ping], metrics: true, discovery: false });
    try {
      b.server.addPeer(a.nodeInfo().enode);
      await until(() => a.peers().length === 1 && b.peers().length === 1, 10_000, 'the two nodes to connect');
      const before = sample(await b.metrics!.prometheus(), 'p2p_egress');
      const peer = b.peers()[0]!;
      await measureRtt(peer.protocol(ping)!);
      await until(
        async () => sample(await a.metrics!.prometheus(), 'p2p_ingress_png_1_0x00_packets') >= 1,
        5_000,
        'A to count the Ping',
      );
      const textA = await a.metrics!.prometheus();
      const textB = await b.metrics!.prometheus();
      assert.equal(sample(textA, 'p2p_peers'), 1, 'p2p_peers');
      assert.equal(sample(textA, 'p2p_peers_inbound'), 1, 'p2p_peers_inbound');
      assert.equal(sample(textB, 'p2p_peers_outbound'), 1, 'p2p_peers_outbound');
      assert.ok(sample(textB, 'p2p_dials') >= 1);
      assert.equal(sample(textB, 'p2p_dials_success'), 1, 'p2p_dials_success');
      assert.equal(sample(textA, 'p2p_serves_success'), 1, 'p2p_serves_success');
      assert.ok(sample(textA, 'p2p_ingress_png_1_0x00') >= 1, 'the Ping counted in bytes');
      assert.ok(sample(textB, 'p2p_egress_png_1_0x00_packets') >= 1);
      assert.ok(sample(textB, 'p2p_egress') > before, 'egress bytes grew with the Ping');
      assert.ok(textA.includes('\ndevp2p_peers_queued_bytes_max '), 'the write queues are watched');
      assert.equal(sample(textA, 'devp2p_rlpx_handshake_seconds_count'), 1, 'devp2p_rlpx_handshake_seconds_count');
      assert.ok(textA.includes('discover_bucket_16_count'), 'the table buckets are exported');
      assert.ok(sample(textA, 'devp2p_discv4_lookups') >= 1, 'the start-up refresh ran a lookup');
      assert.equal(sample(textB, 'discover_egress'), 0, 'B has no discovery');
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("counts an eth Status mismatch under geth's handshake error meter, by direction", async () => {
    const sepoliaNode = await started({
      protocols: eth({ chain: sepolia }).protocols,
      metrics: true,
      discovery: false,
    });
    const holesky = await started({
      protocols: eth({ chain: sepolia, network: 17000 }).protocols,
      metrics: true,
      discovery: false,
    });
    try {
      holesky.server.addPeer(sepoliaNode.nodeInfo().enode);
      // Whichever side checks the other's Status first refuses it; that side meters it, by direction.
      const seen = async (): Promise<number> =>
        sample(await holesky.metrics!.prometheus(), 'eth_protocols_eth_egress_handshake_error_network') +
        sample(await sepoliaNode.metrics!.prometheus(), 'eth_protocols_eth_ingress_handshake_error_network');
      await until(async () => (await seen()) >= 1, 10_000, 'the network id mismatch to be metered');
      assert.equal(sample(await holesky.metrics!.prometheus(), 'eth_protocols_eth_ingress_handshake_error_network'), 0);
      assert.equal(
        sample(await sepoliaNode.metrics!.prometheus(), 'eth_protocols_eth_egress_handshake_error_network'),
        0,
      );
      assert.equal(sample(await holesky.metrics!.prometheus(), 'eth_protocols_eth_egress_handshake_error_genesis'), 0);
    } finally {
      await Promise.all([sepoliaNode.close(), holesky.close()]);
    }
  });

  it('counts discv5 traffic and TALKREQs', async () => {
    const a = await started({ protocols: [ping], metrics: true, bootnodes: [] });
    const b = await started({ protocols: [ping], bootnodes: [] });
    try {
      a.discv5!.registerTalkProtocol('echo', (request) => request);
      const reply = await b.discv5!.talkRequest(a.localNode.node, 'echo', Uint8Array.of(1, 2, 3));
      assert.deepEqual(reply, Uint8Array.of(1, 2, 3));
      const text = await a.metrics!.prometheus();
      assert.equal(sample(text, 'devp2p_discv5_talkreq'), 1);
      assert.ok(sample(text, 'devp2p_discv5_handshakes') >= 1);
      assert.ok(sample(text, 'devp2p_discv5_received') >= 2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('classes failures as geth does: a full node is "saturated" on both sides', async () => {
    const full = await started({ protocols: [ping], metrics: true, discovery: false, maxPeers: 0 });
    const dialer = await started({ protocols: [ping], metrics: true, discovery: false });
    try {
      dialer.server.addPeer(full.nodeInfo().enode);
      await until(
        async () => sample(await dialer.metrics!.prometheus(), 'p2p_dials_error_saturated') >= 1,
        10_000,
        'the refused dial to be classed',
      );
      await until(
        async () => sample(await full.metrics!.prometheus(), 'p2p_serves_error_saturated') >= 1,
        10_000,
        'the refused serve to be classed',
      );
      assert.equal(sample(await dialer.metrics!.prometheus(), 'p2p_dials_success'), 0);
    } finally {
      await Promise.all([full.close(), dialer.close()]);
    }
  });
});
