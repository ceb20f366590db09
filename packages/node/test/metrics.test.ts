// NodeMetrics without a network: message meters counted from `peer:message` events, their cache, and the eth
// handshake meters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisconnectError, DisconnectReason, HandshakeMismatchError } from '@devp2p/core';
import { Counter, Registry } from 'prom-client';
import { MessageMeters, NodeMetrics } from '../src/metrics.ts';

const NO_SOURCES = {
  peers: () => [],
  tableBuckets: () => [],
  discv5Stats: () => undefined,
  discv4Stats: () => undefined,
};

/** The value of one sample in a Prometheus text exposition (0 when absent). */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe('NodeMetrics.message', () => {
  it("counts bytes and packets per protocol, version, code and direction under geth's names", async () => {
    const metrics = new NodeMetrics(NO_SOURCES);
    for (let i = 0; i < 3; i++) {
      metrics.message({ direction: 'received', protocol: 'eth', version: 69, code: 0x03, size: 10 });
    }
    metrics.message({ direction: 'sent', protocol: 'eth', version: 69, code: 0x03, size: 7 });
    metrics.message({ direction: 'received', protocol: 'eth', version: 68, code: 0x03, size: 5 });
    metrics.message({ direction: 'received', protocol: 'snap', version: 1, code: 0x14, size: 1 });
    metrics.message({ direction: 'received', protocol: 'p2p', version: 5, code: 0x02, size: 1 });
    const text = await metrics.prometheus();
    assert.equal(sample(text, 'p2p_ingress_eth_69_0x03'), 30);
    assert.equal(sample(text, 'p2p_ingress_eth_69_0x03_packets'), 3);
    assert.equal(sample(text, 'p2p_egress_eth_69_0x03'), 7);
    assert.equal(sample(text, 'p2p_egress_eth_69_0x03_packets'), 1);
    assert.equal(sample(text, 'p2p_ingress_eth_68_0x03_packets'), 1);
    assert.equal(sample(text, 'p2p_ingress_snap_1_0x14'), 1);
    assert.ok(!text.includes('p2p_ingress_p2p_'), 'the base protocol has no per-message meters');
  });

  it('keeps the meters of a message once: repeated messages reuse them and add none', async () => {
    const metrics = new NodeMetrics(NO_SOURCES);
    const event = { direction: 'received', protocol: 'eth', version: 69, code: 0x05, size: 100 } as const;
    metrics.message(event);
    const metricCount = (await metrics.registry.getMetricsAsJSON()).length;
    for (let i = 0; i < 1_000; i++) metrics.message(event);
    assert.equal((await metrics.registry.getMetricsAsJSON()).length, metricCount);
    assert.equal(sample(await metrics.prometheus(), 'p2p_ingress_eth_69_0x05_packets'), 1_001);
  });
});

describe('NodeMetrics.peerRemoved', () => {
  it("meters an eth HandshakeMismatchError, found among the causes, under geth's handshake error meter", async () => {
    const metrics = new NodeMetrics(NO_SOURCES);
    const genesis = new HandshakeMismatchError('eth', 'genesis', 'theirs (!= ours)');
    metrics.peerRemoved(false, genesis);
    metrics.peerRemoved(true, new DisconnectError(DisconnectReason.SubprotocolError, 'local', { cause: genesis }));
    metrics.peerRemoved(true, new HandshakeMismatchError('eth', 'fork-id', 'x'));
    // Not eth's, not a mismatch of geth's meters, or only shaped like one: none is metered.
    metrics.peerRemoved(false, new HandshakeMismatchError('snap', 'genesis', 'x'));
    metrics.peerRemoved(false, new HandshakeMismatchError('eth', 'block-range', 'x'));
    metrics.peerRemoved(false, Object.assign(new Error('duck'), { mismatch: 'genesis' }));
    const text = await metrics.prometheus();
    assert.equal(sample(text, 'eth_protocols_eth_egress_handshake_error_genesis'), 1);
    assert.equal(sample(text, 'eth_protocols_eth_ingress_handshake_error_genesis'), 1);
    assert.equal(sample(text, 'eth_protocols_eth_ingress_handshake_error_forkid'), 1);
    assert.equal(sample(text, 'eth_protocols_eth_egress_handshake_error_network'), 0);
  });
});

describe('MessageMeters', () => {
  it('makes one pair of counters per (protocol, version, code, direction) and returns the same pair after', () => {
    const registry = new Registry();
    const made: string[] = [];
    const meters = new MessageMeters((name) => {
      made.push(name);
      return new Counter({ name: name.replaceAll('/', '_'), help: name, registers: [registry] });
    });
    const first = meters.get('eth', 69, 0x10, 'received');
    assert.deepEqual(made, ['p2p/ingress/eth/69/0x10', 'p2p/ingress/eth/69/0x10/packets']);
    assert.equal(meters.size, 1);
    for (let i = 0; i < 100; i++) assert.equal(meters.get('eth', 69, 0x10, 'received'), first);
    assert.equal(meters.size, 1);
    assert.equal(made.length, 2);
    // Each of the four keys tells messages apart.
    const others = [
      meters.get('eth', 69, 0x10, 'sent'),
      meters.get('eth', 68, 0x10, 'received'),
      meters.get('eth', 69, 0x11, 'received'),
      meters.get('snap', 69, 0x10, 'received'),
    ];
    assert.equal(new Set([first, ...others]).size, 5);
    assert.equal(meters.size, 5);
    assert.deepEqual(made.filter((_, i) => i % 2 === 0).slice(1), [
      'p2p/egress/eth/69/0x10',
      'p2p/ingress/eth/68/0x10',
      'p2p/ingress/eth/69/0x11',
      'p2p/ingress/snap/69/0x10',
    ]);
  });
});
