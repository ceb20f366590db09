/**
 * geth's `devp2p discv4 test` list (cmd/devp2p/internal/v4test), as black-box tests over UDP on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bytesToHex, type DatagramAddress } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Enr, Node, NodeId } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';
import { Discv4 } from '../src/index.ts';
import { encodeRaw, Harness, nowSeconds, sleep } from './helpers.ts';

/** How long "gets nothing" waits: past the moment any reply would have come, well below the 500 ms timeout. */
const SILENCE_MS = 250;

describe('discv4 conformance (geth v4test)', () => {
  let discv4: Discv4;
  let target: DatagramAddress;
  const harnesses: Harness[] = [];
  const harness = async (host?: string, key?: Uint8Array): Promise<Harness> => {
    const h = await Harness.create(host, key);
    harnesses.push(h);
    return h;
  };

  before(async () => {
    discv4 = await Discv4.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
      refreshRandomLookups: 0,
    });
    target = discv4.address;
    await discv4.refresh();
  });
  after(async () => {
    await discv4.close();
    for (const h of harnesses) await h.close();
  });

  it('Ping gets a Pong (reply token, our address) and a ping back', async () => {
    const h = await harness();
    const hash = h.ping(target);
    const pong = await h.next('pong');
    assert.ok(pong, 'pong');
    assert.equal(bytesToHex(pong.packet.replyToken), bytesToHex(hash));
    assert.equal(pong.packet.to.ip, '127.0.0.1');
    assert.equal(pong.packet.to.udp, h.socket.address.port);
    assert.ok(pong.id.equals(discv4.localNode.id));
    assert.equal(pong.packet.enrSeq, discv4.self.seq);
    const ping = await h.next('ping');
    assert.ok(ping, 'ping back');
    assert.equal(ping.packet.to.udp, h.socket.address.port);
  });

  it('Ping with a wrong `to` still gets a Pong', async () => {
    const h = await harness();
    h.ping(target, { to: { ip: '192.0.2.1', udp: 1, tcp: 1 } });
    assert.ok(await h.next('pong'));
  });

  it('Ping with a wrong `from` gets a Pong sent to the packet source', async () => {
    const h = await harness();
    h.ping(target, { from: { ip: '1.2.3.4', udp: 9, tcp: 9 } });
    const pong = await h.next('pong');
    assert.ok(pong);
    assert.equal(pong.packet.to.udp, h.socket.address.port);
  });

  it('Ping with extra list elements gets a Pong', async () => {
    const h = await harness();
    const data = [
      4,
      [new Uint8Array(4), 9, 9],
      [Uint8Array.of(127, 0, 0, 1), target.port, 0],
      nowSeconds() + 20,
      1,
      'x',
      [1, 2],
    ];
    h.sendRaw(encodeRaw(1, data, h.key), target);
    assert.ok(await h.next('pong'));
  });

  it('Ping with extra data after the list (and a wrong from) gets a Pong', async () => {
    const h = await harness();
    const data = [
      4,
      [Uint8Array.of(1, 2, 3, 4), 1, 1],
      [Uint8Array.of(127, 0, 0, 1), target.port, 0],
      nowSeconds() + 20,
    ];
    h.sendRaw(encodeRaw(1, data, h.key, Uint8Array.of(1, 2, 3, 4, 5, 6)), target);
    assert.ok(await h.next('pong'));
  });

  it('an expired Ping gets nothing', async () => {
    const h = await harness();
    const before = discv4.stats.dropped.expired;
    h.ping(target, { expiration: nowSeconds() - 20 });
    assert.equal(await h.next('pong', SILENCE_MS), undefined);
    assert.equal(discv4.stats.dropped.expired, before + 1);
  });

  it('an unknown packet type gets nothing', async () => {
    const h = await harness();
    const before = discv4.stats.dropped['unknown-type'];
    h.sendRaw(encodeRaw(0x20, [nowSeconds() + 20], h.key), target);
    assert.equal(await h.next('pong', SILENCE_MS), undefined);
    assert.equal(discv4.stats.dropped['unknown-type'], before + 1);
  });

  it('after bonding, a Ping with a wrong `from` gets a Pong', async () => {
    const h = await harness();
    await h.bond(target);
    h.ping(target, { from: { ip: '5.6.7.8', udp: 2, tcp: 2 } });
    assert.ok(await h.next('pong'));
  });

  it('after bonding, ENRRequest gets a valid ENRResponse', async () => {
    const h = await harness();
    await h.bond(target);
    const hash = h.send({ type: 'enrRequest', expiration: nowSeconds() + 20 }, target);
    const response = await h.next('enrResponse');
    assert.ok(response);
    assert.equal(bytesToHex(response.packet.replyToken), bytesToHex(hash));
    const node = Node.fromRecord(response.packet.record);
    assert.ok(node.id.equals(discv4.localNode.id));
    assert.equal(node.udp, target.port);
    assert.ok(Enr.decode(response.packet.record.encode()).verify());
  });

  it('ENRRequest without a bond gets nothing', async () => {
    const h = await harness();
    h.send({ type: 'enrRequest', expiration: nowSeconds() + 20 }, target);
    assert.equal(await h.next('enrResponse', SILENCE_MS), undefined);
  });

  it('FindNode without a bond gets nothing', async () => {
    const h = await harness();
    const before = discv4.stats.dropped.unbonded;
    h.send({ type: 'findnode', target: h.publicKey, expiration: nowSeconds() + 20 }, target);
    assert.equal(await h.next('neighbors', SILENCE_MS), undefined);
    assert.equal(discv4.stats.dropped.unbonded, before + 1);
  });

  it('FindNode after bonding gets Neighbors', async () => {
    const others: Harness[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await harness();
      await o.bond(target);
      others.push(o);
    }
    const h = await harness();
    await h.bond(target);
    h.send({ type: 'findnode', target: h.publicKey, expiration: nowSeconds() + 20 }, target);
    const reply = await h.next('neighbors');
    assert.ok(reply);
    const ids = reply.packet.nodes.map((n) => NodeId.fromPublicKey(n.publicKey).hex);
    for (const o of others) assert.ok(ids.includes(o.id.hex), 'bonded nodes are in the table and returned');
  });

  it('unsolicited Neighbors insert nothing', async () => {
    const h = await harness();
    await h.bond(target);
    const fake = publicKeyFromPrivate(generatePrivateKey());
    const before = discv4.stats.dropped.unsolicited;
    h.send(
      {
        type: 'neighbors',
        nodes: [{ ip: '127.0.0.1', udp: 30303, tcp: 30303, publicKey: fake }],
        expiration: nowSeconds() + 20,
      },
      target,
    );
    await sleep(50);
    assert.equal(discv4.stats.dropped.unsolicited, before + 1);
    h.send({ type: 'findnode', target: fake, expiration: nowSeconds() + 20 }, target);
    const reply = await h.next('neighbors');
    assert.ok(reply);
    assert.ok(!reply.packet.nodes.some((n) => bytesToHex(n.publicKey) === bytesToHex(fake)));
    assert.equal(discv4.table.get(NodeId.fromPublicKey(fake)), undefined);
  });

  it('an expired FindNode gets nothing', async () => {
    const h = await harness();
    await h.bond(target);
    h.send({ type: 'findnode', target: h.publicKey, expiration: nowSeconds() - 20 }, target);
    assert.equal(await h.next('neighbors', SILENCE_MS), undefined);
  });

  it('a Pong with the wrong reply token does not bond', async () => {
    const h = await harness();
    h.ping(target);
    assert.ok(await h.next('pong'));
    const pingBack = await h.next('ping');
    assert.ok(pingBack);
    h.send(
      { type: 'pong', to: h.endpoint, replyToken: new Uint8Array(32).fill(9), expiration: nowSeconds() + 20 },
      target,
    );
    await sleep(50);
    h.send({ type: 'findnode', target: h.publicKey, expiration: nowSeconds() + 20 }, target);
    assert.equal(await h.next('neighbors', SILENCE_MS), undefined);
  });

  // 127.0.0.2 is loopback on Linux (all of 127/8 is); other systems may only configure 127.0.0.1.
  it('after bonding from IP1, FindNode from the same id on IP2 gets nothing', async (t) => {
    const key = generatePrivateKey();
    const h1 = await harness('127.0.0.1', key);
    let h2: Harness;
    try {
      h2 = await harness('127.0.0.2', key);
    } catch {
      t.skip('127.0.0.2 does not bind here: only 127.0.0.1 is configured');
      return;
    }
    await h1.bond(target);
    h1.send({ type: 'findnode', target: h1.publicKey, expiration: nowSeconds() + 20 }, target);
    assert.ok(await h1.next('neighbors'), 'bonded IP gets an answer');
    h2.send({ type: 'findnode', target: h2.publicKey, expiration: nowSeconds() + 20 }, target);
    assert.equal(await h2.next('neighbors', SILENCE_MS), undefined);
  });

  it('counts and survives garbage', async () => {
    const h = await harness();
    const before = discv4.stats.received;
    h.sendRaw(new Uint8Array(2000), target);
    h.sendRaw(new Uint8Array(10), target);
    h.sendRaw(new Uint8Array(200), target);
    await sleep(50);
    assert.equal(discv4.stats.received, before + 3);
    assert.ok(discv4.stats.dropped['too-large'] >= 1);
    assert.ok(discv4.stats.dropped['too-small'] >= 1);
    assert.ok(discv4.stats.dropped['bad-hash'] >= 1);
    h.ping(target);
    assert.ok(await h.next('pong'), 'still answering');
  });
});
