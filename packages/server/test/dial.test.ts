import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortError, type ByteStream, DisconnectReason, type Transport } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { Dialer, type DialOutcome } from '@devp2p/dial';
import type { Node } from '@devp2p/enode';
import { countingClock, until } from '@devp2p/test-utils';
import { tcpTransport } from '@devp2p/transport-node';
import type { Server, ServerEvents } from '../src/server.ts';
import { enodeOf, startServer } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A node source as discovery's `randomNodes()` behaves: the known nodes in random order, round after round, with a
 * pause between rounds (a lookup), until its signal aborts.
 */
function randomNodes(nodes: readonly Node[], stats: { yielded: number }) {
  return async function* (signal: AbortSignal): AsyncGenerator<Node> {
    while (!signal.aborted) {
      const order = [...nodes].sort(() => Math.random() - 0.5);
      for (const node of order) {
        if (signal.aborted) return;
        stats.yielded++;
        yield node;
      }
      await sleep(20);
    }
  };
}

function recordDials(server: Server): ServerEvents['dial'][] {
  const dials: ServerEvents['dial'][] = [];
  server.on('dial', (e) => dials.push(e));
  return dials;
}

describe('Server + Dialer on 127.0.0.1', () => {
  it('reconnects a static peer killed and restarted on the same port within the dial history backoff', async () => {
    const historyExpirationMs = 400;
    const node = await startServer({ dialer: new Dialer({ historyExpirationMs }) });
    const key = generatePrivateKey();
    let remote = await startServer({ privateKey: key });
    const port = remote.listenAddress!.port;
    const dials = recordDials(node);
    try {
      node.addPeer(enodeOf(remote));
      await until(() => node.peerCount === 1, 10_000, 'first connection');
      await remote.close();
      await until(() => node.peerCount === 0, 5_000, 'peer gone');
      await until(() => dials.some((d) => d.outcome.kind === 'refused'), 5_000, 'a failed redial while it is down');
      remote = await startServer({ privateKey: key, listenAddr: `127.0.0.1:${port}` });
      const restarted = Date.now();
      await until(() => node.peerCount === 1, 10_000, 'reconnection');
      const waited = Date.now() - restarted;
      assert.ok(waited <= historyExpirationMs + 1_000, `reconnected after ${waited} ms`);
      assert.equal(node.peers()[0]!.id, remote.id);
      assert.equal(node.peers()[0]!.static, true);
      assert.ok(dials.every((d) => d.static));
      // Paced: attempts while it was down were at least one history period apart.
      const failed = dials.filter((d) => d.outcome.kind === 'refused').length;
      assert.ok(failed >= 1 && failed <= 10, `${failed} failed attempts`);
    } finally {
      await Promise.all([node.close(), remote.close()]);
    }
  });

  it('fills exactly its outbound slots from a 30-node network, then stops dialing', async () => {
    const network = await Promise.all(Array.from({ length: 30 }, () => startServer({ noDial: true })));
    const stats = { yielded: 0 };
    const node = await startServer({
      maxPeers: 15,
      nodeSources: [
        randomNodes(
          network.map((s) => s.self),
          stats,
        ),
      ],
    });
    const dials = recordDials(node);
    try {
      assert.equal(node.maxDialedConns, 5);
      await until(() => node.peerCount === 5, 10_000, 'outbound slots filled');
      await until(() => dials.length >= 10, 10_000, 'the over-dialed surplus settled');
      await sleep(500);
      assert.equal(node.peerCount, 5, 'exactly maxDialedConns');
      assert.ok(node.peers().every((p) => !p.inbound && !p.static));
      assert.equal(dials.length, 10, 'twice the free slots were dialed, and nothing more');
      const kinds = dials.map((d) => d.outcome.kind).sort();
      assert.deepEqual(kinds, [...Array(5).fill('connected'), ...Array(5).fill('handshake-failed')].sort());
      for (const d of dials.filter((d) => d.outcome.kind === 'handshake-failed')) {
        assert.equal(
          (d.outcome as Extract<DialOutcome, { kind: 'handshake-failed' }>).reason,
          DisconnectReason.TooManyPeers,
        );
      }
      const peersInNetwork = network.reduce((sum, s) => sum + s.peerCount, 0);
      assert.equal(peersInNetwork, 5);
      const yielded = stats.yielded;
      await sleep(300);
      assert.equal(stats.yielded, yielded, 'no candidates pulled while the slots are full');

      // One peer leaves: its slot is refilled from the network (over-dialing again: 2 dials for 1 slot).
      node.peers()[0]!.disconnect(DisconnectReason.Requested);
      await until(() => dials.length >= 12, 10_000, 'refill dials');
      await until(() => node.peerCount === 5, 10_000, 'refilled');
      await sleep(300);
      assert.equal(node.peerCount, 5);
      assert.equal(dials.length, 12);
    } finally {
      await Promise.all([node.close(), ...network.map((s) => s.close())]);
    }
  });

  it('close() aborts the dials in flight and leaves no timer, socket or source running', async () => {
    const clock = countingClock();
    // Connections that never complete until aborted: every dial stays in flight.
    const pendingDials = new Set<AbortSignal>();
    const hanging: Transport = {
      listen: (options, onStream) => tcpTransport.listen(options, onStream),
      dial: (_host, _port, options) =>
        new Promise<ByteStream>((_resolve, reject) => {
          const signal = options!.signal!;
          pendingDials.add(signal);
          signal.addEventListener('abort', () => {
            pendingDials.delete(signal);
            reject(new AbortError());
          });
        }),
    };
    const network = await Promise.all(Array.from({ length: 8 }, () => startServer({ noDial: true })));
    let sourceSignal: AbortSignal | undefined;
    const stats = { yielded: 0 };
    const source = randomNodes(
      network.map((s) => s.self),
      stats,
    );
    const node = await startServer({
      maxPeers: 6,
      clock,
      transport: hanging,
      nodeSources: [
        (signal) => {
          sourceSignal = signal;
          return source(signal);
        },
      ],
    });
    node.addPeer(enodeOf(network[0]!));
    const dials = recordDials(node);
    try {
      await until(() => pendingDials.size === 4, 5_000, 'dials in flight');
      assert.ok(clock.active > 0, 'the dial deadlines and history are clock');
      await node.close();
      assert.equal(pendingDials.size, 0, 'every connection attempt aborted');
      assert.equal(dials.length, 4);
      assert.ok(dials.every((d) => d.outcome.kind === 'aborted'));
      assert.equal(clock.active, 0, 'no timer left');
      assert.equal(sourceSignal?.aborted, true, 'the node source was told to stop');
      const yielded = stats.yielded;
      await sleep(100);
      assert.equal(stats.yielded, yielded);
      assert.equal(dials.length, 4, 'nothing dialed after stop');
    } finally {
      await Promise.all([node.close(), ...network.map((s) => s.close())]);
    }
  });
});
