import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionClosedError } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { MemoryNodeDatabase, Node } from '@devp2p/enode';
import { countingTimers } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { BOND_EXPIRATION_MS, Discv4 } from '../src/index.ts';
import { Harness, nowSeconds } from './helpers.ts';

describe('Discv4 lifecycle', () => {
  it('close() releases the socket, timers and pending replies, and fails running calls', async () => {
    const timers = countingTimers();
    const silent = await Harness.create();
    const discv4 = await Discv4.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
      timers,
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
    const db = new MemoryNodeDatabase({ now: () => clock.now });
    const a = await Discv4.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    const b = await Discv4.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
      db,
      now: () => clock.now,
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
});
