import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, TimeoutError } from '@devp2p/core';
import { Node, type NodeAddress } from '@devp2p/enode';
import {
  CANDIDATE_DISCARD_LIMIT,
  CANDIDATE_PAUSE_MS,
  DIAL_HISTORY_EXPIRATION_MS,
  DIAL_STATS_LOG_INTERVAL_MS,
  DIAL_TIMEOUT_MS,
  Dialer,
  type DialerEvents,
  type DialerOptions,
  INBOUND_THROTTLE_MS,
  INITIAL_RESOLVE_DELAY_MS,
  lookupHost,
  MAX_RESOLVE_DELAY_MS,
} from '../src/index.ts';
import { FakeHost, listSource, makeNode, makeNodes, refused } from './helpers.ts';

function setup(options: DialerOptions = {}, host: FakeHost = new FakeHost()) {
  const clock = new ManualClock(1_000_000);
  const dialer = new Dialer({ clock, ...options });
  host.scheduler = dialer;
  const events: DialerEvents['dial'][] = [];
  dialer.on('dial', (e) => events.push(e));
  return { clock, host, dialer, events };
}

function at(node: Node, address: NodeAddress): Node {
  return Node.fromPublicKey(node.publicKey!, address);
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('constants match geth', () => {
  it('has geth values', () => {
    assert.equal(DIAL_HISTORY_EXPIRATION_MS, INBOUND_THROTTLE_MS + 5_000);
    assert.equal(DIAL_HISTORY_EXPIRATION_MS, 35_000);
    assert.equal(DIAL_TIMEOUT_MS, 15_000);
    assert.equal(INITIAL_RESOLVE_DELAY_MS, 60_000);
    assert.equal(MAX_RESOLVE_DELAY_MS, 3_600_000);
    assert.equal(DIAL_STATS_LOG_INTERVAL_MS, 10_000);
  });
});

describe('Dialer: static nodes', () => {
  it('dials a static node at start and redials it after a failure once the 35 s dial history expires', async () => {
    const { clock, host, dialer, events } = setup();
    const node = makeNode({ ip: '10.0.0.1', tcp: 30303 });
    host.behaviour = () => refused;
    dialer.addStatic(node);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.dialsTo(node), 1);
    assert.equal(host.dials[0]!.options.static, true);
    assert.equal(events[0]!.outcome.kind, 'refused');
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS - 1);
    assert.equal(host.dialsTo(node), 1, 'not before the history entry expires');
    await clock.advance(1);
    assert.equal(host.dialsTo(node), 2, 'redialed at 35 s');
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS);
    assert.equal(host.dialsTo(node), 3);
    await dialer.close();
  });

  it('keeps a connected static node alone and redials it after a disconnect, paced by the history', async () => {
    const { clock, host, dialer } = setup();
    const node = makeNode({ ip: '10.0.0.2', tcp: 30303 });
    host.behaviour = () => 'connect';
    dialer.start(host);
    dialer.addStatic(node);
    await clock.flush();
    assert.equal(host.dialsTo(node), 1);
    assert.equal(dialer.status().dialedPeers, 1);
    await clock.advance(10 * MINUTE);
    assert.equal(host.dialsTo(node), 1, 'never redialed while connected');
    dialer.peerRemoved(node.id.hex);
    await clock.flush();
    assert.equal(host.dialsTo(node), 2, 'redialed at once: the last dial is long past');
    dialer.peerRemoved(node.id.hex);
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS - 1);
    assert.equal(host.dialsTo(node), 2, 'a second disconnect within 35 s of the dial waits for the history');
    await clock.advance(1);
    assert.equal(host.dialsTo(node), 3);
    await dialer.close();
  });

  it('resolves a static node with no address through discovery and dials what it finds', async () => {
    const key = makeNode();
    const found = at(key, { ip: '10.1.1.1', tcp: 30311 });
    const asked: string[] = [];
    const { clock, host, dialer, events } = setup({
      resolve: async (node) => {
        asked.push(node.id.hex);
        return found;
      },
    });
    host.behaviour = () => 'connect';
    dialer.addStatic(at(key, {}));
    dialer.start(host);
    await clock.flush();
    assert.deepEqual(asked, [key.id.hex]);
    assert.equal(host.dials.length, 1);
    assert.equal(host.dials[0]!.node.ip, '10.1.1.1');
    assert.equal(host.dials[0]!.node.tcp, 30311);
    assert.equal(events.at(-1)!.outcome.kind, 'connected');
    await dialer.close();
  });

  it('reports a static node that cannot be resolved as unresolved, without dialing', async () => {
    const { clock, host, dialer, events } = setup();
    dialer.addStatic(makeNode());
    dialer.start(host);
    await clock.flush();
    assert.equal(host.dials.length, 0);
    assert.equal(events[0]!.outcome.kind, 'unresolved');
    await dialer.close();
  });

  it('when a static address fails, looks the node up once and dials its new address in the same task', async () => {
    const key = makeNode();
    const moved = at(key, { ip: '10.1.1.2', tcp: 30303 });
    let lookups = 0;
    const { clock, host, dialer } = setup({
      resolve: async () => {
        lookups++;
        return moved;
      },
    });
    host.behaviour = (node) => (node.ip === '10.1.1.2' ? 'connect' : refused);
    dialer.addStatic(at(key, { ip: '10.9.9.9', tcp: 30303 }));
    dialer.start(host);
    await clock.flush();
    assert.deepEqual(
      host.dials.map((d) => [d.node.ip, d.outcome?.kind]),
      [
        ['10.9.9.9', 'refused'],
        ['10.1.1.2', 'connected'],
      ],
    );
    assert.equal(lookups, 1);
    dialer.peerRemoved(key.id.hex);
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS);
    assert.equal(host.dials.at(-1)!.node.ip, '10.1.1.2', 'the resolved address is kept');
    await dialer.close();
  });

  it('backs off resolution from 60 s doubling to 1 h, and resets the backoff on success', async () => {
    const key = makeNode();
    let answer: Node | undefined;
    const times: number[] = [];
    const { clock, host, dialer } = setup();
    const resolving = new Dialer({
      clock,
      resolve: async () => {
        times.push(clock.now());
        return answer;
      },
    });
    host.scheduler = resolving;
    host.behaviour = () => refused;
    const delays: number[] = [];
    resolving.on('resolve', (e) => delays.push(e.nextResolveInMs));
    resolving.addStatic(at(key, {}));
    resolving.start(host);
    await clock.advance(5 * HOUR);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const expected = [60, 120, 240, 480, 960, 1920, 3600].map((s) => s * SECOND);
    assert.ok(gaps.length >= expected.length, `${gaps.length} resolutions`);
    for (const [i, gap] of gaps.entries()) {
      const want = expected[Math.min(i, expected.length - 1)]!;
      // The node is retried each time its history entry expires (35 s), so a lookup waits its backoff plus < 35 s.
      assert.ok(gap >= want && gap < want + DIAL_HISTORY_EXPIRATION_MS, `gap ${i}: ${gap} for ${want}`);
    }
    assert.deepEqual(delays.slice(0, expected.length), expected);
    assert.equal(host.dials.length, 0, 'nothing to dial while unresolved');

    answer = at(key, { ip: '10.1.2.3', tcp: 30303 });
    await clock.advance(HOUR + DIAL_HISTORY_EXPIRATION_MS);
    assert.equal(host.dials.at(-1)!.node.ip, '10.1.2.3', 'dialed once found');
    assert.equal(delays.at(-1), INITIAL_RESOLVE_DELAY_MS, 'the backoff is reset by a success');
    answer = undefined;
    const before = times.length;
    const eventsBefore = delays.length;
    await clock.advance(3 * MINUTE);
    assert.ok(times.length > before, 'looked up again within minutes, not an hour');
    assert.equal(delays[eventsBefore], INITIAL_RESOLVE_DELAY_MS, 'first failure after a success waits 60 s');
    await Promise.all([resolving.close(), dialer.close()]);
  });

  it('resolves a host name before each dial and keeps the last address when DNS fails', async () => {
    const key = makeNode();
    const answers: (string | Error)[] = ['10.2.0.1', '10.2.0.2', new Error('ENOTFOUND')];
    const asked: string[] = [];
    const { clock, host, dialer } = setup({
      resolveHost: async (name) => {
        asked.push(name);
        const answer = answers.shift()!;
        if (answer instanceof Error) throw answer;
        return answer;
      },
    });
    host.behaviour = () => refused;
    dialer.addStatic(at(key, { hostname: 'peer.example', tcp: 30303 }));
    dialer.start(host);
    await clock.flush();
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS);
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS);
    assert.deepEqual(asked, ['peer.example', 'peer.example', 'peer.example']);
    assert.deepEqual(
      host.dials.map((d) => d.node.ip),
      ['10.2.0.1', '10.2.0.2', '10.2.0.2'],
    );
    await dialer.close();
  });

  it('removeStatic aborts the dial in flight and the node is not dialed again', async () => {
    const { clock, host, dialer, events } = setup();
    const node = makeNode({ ip: '10.0.0.3', tcp: 30303 });
    dialer.addStatic(node);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.inFlight.length, 1);
    dialer.removeStatic(node.id.hex);
    await clock.flush();
    assert.equal(events.at(-1)!.outcome.kind, 'aborted');
    await clock.advance(HOUR);
    assert.equal(host.dialsTo(node), 1);
    await dialer.close();
  });
});

