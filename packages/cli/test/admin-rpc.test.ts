import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { LocalNode, type Node } from '@devp2p/enode';
import { ping } from '@devp2p/plugin-ping';
import { createServer } from '@devp2p/server';
import { until } from '@devp2p/test-utils';
import {
  type AdminBackend,
  HTTP_BODY_LIMIT,
  handleRpcBody,
  handleRpcRequest,
  hostAllowed,
  MAX_BATCH_ITEMS,
  originAllowed,
  RPC_ERROR,
  startAdminRpc,
} from '../src/admin-rpc.ts';
import { HTTP_DEADLINE_CHECK_MS, HTTP_TIMEOUTS, MAX_HTTP_CONNECTIONS } from '../src/http-server.ts';

function fakeBackend(): AdminBackend & { calls: string[] } {
  const calls: string[] = [];
  const record =
    (name: string) =>
    (node: string | Node): void => {
      calls.push(`${name} ${typeof node === 'string' ? node : node.id.hex}`);
    };
  return {
    calls,
    peerCount: 2,
    name: 'devp2p.ts/test',
    datadir: '/data/node',
    nodeInfo: () => ({ id: 'ab' }) as unknown as ReturnType<AdminBackend['nodeInfo']>,
    peersInfo: () => [],
    addPeer: record('add'),
    removePeer: record('remove'),
    addTrustedPeer: record('addTrusted'),
    removeTrustedPeer: record('removeTrusted'),
  };
}

const key = new LocalNode(generatePrivateKey());
const enode = `enode://${Buffer.from(key.publicKey).toString('hex')}@127.0.0.1:30303`;
const call = (method: string, params?: unknown, id: unknown = 1) => ({ jsonrpc: '2.0', id, method, params });
const code = (r: unknown) => (r as { error: { code: number } }).error.code;

