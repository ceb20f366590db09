import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { isLan, logDistance, NetList, Node, NodeId } from '@devp2p/enode';
import {
  BUCKET_SIZE,
  checkRelayIp,
  DistinctNetSet,
  MAX_FINDNODE_FAILURES,
  MAX_REPLACEMENTS,
  N_BUCKETS,
  Table,
} from '../src/index.ts';

const keys = Array.from({ length: 400 }, () => publicKeyFromPrivate(generatePrivateKey()));
let next = 0;
const node = (ip: string, udp = 30303): Node => Node.fromPublicKey(keys[next++ % keys.length]!, { ip, udp, tcp: udp });

function fixture(): { table: Table; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  let seed = 1;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const self = NodeId.fromPublicKey(publicKeyFromPrivate(generatePrivateKey()));
  return { table: new Table(self, { clock: { now: () => clock.now }, random, pingIntervalMs: 1_000 }), clock };
}

/** Public nodes in distinct /24s, falling into `bucket`. */
function nodesInBucket(table: Table, bucket: number, count: number): Node[] {
  const out: Node[] = [];
  for (let i = 0; out.length < count; i++) {
    const key = publicKeyFromPrivate(generatePrivateKey());
    const n = Node.fromPublicKey(key, { ip: `${20 + (i >> 8)}.${i & 0xff}.${out.length}.1`, udp: 30303 });
    if (table.bucketIndex(n.id) === bucket) out.push(n);
  }
  return out;
}

describe('Table', () => {
  it('has 17 buckets by log distance, everything at 240 or closer in the first', () => {
    const { table } = fixture();
    assert.equal(N_BUCKETS, 17);
    for (let i = 0; i < 50; i++) {
      const n = node('8.8.8.8');
      const d = logDistance(table.self, n.id);
      assert.equal(table.bucketIndex(n.id), d <= 240 ? 0 : d - 240);
    }
    assert.equal(table.bucketIndex(table.self), 0);
  });

  it('fills a bucket to 16, then keeps 10 replacements; a removed node is replaced from them', () => {
    const { table } = fixture();
    const nodes = nodesInBucket(table, 16, BUCKET_SIZE + MAX_REPLACEMENTS + 3);
    for (const n of nodes) table.addFoundNode(n);
    const b = table.bucket(16);
    assert.equal(b.entries.length, BUCKET_SIZE);
    assert.equal(b.replacements.length, MAX_REPLACEMENTS);
    assert.ok(table.delete(nodes[0]!.id));
    assert.equal(table.bucket(16).entries.length, BUCKET_SIZE, 'refilled from the replacements');
    assert.equal(table.bucket(16).replacements.length, MAX_REPLACEMENTS - 1);
    assert.equal(table.get(nodes[0]!.id), undefined);
  });

  it('rejects itself and nodes without a UDP endpoint; adding twice keeps one entry', () => {
    const { table } = fixture();
    const n = node('8.8.4.4');
    assert.ok(table.addFoundNode(n));
    assert.equal(table.addFoundNode(n), false);
    assert.equal(table.size, 1);
    assert.equal(table.addFoundNode(Node.fromPublicKey(keys[399]!)), false);
  });

  it('allows 2 nodes per /24 per bucket and 10 per /24 in the table; LAN and loopback are exempt', () => {
    const { table } = fixture();
    let added = 0;
    for (let i = 0; i < 200; i++) if (table.addFoundNode(node(`50.60.70.${i + 1}`))) added++;
    assert.ok(added <= 10, `${added} from one /24`);
    for (let b = 0; b < N_BUCKETS; b++) {
      const per = new Map<string, number>();
      for (const n of table.bucket(b).entries) {
        const key = n.ip!.split('.').slice(0, 3).join('.');
        per.set(key, (per.get(key) ?? 0) + 1);
      }
      for (const count of per.values()) assert.ok(count <= 2);
    }
    const lan = fixture().table;
    let lanAdded = 0;
    for (let i = 0; i < 100; i++) if (lan.addFoundNode(node('127.0.0.1', 2000 + i))) lanAdded++;
    assert.ok(lanAdded > 10, `${lanAdded} loopback nodes`);
  });

  it('closest() sorts by distance and prefers validated nodes', () => {
    const { table } = fixture();
    const all = Array.from({ length: 8 }, (_, i) => node(`9.${i}.1.1`));
    for (const n of all) table.addFoundNode(n);
    const target = NodeId.fromPublicKey(publicKeyFromPrivate(generatePrivateKey()));
    const got = table.closest(target, 16);
    for (let i = 1; i < got.length; i++) {
      assert.ok(logDistance(target, got[i - 1]!.id) <= logDistance(target, got[i]!.id));
    }
    const live = node('9.200.1.1');
    table.addInboundNode(live);
    assert.deepEqual(
      table.closest(target, 16, true).map((n) => n.id.hex),
      [live.id.hex],
    );
  });

  it('revalidation: failures divide liveness by 3 and remove at 0; answers move nodes to the slow list', () => {
    const { table, clock } = fixture();
    const n = node('7.7.7.7');
    table.addFoundNode(n);
    assert.ok(table.nextRevalidationTime() <= clock.now + 1_000);
    clock.now += 1_000;
    assert.deepEqual(
      table.dueForRevalidation().map((x) => x.id.hex),
      [n.id.hex],
    );
    assert.deepEqual(table.dueForRevalidation(), [], 'not twice while active');
    let entry = table.revalidated(n.id, { responded: true });
    assert.equal(entry?.livenessChecks, 1);
    assert.ok(entry?.isValidatedLive);
    for (let i = 0; i < 3; i++) entry = table.revalidated(n.id, { responded: true });
    assert.equal(entry?.livenessChecks, 4);
    entry = table.revalidated(n.id, { responded: false });
    assert.equal(entry?.livenessChecks, 1);
    assert.equal(table.revalidated(n.id, { responded: false }), undefined, 'removed');
    assert.equal(table.size, 0);
  });

  it(`drops a node after ${MAX_FINDNODE_FAILURES} FindNode failures when its bucket has enough nodes`, () => {
    const { table } = fixture();
    const nodes = nodesInBucket(table, 16, 5);
    for (const n of nodes) table.addFoundNode(n);
    table.trackRequest(nodes[0]!, MAX_FINDNODE_FAILURES - 1, []);
    assert.ok(table.get(nodes[0]!.id));
    table.trackRequest(nodes[0]!, MAX_FINDNODE_FAILURES, []);
    assert.equal(table.get(nodes[0]!.id), undefined);
    const small = fixture().table;
    const few = nodesInBucket(small, 16, 2);
    for (const n of few) small.addFoundNode(n);
    small.trackRequest(few[0]!, MAX_FINDNODE_FAILURES, []);
    assert.ok(small.get(few[0]!.id), 'kept in a small network');
  });
});

