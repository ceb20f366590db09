import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToUtf8,
  type Clock,
  DisconnectError,
  DisconnectReason,
  defineProtocol,
  disconnectReasonText,
  isDisconnectReason,
  ManualClock,
  type MessageCodec,
  ProtocolError,
  type RawMessage,
  RequestTracker,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  silentLogger,
  systemClock,
  TimeoutError,
  TooLargeError,
  utf8ToBytes,
} from '../src/index.ts';
import { quietIO } from './quiet-io.ts';

const text: MessageCodec<string> = { encode: utf8ToBytes, decode: bytesToUtf8 };
const byte: MessageCodec<number> = {
  encode: (n) => Uint8Array.of(n),
  decode: (b) => {
    if (b.length !== 1) throw new RangeError('one byte');
    return b[0]!;
  },
};

describe('DisconnectReason', () => {
  it("has geth's codes and texts", () => {
    assert.equal(DisconnectReason.ProtocolError, 0x02);
    assert.equal(DisconnectReason.ReadTimeout, 0x0b);
    assert.equal(DisconnectReason.SubprotocolError, 0x10);
    assert.equal(disconnectReasonText(DisconnectReason.UselessPeer), 'useless peer');
    assert.equal(disconnectReasonText(0x0a), 'connected to self');
    assert.equal(disconnectReasonText(0x42), 'unknown disconnect reason 66');
    assert.ok(isDisconnectReason(0x10));
    assert.ok(!isDisconnectReason(0x0c));
    const err = new DisconnectError(DisconnectReason.TooManyPeers, 'remote');
    assert.equal(err.message, 'remote: too many peers');
    assert.equal(err.code, 'ERR_DISCONNECTED');
  });
});

describe('defineProtocol', () => {
  it('returns the Cap and the code table', () => {
    const proto = defineProtocol({
      name: 'tst',
      version: 2,
      length: 4,
      messages: { Hello: { code: 0, codec: text }, Count: { code: 3, codec: byte } },
      handlers: {
        Hello: (payload, ctx) => ctx.send('Count', payload.length),
      },
    });
    assert.deepEqual(proto.cap, { name: 'tst', version: 2 });
    assert.equal(proto.messageNames.get(3), 'Count');
    assert.equal(proto.messageNames.get(1), undefined);
  });

  it('rejects bad names, versions, lengths, codes and handlers', () => {
    const base = { version: 1, length: 2, messages: { A: { code: 0, codec: text } } };
    assert.throws(() => defineProtocol({ ...base, name: '' }), /name must be 1 to 8/);
    assert.throws(() => defineProtocol({ ...base, name: 'toolongname' }), /name must be 1 to 8/);
    assert.throws(() => defineProtocol({ ...base, name: 'é' }), TypeError);
    assert.throws(() => defineProtocol({ ...base, name: 'ok', version: -1 }), /version/);
    assert.throws(() => defineProtocol({ ...base, name: 'ok', length: 0 }), /length/);
    assert.throws(
      () => defineProtocol({ ...base, name: 'ok', messages: { A: { code: 2, codec: text } } }),
      /message A has code 2, outside 0\.\.1/,
    );
    assert.throws(
      () =>
        defineProtocol({ ...base, name: 'ok', messages: { A: { code: 1, codec: text }, B: { code: 1, codec: text } } }),
      /messages A and B share code 1/,
    );
    assert.throws(
      () => defineProtocol({ ...base, name: 'ok', handlers: { Nope: () => {} } as never }),
      /handler for unknown message Nope/,
    );
  });

  it('type-checks payloads against codecs (compile-time; checked by tsc in npm test)', () => {
    const proto = defineProtocol({
      name: 'typ',
      version: 1,
      length: 2,
      messages: { Name: { code: 0, codec: text }, Size: { code: 1, codec: byte } },
      handshake: async (ctx) => ({ remoteName: await ctx.receive('Name') }),
      handlers: {
        Size: (size, ctx) => {
          const n: number = size;
          const remote: string = ctx.state.remoteName;
          // @ts-expect-error Size carries a number, not a string
          void ctx.send('Size', 'nope');
          // @ts-expect-error no message called Other
          void ctx.send('Other', 1);
          void [n, remote];
        },
      },
    });
    assert.equal(proto.cap.name, 'typ');
  });
});