describe('admin JSON-RPC: requests to responses', () => {
  it('answers the admin and net methods in geth shapes', async () => {
    const backend = fakeBackend();
    assert.deepEqual(await handleRpcRequest(backend, call('net_peerCount')), { jsonrpc: '2.0', id: 1, result: '0x2' });
    assert.deepEqual(await handleRpcRequest(backend, call('net_listening', [])), {
      jsonrpc: '2.0',
      id: 1,
      result: true,
    });
    assert.deepEqual(await handleRpcRequest(backend, call('admin_nodeInfo', [], 'x')), {
      jsonrpc: '2.0',
      id: 'x',
      result: { id: 'ab' },
    });
    assert.deepEqual(await handleRpcRequest(backend, call('admin_peers')), { jsonrpc: '2.0', id: 1, result: [] });
    const result = async (method: string) =>
      ((await handleRpcRequest(backend, call(method))) as { result?: unknown }).result;
    assert.deepEqual(await result('rpc_modules'), { admin: '1.0', net: '1.0', rpc: '1.0', web3: '1.0' });
    assert.equal(await result('web3_clientVersion'), 'devp2p.ts/test');
    assert.equal(await result('admin_datadir'), '/data/node');
    const memoryOnly = { ...backend, datadir: undefined };
    assert.equal(code(await handleRpcRequest(memoryOnly, call('admin_datadir'))), RPC_ERROR.serverError);
    for (const method of ['admin_addPeer', 'admin_removePeer', 'admin_addTrustedPeer', 'admin_removeTrustedPeer']) {
      assert.deepEqual(await handleRpcRequest(backend, call(method, [enode])), { jsonrpc: '2.0', id: 1, result: true });
    }
    assert.deepEqual(
      backend.calls,
      ['add', 'remove', 'addTrusted', 'removeTrusted'].map((c) => `${c} ${key.id.hex}`),
    );
  });

  it('maps bad requests to JSON-RPC errors and never throws', async () => {
    const backend = fakeBackend();
    assert.deepEqual(await handleRpcBody(backend, '{"jsonrpc":'), {
      jsonrpc: '2.0',
      id: null,
      error: { code: RPC_ERROR.parseError, message: 'parse error' },
    });
    for (const bad of ['1', '"x"', 'null', '{}', '{"jsonrpc":"1.0","id":1,"method":"net_listening"}']) {
      assert.equal(code(await handleRpcBody(backend, bad)), RPC_ERROR.invalidRequest, bad);
    }
    assert.equal(
      code(await handleRpcRequest(backend, { jsonrpc: '2.0', id: {}, method: 'x' })),
      RPC_ERROR.invalidRequest,
    );
    assert.equal(code(await handleRpcRequest(backend, { jsonrpc: '2.0', id: 1, method: 5 })), RPC_ERROR.invalidRequest);
    assert.equal(code(await handleRpcBody(backend, '[]')), RPC_ERROR.invalidRequest, 'empty batch');
    const tooMany = JSON.stringify(Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => call('net_listening')));
    assert.equal(code(await handleRpcBody(backend, tooMany)), RPC_ERROR.invalidRequest, 'batch too large');
    const unknown = await handleRpcRequest(backend, call('eth_blockNumber', [], 7));
    assert.deepEqual(unknown, {
      jsonrpc: '2.0',
      id: 7,
      error: { code: RPC_ERROR.methodNotFound, message: 'the method eth_blockNumber does not exist/is not available' },
    });
    assert.equal(code(await handleRpcRequest(backend, call('__proto__'))), RPC_ERROR.methodNotFound);
    assert.equal(code(await handleRpcRequest(backend, call('toString'))), RPC_ERROR.methodNotFound);

    const invalidEnode = (await handleRpcRequest(backend, call('admin_addPeer', ['enode://zz@1.2.3.4:1']))) as {
      error: { code: number; message: string };
    };
    assert.equal(invalidEnode.error.code, RPC_ERROR.invalidParams);
    assert.match(invalidEnode.error.message, /^invalid argument 0: .+/);
    for (const params of [[], [1], [enode, enode], { enode }, 'x']) {
      assert.equal(code(await handleRpcRequest(backend, call('admin_addPeer', params))), RPC_ERROR.invalidParams);
    }
    assert.equal(code(await handleRpcRequest(backend, call('net_peerCount', [1]))), RPC_ERROR.invalidParams);
    assert.deepEqual(backend.calls, [], 'nothing was called with bad params');

    const failing: AdminBackend = {
      ...fakeBackend(),
      addPeer: () => {
        throw new Error('server stopped');
      },
    };
    assert.deepEqual(await handleRpcRequest(failing, call('admin_addPeer', [enode])), {
      jsonrpc: '2.0',
      id: 1,
      error: { code: RPC_ERROR.internalError, message: 'server stopped' },
    });
  });

  it('answers batches in order, skipping notifications', async () => {
    const backend = fakeBackend();
    const body = JSON.stringify([
      call('net_peerCount', [], 1),
      { jsonrpc: '2.0', method: 'net_listening' },
      call('nope', [], 2),
      42,
    ]);
    assert.deepEqual(await handleRpcBody(backend, body), [
      { jsonrpc: '2.0', id: 1, result: '0x2' },
      {
        jsonrpc: '2.0',
        id: 2,
        error: { code: RPC_ERROR.methodNotFound, message: 'the method nope does not exist/is not available' },
      },
      { jsonrpc: '2.0', id: null, error: { code: RPC_ERROR.invalidRequest, message: 'invalid request' } },
    ]);
    assert.equal(await handleRpcBody(backend, '{"jsonrpc":"2.0","method":"net_listening"}'), undefined);
    assert.equal(await handleRpcBody(backend, '[{"jsonrpc":"2.0","method":"net_listening"}]'), undefined);
  });
});

interface HttpReply {
  readonly status: number;
  readonly body: string;
}