describe('Dialer: dynamic dials', () => {
  it('fills maxDialedConns slots with at most 2× the free slots in flight, then stops dialing', async () => {
    const host = new FakeHost({ maxDialedConns: 3 });
    const source = listSource(makeNodes(30));
    const { clock, dialer } = setup({ nodeSources: [source] }, host);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.inFlight.length, 6, '(3 - 0 dialed peers) × 2');
    assert.ok(source.taken <= 7, `pulls only what it can dial (${source.taken})`);
    for (const dial of host.inFlight.slice(0, 2)) dial.settle({ kind: 'connected', id: dial.node.id.hex });
    await clock.flush();
    assert.equal(host.dials.length, 6, '(3 - 2) × 2 = 2 < 4 in flight: nothing new');
    host.inFlight[0]!.settle({ kind: 'connected', id: host.inFlight[0]!.node.id.hex });
    for (const dial of host.inFlight) dial.settle({ kind: 'handshake-failed', error: new Error('too many peers') });
    await clock.advance(HOUR);
    assert.equal(dialer.status().dialedPeers, 3);
    assert.equal(host.dials.length, 6, 'slots full: no more dials');
    const taken = source.taken;
    dialer.peerRemoved(host.dials[0]!.node.id.hex);
    await clock.flush();
    assert.equal(host.inFlight.length, 2, 'one slot free again: two dials');
    assert.ok(source.taken > taken);
    await dialer.close();
  });

  it('caps dials in flight at maxPendingPeers', async () => {
    const host = new FakeHost({ maxDialedConns: 10, maxPendingPeers: 4 });
    const { clock, dialer } = setup({ nodeSources: [listSource(makeNodes(30))] }, host);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.inFlight.length, 4);
    host.inFlight[0]!.settle(refused);
    await clock.flush();
    assert.equal(host.inFlight.length, 4, 'a finished dial frees its slot for the next candidate');
    assert.equal(host.dials.length, 5);
    await dialer.close();
  });

  it('static dials take slots first; dynamic candidates fill the rest', async () => {
    const host = new FakeHost({ maxDialedConns: 2 });
    const statics = makeNodes(3);
    const { clock, dialer } = setup({ nodeSources: [listSource(makeNodes(10))] }, host);
    for (const node of statics) dialer.addStatic(node);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.inFlight.length, 4);
    assert.equal(host.dials.filter((d) => d.options.static).length, 3);
    await dialer.close();
  });

  it('mixes several sources fairly, and a source that never yields blocks nobody', async () => {
    const host = new FakeHost({ maxDialedConns: 5 });
    const many = makeNodes(40);
    const fast = listSource(many.slice(0, 30), { cycle: true });
    const few = listSource(many.slice(30));
    const stuck: AsyncIterable<Node> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Node>>(() => undefined) }),
    };
    const { clock, dialer } = setup({ nodeSources: [fast, stuck, few] }, host);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.dials.length, 10);
    const fromFew = host.dials.filter((d) => many.indexOf(d.node) >= 30).length;
    assert.ok(fromFew >= 4 && fromFew <= 6, `the small source got its share: ${fromFew} of 10`);
    await dialer.close();
  });

  it('times a dial out after 15 s with a typed outcome and frees its slot', async () => {
    const host = new FakeHost({ maxDialedConns: 1 });
    const { clock, dialer, events } = setup({ nodeSources: [listSource(makeNodes(5))] }, host);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.inFlight.length, 2);
    assert.equal(host.dials[0]!.options.timeoutMs, DIAL_TIMEOUT_MS);
    await clock.advance(DIAL_TIMEOUT_MS - 1);
    assert.equal(events.length, 0);
    await clock.advance(1);
    const outcome = events[0]!.outcome;
    assert.equal(outcome.kind, 'timeout');
    assert.ok(outcome.kind === 'timeout' && outcome.error instanceof TimeoutError);
    assert.ok(host.dials[0]!.options.signal.aborted, 'the host was told to stop');
    assert.equal(host.inFlight.length, 2, 'the next candidates took the slots');
    assert.equal(host.dials.length, 4);
    await dialer.close();
  });

  it('passes each outcome through its dial event', async () => {
    const host = new FakeHost({ maxDialedConns: 3 });
    const nodes = makeNodes(3);
    const outcomes = [
      { kind: 'connected', id: nodes[0]!.id.hex },
      refused,
      { kind: 'handshake-failed', error: new Error('useless peer'), reason: 3 },
    ] as const;
    host.behaviour = (node) => outcomes[nodes.indexOf(node)]!;
    const { clock, dialer, events } = setup({ nodeSources: [listSource(nodes)] }, host);
    dialer.start(host);
    await clock.flush();
    assert.deepEqual(
      events.map((e) => [e.node, e.static, e.outcome]),
      nodes.map((n, i) => [n, false, outcomes[i]]),
    );
    await dialer.close();
  });
});

