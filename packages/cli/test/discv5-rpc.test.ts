import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bytesToHex, silentLogger, utf8ToBytes } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { Discv5, N_BUCKETS } from '@devp2p/discovery';
import { Enr, logDistance, Node } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';
import { WebSocket } from 'ws';
import {
  type AdminBackend,
  handleRpcBody,
  handleRpcRequest,
  RPC_ERROR,
  RPC_TIMEOUT_MARGIN_MS,
  servedModules,
  startAdminRpc,
} from '../src/admin-rpc.ts';
import { DISCV5_RPC_METHODS, Discv5Rpc, MAX_FINDNODE_RPC_DISTANCES } from '../src/discv5-rpc.ts';
import { rpc as httpRpc, runCommand, startNodeProcess, until } from './node-process.ts';

const SPEC_METHODS = [
  'discv5_nodeInfo',
  'discv5_updateNodeInfo',
  'discv5_routingTableInfo',
  'discv5_addEnr',
  'discv5_getEnr',
  'discv5_deleteEnr',
  'discv5_lookupEnr',
  'discv5_ping',
  'discv5_findNode',
  'discv5_talkReq',
  'discv5_recursiveFindNodes',
];

const server = {
  nodeInfo: () => ({ id: 'ab' }) as unknown as ReturnType<AdminBackend['nodeInfo']>,
  peersInfo: () => [],
  addPeer: () => undefined,
  removePeer: () => undefined,
  addTrustedPeer: () => undefined,
  removeTrustedPeer: () => undefined,
  peerCount: 0,
  name: 'devp2p.ts/test',
};

const ALL_MODULES = ['admin', 'discv5', 'net', 'rpc', 'web3'];

function backendOf(discv5: Discv5Rpc | undefined, modules: readonly string[] = ALL_MODULES): AdminBackend {
  return { ...server, discv5, modules };
}

let nextId = 1;

/** Calls one method; resolves with the whole response. */
async function call(backend: AdminBackend, method: string, params?: unknown) {
  const response = await handleRpcRequest(backend, { jsonrpc: '2.0', id: nextId++, method, params });
  return response as { result?: unknown; error?: { code: number; message: string } };
}

/** Calls one method; its result, or a failed assertion with the error. */
async function result(backend: AdminBackend, method: string, params?: unknown): Promise<unknown> {
  const response = await call(backend, method, params);
  assert.equal(response.error, undefined, `${method}: ${JSON.stringify(response.error)}`);
  return response.result;
}

/** Calls one method and checks its error code (and message). */
async function fails(backend: AdminBackend, method: string, params: unknown, code: number, message?: RegExp) {
  const response = await call(backend, method, params);
  assert.ok(response.error, `${method}(${JSON.stringify(params)}) should fail, got ${JSON.stringify(response)}`);
  assert.equal(response.error.code, code, `${method}(${JSON.stringify(params)}): ${response.error.message}`);
  if (message) assert.match(response.error.message, message, `${method}(${JSON.stringify(params)})`);
}

const startDiscv5 = (bootnodes: readonly Node[] = []): Promise<Discv5> =>
  Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1', bootnodes });

const hex = (text: string): string => `0x${bytesToHex(utf8ToBytes(text))}`;

