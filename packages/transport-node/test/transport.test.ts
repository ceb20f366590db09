import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortError, type ByteStream, Devp2pError } from '@devp2p/core';
import { MemoryNetwork, tcpTransport } from '../src/index.ts';

async function readAll(stream: ByteStream, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let offset = 0;
  while (offset < length) {
    const chunk = await stream.read();
    if (!chunk) throw new Error('ended early');
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

describe('tcpTransport', () => {
  it('listens on port 0, reports the real port, and carries bytes both ways with addresses', async () => {
    const accepted: ByteStream[] = [];
    const listener = await tcpTransport.listen({ host: '127.0.0.1', port: 0 }, (s) => accepted.push(s));
    assert.ok(listener.address.port > 0);
    const client = await tcpTransport.dial('127.0.0.1', listener.address.port);
    while (accepted.length === 0) await new Promise((r) => setTimeout(r, 2));
    const server = accepted[0]!;
    assert.equal(client.remoteAddress, `127.0.0.1:${listener.address.port}`);
    assert.equal(server.localAddress, `127.0.0.1:${listener.address.port}`);
    assert.equal(server.remoteAddress, client.localAddress);
    const payload = new Uint8Array(300_000).map((_, i) => i & 0xff);
    await Promise.all([
      client.write(payload),
      readAll(server, payload.length).then((got) => assert.deepEqual(got, payload)),
    ]);
    await server.write(Uint8Array.of(1, 2, 3));
    assert.deepEqual(await readAll(client, 3), Uint8Array.of(1, 2, 3));
    client.end();
    assert.equal(await server.read(), null, 'the other end sees the close');
    server.destroy();
    await listener.close();
  });

  it('rejects a refused dial with ERR_DIAL and an aborted one with AbortError', async () => {
    const listener = await tcpTransport.listen({ host: '127.0.0.1', port: 0 }, (s) => s.destroy());
    const port = listener.address.port;
    await listener.close();
    await assert.rejects(
      tcpTransport.dial('127.0.0.1', port),
      (err: unknown) => err instanceof Devp2pError && err.code === 'ERR_DIAL',
    );
    await assert.rejects(tcpTransport.dial('127.0.0.1', port, { signal: AbortSignal.abort() }), AbortError);
  });

  it('fails to listen on a port in use with ERR_LISTEN', async () => {
    const listener = await tcpTransport.listen({ host: '127.0.0.1', port: 0 }, (s) => s.destroy());
    await assert.rejects(
      tcpTransport.listen({ host: '127.0.0.1', port: listener.address.port }, () => undefined),
      (err: unknown) => err instanceof Devp2pError && err.code === 'ERR_LISTEN',
    );
    await listener.close();
  });
});

describe('MemoryNetwork', () => {
  it('connects hosts through stream pairs, with addresses as TCP would give them', async () => {
    const net = new MemoryNetwork();
    const a = net.transport('10.0.0.1');
    const b = net.transport('10.0.0.2');
    const accepted: ByteStream[] = [];
    const listener = await b.listen({ host: '10.0.0.2', port: 0 }, (s) => accepted.push(s));
    const stream = await a.dial('10.0.0.2', listener.address.port);
    assert.equal(accepted.length, 1);
    assert.equal(stream.remoteAddress, `10.0.0.2:${listener.address.port}`);
    assert.equal(accepted[0]!.remoteAddress, stream.localAddress);
    assert.match(stream.localAddress ?? '', /^10\.0\.0\.1:\d+$/);
    await stream.write(Uint8Array.of(9));
    assert.deepEqual(await accepted[0]!.read(), Uint8Array.of(9));
    await assert.rejects(
      b.listen({ host: '10.0.0.2', port: listener.address.port }, () => undefined),
      /in use/,
    );
    await listener.close();
    await assert.rejects(a.dial('10.0.0.2', listener.address.port), /connection refused/);
    await assert.rejects(a.dial('10.0.0.2', 1, { signal: AbortSignal.abort() }), AbortError);
    stream.destroy();
  });
});