function post(port: number, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST') {
  return new Promise<HttpReply>((resolve, reject) => {
    // A connection of its own (no keep-alive agent): the server closes the one of a refused request.
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: '/',
        agent: false,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        const done = (): void => resolve({ status: res.statusCode ?? 0, body: text });
        res.on('end', done);
        res.on('error', done);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('admin JSON-RPC over HTTP on 127.0.0.1', () => {
  it('serves a real server and rejects malformed, oversized and non-JSON requests', async () => {
    const server = createServer({ privateKey: generatePrivateKey(), listenAddr: null, protocols: [ping] });
    await server.start();
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', sink: (r) => lines.push(JSON.stringify(r)) });
    const rpc = await startAdminRpc(server, { host: '127.0.0.1', port: 0, logger });
    try {
      const { port } = rpc.address;
      assert.ok(port > 0);
      assert.ok(lines.some((l) => l.includes('HTTP server started') && l.includes(`127.0.0.1:${port}`)));

      const ok = await post(port, JSON.stringify(call('admin_nodeInfo')));
      assert.equal(ok.status, 200);
      const info = JSON.parse(ok.body).result;
      assert.equal(info.enode, server.self.toEnodeUrl());
      assert.deepEqual(info.protocols, { png: server.nodeInfo().protocols.png });

      const malformed = await post(port, '{"jsonrpc":"2.0","id":1,"method":');
      assert.equal(malformed.status, 200);
      assert.deepEqual(JSON.parse(malformed.body), {
        jsonrpc: '2.0',
        id: null,
        error: { code: RPC_ERROR.parseError, message: 'parse error' },
      });
      assert.equal((await post(port, Buffer.from([0xff, 0xfe, 0x00]))).status, 200, 'binary garbage: a parse error');
      assert.equal((await post(port, '{}', { 'content-type': 'text/plain' })).status, 415);
      assert.equal((await post(port, '', {}, 'GET')).status, 405);
      // Refused: a 413, or the connection reset while the client was still sending the body.
      const big = await post(port, Buffer.alloc(HTTP_BODY_LIMIT + 1, 0x20)).catch((e: Error) => e);
      assert.ok(big instanceof Error || big.status === 413, `oversized body refused: ${JSON.stringify(big)}`);
      const chunked = await post(port, Buffer.alloc(HTTP_BODY_LIMIT + 1, 0x20), {
        'transfer-encoding': 'chunked',
      }).catch((e: Error) => e);
      assert.ok(chunked instanceof Error || chunked.status === 413, 'oversized chunked body refused');
      // Still serving after all of that.
      const count = await post(port, JSON.stringify(call('net_peerCount')));
      assert.equal(JSON.parse(count.body).result, '0x0');
    } finally {
      await rpc.close();
      await server.close();
    }
  });
});

/** One raw HTTP/1.1 exchange (`Connection: close`), so the test controls every header, Host included. */
function rawHttp(port: number, head: string[], body = ''): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [headers = '', rest = ''] = text.split('\r\n\r\n', 2);
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1] ?? 0),
        headers: headers.toLowerCase(),
        body: rest,
      });
    });
    const length = Buffer.byteLength(body);
    socket.write(`${[...head, `content-length: ${length}`, 'connection: close'].join('\r\n')}\r\n\r\n${body}`);
  });
}

const nodeInfoCall = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin_nodeInfo' });
const postHead = (host: string, extra: string[] = []) => [
  'POST / HTTP/1.1',
  `host: ${host}`,
  'content-type: application/json',
  ...extra,
];

const quiet = createLogger({ level: 'error', sink: () => undefined });

/**
 * How long a test waits for a deadline of 300 ms to close a connection: the runtimes check deadlines on a sweep,
 * and Bun's lands up to two sweeps late.
 */
const CUT_OFF_MS = 3_000;

/** The runtimes' own `keepAliveTimeout` default, which the idle deadline has to override. */
const RUNTIME_KEEP_ALIVE_MS = 5_000;

const keptAliveRequest = `${[...postHead('localhost'), `content-length: ${nodeInfoCall.length}`].join('\r\n')}\r\n\r\n${nodeInfoCall}`;

/** Writes `text` one byte every 50 ms, and then keeps writing header bytes, until the socket closes. */
function drip(socket: Socket, text: string): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(i < text.length ? text[i++]! : 'x');
  }, 50);
  socket.on('close', () => clearInterval(timer));
}

/** Connects, runs `send`, and reports when the server closed the connection and what it sent (10 s at most). */
function closedAfter(port: number, send: (socket: Socket) => void): Promise<{ ms: number; text: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let text = '';
    const socket = connect(port, '127.0.0.1', () => send(socket));
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('error', () => undefined);
    const giveUp = setTimeout(() => socket.destroy(), 10_000);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ ms: Date.now() - started, text });
    });
  });
}