describe('netutil', () => {
  it('relay rules: loopback only from loopback, LAN only from LAN, no special networks', () => {
    assert.equal(checkRelayIp('127.0.0.1', '127.0.0.1'), undefined);
    assert.ok(checkRelayIp('8.8.8.8', '127.0.0.1'));
    assert.equal(checkRelayIp('192.168.0.1', '10.0.0.1'), undefined);
    assert.ok(checkRelayIp('8.8.8.8', '10.0.0.1'));
    assert.equal(checkRelayIp('8.8.8.8', '1.1.1.1'), undefined);
    assert.ok(checkRelayIp('8.8.8.8', '0.0.0.0'));
    assert.ok(checkRelayIp('8.8.8.8', '224.0.0.1'));
    assert.ok(checkRelayIp('8.8.8.8', '192.0.2.1'));
    assert.ok(checkRelayIp('8.8.8.8', undefined));
    assert.ok(isLan('fe80::1') && isLan('::1') && !isLan('2a00::1'));
  });

  it('NetList and DistinctNetSet', () => {
    const list = new NetList(['10.0.0.0/8', '2001:db8::/32', '192.168.1.128/25']);
    assert.ok(list.contains('10.200.0.1'));
    assert.ok(list.contains('2001:db8::5'));
    assert.ok(list.contains('192.168.1.200'));
    assert.ok(!list.contains('192.168.1.100'));
    assert.throws(() => new NetList(['10.0.0.0']), TypeError);
    const set = new DistinctNetSet(24, 2);
    assert.ok(set.add('1.2.3.4') && set.add('1.2.3.5'));
    assert.ok(!set.add('1.2.3.6'));
    assert.ok(set.add('1.2.4.1'));
    set.remove('1.2.3.4');
    assert.ok(set.add('1.2.3.7'));
  });
});