describe('RequestTracker', () => {
  it('matches responses by id and rejects unknown ids', async () => {
    const tracker = new RequestTracker<string>({ timeoutMs: 1000, maxPending: 10 });
    const a = tracker.start();
    const b = tracker.start();
    assert.equal(b.id, (a.id + 1n) & 0xffffffffffffffffn);
    assert.equal(tracker.pending, 2);
    assert.ok(tracker.deliver(b.id, 'second'));
    assert.ok(tracker.deliver(a.id, 'first'));
    assert.ok(!tracker.deliver(a.id, 'again'));
    assert.equal(await a.response, 'first');
    assert.equal(await b.response, 'second');
    assert.equal(tracker.pending, 0);
  });

  it('times out, aborts, bounds the pending count, and closes', async () => {
    const tracker = new RequestTracker<string>({ timeoutMs: 20, maxPending: 2, what: 'GetThing' });
    const slow = tracker.start();
    await assert.rejects(slow.response, (err: unknown) => err instanceof TimeoutError && /GetThing/.test(err.message));
    assert.ok(!tracker.deliver(slow.id, 'late'));

    const controller = new AbortController();
    const aborted = tracker.start(controller.signal);
    controller.abort(new Error('peer gone'));
    await assert.rejects(aborted.response, /peer gone/);

    const one = tracker.start();
    const two = tracker.start();
    assert.throws(() => tracker.start(), /more than 2 requests outstanding/);
    tracker.close(new Error('closed'));
    await assert.rejects(one.response, /closed/);
    await assert.rejects(two.response, /closed/);
    assert.throws(() => tracker.start(), /closed/);
    assert.equal(tracker.pending, 0);
  });
});

