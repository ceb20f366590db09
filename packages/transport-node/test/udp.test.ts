import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DatagramAddress, Devp2pError } from '@devp2p/core';
import { MemoryDatagramNetwork, udpTransport } from '../src/index.ts';

describe('udpTransport', () => {
  it('binds port 0, carries datagrams both ways with source addresses, and closes idempotently', async () => {
    const got: [Uint8Array, DatagramAddress][] = [];
    const a = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, (data, from) => got.push([data, from]));
    const b = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    assert.ok(a.address.port > 0);
    b.send(Uint8Array.of(1, 2, 3), '127.0.0.1', a.address.port);
    while (got.length === 0) await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(got[0]![0], Uint8Array.of(1, 2, 3));
    assert.deepEqual(got[0]![1], { host: '127.0.0.1', port: b.address.port });
    b.send(Uint8Array.of(1), '::1', 1); // the wrong family for this socket: dropped, never thrown
    await Promise.all([a.close(), a.close(), b.close()]);
    b.send(Uint8Array.of(1), '127.0.0.1', 1);
  });

  it('a datagram sent right after one to a closed port still arrives (Bun fails that send with ECONNREFUSED)', async () => {
    let received = 0;
    const sender = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    const listener = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => received++);
    const gone = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    const gonePort = gone.address.port;
    await gone.close();
    const rounds = 20;
    for (let i = 0; i < rounds; i++) {
      // Back to back, in one turn: the port-unreachable report for the first is pending when the second is sent.
      sender.send(Uint8Array.of(1), '127.0.0.1', gonePort);
      sender.send(Uint8Array.of(2), '127.0.0.1', listener.address.port);
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 2_000;
    while (received < rounds && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(received, rounds);
    await Promise.all([sender.close(), listener.close()]);
  });

  it('rejects a port in use with ERR_LISTEN', async () => {
    const a = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    await assert.rejects(
      udpTransport.bind({ host: '127.0.0.1', port: a.address.port }, () => undefined),
      (err: unknown) => err instanceof Devp2pError && err.code === 'ERR_LISTEN',
    );
    await a.close();
  });

  it('MemoryDatagramNetwork delivers by address and drops to unbound ones', async () => {
    const net = new MemoryDatagramNetwork();
    const got: DatagramAddress[] = [];
    const a = await net.bind({ host: '10.0.0.1', port: 30303 }, () => undefined);
    const b = await net.bind({ host: '10.0.0.2', port: 0 }, (_data, from) => got.push(from));
    a.send(Uint8Array.of(1), '10.0.0.2', b.address.port);
    a.send(Uint8Array.of(1), '10.0.0.3', 1);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [{ host: '10.0.0.1', port: 30303 }]);
    await assert.rejects(net.bind({ host: '10.0.0.1', port: 30303 }, () => undefined));
    await Promise.all([a.close(), b.close()]);
  });
});
