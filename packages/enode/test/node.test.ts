import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rlpEncode } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { readVectorJson } from '@devp2p/test-utils';
import {
  compareDistance,
  Enr,
  type EnrEntries,
  formatIp,
  ipLocalityScore,
  logDistance,
  Node,
  NodeId,
  normalizeIp,
  parseIp,
} from '../src/index.ts';

interface EndpointCase {
  name: string;
  entries: Record<string, string | number>;
  hostname?: string;
  want: { ip: string | null; udp: number; tcp: number; quic: number; hostname?: string };
}

describe('Node: endpoint selection', () => {
  it('chooses between ip and ip6 as geth does (node-endpoint-selection.json)', () => {
    const file = readVectorJson<{ cases: EndpointCase[]; node_id_used: string }>('enr/node-endpoint-selection.json');
    const id = NodeId.fromHex(file.node_id_used);
    for (const c of file.cases) {
      let node = Node.fromTrustedRecord(Enr.create(c.entries as EnrEntries), id);
      if (c.hostname) node = node.withHostname(c.hostname);
      assert.equal(node.ip, c.want.ip ?? undefined, c.name);
      assert.equal(node.udp, c.want.udp, c.name);
      assert.equal(node.tcp, c.want.tcp, c.name);
      assert.equal(node.quicEndpoint()?.port ?? 0, c.want.quic, c.name);
      assert.equal(node.hostname, c.want.hostname, c.name);
      assert.equal(node.id.hex, file.node_id_used);
    }
  });
});

describe('Node', () => {
  const key = generatePrivateKey();
  const publicKey = publicKeyFromPrivate(key);

  it('has no endpoint for an unspecified address or a zero port', () => {
    const node = Node.fromPublicKey(publicKey, { ip: '0.0.0.0', tcp: 30303, udp: 30303 });
    assert.equal(node.ip, '0.0.0.0');
    assert.equal(node.udpEndpoint(), undefined);
    const noTcp = Node.fromPublicKey(publicKey, { ip: '10.0.0.1', udp: 30303 });
    assert.equal(noTcp.tcpEndpoint(), undefined);
    assert.deepEqual(noTcp.udpEndpoint(), { ip: '10.0.0.1', port: 30303 });
  });

  it('uses udp6/tcp6 for IPv6 and falls back to udp/tcp', () => {
    const record = Enr.create({ ip6: '2001:db8::1', tcp: 1, udp: 2, udp6: 3 }, 1n).sign(key);
    const node = Node.fromRecord(record);
    assert.deepEqual([node.ip, node.tcp, node.udp], ['2001:db8::1', 1, 3]);
    const v4 = node.withIp('192.0.2.1');
    assert.deepEqual([v4.ip, v4.tcp, v4.udp], ['192.0.2.1', 1, 2]);
  });

  it('treats an IPv4-mapped ip6 as IPv4', () => {
    const node = Node.fromTrustedRecord(
      Enr.create({ ip6: '::ffff:10.1.1.1', udp: 5, udp6: 6 }),
      NodeId.fromBytes(new Uint8Array(32)),
    );
    assert.deepEqual([node.ip, node.udp], ['10.1.1.1', 5]);
  });

  it('ignores malformed address entries instead of failing', () => {
    const raw = rlpEncode([
      new Uint8Array(0),
      1,
      'ip',
      Uint8Array.of(10, 0, 1),
      'ip6',
      parseIp('2001:db8::5')!,
      'udp',
      70000,
    ]);
    const node = Node.fromTrustedRecord(Enr.decode(raw, { verify: false }), NodeId.fromBytes(new Uint8Array(32)));
    assert.deepEqual([node.ip, node.udp, node.tcp], ['2001:db8::5', 0, 0]);
  });

  it('is built from a public key the way geth NewV4 builds it', () => {
    const node = Node.fromPublicKey(publicKey, { ip: '10.0.0.1', tcp: 30303, udp: 30301 });
    assert.equal(node.id.hex, NodeId.fromPublicKey(publicKey).hex);
    assert.deepEqual(node.publicKey, publicKey);
    assert.equal(node.record.signed, false);
    assert.deepEqual(node.record.keys(), ['ip', 'secp256k1', 'tcp', 'udp']);
    assert.throws(() => Node.fromPublicKey(new Uint8Array(64)), RangeError);
    assert.throws(() => Node.fromPublicKey(publicKey, { ip: 'nope' }), TypeError);
    assert.throws(() => Node.fromPublicKey(publicKey, { tcp: 1e6 }), RangeError);
  });
});