describe('Protocol.attach: the instance a server drives', () => {
  function fakeIO(incoming: { code: number; payload: Uint8Array }[] = []) {
    const sent: [number, Uint8Array][] = [];
    const disconnects: number[] = [];
    const controller = new AbortController();
    const io = {
      peer: {
        id: 'ab',
        publicKey: new Uint8Array(64),
        clientName: 'test',
        caps: [],
        remoteAddress: '127.0.0.1:1',
        localAddress: '127.0.0.1:2',
        inbound: false,
      },
      signal: controller.signal,
      log: silentLogger,
      send: async (code: number, payload: Uint8Array) => {
        sent.push([code, payload]);
      },
      receive: async () => {
        const next = incoming.shift();
        if (!next) throw new Error('no message');
        return next;
      },
      disconnect: (reason: number) => {
        disconnects.push(reason);
      },
    };
    return { io, sent, disconnects };
  }

  const echo = defineProtocol({
    name: 'echo',
    version: 3,
    length: 3,
    messages: { Name: { code: 0, codec: text }, Size: { code: 1, codec: byte } },
    handshake: async (ctx) => {
      await ctx.send('Name', 'me');
      return { remote: await ctx.receive('Name'), closedWith: -1 };
    },
    handlers: {
      Name: (name, ctx) => ctx.send('Size', name.length),
      Size: (size, ctx) => {
        if (size === 0) throw new Error('handler failure');
        if (size === 255) ctx.disconnect();
      },
    },
    onClose: (ctx, error) => {
      ctx.state.closedWith = error.reason;
    },
    peerInfo: (ctx) => ({ remote: ctx.state.remote }),
    nodeInfo: () => ({ version: 3 }),
  });

  it('runs the handshake, dispatches typed messages, and exposes the typed context', async () => {
    const { io, sent, disconnects } = fakeIO([{ code: 0, payload: utf8ToBytes('them') }]);
    const instance = echo.attach(io);
    assert.equal(instance.info(), null, 'no info before the handshake');
    await instance.start();
    assert.deepEqual(sent[0], [0, utf8ToBytes('me')]);
    await instance.deliver({ code: 0, payload: utf8ToBytes('hello') });
    assert.deepEqual(sent[1], [1, Uint8Array.of(5)]);
    assert.deepEqual(instance.info(), { remote: 'them' });
    assert.deepEqual(echo.nodeInfo(), { version: 3 });
    const ctx = echo.context(instance);
    assert.equal(ctx?.state.remote, 'them');
    await instance.deliver({ code: 1, payload: Uint8Array.of(255) });
    assert.deepEqual(disconnects, [DisconnectReason.SubprotocolError]);
    instance.close(new DisconnectError(DisconnectReason.ClientQuitting, 'remote'));
    instance.close(new DisconnectError(DisconnectReason.Requested, 'local'));
    assert.equal(ctx?.state.closedWith, DisconnectReason.ClientQuitting, 'onClose runs once');
  });

  it('reports unknown codes and undecodable payloads as ProtocolError, handler errors as they are', async () => {
    const { io } = fakeIO([{ code: 0, payload: utf8ToBytes('x') }]);
    const instance = echo.attach(io);
    await instance.start();
    await assert.rejects(instance.deliver({ code: 2, payload: new Uint8Array() }), (err: unknown) => {
      return err instanceof ProtocolError && err.code === 'ERR_UNKNOWN_MESSAGE';
    });
    await assert.rejects(instance.deliver({ code: 1, payload: Uint8Array.of(1, 2) }), (err: unknown) => {
      return err instanceof ProtocolError && err.code === 'ERR_MESSAGE_DECODE' && /Size: one byte/.test(err.message);
    });
    await assert.rejects(instance.deliver({ code: 1, payload: Uint8Array.of(0) }), /handler failure/);
  });

  it('refuses a message above the declared maxMessageSize before decoding it', async () => {
    let decoded = 0;
    const bounded = defineProtocol({
      name: 'big',
      version: 1,
      length: 1,
      maxMessageSize: 8,
      messages: {
        Blob: {
          code: 0,
          codec: {
            encode: (b: Uint8Array) => b,
            decode: (b: Uint8Array) => {
              decoded++;
              return b;
            },
          },
        },
      },
    });
    const instance = bounded.attach(fakeIO().io);
    await instance.start();
    await instance.deliver({ code: 0, payload: new Uint8Array(8) });
    await assert.rejects(instance.deliver({ code: 0, payload: new Uint8Array(9) }), (err: unknown) => {
      return err instanceof TooLargeError && err.size === 9 && err.limit === 8;
    });
    assert.equal(decoded, 1, 'the oversized message was not decoded');
    assert.throws(() => defineProtocol({ ...bounded, maxMessageSize: 0, handlers: {} }), /maxMessageSize/);
  });

  it('passes on a DisconnectError from a codec, so the codec chooses the reason', async () => {
    const limited = defineProtocol({
      name: 'lim',
      version: 1,
      length: 1,
      messages: {
        Blob: {
          code: 0,
          codec: {
            encode: (b: Uint8Array) => b,
            decode: (b: Uint8Array) => {
              if (b.length > 4) throw new DisconnectError(DisconnectReason.SubprotocolError, 'local');
              if (b.length === 0) throw new RangeError('empty');
              return b;
            },
          },
        },
      },
    });
    const instance = limited.attach(fakeIO().io);
    await instance.start();
    await assert.rejects(instance.deliver({ code: 0, payload: new Uint8Array(5) }), (err: unknown) => {
      return err instanceof DisconnectError && err.reason === DisconnectReason.SubprotocolError;
    });
    await assert.rejects(instance.deliver({ code: 0, payload: new Uint8Array(0) }), (err: unknown) => {
      return err instanceof ProtocolError && err.code === 'ERR_MESSAGE_DECODE';
    });
  });

  it('fails the handshake on an unexpected message', async () => {
    const { io } = fakeIO([{ code: 1, payload: Uint8Array.of(1) }]);
    await assert.rejects(echo.attach(io).start(), /handshake expected Name, got Size/);
    const other = defineProtocol({ name: 'other', version: 1, length: 1, messages: { A: { code: 0, codec: text } } });
    assert.equal(other.context(echo.attach(fakeIO().io)), undefined);
  });
});

