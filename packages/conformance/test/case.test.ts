/**
 * The machinery around the cases: deadlines, aborts and crashes become results, every socket and timer a case
 * opens is released, and no case passes against a node that is not there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ByteStream, DatagramSocket, DatagramTransport, Transport } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Node } from '@devp2p/enode';
import { countingClock, repoRoot } from '@devp2p/test-utils';
import { tcpTransport, udpTransport } from '@devp2p/transport-node';
import {
  type CaseContext,
  defineCase,
  discv4Cases,
  discv5Cases,
  type NamedCaseResult,
  rlpxCases,
  runCases,
  SUITES,
  snappyRun,
} from '../src/index.ts';
import { FakeDiscv4 } from './fake-discv4.ts';
import { FakeRlpx } from './fake-rlpx.ts';

const target = Node.fromPublicKey(publicKeyFromPrivate(generatePrivateKey()), { ip: '127.0.0.1', udp: 9, tcp: 9 });

/** UDP and TCP that count what is open. */
function countingTransports(): { udp: DatagramTransport; tcp: Transport; readonly open: number } {
  const open = new Set<object>();
  const udp: DatagramTransport = {
    async bind(options, onMessage) {
      const socket = await udpTransport.bind(options, onMessage);
      open.add(socket);
      const tracked: DatagramSocket = {
        address: socket.address,
        send: (data, host, port) => socket.send(data, host, port),
        close: () => {
          open.delete(socket);
          return socket.close();
        },
      };
      return tracked;
    },
  };
  const tcp: Transport = {
    listen: (options, onStream) => tcpTransport.listen(options, onStream),
    async dial(host, port, options) {
      const stream = await tcpTransport.dial(host, port, options);
      open.add(stream);
      const tracked: ByteStream = {
        remoteAddress: stream.remoteAddress,
        localAddress: stream.localAddress,
        read: () => stream.read(),
        write: (data) => stream.write(data),
        end: () => {
          open.delete(stream);
          stream.end();
        },
        destroy: () => {
          open.delete(stream);
          stream.destroy();
        },
      };
      return tracked;
    },
  };
  return {
    udp,
    tcp,
    get open() {
      return open.size;
    },
  };
}

/** A UDP port and a TCP port with nothing behind them. */
async function deadTarget(): Promise<Node> {
  const socket = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
  const listener = await tcpTransport.listen({ host: '127.0.0.1', port: 0 }, (s) => s.destroy());
  const node = Node.fromPublicKey(publicKeyFromPrivate(generatePrivateKey()), {
    ip: '127.0.0.1',
    udp: socket.address.port,
    tcp: listener.address.port,
  });
  await socket.close();
  await listener.close();
  return node;
}

describe('running cases', () => {
  it('a case that does not finish in time fails naming what it was waiting for, and releases what it opened', async () => {
    const clock = countingClock();
    let released = false;
    const stuck = defineCase({
      name: 'Test/Stuck',
      suite: 'discv4',
      description: 'waits forever',
      spec: 'none',
      timeoutMs: 50,
      body: async (ctx: CaseContext) => {
        ctx.defer(() => {
          released = true;
        });
        ctx.step = 'waiting for Godot';
        await ctx.sleep(60_000);
        return 'never';
      },
    });
    const result = await stuck.run(target, { clock });
    assert.equal(result.pass, false);
    assert.match(result.reason, /no outcome within the 50 ms deadline \(waiting for Godot\)/);
    assert.ok(result.ms >= 50);
    assert.ok(released);
    assert.equal(clock.active, 0, 'no timer left');
  });

  it("the caller's signal ends a case as aborted; a crash is a failure with the error; a pass carries its reason", async () => {
    const controller = new AbortController();
    const waiting = defineCase({
      name: 'Test/Wait',
      suite: 'rlpx',
      description: 'waits',
      spec: 'none',
      timeoutMs: 10_000,
      body: async (ctx: CaseContext) => {
        await ctx.sleep(10_000);
        return 'slept';
      },
    });
    const pending = waiting.run(target, { signal: controller.signal });
    controller.abort();
    assert.deepEqual({ ...(await pending), ms: 0 }, { pass: false, reason: 'aborted', ms: 0 });
    const crash = defineCase({
      name: 'Test/Crash',
      suite: 'rlpx',
      description: 'throws',
      spec: 'none',
      timeoutMs: 1_000,
      body: async () => {
        throw new RangeError('boom');
      },
    });
    assert.equal((await crash.run(target)).reason, 'error: boom');
    const fine = defineCase({
      name: 'Test/Fine',
      suite: 'rlpx',
      description: 'passes',
      spec: 'none',
      timeoutMs: 1_000,
      body: async () => 'all good',
    });
    const seen: NamedCaseResult[] = [];
    const results = await runCases([crash, fine], target, { filter: /Fine/, onResult: (r) => seen.push(r) });
    assert.deepEqual(
      results.map((r) => [r.name, r.pass, r.reason]),
      [['Test/Fine', true, 'all good']],
    );
    assert.deepEqual(seen, results);
  });

  it('SUITES lists every case once, and docs/conformance.md has a row for each', () => {
    assert.deepEqual(SUITES.discv4, discv4Cases);
    assert.deepEqual(SUITES.discv5, discv5Cases);
    assert.deepEqual(SUITES.rlpx, rlpxCases);
    const doc = readFileSync(join(repoRoot, 'docs', 'conformance.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(
      rows,
      [...discv4Cases, ...discv5Cases, ...rlpxCases].map((c) => c.name),
    );
  });

  it('snappyRun builds a valid block of the asked length', async () => {
    const { snappyUncompress } = await import('@devp2p/rlpx');
    for (const length of [1, 2, 64, 65, 129, 1000]) {
      const out = snappyUncompress(snappyRun(length), 2000);
      assert.equal(out.length, length);
      assert.ok(out.every((b) => b === 0xc0));
    }
  });

  it('no case passes against a node that is not there', async () => {
    const dead = await deadTarget();
    const results = await Promise.all(
      [...discv4Cases, ...rlpxCases].map(async (c) => ({ name: c.name, ...(await c.run(dead)) })),
    );
    assert.deepEqual(
      results.filter((r) => r.pass).map((r) => r.name),
      [],
    );
  });

  it('every socket, connection and timer a case opens is released, whatever its outcome', async () => {
    const clock = countingClock();
    const transports = countingTransports();
    const discv4 = await FakeDiscv4.start(['drop-ping-wrong-to']);
    const rlpx = await FakeRlpx.start(['no-pong']);
    try {
      const options = { clock, udp: transports.udp, tcp: transports.tcp };
      // Concurrently, as each case has its own sockets and key.
      const v4 = await Promise.all(discv4Cases.map((c) => c.run(discv4.node, options)));
      const tcp = await Promise.all(rlpxCases.map((c) => c.run(rlpx.node, options)));
      assert.ok(v4.some((r) => r.pass) && v4.some((r) => !r.pass), 'both outcomes are exercised');
      assert.ok(tcp.some((r) => r.pass) && tcp.some((r) => !r.pass), 'both outcomes are exercised');
      assert.equal(transports.open, 0, 'sockets and connections open after the cases');
      assert.equal(clock.active, 0, 'timers left after the cases');
    } finally {
      await discv4.close();
      await rlpx.close();
    }
  });
});