describe('Dialer: never dialed', () => {
  it('ourselves, connected nodes, nodes being dialed, pending inbound, no TCP port, outside NetRestrict', async () => {
    const self = makeNode({ ip: '10.0.0.100', tcp: 30303 });
    const host = new FakeHost({ selfId: self.id.hex, maxDialedConns: 20 });
    const [connected, dialing, inbound, restricted, ok] = [
      makeNode({ ip: '10.0.1.1', tcp: 30303 }),
      makeNode({ ip: '10.0.1.2', tcp: 30303 }),
      makeNode({ ip: '10.0.1.3', tcp: 30303 }),
      makeNode({ ip: '192.168.1.1', tcp: 30303 }),
      makeNode({ ip: '10.0.1.5', tcp: 30303 }),
    ];
    const noPort = makeNode({ ip: '10.0.1.4', udp: 30303 });
    const noAddress = makeNode();
    host.allowed = (ip) => ip.startsWith('10.');
    host.pendingInbound.add(inbound.id.hex);
    const candidates = [self, connected, dialing, dialing, inbound, noPort, noAddress, restricted, ok];
    const { clock, dialer } = setup({ nodeSources: [listSource(candidates)] }, host);
    dialer.peerAdded(connected.id.hex, true);
    dialer.start(host);
    await clock.flush();
    assert.deepEqual(
      host.dials.map((d) => d.node),
      [dialing, ok],
    );
    assert.equal(dialer.checkDial(self), 'self');
    assert.equal(dialer.checkDial(connected), 'already connected');
    assert.equal(dialer.checkDial(dialing), 'already dialing');
    assert.equal(dialer.checkDial(inbound), 'pending inbound handshake');
    assert.equal(dialer.checkDial(noPort), 'no TCP endpoint');
    assert.equal(dialer.checkDial(noAddress), 'no TCP endpoint');
    assert.equal(dialer.checkDial(restricted), 'not in netrestrict list');
    assert.equal(dialer.checkDial(noAddress, true), undefined, 'a static node without address gets resolved');
    await dialer.close();
  });

  it('static nodes that are ourselves or outside NetRestrict are never dialed', async () => {
    const self = makeNode({ ip: '10.0.0.100', tcp: 30303 });
    const host = new FakeHost({ selfId: self.id.hex });
    host.allowed = (ip) => ip.startsWith('10.');
    const { clock, dialer } = setup({}, host);
    dialer.addStatic(self);
    dialer.addStatic(makeNode({ ip: '172.16.0.1', tcp: 30303 }));
    dialer.start(host);
    await clock.advance(HOUR);
    assert.equal(host.dials.length, 0);
    await dialer.close();
  });

  it('a node dialed within the last 35 s, whatever the outcome', async () => {
    const host = new FakeHost({ maxDialedConns: 20 });
    host.behaviour = () => refused;
    const node = makeNode({ ip: '10.0.2.1', tcp: 30303 });
    let feed: ((node: Node) => void) | undefined;
    const pushed: AsyncIterable<Node> = {
      async *[Symbol.asyncIterator]() {
        for (;;) yield await new Promise<Node>((resolve) => (feed = resolve));
      },
    };
    const { clock, dialer } = setup({ nodeSources: [pushed] }, host);
    dialer.start(host);
    await clock.flush();
    feed!(node);
    await clock.flush();
    assert.equal(host.dialsTo(node), 1);
    assert.equal(dialer.checkDial(node), 'recently dialed');
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS - 1);
    feed!(node);
    await clock.flush();
    assert.equal(host.dialsTo(node), 1, 'offered again at 34.999 s: discarded');
    await clock.advance(1);
    feed!(node);
    await clock.flush();
    assert.equal(host.dialsTo(node), 2, 'offered again at 35 s: dialed');
    await dialer.close();
  });

  it('a static node in an inbound handshake is left alone, and dialed 35 s later if it did not become a peer', async () => {
    const { clock, host, dialer } = setup();
    const node = makeNode({ ip: '10.0.3.1', tcp: 30303 });
    host.pendingInbound.add(node.id.hex);
    dialer.addStatic(node);
    dialer.start(host);
    await clock.flush();
    assert.equal(host.dials.length, 0);
    host.pendingInbound.delete(node.id.hex);
    await clock.advance(DIAL_HISTORY_EXPIRATION_MS);
    assert.equal(host.dialsTo(node), 1);
    await dialer.close();
  });

  it('a source repeating discarded candidates pauses instead of spinning', async () => {
    const host = new FakeHost({ maxDialedConns: 5 });
    const connected = makeNode({ ip: '10.0.4.1', tcp: 30303 });
    const source = listSource([connected], { cycle: true });
    const { clock, dialer } = setup({ nodeSources: [source] }, host);
    dialer.peerAdded(connected.id.hex, true);
    dialer.start(host);
    await clock.flush();
    assert.ok(source.taken <= CANDIDATE_DISCARD_LIMIT + 1, `${source.taken} pulled`);
    const taken = source.taken;
    await clock.advance(CANDIDATE_PAUSE_MS);
    assert.ok(source.taken > taken, 'pulls again after the pause');
    assert.equal(host.dials.length, 0);
    await dialer.close();
  });
});