describe('ProtocolContext.request: request ids and responses matched by them', () => {
  interface Query {
    readonly requestId: bigint;
    readonly what: string;
  }
  const query: MessageCodec<Query> = {
    encode: (q) => rlpEncode([q.requestId, q.what]),
    decode: (b) => {
      const [id, what] = rlpList(rlpDecode(b), 'query', 2);
      return { requestId: rlpBigUint(id, 'id', 8), what: bytesToUtf8(rlpBytes(what, 'what')) };
    },
  };
  const lookup = defineProtocol({
    name: 'look',
    version: 1,
    length: 2,
    messages: { Ask: { code: 0, codec: query }, Answer: { code: 1, codec: query } },
    requests: { Ask: 'Answer' },
    requestTimeoutMs: 200,
    maxPendingRequests: 2,
  });

  /** Two instances wired to each other, the second answering every Ask with its text reversed. */
  async function pair() {
    const links: { deliver(m: RawMessage): Promise<void> }[] = [];
    const disconnects: number[] = [];
    const make = (side: number) => ({
      peer: {
        id: `p${side}`,
        publicKey: new Uint8Array(64),
        clientName: 'test',
        caps: [],
        remoteAddress: '127.0.0.1:1',
        localAddress: '127.0.0.1:2',
        inbound: side === 1,
      },
      signal: new AbortController().signal,
      log: silentLogger,
      send: async (code: number, payload: Uint8Array) => {
        queueMicrotask(() => void links[1 - side]!.deliver({ code, payload }).catch(() => undefined));
      },
      receive: async (): Promise<RawMessage> => {
        throw new Error('no handshake');
      },
      disconnect: (reason: number) => {
        disconnects.push(reason);
      },
    });
    const asker = lookup.attach(make(0));
    const server = defineProtocol({
      ...lookup,
      handlers: {
        Ask: (q, ctx) => ctx.send('Answer', { requestId: q.requestId, what: [...q.what].reverse().join('') }),
      },
    }).attach(make(1));
    links.push(asker, server);
    await asker.start();
    await server.start();
    return { ctx: lookup.context(asker)!, asker, disconnects };
  }

  it('resolves each request with the response carrying its id, several at once', async () => {
    const { ctx } = await pair();
    const [a, b] = await Promise.all([
      ctx.request('Ask', { what: 'abc' }, 'Answer'),
      ctx.request('Ask', { what: 'xy' }, 'Answer'),
    ]);
    assert.equal(a.what, 'cba');
    assert.equal(b.what, 'yx');
    assert.notEqual(a.requestId, b.requestId);
  });

  it('times out, aborts, bounds what is outstanding, and fails what is pending when the peer goes', async () => {
    const silent = lookup.attach(quietIO());
    await silent.start();
    const ctx = lookup.context(silent)!;
    await assert.rejects(ctx.request('Ask', { what: 'a' }, 'Answer'), TimeoutError);
    const controller = new AbortController();
    const aborted = assert.rejects(ctx.request('Ask', { what: 'b' }, 'Answer', { signal: controller.signal }));
    controller.abort(new Error('stop'));
    await aborted;
    const one = assert.rejects(ctx.request('Ask', { what: 'c' }, 'Answer'), DisconnectError);
    const two = assert.rejects(ctx.request('Ask', { what: 'd' }, 'Answer'), DisconnectError);
    await assert.rejects(ctx.request('Ask', { what: 'e' }, 'Answer'), /more than 2 requests outstanding/);
    silent.close(new DisconnectError(DisconnectReason.ClientQuitting, 'remote'));
    await Promise.all([one, two]);
    // @ts-expect-error: Answer is not a request (the type check); the runtime check stands behind it.
    await assert.rejects(ctx.request('Answer', { what: 'f' }, 'Ask'), /Answer → Ask is not in requests/);
  });

  it('a late answer to a request given up on is dropped quietly; a send failure fails the request', async () => {
    let sent: Uint8Array | undefined;
    let failSends = false;
    const late = lookup.attach(
      quietIO({
        send: async (_code, payload) => {
          if (failSends) throw new Error('write queue full');
          sent = payload;
        },
      }),
    );
    await late.start();
    const ctx = lookup.context(late)!;
    await assert.rejects(ctx.request('Ask', { what: 'slow' }, 'Answer'), TimeoutError);
    const { requestId } = query.decode(sent!);
    await late.deliver({ code: 1, payload: query.encode({ requestId, what: 'wols' }) });
    failSends = true;
    await assert.rejects(ctx.request('Ask', { what: 'x' }, 'Answer'), /write queue full/);
  });

  it("hands the handshake and the handlers the server's clock (else the system's); request deadlines run on it", async () => {
    const clock = new ManualClock();
    const clocks: Clock[] = [];
    const withHandshake = defineProtocol({
      ...lookup,
      handshake: async (ctx) => {
        clocks.push(ctx.clock);
        return undefined;
      },
    });
    const manual = withHandshake.attach(quietIO({ clock }));
    const system = withHandshake.attach(quietIO());
    await manual.start();
    await system.start();
    assert.deepEqual(clocks, [clock, systemClock]);
    const ctx = withHandshake.context(manual)!;
    assert.equal(ctx.clock, clock);
    assert.equal(withHandshake.context(system)!.clock, systemClock);
    let settled = false;
    const request = ctx.request('Ask', { what: 'a' }, 'Answer').then(
      () => 'resolved',
      (error: unknown) => error,
    );
    void request.finally(() => {
      settled = true;
    });
    await clock.advance(199);
    assert.equal(settled, false, 'pending until the clock reaches requestTimeoutMs');
    await clock.advance(1);
    assert.ok((await request) instanceof TimeoutError);
  });

  it('a response to no request is a breach of protocol when nothing handles it', async () => {
    const { asker } = await pair();
    await assert.rejects(
      asker.deliver({ code: 1, payload: query.encode({ requestId: 99n, what: 'late' }) }),
      (error: unknown) => error instanceof ProtocolError && /answers no request/.test(error.message),
    );
  });
});