describe('discv5_* JSON-RPC methods (the Portal JSON-RPC spec) against two discv5 nodes on 127.0.0.1', () => {
  it('serves every method of the spec', () => {
    assert.deepEqual([...DISCV5_RPC_METHODS], SPEC_METHODS);
  });

  it('answers each method with the shapes of the spec', async () => {
    const a = await startDiscv5();
    const b = await startDiscv5();
    b.registerTalkProtocol('echo', (request) => Uint8Array.of(...request, 0xff));
    const api = new Discv5Rpc(a);
    const backend = backendOf(api);
    try {
      const bEnr = b.self.record.toText();
      const bId = `0x${b.self.id.hex}`;

      assert.deepEqual(await result(backend, 'discv5_nodeInfo'), {
        enr: a.self.record.toText(),
        nodeId: `0x${a.self.id.hex}`,
      });
      assert.deepEqual(await result(backend, 'rpc_modules'), {
        admin: '1.0',
        discv5: '1.0',
        net: '1.0',
        rpc: '1.0',
        web3: '1.0',
      });

      // PING: B's record seq and our address as B saw it.
      assert.deepEqual(await result(backend, 'discv5_ping', [bEnr]), {
        enrSeq: Number(b.self.seq),
        recipientIP: '127.0.0.1',
        recipientPort: a.address.port,
      });

      // The table: B goes in by its record, and shows in its bucket.
      assert.equal(await result(backend, 'discv5_addEnr', [bEnr]), true);
      const info = (await result(backend, 'discv5_routingTableInfo')) as { localNodeId: string; buckets: string[][] };
      assert.equal(info.localNodeId, `0x${a.self.id.hex}`);
      assert.equal(info.buckets.length, N_BUCKETS);
      assert.deepEqual(info.buckets[a.table.bucketIndex(b.self.id)], [bId]);
      assert.equal(info.buckets.flat().length, 1);
      assert.equal(await result(backend, 'discv5_getEnr', [bId]), bEnr);
      assert.equal(await result(backend, 'discv5_getEnr', [b.self.id.hex]), bEnr, 'without 0x too');
      assert.equal(await result(backend, 'discv5_getEnr', [`0x${a.self.id.hex}`]), a.self.record.toText());

      // FINDNODE: B's own record at distance 0, A at their distance (B met A in the PING's handshake).
      assert.deepEqual(await result(backend, 'discv5_findNode', [bEnr, [0]]), [bEnr]);
      const distance = logDistance(a.self.id, b.self.id);
      const found = (await result(backend, 'discv5_findNode', [bEnr, [distance, 0]])) as string[];
      assert.ok(found.includes(a.self.record.toText()), JSON.stringify(found));
      assert.ok(found.includes(bEnr));

      // TALKREQ: hex in, hex out; an unknown protocol gets the empty TALKRESP.
      assert.equal(await result(backend, 'discv5_talkReq', [bEnr, hex('echo'), '0x0102']), '0x0102ff');
      assert.equal(await result(backend, 'discv5_talkReq', [bEnr, hex('nobody'), '0x']), '0x');

      // Lookups: B is the closest to its own id, and its newest record is found by id alone.
      const closest = (await result(backend, 'discv5_recursiveFindNodes', [bId])) as string[];
      assert.equal(closest[0], bEnr, JSON.stringify(closest));
      assert.equal(await result(backend, 'discv5_lookupEnr', [bId]), bEnr);

      // Out of the table again; a second delete finds nothing.
      assert.equal(await result(backend, 'discv5_deleteEnr', [bId]), true);
      assert.equal(await result(backend, 'discv5_deleteEnr', [bId]), false);
      await fails(backend, 'discv5_getEnr', [bId], RPC_ERROR.serverError, /not in the local routing table/);

      // Our record's endpoint, as a Portal client sets it.
      const before = a.self.seq;
      const updated = (await result(backend, 'discv5_updateNodeInfo', ['127.0.0.1:9000'])) as Record<string, string>;
      assert.deepEqual(updated, {
        enr: a.self.record.toText(),
        nodeId: `0x${a.self.id.hex}`,
        localNodeId: `0x${a.self.id.hex}`,
      });
      const record = Enr.decodeText(updated.enr!);
      assert.equal(record.udp, 9000);
      assert.equal(record.ip, '127.0.0.1');
      assert.ok(record.seq > before);
      await result(backend, 'discv5_updateNodeInfo', ['127.0.0.1:9001', true]);
      assert.equal(a.self.record.tcp, 9001);
      assert.equal(api.running, 0, 'nothing left running');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('answers bad params with -32602 and a message naming the argument', async () => {
    const a = await startDiscv5();
    const backend = backendOf(new Discv5Rpc(a));
    try {
      const enr = a.self.record.toText();
      const id = `0x${a.self.id.hex}`;
      const bad = RPC_ERROR.invalidParams;
      await fails(backend, 'discv5_nodeInfo', [1], bad, /too many arguments, want at most 0/);
      await fails(backend, 'discv5_ping', [], bad, /missing value for required argument 0/);
      await fails(backend, 'discv5_ping', [null], bad, /missing value for required argument 0/);
      await fails(backend, 'discv5_ping', [42], bad, /invalid argument 0: expected an ENR string/);
      await fails(backend, 'discv5_ping', ['enr:not-base64!'], bad, /^invalid argument 0: /);
      await fails(backend, 'discv5_ping', [enr, enr], bad, /too many arguments, want at most 1/);
      await fails(backend, 'discv5_ping', { enr }, bad, /non-array args/);
      const noAddress = Enr.create({}, 1n).sign(generatePrivateKey()).toText();
      await fails(backend, 'discv5_ping', [noAddress], bad, /no IP address and UDP port/);
      await fails(backend, 'discv5_findNode', [enr], bad, /missing value for required argument 1/);
      for (const distances of [[], [257], [-1], [1.5], ['256'], 'x', Array(MAX_FINDNODE_RPC_DISTANCES + 1).fill(1)]) {
        await fails(backend, 'discv5_findNode', [enr, distances], bad, /invalid argument 1: expected an array of 1 to/);
      }
      await fails(backend, 'discv5_talkReq', [enr, hex('echo')], bad, /missing value for required argument 2/);
      await fails(backend, 'discv5_talkReq', [enr, 'zz', '0x'], bad, /invalid argument 1: .*protocol id/);
      await fails(backend, 'discv5_talkReq', [enr, hex('echo'), '0x123'], bad, /invalid argument 2: .*odd length/);
      await fails(backend, 'discv5_talkReq', [enr, 5, '0x'], bad, /invalid argument 1: expected protocol id as a hex/);
      for (const method of ['discv5_getEnr', 'discv5_deleteEnr', 'discv5_lookupEnr', 'discv5_recursiveFindNodes']) {
        await fails(backend, method, ['0x1234'], bad, /invalid argument 0: expected a node id/);
        await fails(backend, method, [`${id}00`], bad, /invalid argument 0: expected a node id/);
        await fails(backend, method, [], bad, /missing value for required argument 0/);
      }
      await fails(backend, 'discv5_addEnr', [`enode://${'ab'.repeat(64)}@127.0.0.1:30303`], bad, /expected an ENR/);
      await fails(backend, 'discv5_addEnr', [enr], bad, /our own record/);
      await fails(backend, 'discv5_addEnr', [noAddress], bad, /no IP address and UDP port/);
      for (const addr of ['localhost:9000', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 5]) {
        await fails(backend, 'discv5_updateNodeInfo', [addr], bad, /invalid argument 0/);
      }
      await fails(backend, 'discv5_updateNodeInfo', ['127.0.0.1:9000', 'yes'], bad, /invalid argument 1: expected a b/);
      // The error quotes the bad address, cut short: a 1 MiB argument does not come back as a 1 MiB error.
      const huge = await call(backend, 'discv5_updateNodeInfo', ['9'.repeat(1 << 20)]);
      assert.equal(huge.error?.code, bad);
      assert.ok(huge.error!.message.length <= 1_025, `a ${huge.error!.message.length}-character error message`);
      assert.equal(a.self.record.udp, a.address.port, 'nothing was changed by a bad call');
    } finally {
      await a.close();
    }
  });

  it('fails with -32000 when the node does not answer in time, and with -32005 over the limit', async () => {
    const a = await startDiscv5();
    const silent = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    const api = new Discv5Rpc(a, { timeoutMs: 300, maxCalls: 1 });
    const backend = backendOf(api);
    try {
      const nobody = Enr.create({ ip: '127.0.0.1', udp: silent.address.port }, 1n).sign(generatePrivateKey());
      const started = Date.now();
      const pending = call(backend, 'discv5_talkReq', [nobody.toText(), hex('echo'), '0x']);
      await fails(backend, 'discv5_ping', [nobody.toText()], RPC_ERROR.limitExceeded, /too many discv5 requests/);
      // A method that sends nothing is not limited.
      await result(backend, 'discv5_nodeInfo');
      const late = await pending;
      assert.equal(late.error?.code, RPC_ERROR.serverError);
      assert.match(late.error!.message, /^no answer from [0-9a-f]{16} within 300 ms$/);
      assert.ok(Date.now() - started < 5_000);
      assert.equal(api.running, 0);
    } finally {
      await silent.close();
      await a.close();
    }
  });

  it('answers an HTTP batch that outlasts the write deadline with -32002 "request timed out", as geth', async () => {
    const a = await startDiscv5();
    const silent = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    const api = new Discv5Rpc(a, { timeoutMs: 30_000 });
    const writeMs = 1_500;
    const rpc = await startAdminRpc(backendOf(api), {
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      timeouts: { writeMs },
    });
    try {
      assert.equal(RPC_TIMEOUT_MARGIN_MS, 100);
      const nobody = Enr.create({ ip: '127.0.0.1', udp: silent.address.port }, 1n).sign(generatePrivateKey()).toText();
      // Each ping waits for a node that never answers: six of them take far longer than the deadline.
      const batch = [1, 2, 3, 4, 5, 6].map((id) => ({ jsonrpc: '2.0', id, method: 'discv5_ping', params: [nobody] }));
      const started = Date.now();
      const response = await fetch(`http://127.0.0.1:${rpc.address.port}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      });
      const elapsed = Date.now() - started;
      assert.equal(response.status, 200);
      const answers = (await response.json()) as { id: number; error?: { code: number; message: string } }[];
      assert.deepEqual(
        answers.map((r) => r.id),
        [1, 2, 3, 4, 5, 6],
      );
      const timedOut = answers.filter((r) => r.error?.code === -32002);
      assert.ok(timedOut.length >= 3, `${timedOut.length} calls answered as timed out`);
      for (const r of timedOut) assert.equal(r.error!.message, 'request timed out');
      assert.deepEqual(answers.at(-1)!.error, { code: -32002, message: 'request timed out' });
      assert.ok(elapsed >= writeMs - RPC_TIMEOUT_MARGIN_MS - 50 && elapsed < writeMs, `answered after ${elapsed} ms`);
      await until(() => api.running === 0, 5_000, 'the running ping cancelled');
    } finally {
      await rpc.close();
      await silent.close();
      await a.close();
    }
  });

  it('cancels a request whose client went away, over HTTP too, and frees its slot', async () => {
    const a = await startDiscv5();
    const silent = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    const api = new Discv5Rpc(a, { timeoutMs: 30_000 });
    const backend = backendOf(api);
    const rpc = await startAdminRpc(backend, { host: '127.0.0.1', port: 0, logger: silentLogger });
    try {
      const nobody = Enr.create({ ip: '127.0.0.1', udp: silent.address.port }, 1n).sign(generatePrivateKey()).toText();
      const gone = new AbortController();
      const started = Date.now();
      const pending = handleRpcRequest(
        backend,
        { jsonrpc: '2.0', id: 1, method: 'discv5_ping', params: [nobody] },
        gone.signal,
      );
      await until(() => api.running === 1, 5_000, 'the ping running');
      gone.abort();
      const answer = (await pending) as { error: { code: number; message: string } };
      assert.equal(answer.error.code, RPC_ERROR.serverError);
      assert.match(answer.error.message, /cancelled/);
      assert.ok(Date.now() - started < 5_000);
      assert.equal(api.running, 0);

      // An HTTP client that hangs up: the ping it asked for stops with it.
      const body = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'discv5_ping', params: [nobody] });
      const socket = connect(rpc.address.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST / HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      await until(() => api.running === 1, 5_000, 'the ping running');
      socket.destroy();
      await until(() => api.running === 0, 5_000, 'the ping cancelled');
      // Still serving.
      assert.equal((await call(backend, 'discv5_nodeInfo')).error, undefined);
    } finally {
      await rpc.close();
      await silent.close();
      await a.close();
    }
  });

  it('serves discv5 only where its module is enabled and discv5 runs', async () => {
    const a = await startDiscv5();
    try {
      const api = new Discv5Rpc(a);
      const notServed = backendOf(api, ['admin', 'net', 'web3']);
      await fails(
        notServed,
        'discv5_nodeInfo',
        [],
        RPC_ERROR.methodNotFound,
        /^the method discv5_nodeInfo does not exist\/is not available$/,
      );
      assert.deepEqual(servedModules(notServed), { admin: '1.0', net: '1.0', rpc: '1.0', web3: '1.0' });
      const off = backendOf(undefined);
      await fails(off, 'discv5_ping', [a.self.record.toText()], RPC_ERROR.methodNotFound, /discv5 is not running/);
      assert.equal(Object.hasOwn((await result(off, 'rpc_modules', [])) as object, 'discv5'), false);
      const onlyDiscv5 = backendOf(api, ['discv5']);
      await fails(onlyDiscv5, 'admin_peers', [], RPC_ERROR.methodNotFound);
      assert.deepEqual(await result(onlyDiscv5, 'rpc_modules'), { discv5: '1.0', rpc: '1.0' });
      await fails(onlyDiscv5, 'discv5_nope', [], RPC_ERROR.methodNotFound);
      // In a batch, each call gets its own answer.
      const batch = await handleRpcBody(
        onlyDiscv5,
        JSON.stringify([
          { jsonrpc: '2.0', id: 1, method: 'discv5_nodeInfo' },
          { jsonrpc: '2.0', id: 2, method: 'discv5_getEnr', params: ['0x12'] },
        ]),
      );
      const [first, second] = batch as unknown as [{ result: { enr: string } }, { error: { code: number } }];
      assert.equal(first.result.enr, a.self.record.toText());
      assert.equal(second.error.code, RPC_ERROR.invalidParams);
    } finally {
      await a.close();
    }
  });
});

describe('devp2p node --http.api discv5 (and --ws.api, IPC)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'devp2p-discv5-rpc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves discv5_* over HTTP and IPC when enabled, not over WebSocket without it', async () => {
    const peer = await startDiscv5();
    peer.registerTalkProtocol('echo', (request) => request);
    const proc = await startNodeProcess([
      '--datadir',
      dir,
      '--port',
      '0',
      '--bootnodes',
      '',
      '--discovery.dns',
      '',
      '--http',
      '--http.port',
      '0',
      '--http.api',
      'admin,net,rpc,web3,discv5',
      '--ws',
      '--ws.port',
      '0',
    ]);
    let ws: WebSocket | undefined;
    try {
      const modules = (await httpRpc(proc, 'rpc_modules')) as Record<string, string>;
      assert.equal(modules.discv5, '1.0');
      const info = (await httpRpc(proc, 'discv5_nodeInfo')) as { enr: string; nodeId: string };
      const self = Node.fromRecord(Enr.decodeText(info.enr));
      assert.equal(info.nodeId, `0x${self.id.hex}`);
      const enr = peer.self.record.toText();
      const pong = (await httpRpc(proc, 'discv5_ping', [enr])) as { enrSeq: number };
      assert.equal(pong.enrSeq, Number(peer.self.seq));
      assert.equal(await httpRpc(proc, 'discv5_talkReq', [enr, hex('echo'), '0xabcd']), '0xabcd');
      assert.deepEqual(await httpRpc(proc, 'discv5_findNode', [enr, [0]]), [enr]);
      await assert.rejects(httpRpc(proc, 'discv5_findNode', [enr, [300]]), /-32602 invalid argument 1/);

      // IPC serves every module.
      const ipc = join(dir, 'devp2p.ipc');
      await until(() => existsSync(ipc), 10_000, 'the IPC socket');
      const viaIpc = await runCommand(['attach', ipc, '--exec', 'discv5_nodeInfo']);
      assert.equal(viaIpc.code, 0, viaIpc.stderr);
      assert.equal(JSON.parse(viaIpc.stdout).nodeId, info.nodeId);

      // The WebSocket endpoint keeps the default modules.
      await until(() => /devp2p:cli:ws HTTP server started/.test(proc.output()), 10_000, 'the WebSocket server');
      const endpoint = /devp2p:cli:ws HTTP server started endpoint="?([\d.]+:\d+)/.exec(proc.output())![1]!;
      ws = new WebSocket(`ws://${endpoint}`);
      const answers: { id: number; result?: unknown; error?: { code: number } }[] = [];
      ws.on('message', (data) => answers.push(JSON.parse(String(data))));
      await new Promise<void>((resolve, reject) => {
        ws!.once('open', () => resolve());
        ws!.once('error', reject);
      });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'discv5_nodeInfo' }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'rpc_modules' }));
      await until(() => answers.length === 2, 5_000, 'two answers');
      assert.equal(answers.find((a) => a.id === 1)?.error?.code, RPC_ERROR.methodNotFound);
      assert.deepEqual(answers.find((a) => a.id === 2)?.result, { admin: '1.0', net: '1.0', rpc: '1.0', web3: '1.0' });
    } finally {
      ws?.close();
      assert.ok(await proc.stop(), proc.output());
      await peer.close();
    }
  });

  it('says so when --http.api names discv5 and discv5 is off', async () => {
    const proc = await startNodeProcess([
      '--datadir',
      join(dir, 'off'),
      '--port',
      '0',
      '--discovery.v5=false',
      '--bootnodes',
      '',
      '--discovery.dns',
      '',
      '--ipcdisable',
      '--http',
      '--http.port',
      '0',
      '--http.api',
      'discv5,rpc',
    ]);
    try {
      assert.match(proc.output(), /--http\.api names discv5, but discv5 is off/);
      await assert.rejects(httpRpc(proc, 'discv5_nodeInfo'), /-32601 .*discv5 is not running on this node/);
      assert.deepEqual(await httpRpc(proc, 'rpc_modules'), { rpc: '1.0' });
    } finally {
      assert.ok(await proc.stop(), proc.output());
    }
  });
});
