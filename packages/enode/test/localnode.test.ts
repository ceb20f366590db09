import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rlpEncode, silentLogger } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import {
  Enr,
  EnrError,
  FileNodeDatabase,
  IPTRACK_MIN_STATEMENTS,
  IPTRACK_WINDOW_MS,
  IpTracker,
  LocalNode,
  MemoryNodeDatabase,
  Node,
  NodeId,
} from '../src/index.ts';
import { fakeClock, tempDir } from './helpers.ts';

const temp = tempDir();
after(temp.cleanup);

const key = generatePrivateKey();
const T0 = 1_700_000_000_000;

describe('LocalNode: record and sequence number', () => {
  it('starts from the time in ms when nothing is stored, and signs lazily', () => {
    const db = new MemoryNodeDatabase();
    const local = new LocalNode(key, { db, clock: { now: () => T0 } });
    assert.equal(local.id.hex, NodeId.fromPublicKey(publicKeyFromPrivate(key)).hex);
    assert.equal(local.seq, BigInt(T0));
    const node = local.node;
    assert.equal(node.seq, BigInt(T0) + 1n);
    assert.equal(local.seq, BigInt(T0) + 1n);
    assert.equal(db.localSeq(local.id), BigInt(T0) + 1n, 'stored when signed');
    assert.ok(node.record.verify());
    assert.equal(node.id.hex, local.id.hex);
    assert.equal(local.node, node, 'unchanged: the same record, no new signature');
    assert.ok(Node.fromRecord(Enr.decode(node.record.encode())).id.equals(local.id));
  });

  it('bumps the sequence number once per batch of changes, and not for no-op sets', () => {
    const local = new LocalNode(key, { clock: { now: () => T0 } });
    const first = local.node.seq;
    local.set({ tcp: 30303 });
    local.set({ tcp: 30304, plugin: [1, 'x'] });
    const second = local.node;
    assert.equal(second.seq, first + 1n);
    assert.equal(second.record.tcp, 30304);
    assert.deepEqual(second.record.get('plugin'), rlpEncode([1, 'x']));
    local.set({ tcp: 30304 });
    assert.equal(local.node, second, 'setting the same value changes nothing');
    local.delete('plugin');
    assert.equal(local.node.seq, first + 2n);
    assert.equal(local.node.record.has('plugin'), false);
    assert.deepEqual(local.get('tcp'), rlpEncode(30304));
  });

  it('refuses managed keys and records over 300 bytes without changing anything', () => {
    const local = new LocalNode(key, { clock: { now: () => T0 } });
    const before = local.node;
    for (const k of ['ip', 'ip6', 'udp', 'udp6', 'id', 'secp256k1']) {
      assert.throws(() => local.set({ [k]: 1 }), TypeError, k);
    }
    assert.throws(
      () => local.set({ big: new Uint8Array(200) }),
      (err: unknown) => err instanceof EnrError && err.message.includes('300'),
    );
    assert.equal(local.node, before);
    // Right at the limit is fine.
    let size = 0;
    for (let n = 100; n < 250; n++) {
      try {
        local.set({ big: new Uint8Array(n) });
        size = local.node.record.size;
      } catch {
        break;
      }
    }
    assert.ok(size > 290 && size <= 300, `the largest accepted record is ${size} bytes`);
  });

  it('never goes back in sequence across restarts (seq kept in the node database)', () => {
    const dir = join(temp.dir, 'restart');
    let clock = T0;
    const open = () => FileNodeDatabase.open(dir, { clock: fakeClock() });
    let db = open();
    let local = new LocalNode(key, { db, clock: { now: () => clock } });
    local.set({ tcp: 1 });
    for (let i = 0; i < 5; i++) {
      local.set({ tcp: 2 + i });
      void local.node;
    }
    const last = local.seq;
    db.close();
    // The clock went backwards (NTP step, a new machine): the stored seq still wins.
    clock = T0 - 60_000;
    db = open();
    local = new LocalNode(key, { db, clock: { now: () => clock } });
    assert.equal(local.seq, last);
    assert.ok(local.node.seq > last);
    db.close();
  });
});