describe('Protocol.on: observing messages without a plugin', () => {
  it('calls listeners after the handler on every instance; a throwing listener is not fatal; off() stops it', async () => {
    const seen: string[] = [];
    const watched = defineProtocol({
      name: 'watch',
      version: 1,
      length: 1,
      messages: { Note: { code: 0, codec: text } },
      handlers: { Note: (note) => void seen.push(`handler:${note}`) },
    });
    const off = watched.on('Note', (note, ctx) => seen.push(`listener:${note}:${ctx.peer.id}`));
    watched.on('Note', () => {
      throw new Error('listener bug');
    });
    const io = {
      peer: {
        id: 'p',
        publicKey: new Uint8Array(64),
        clientName: 't',
        caps: [],
        remoteAddress: '',
        localAddress: '',
        inbound: true,
      },
      signal: new AbortController().signal,
      log: silentLogger,
      send: async () => undefined,
      receive: async (): Promise<RawMessage> => {
        throw new Error('none');
      },
      disconnect: () => undefined,
    };
    const instance = watched.attach(io);
    await instance.start();
    await instance.deliver({ code: 0, payload: utf8ToBytes('a') });
    off();
    await instance.deliver({ code: 0, payload: utf8ToBytes('b') });
    assert.deepEqual(seen, ['handler:a', 'listener:a:p', 'handler:b']);
    assert.throws(() => watched.on('Nope' as 'Note', () => undefined), /no message Nope/);
  });
});
