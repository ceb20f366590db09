import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AbortError,
  ConnectionClosedError,
  createLogger,
  Devp2pError,
  DisconnectError,
  DisconnectReason,
  HandshakeMismatchError,
  type LogRecord,
  ProtocolError,
  RlpError,
  silentLogger,
  TimeoutError,
  TooLargeError,
  TypedEventTarget,
  throwIfAborted,
} from '../src/index.ts';

describe('typed errors', () => {
  it('carry a stable code, their class name and the remote address', () => {
    const tooLarge = new TooLargeError('frame', 20, 10, { remoteAddress: '127.0.0.1:30303' });
    assert.ok(tooLarge instanceof ProtocolError);
    assert.ok(tooLarge instanceof Devp2pError);
    assert.equal(tooLarge.code, 'ERR_TOO_LARGE');
    assert.equal(tooLarge.name, 'TooLargeError');
    assert.equal(tooLarge.remoteAddress, '127.0.0.1:30303');
    assert.match(tooLarge.message, /frame of 20 bytes exceeds the limit of 10 \(remote 127\.0\.0\.1:30303\)/);
    assert.equal(new RlpError('x').code, 'ERR_RLP');
    assert.equal(new TimeoutError('handshake', 5000).code, 'ERR_TIMEOUT');
    assert.equal(new ConnectionClosedError().code, 'ERR_CLOSED');
    const cause = new Error('inner');
    assert.equal(new ProtocolError('ERR_X', 'bad', { cause }).cause, cause);
  });

  it('HandshakeMismatchError is a local "subprotocol error" disconnect naming the protocol and what differed', () => {
    const error = new HandshakeMismatchError('eth', 'genesis', '0xab (!= 0xcd)');
    assert.ok(error instanceof DisconnectError);
    assert.equal(error.name, 'HandshakeMismatchError');
    assert.equal(error.code, 'ERR_DISCONNECTED');
    assert.equal(error.reason, DisconnectReason.SubprotocolError);
    assert.equal(error.initiator, 'local');
    assert.equal(error.protocol, 'eth');
    assert.equal(error.mismatch, 'genesis');
    assert.equal(error.message, 'local: subprotocol error: eth status genesis mismatch: 0xab (!= 0xcd)');
  });

  it('throwIfAborted throws an AbortError carrying the reason', () => {
    const controller = new AbortController();
    throwIfAborted(controller.signal);
    controller.abort(new Error('stop'));
    assert.throws(
      () => throwIfAborted(controller.signal),
      (err: unknown) => err instanceof AbortError && (err.cause as Error).message === 'stop',
    );
  });
});

describe('TypedEventTarget', () => {
  type Events = { ping: { n: number }; other: string };

  it('delivers details, unsubscribes, and counts listeners', () => {
    const events = new TypedEventTarget<Events>();
    const seen: number[] = [];
    const off = events.on('ping', (d) => seen.push(d.n));
    assert.equal(events.listenerCount('ping'), 1);
    events.emit('ping', { n: 1 });
    off();
    off();
    events.emit('ping', { n: 2 });
    assert.deepEqual(seen, [1]);
    assert.equal(events.listenerCount('ping'), 0);
  });

  it('honours once and AbortSignal', async () => {
    const events = new TypedEventTarget<Events>();
    const seen: string[] = [];
    events.on('other', (d) => seen.push(d), { once: true });
    const controller = new AbortController();
    events.on('other', (d) => seen.push(`signal:${d}`), { signal: controller.signal });
    events.emit('other', 'a');
    controller.abort();
    events.emit('other', 'b');
    assert.deepEqual(seen, ['a', 'signal:a']);
    assert.equal(events.listenerCount('other'), 0);
    const next = events.once('ping');
    events.emit('ping', { n: 7 });
    assert.deepEqual(await next, { n: 7 });
    const aborted = new AbortController();
    const pending = events.once('ping', { signal: aborted.signal });
    aborted.abort(new Error('gone'));
    await assert.rejects(pending, /gone/);
    assert.equal(events.listenerCount('ping'), 0);
  });

  it('reports a throwing listener instead of letting it escape', () => {
    const events = new TypedEventTarget<Events>();
    const reported: string[] = [];
    events.onListenerError = (error, type) => reported.push(`${type}:${(error as Error).message}`);
    const after: number[] = [];
    events.on('ping', () => {
      throw new Error('handler bug');
    });
    events.on('ping', (d) => after.push(d.n));
    events.emit('ping', { n: 3 });
    assert.deepEqual(reported, ['ping:handler bug']);
    assert.deepEqual(after, [3]);
  });
});

describe('logger', () => {
  it('filters by level and namespaces, and passes fields to the sink', () => {
    const records: LogRecord[] = [];
    const log = createLogger({ level: 'info', debug: 'devp2p:rlpx*,-devp2p:rlpx:noisy', sink: (r) => records.push(r) });
    log.debug('hidden');
    log.info('shown', { port: 30303 });
    const rlpx = log.child('rlpx');
    rlpx.debug('rlpx debug on');
    rlpx.child('noisy').debug('excluded');
    log.child('discv4').debug('not matched');
    assert.deepEqual(
      records.map((r) => `${r.namespace} ${r.level} ${r.message}`),
      ['devp2p info shown', 'devp2p:rlpx debug rlpx debug on'],
    );
    assert.equal(records[0]?.fields?.port, 30303);
    assert.equal(rlpx.enabled('trace'), true);
    assert.equal(log.enabled('debug'), false);
  });

  it('with() adds fields to every record of the logger and its children, keeping the namespace', () => {
    const records: LogRecord[] = [];
    const root = createLogger({ level: 'info', sink: (r) => records.push(r) });
    const a = root.with({ node: 'a' });
    const b = root.with({ node: 'b' });
    a.child('server').info('up', { port: 1 });
    b.child('server').with({ extra: true }).info('up', { node: 'override' });
    root.info('plain');
    assert.deepEqual(
      records.map((r) => [r.namespace, r.fields]),
      [
        ['devp2p:server', { node: 'a', port: 1 }],
        ['devp2p:server', { node: 'override', extra: true }],
        ['devp2p', undefined],
      ],
    );
    assert.equal(silentLogger.with({ node: 'x' }).namespace, 'devp2p');
  });

  it('the silent logger emits nothing and says so', () => {
    assert.equal(silentLogger.enabled('error'), false);
    assert.equal(silentLogger.child('x').namespace, 'devp2p:x');
    silentLogger.error('nothing');
  });
});
