import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionClosedError, systemClock } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { MemoryNodeDatabase, Node } from '@devp2p/enode';
import { countingClock } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import {
  BOND_EXPIRATION_MS,
  Discv4,
  decodePacket,
  encodePacket,
  MAX_PENDING_REPLIES,
  type Packet,
} from '../src/index.ts';
import { Harness, nowSeconds, sleep } from './helpers.ts';

describe('Discv4 lifecycle', () => {
  it('close() releases the socket, timers and pending replies, and fails running calls', async () => {
    const timers = countingClock();
    const silent = await Harness.create();
    const discv4 = await Discv4.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
      clock: timers,
      bootnodes: [Node.fromPublicKey(silent.publicKey, { ip: '127.0.0.1', udp: silent.socket.address.port })],
    });
    const pending = discv4.ping(
      Node.fromPublicKey(silent.publicKey, { ip: '127.0.0.1', udp: silent.socket.address.port }),
    );
    const iterator = discv4.randomNodes();
    const first = iterator.next();
    assert.ok(discv4.pendingReplies >= 1);
    const rejected = assert.rejects(pending, ConnectionClosedError);
    await discv4.close();
    await rejected;
    await first;
    assert.equal((await iterator.next()).done, true);
    assert.equal(discv4.pendingReplies, 0);
    assert.equal(discv4.activeTimers, 0);
    assert.equal(timers.active, 0, 'no timer left');
    // The port is free again.
    const again = await udpTransport.bind({ host: '127.0.0.1', port: discv4.localNode.node.udp }, () => undefined);
    await again.close();
    await silent.close();
  });

  it('randomNodes() yields nodes and ends on abort', async () => {
    const boot = await Discv4.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    const others = await Promise.all(
      [0, 1, 2].map(() =>
        Discv4.start({
          privateKey: generatePrivateKey(),
          transport: udpTransport,
          host: '127.0.0.1',
          bootnodes: [boot.self],
        }),
      ),
    );
    const controller = new AbortController();
    const seen = new Set<string>();
    for await (const n of boot.randomNodes({ signal: controller.signal })) {
      seen.add(n.id.hex);
      if (seen.size >= 2) controller.abort();
    }
    assert.ok(seen.size >= 2);
    await Promise.all([boot, ...others].map((d) => d.close()));
  });

  it('bonds expire after 24 h (injected clock); requestENR and resolve fetch the record', async () => {
    const clock = { now: Date.now() };
    const db = new MemoryNodeDatabase({ clock: { ...systemClock, now: () => clock.now } });
    const a = await Discv4.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    const b = await Discv4.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
      db,
      clock: { ...systemClock, now: () => clock.now },
    });
    const record = await a.requestENR(b.self);
    assert.ok(record.id.equals(b.localNode.id));
    assert.ok(record.record.verify());
    assert.ok(
      (await a.resolve(Node.fromPublicKey(b.localNode.publicKey, { ip: '127.0.0.1', udp: b.address.port }))).record
        .signed,
    );
    // a is bonded with b now; after 24 h (b's clock) a FindNode from the harness-like peer a is refused.
    const h = await Harness.create();
    await h.bond(b.address);
    h.send({ type: 'findnode', target: h.publicKey, expiration: nowSeconds() + 20 }, b.address);
    assert.ok(await h.next('neighbors'));
    clock.now += BOND_EXPIRATION_MS + 1;
    h.send({ type: 'findnode', target: h.publicKey, expiration: Math.floor(clock.now / 1000) + 20 }, b.address);
    assert.equal(await h.next('neighbors', 250), undefined);
    assert.ok(db.lastPongReceived(h.id, '127.0.0.1') > 0, 'the pong was recorded in the node database');
    await Promise.all([a.close(), b.close(), h.close()]);
    assert.equal(publicKeyFromPrivate(h.key).length, 64);
  });

  it(`a ping flood from ${MAX_PENDING_REPLIES + 200} identities holds pending replies at ${MAX_PENDING_REPLIES}`, async () => {
    const timers = countingClock();
    // A long reply deadline keeps every ping-back pending for the whole flood.
    const discv4 = await Discv4.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
      clock: timers,
      respTimeoutMs: 60_000,
    });
    const target = discv4.address;
    let pongs = 0;
    let pingBacks = 0;
    const flooder = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, (data) => {
      const type = decodePacket(data).packet.type;
      if (type === 'pong') pongs++;
      else if (type === 'ping') pingBacks++;
    });
    const from = { ip: '127.0.0.1', udp: flooder.address.port, tcp: 0 };
    const to = { ip: target.host, udp: target.port, tcp: 0 };
    const total = MAX_PENDING_REPLIES + 200;
    const BATCH = 50;
    for (let sent = 0; sent < total; sent += BATCH) {
      for (let i = sent; i < Math.min(total, sent + BATCH); i++) {
        const ping: Packet = { type: 'ping', version: 4, from, to, expiration: nowSeconds() + 20 };
        flooder.send(encodePacket(ping, generatePrivateKey()).bytes, target.host, target.port);
      }
      // Pace the flood to what the node answers, so the socket buffers drop nothing.
      const deadline = Date.now() + 10_000;
      while (pongs < Math.min(total, sent + BATCH) && Date.now() < deadline) await sleep(5);
    }
    assert.equal(pongs, total, 'every ping got its pong');
    assert.equal(pingBacks, MAX_PENDING_REPLIES, 'a ping back for each identity up to the bound, none past it');
    assert.equal(discv4.pendingReplies, MAX_PENDING_REPLIES);
    await discv4.close();
    await flooder.close();
    assert.equal(discv4.pendingReplies, 0);
    assert.equal(timers.active, 0, 'no timer left');
  });
});