describe('admin JSON-RPC: who may call it (DNS rebinding, web pages, slow clients)', () => {
  it('checks Host against the vhosts as geth does: IPs and listed names pass, other names do not', () => {
    const vhosts = ['localhost'];
    for (const host of [undefined, 'localhost', 'LOCALHOST:8545', '127.0.0.1:8545', '[::1]:8545', '::1', '10.1.2.3']) {
      assert.equal(hostAllowed(host, vhosts), true, String(host));
    }
    for (const host of ['evil.example', 'evil.example:8545', 'localhost.evil.example', 'rebind.127.0.0.1.nip.io']) {
      assert.equal(hostAllowed(host, vhosts), false, host);
    }
    assert.equal(hostAllowed('evil.example', ['*']), true);
    assert.equal(originAllowed(undefined, []), true, 'no Origin: not a browser');
    assert.equal(originAllowed('http://evil.example', []), false);
    assert.equal(originAllowed('HTTP://LOCALHOST:3000', ['http://localhost:3000']), true);
    assert.equal(originAllowed('http://evil.example', ['*']), true);
  });

  it('refuses a foreign Host and a foreign Origin with 403, answers localhost, and handles CORS preflights', async () => {
    const backend = fakeBackend();
    const logger = createLogger({ level: 'error', sink: () => undefined });
    const rpc = await startAdminRpc(backend, {
      host: '127.0.0.1',
      port: 0,
      logger,
      corsOrigins: ['http://localhost:3000'],
    });
    try {
      const { port } = rpc.address;
      const local = await rawHttp(port, postHead(`localhost:${port}`), nodeInfoCall);
      assert.equal(local.status, 200);
      assert.equal(JSON.parse(local.body).result.id, 'ab');
      assert.equal((await rawHttp(port, postHead(`127.0.0.1:${port}`), nodeInfoCall)).status, 200);

      const rebinding = await rawHttp(
        port,
        postHead(`evil.example:${port}`),
        JSON.stringify(call('admin_addPeer', [enode])),
      );
      assert.equal(rebinding.status, 403);
      assert.match(rebinding.body, /invalid host specified/);
      assert.deepEqual(backend.calls, [], 'the refused call did nothing');

      const page = await rawHttp(port, postHead('localhost', ['origin: http://evil.example']), nodeInfoCall);
      assert.equal(page.status, 403);
      assert.match(page.body, /origin http:\/\/evil\.example not allowed/);

      const allowed = await rawHttp(port, postHead('localhost', ['origin: http://localhost:3000']), nodeInfoCall);
      assert.equal(allowed.status, 200);
      assert.match(allowed.headers, /access-control-allow-origin: http:\/\/localhost:3000/);

      const preflight = [
        'OPTIONS / HTTP/1.1',
        'host: localhost',
        'access-control-request-method: POST',
        'access-control-request-headers: content-type',
      ];
      const ok = await rawHttp(port, [...preflight, 'origin: http://localhost:3000']);
      assert.equal(ok.status, 204);
      assert.match(ok.headers, /access-control-allow-origin: http:\/\/localhost:3000/);
      assert.match(ok.headers, /access-control-allow-methods: post/);
      assert.match(ok.headers, /access-control-allow-headers: content-type/);
      const refused = await rawHttp(port, [...preflight, 'origin: http://evil.example']);
      assert.equal(refused.status, 403);
      assert.doesNotMatch(refused.headers, /access-control-allow-origin/);
    } finally {
      await rpc.close();
    }
  });

  it("answers any Host with vhosts '*'", async () => {
    const rpc = await startAdminRpc(fakeBackend(), {
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'error', sink: () => undefined }),
      vhosts: ['*'],
    });
    try {
      assert.equal((await rawHttp(rpc.address.port, postHead('evil.example'), nodeInfoCall)).status, 200);
    } finally {
      await rpc.close();
    }
  });

  it("cuts off slow headers, a body that never comes and an idle connection; geth's 30 s / 120 s by default", async () => {
    assert.deepEqual(HTTP_TIMEOUTS, { readHeaderMs: 30_000, readMs: 30_000, writeMs: 30_000, idleMs: 120_000 });
    assert.equal(HTTP_DEADLINE_CHECK_MS, 1_000);
    // Each deadline on its own: the others are far beyond the cut-off.
    const headers = await startAdminRpc(fakeBackend(), {
      host: '127.0.0.1',
      port: 0,
      logger: quiet,
      timeouts: { readHeaderMs: 300, readMs: 60_000, idleMs: 300 },
    });
    const body = await startAdminRpc(fakeBackend(), {
      host: '127.0.0.1',
      port: 0,
      logger: quiet,
      timeouts: { readMs: 300 },
    });
    try {
      // One header byte every 50 ms, without end: only the header deadline stops it.
      const slow = await closedAfter(headers.address.port, (socket) =>
        drip(socket, `${postHead('localhost').join('\r\n')}\r\n`),
      );
      assert.ok(slow.ms < CUT_OFF_MS, `slow headers cut off after ${slow.ms} ms`);
      const idle = await closedAfter(headers.address.port, (socket) => socket.write(keptAliveRequest));
      assert.ok(idle.ms < CUT_OFF_MS, `idle connection closed after ${idle.ms} ms`);
      assert.match(idle.text, /^HTTP\/1\.1 200 /, 'answered before it was closed');
      const noBody = await closedAfter(body.address.port, (socket) =>
        socket.write(`${[...postHead('localhost'), 'content-length: 10'].join('\r\n')}\r\n\r\n`),
      );
      assert.ok(noBody.ms < CUT_OFF_MS, `missing body cut off after ${noBody.ms} ms`);
    } finally {
      await headers.close();
      await body.close();
    }
  });

  it('cuts off slow headers of the next request on a kept-alive connection at the header deadline', async () => {
    const rpc = await startAdminRpc(fakeBackend(), {
      host: '127.0.0.1',
      port: 0,
      logger: quiet,
      timeouts: { readHeaderMs: 300, readMs: 60_000, idleMs: 60_000 },
    });
    try {
      const second = await closedAfter(rpc.address.port, (socket) => {
        socket.write(keptAliveRequest);
        socket.once('data', () => drip(socket, `${postHead('localhost').join('\r\n')}\r\n`));
      });
      assert.match(second.text, /^HTTP\/1\.1 200 /);
      assert.ok(second.ms < CUT_OFF_MS, `second request's slow headers cut off after ${second.ms} ms`);
    } finally {
      await rpc.close();
    }
  });

  it("keeps an idle kept-alive connection open for the idle deadline, past the runtimes' 5 s default", async () => {
    const rpc = await startAdminRpc(fakeBackend(), { host: '127.0.0.1', port: 0, logger: quiet });
    const socket = connect(rpc.address.port, '127.0.0.1');
    try {
      let text = '';
      let closed = false;
      socket.on('data', (d: Buffer) => {
        text += d.toString();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        closed = true;
      });
      const answers = (n: number): Promise<void> =>
        until(() => (text.match(/HTTP\/1\.1 200 /g) ?? []).length >= n && text.endsWith('\n'), 5_000, `answer ${n}`);
      socket.write(keptAliveRequest);
      await answers(1);
      // Node, Bun and Deno close an idle connection 5 s (+1 s) after a response unless told otherwise.
      await new Promise((resolve) => setTimeout(resolve, RUNTIME_KEEP_ALIVE_MS + 1_500));
      assert.equal(closed, false, 'still open after the default');
      socket.write(keptAliveRequest);
      await answers(2);
    } finally {
      socket.destroy();
      await rpc.close();
    }
  });

  it('closes a connection whose client does not take the response within the write deadline', async () => {
    const big = Array.from({ length: 32 * 1024 }, () => 'x'.repeat(1024));
    const backend = { ...fakeBackend(), peersInfo: () => big as unknown as ReturnType<AdminBackend['peersInfo']> };
    const rpc = await startAdminRpc(backend, {
      host: '127.0.0.1',
      port: 0,
      logger: quiet,
      timeouts: { writeMs: 300 },
    });
    try {
      const peers = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin_peers' });
      const received = await new Promise<number>((resolve) => {
        const socket = connect(rpc.address.port, '127.0.0.1');
        let bytes = 0;
        // Reads nothing past the write deadline (32 MiB outruns the socket buffers), then everything there is.
        socket.pause();
        const resume = setTimeout(() => {
          socket.on('data', (d: Buffer) => {
            bytes += d.length;
          });
          socket.resume();
        }, 1_500);
        const giveUp = setTimeout(() => socket.destroy(), 20_000);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(resume);
          clearTimeout(giveUp);
          resolve(bytes);
        });
        socket.write(`${[...postHead('localhost'), `content-length: ${peers.length}`].join('\r\n')}\r\n\r\n${peers}`);
      });
      assert.ok(received < 32 * 1024 * 1024, `the response was cut off after ${received} bytes`);
    } finally {
      await rpc.close();
    }
  });

  it('caps concurrent connections: surplus ones are closed at once, and room frees when clients leave', async () => {
    assert.equal(MAX_HTTP_CONNECTIONS, 64);
    const rpc = await startAdminRpc(fakeBackend(), {
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'error', sink: () => undefined }),
      maxConnections: 4,
    });
    const held: ReturnType<typeof connect>[] = [];
    try {
      // Clients in the middle of a request: Bun reports a connection only once bytes arrive, so on Bun a silent
      // socket escapes the cap (as it escapes server.maxConnections) until the header deadline closes it.
      for (let i = 0; i < 4; i++) {
        await new Promise<void>((resolve) => {
          const socket = connect(rpc.address.port, '127.0.0.1', () =>
            socket.write('POST / HTTP/1.1\r\n', () => resolve()),
          );
          socket.on('error', () => undefined);
          held.push(socket);
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const surplus = await rawHttp(rpc.address.port, postHead('localhost'), nodeInfoCall).catch(() => ({ status: 0 }));
      assert.equal(surplus.status, 0, 'the fifth connection got no answer');
      for (const socket of held.splice(0)) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal((await rawHttp(rpc.address.port, postHead('localhost'), nodeInfoCall)).status, 200);
    } finally {
      for (const socket of held) socket.destroy();
      await rpc.close();
    }
  });
});