describe('NodeId and distances', () => {
  const a = NodeId.fromHex(`00${'ff'.repeat(31)}`);
  const b = NodeId.fromHex(`80${'ff'.repeat(31)}`);

  it('has a hex form without 0x and parses one with or without', () => {
    assert.equal(a.hex, `00${'ff'.repeat(31)}`);
    assert.equal(`${a}`, a.hex);
    assert.equal(JSON.stringify({ a }), `{"a":"${a.hex}"}`);
    assert.ok(NodeId.fromHex(`0x${a.hex}`).equals(a));
    assert.equal(a.short(), a.hex.slice(0, 16));
    assert.throws(() => NodeId.fromHex('abcd'), RangeError);
    assert.throws(() => NodeId.fromHex('zz'.repeat(32)), TypeError);
    assert.throws(() => NodeId.fromBytes(new Uint8Array(31)), RangeError);
    const bytes = a.bytes;
    bytes[0] = 9;
    assert.equal(a.at(0), 0);
  });

  it('computes the log distance as geth LogDist', () => {
    assert.equal(logDistance(a, a), 0);
    assert.equal(logDistance(a, b), 256);
    const c = NodeId.fromHex(`00${'ff'.repeat(30)}fe`);
    assert.equal(logDistance(a, c), 1);
    const d = NodeId.fromHex(`00${'ff'.repeat(29)}7fff`);
    assert.equal(logDistance(a, d), 16);
    // Brute force against bit counting on random ids.
    for (let i = 0; i < 200; i++) {
      const x = NodeId.fromBytes(crypto.getRandomValues(new Uint8Array(32)));
      const y = NodeId.fromBytes(crypto.getRandomValues(new Uint8Array(32)));
      const xor = BigInt(`0x${x.hex}`) ^ BigInt(`0x${y.hex}`);
      assert.equal(logDistance(x, y), xor === 0n ? 0 : xor.toString(2).length);
    }
  });

  it('compares distances to a target', () => {
    const target = NodeId.fromBytes(new Uint8Array(32));
    assert.equal(compareDistance(target, a, b), -1);
    assert.equal(compareDistance(target, b, a), 1);
    assert.equal(compareDistance(target, a, a), 0);
    for (let i = 0; i < 200; i++) {
      const [t, x, y] = [0, 1, 2].map(() => NodeId.fromBytes(crypto.getRandomValues(new Uint8Array(32)))) as [
        NodeId,
        NodeId,
        NodeId,
      ];
      const dx = BigInt(`0x${x.hex}`) ^ BigInt(`0x${t.hex}`);
      const dy = BigInt(`0x${y.hex}`) ^ BigInt(`0x${t.hex}`);
      assert.equal(compareDistance(t, x, y), dx < dy ? -1 : dx > dy ? 1 : 0);
    }
  });
});

describe('IP helpers', () => {
  it('parses and formats IPv4 and IPv6 canonically', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', '127.0.0.1'],
      ['::', '::'],
      ['::1', '::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['1::', '1::'],
      ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
      ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [input, want] of cases) assert.equal(normalizeIp(input), want, input);
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%1',
      'g::1',
    ]) {
      assert.equal(parseIp(bad), undefined, bad);
    }
    assert.throws(() => formatIp(new Uint8Array(5)), RangeError);
  });

  it('scores locality as geth does', () => {
    const score = (ip: string) => ipLocalityScore(parseIp(ip)!);
    assert.deepEqual(
      ['0.0.0.0', '127.0.0.1', '169.254.1.1', '10.0.0.1', '172.16.0.1', '192.168.0.1', '8.8.8.8'].map(score),
      [0, 1, 2, 3, 3, 3, 4],
    );
    assert.deepEqual(['::', '::1', 'fe80::1', 'fd00::1', '2001::1', '::ffff:127.0.0.1'].map(score), [0, 1, 2, 3, 4, 1]);
  });
});