describe('LocalNode: endpoint', () => {
  const peers = (n: number, offset = 0) =>
    Array.from({ length: n }, (_, i) => ({ ip: `198.51.100.${offset + i + 1}`, port: 30303 }));

  it('uses fallbacks until enough peers agree, then the majority endpoint', () => {
    let clock = T0;
    const local = new LocalNode(key, { clock: { now: () => clock } });
    local.setFallbackIp('127.0.0.1');
    local.setFallbackUdp(30303);
    assert.deepEqual([local.node.ip, local.node.udp], ['127.0.0.1', 30303]);
    const liars = peers(3, 100);
    for (const from of liars) local.udpEndpointStatement(from, { ip: '192.0.2.66', port: 1 });
    for (const from of peers(IPTRACK_MIN_STATEMENTS - 1))
      local.udpEndpointStatement(from, { ip: '203.0.113.7', port: 40404 });
    assert.equal(local.node.ip, '127.0.0.1', 'not enough statements yet');
    local.udpEndpointStatement({ ip: '198.51.100.99', port: 1 }, { ip: '203.0.113.7', port: 40404 });
    assert.deepEqual([local.node.ip, local.node.udp], ['203.0.113.7', 40404]);
    assert.equal(local.node.record.ip, '203.0.113.7');
    // Statements age out of the window: back to the fallback.
    clock += IPTRACK_WINDOW_MS + 1;
    local.udpEndpointStatement({ ip: '198.51.100.200', port: 1 }, { ip: '203.0.113.7', port: 40404 });
    assert.equal(local.node.ip, '127.0.0.1');
  });

  it('keeps a static IP whatever peers say, per address family', () => {
    const local = new LocalNode(key, { clock: { now: () => T0 } });
    local.setStaticIp('203.0.113.1');
    local.setFallbackUdp(30303);
    for (const from of peers(20)) local.udpEndpointStatement(from, { ip: '192.0.2.2', port: 5555 });
    assert.equal(local.node.record.ip, '203.0.113.1');
    local.setStaticIp('2001:db8::9');
    assert.equal(local.node.record.ip6, '2001:db8::9');
    assert.equal(local.node.record.ip, '203.0.113.1');
    assert.equal(local.node.record.udp6, undefined, 'udp6 only when it differs from udp');
    for (const from of peers(20)) local.udpEndpointStatement(from, { ip: '2001:db8::1234', port: 7777 });
    assert.equal(local.node.record.ip6, '2001:db8::9');
  });

  it('never throws at the packet handler when a prediction would overflow the record', () => {
    const local = new LocalNode(key, { clock: { now: () => T0 }, logger: silentLogger });
    for (let n = 200; n > 0; n--) {
      try {
        local.set({ big: new Uint8Array(n) });
        break;
      } catch {
        // too big still: try one byte less
      }
    }
    const full = local.node;
    assert.ok(full.record.size > 290);
    for (const from of peers(IPTRACK_MIN_STATEMENTS)) {
      local.udpEndpointStatement(from, { ip: '2001:db8::1:2:3:4', port: 30303 });
    }
    assert.equal(local.node, full, 'the record is unchanged');
    assert.throws(() => local.setStaticIp('2001:db8::5'), EnrError, 'an explicit call does throw');
    assert.equal(local.node, full, 'and changes nothing');
    local.delete('big');
    assert.equal(local.node.record.ip6, '2001:db8::1:2:3:4', 'the prediction applies once there is room');
  });

  it('ignores malformed statements (network input)', () => {
    const local = new LocalNode(key, { clock: { now: () => T0 } });
    const before = local.node;
    local.udpEndpointStatement({ ip: 'garbage', port: 1 }, { ip: '203.0.113.7', port: 1 });
    local.udpEndpointStatement({ ip: '198.51.100.1', port: 1 }, { ip: '203.0.113.7', port: 0 });
    local.udpEndpointStatement({ ip: '198.51.100.1', port: 1 }, { ip: '203.0.113.999', port: 1 });
    local.udpContact({ ip: '', port: 1 });
    assert.equal(local.node, before);
    assert.throws(() => local.setStaticIp('nope'), TypeError);
    assert.throws(() => local.setFallbackUdp(70000), RangeError);
  });
});

describe('IpTracker', () => {
  it('counts one vote per host and predicts the majority', () => {
    let clock = 0;
    const tracker = new IpTracker({ minStatements: 3, clock: { now: () => clock } });
    tracker.addStatement('h1', { ip: '1.1.1.1', port: 1 });
    tracker.addStatement('h1', { ip: '1.1.1.1', port: 1 });
    tracker.addStatement('h1', { ip: '1.1.1.1', port: 1 });
    assert.equal(tracker.predictEndpoint(), undefined, 'one host, three statements: one vote');
    tracker.addStatement('h2', { ip: '1.1.1.1', port: 1 });
    tracker.addStatement('h3', { ip: '1.1.1.1', port: 1 });
    tracker.addStatement('h4', { ip: '2.2.2.2', port: 2 });
    assert.deepEqual(tracker.predictEndpoint(), { ip: '1.1.1.1', port: 1 });
    // h1..h3 change their minds.
    for (const h of ['h1', 'h2', 'h3']) tracker.addStatement(h, { ip: '2.2.2.2', port: 2 });
    assert.deepEqual(tracker.predictEndpoint(), { ip: '2.2.2.2', port: 2 });
    clock += IPTRACK_WINDOW_MS + 1;
    assert.equal(tracker.predictEndpoint(), undefined, 'old statements expire');
  });

  it('predicts full-cone NAT from statements of hosts we did not contact first', () => {
    let clock = 0;
    const tracker = new IpTracker({ clock: { now: () => clock } });
    tracker.addContact('h1');
    clock += 10;
    tracker.addStatement('h1', { ip: '1.1.1.1', port: 1 });
    assert.equal(tracker.predictFullConeNat(), false);
    tracker.addStatement('h2', { ip: '1.1.1.1', port: 1 });
    assert.equal(tracker.predictFullConeNat(), true);
  });
});
