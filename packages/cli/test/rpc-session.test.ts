import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger, TypedEventTarget } from '@devp2p/core';
import type { ServerEvents } from '@devp2p/server';
import type { AdminBackend } from '../src/admin-rpc.ts';
import { JsonValueSplitter, MAX_IPC_PATH_BYTES, startIpcRpc } from '../src/ipc-rpc.ts';
import { MAX_PENDING_NOTIFICATION_BYTES, MAX_SUBSCRIPTIONS_PER_CONNECTION, RpcSession } from '../src/rpc-session.ts';

const backend: AdminBackend = {
  nodeInfo: () => ({ id: 'ab' }) as unknown as ReturnType<AdminBackend['nodeInfo']>,
  peersInfo: () => [],
  addPeer: () => undefined,
  removePeer: () => undefined,
  addTrustedPeer: () => undefined,
  removeTrustedPeer: () => undefined,
  peerCount: 0,
  name: 'devp2p.ts/test',
};

function harness() {
  const events = new TypedEventTarget<ServerEvents>();
  const sent: unknown[] = [];
  let pending = 0;
  let closedWith: string | undefined;
  const session = new RpcSession(backend, events, {
    send: (text) => sent.push(JSON.parse(text)),
    pendingBytes: () => pending,
    close: (reason) => {
      closedWith = reason;
    },
  });
  const peer = { id: 'aa'.repeat(32), localAddress: '127.0.0.1:1', remoteAddress: '127.0.0.1:2' };
  return {
    events,
    sent,
    session,
    peer: peer as unknown as ServerEvents['peer:added']['peer'],
    setPending: (n: number) => {
      pending = n;
    },
    closedWith: () => closedWith,
  };
}

describe('RpcSession: admin_subscribe("peerEvents")', () => {
  it("pushes geth's PeerEvents until unsubscribed", async () => {
    const h = harness();
    await h.session.handle(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin_subscribe', params: ['peerEvents'] }),
    );
    const { result: id } = h.sent[0] as { result: string };
    assert.match(id, /^0x[0-9a-f]{16}$/);
    h.events.emit('peer:added', { peer: h.peer });
    h.events.emit('peer:message', {
      peer: h.peer,
      direction: 'received',
      protocol: 'eth',
      version: 69,
      code: 2,
      size: 40,
    });
    assert.deepEqual(h.sent.slice(1), [
      {
        jsonrpc: '2.0',
        method: 'admin_subscription',
        params: {
          subscription: id,
          result: { type: 'add', peer: 'aa'.repeat(32), local: '127.0.0.1:1', remote: '127.0.0.1:2' },
        },
      },
      {
        jsonrpc: '2.0',
        method: 'admin_subscription',
        params: {
          subscription: id,
          result: { type: 'msgrecv', peer: 'aa'.repeat(32), protocol: 'eth', msgcode: 2, msgsize: 40 },
        },
      },
    ]);
    await h.session.handle(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'admin_unsubscribe', params: [id] }));
    assert.deepEqual(h.sent.at(-1), { jsonrpc: '2.0', id: 2, result: true });
    h.events.emit('peer:added', { peer: h.peer });
    assert.equal(h.sent.length, 4, 'nothing after unsubscribing');
    assert.equal(h.session.subscriptions, 0);
  });

  it('refuses unknown subscriptions and more than the limit, and answers plain methods and batches', async () => {
    const h = harness();
    await h.session.handle(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin_subscribe', params: ['newHeads'] }));
    assert.equal((h.sent[0] as { error: { code: number } }).error.code, -32601);
    for (let i = 0; i <= MAX_SUBSCRIPTIONS_PER_CONNECTION; i++) {
      await h.session.handle(
        JSON.stringify({ jsonrpc: '2.0', id: 10 + i, method: 'admin_subscribe', params: ['peerEvents'] }),
      );
    }
    assert.equal(h.session.subscriptions, MAX_SUBSCRIPTIONS_PER_CONNECTION);
    assert.equal((h.sent.at(-1) as { error: { code: number } }).error.code, -32000);
    await h.session.handle(
      '[{"jsonrpc":"2.0","id":"a","method":"web3_clientVersion"},{"jsonrpc":"2.0","id":"b","method":"nope"}]',
    );
    const batch = h.sent.at(-1) as { id: string; result?: string; error?: unknown }[];
    assert.deepEqual(batch[0], { jsonrpc: '2.0', id: 'a', result: 'devp2p.ts/test' });
    assert.ok(batch[1]!.error);
    await h.session.handle('{not json');
    assert.equal((h.sent.at(-1) as { error: { code: number } }).error.code, -32700);
    h.session.close();
    h.events.emit('peer:added', { peer: h.peer });
    assert.equal(h.session.subscriptions, 0);
  });

  it('closes a client that does not read, instead of queueing without bound', async () => {
    const h = harness();
    await h.session.handle(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin_subscribe', params: ['peerEvents'] }),
    );
    h.setPending(MAX_PENDING_NOTIFICATION_BYTES + 1);
    const before = h.sent.length;
    h.events.emit('peer:added', { peer: h.peer });
    assert.equal(h.sent.length, before, 'nothing more queued');
    assert.match(h.closedWith() ?? '', /slow/);
    assert.equal(h.session.subscriptions, 0);
  });
});

describe('JsonValueSplitter (IPC framing)', () => {
  it('splits values across chunks, with or without separators, minding strings', () => {
    const split = new JsonValueSplitter(1_000);
    assert.deepEqual(split.push('{"a":"}{"}{"b'), ['{"a":"}{"}']);
    assert.deepEqual(split.push('":["\\"]"]}  \n[1,'), ['{"b":["\\"]"]}']);
    assert.deepEqual(split.push('2]{}'), ['[1,2]', '{}']);
  });

  it('refuses what is not a stream of objects and arrays, and values over the limit', () => {
    assert.throws(() => new JsonValueSplitter(1_000).push('123'), RangeError);
    assert.throws(() => new JsonValueSplitter(10).push(`{"a":"${'x'.repeat(20)}`), RangeError);
  });
});

describe('startIpcRpc', () => {
  it('refuses a path too long for a Unix socket instead of binding a truncated one', async () => {
    const path = `/tmp/${'x'.repeat(MAX_IPC_PATH_BYTES)}/devp2p.ipc`;
    const events = new TypedEventTarget<ServerEvents>();
    await assert.rejects(
      startIpcRpc(backend, events, { path, logger: silentLogger }),
      /longer than a Unix socket allows/,
    );
  });
});