describe('Dialer: stop', () => {
  it('aborts every dial in flight, closes the sources, clears every timer, and dials nothing after', async () => {
    const host = new FakeHost({ maxDialedConns: 3 });
    let sourceSignal: AbortSignal | undefined;
    const fromSignal = (signal: AbortSignal): AsyncIterable<Node> => {
      sourceSignal = signal;
      return listSource(makeNodes(20));
    };
    const plain = listSource(makeNodes(20));
    const stuck: AsyncIterable<Node> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Node>>(() => undefined) }),
    };
    let resolving = 0;
    const { clock, dialer, events } = setup(
      {
        nodeSources: [fromSignal, plain, stuck],
        resolve: () => {
          resolving++;
          return new Promise<undefined>(() => undefined);
        },
      },
      host,
    );
    dialer.addStatic(makeNode());
    dialer.addStatic(makeNode({ ip: '10.0.5.1', tcp: 30303 }));
    dialer.start(host);
    await clock.flush();
    assert.equal(resolving, 1, 'a resolution is in flight');
    assert.equal(dialer.status().dialing, 6);
    assert.ok(clock.pendingTimers > 0);
    const hostDials = host.dials.length;
    await dialer.close();
    assert.equal(dialer.status().dialing, 0);
    assert.equal(dialer.status().running, false);
    assert.ok(
      host.dials.every((d) => d.outcome?.kind === 'aborted'),
      'every host dial ended',
    );
    assert.ok(events.every((e) => e.outcome.kind === 'aborted'));
    assert.equal(events.length, 6);
    assert.equal(clock.pendingTimers, 0, 'no timer left');
    assert.equal(sourceSignal?.aborted, true, 'a source made from a signal sees it aborted');
    await clock.flush();
    assert.equal(plain.closed, true, 'iterators are closed');
    dialer.addStatic(makeNode({ ip: '10.0.5.2', tcp: 30303 }));
    dialer.peerRemoved('00');
    await clock.advance(HOUR);
    assert.equal(host.dials.length, hostDials, 'nothing dialed after stop');
    assert.equal(clock.pendingTimers, 0);
    await dialer.close();
    assert.throws(() => dialer.start(host), /already stopped/);
  });

  it('a dialer stopped before it started resolves at once', async () => {
    const dialer = new Dialer({ clock: new ManualClock() });
    await dialer.close();
    assert.equal(dialer.status().running, false);
  });
});

describe('lookupHost (node:dns on every runtime)', () => {
  it('resolves localhost to a loopback address', async () => {
    const ip = await lookupHost('localhost');
    assert.ok(ip === '::1' || ip.startsWith('127.'), ip);
  });
});
