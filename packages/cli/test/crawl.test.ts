import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePrivateKey } from '@devp2p/crypto';
import { Discv5 } from '@devp2p/discovery';
import { Enr, Node } from '@devp2p/enode';
import { until } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { CRAWL_CONCURRENCY, type CrawlSource, crawl } from '../src/commands/crawl.ts';
import type { NodeJson } from '../src/commands/files.ts';

type Listener = Parameters<AbortSignal['addEventListener']>[1];
type AddOptions = Parameters<AbortSignal['addEventListener']>[2];
type RemoveOptions = Parameters<AbortSignal['removeEventListener']>[2];

/**
 * Counts the abort listeners on `signal` that are still registered (a `once` listener leaves when it runs), by
 * wrapping the signal's own methods: the same on every runtime.
 */
function trackListeners(signal: AbortSignal): { live(): number } {
  const live = new Map<Listener, Listener>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: Listener, options?: AddOptions) => {
    if (type !== 'abort' || listener === null || live.has(listener)) return add(type, listener, options);
    const once = typeof options === 'object' && options.once === true;
    const wrapped: Listener = once
      ? (event: Event) => {
          live.delete(listener);
          (typeof listener === 'function' ? listener : listener.handleEvent.bind(listener))(event);
        }
      : listener;
    live.set(listener, wrapped);
    add(type, wrapped, options);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((type: string, listener: Listener, options?: RemoveOptions) => {
    const wrapped = type === 'abort' && listener !== null ? live.get(listener) : undefined;
    if (wrapped === undefined) return remove(type, listener, options);
    live.delete(listener!);
    remove(type, wrapped, options);
  }) as AbortSignal['removeEventListener'];
  return { live: () => live.size };
}

const startDiscv5 = (bootnodes: readonly Node[] = []): Promise<Discv5> =>
  Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1', bootnodes });

/** A random signed record on 127.0.0.1 (nobody answers at its port). */
function randomNode(): Node {
  return Node.fromRecord(
    Enr.create({ ip: '127.0.0.1', udp: 1 + Math.floor(Math.random() * 60_000) }, 1n).sign(generatePrivateKey()),
  );
}

describe('crawl (discv4 crawl, discv5 crawl)', () => {
  it('stops at once on abort (Ctrl-C), keeps what it learnt, and leaves no abort listener behind', async () => {
    const a = await startDiscv5();
    const network = [a, await startDiscv5([a.self]), await startDiscv5([a.self])];
    const crawler = await startDiscv5();
    const ctrlC = new AbortController();
    const outer = trackListeners(ctrlC.signal);
    const inner: { live(): number }[] = [];
    const seen = new WeakSet<AbortSignal>();
    const track = (signal: AbortSignal): AbortSignal => {
      if (!seen.has(signal)) {
        seen.add(signal);
        inner.push(trackListeners(signal));
      }
      return signal;
    };
    const source: CrawlSource = {
      self: crawler.self,
      table: crawler.table,
      requestENR: (node, signal) => crawler.requestENR(node, { signal: track(signal) }),
      randomNodes: (signal) => crawler.randomNodes({ signal: track(signal) }),
      randomLookup: (signal) => crawler.lookup(randomNode().id, { signal: track(signal) }),
      neighbours: (node, signal) => crawler.findNode(node, [256, 255, 254], { signal: track(signal) }),
    };
    const set = new Map<string, NodeJson>();
    let most = 0;
    let floor = Number.POSITIVE_INFINITY;
    const sampler = setInterval(() => {
      const live = inner.reduce((n, t) => n + t.live(), 0);
      most = Math.max(most, live);
      floor = Math.min(floor, live);
    }, 5);
    /** The fewest listeners seen over `ms`: what stays registered however idle the crawl is. */
    const floorOver = async (ms: number): Promise<number> => {
      floor = Number.POSITIVE_INFINITY;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return floor;
    };
    try {
      const crawling = crawl(source, {
        seeds: [a.self],
        set,
        timeoutMs: 60_000,
        signal: ctrlC.signal,
        progress: () => {},
      });
      await until(() => set.size === network.length, 10_000, 'every node in the set');
      // Run on a while: a listener added per wait or per lookup round, and never removed, would pile up.
      const early = await floorOver(500);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const late = await floorOver(500);
      assert.ok(late <= early + 1, `listeners that stay: ${early}, then ${late} two seconds later`);
      assert.ok(most <= 4 * CRAWL_CONCURRENCY, `at most ${most} listeners at once`);
      const aborted = Date.now();
      ctrlC.abort();
      const stats = await crawling;
      assert.ok(Date.now() - aborted < 2_000, `ended ${Date.now() - aborted} ms after the abort`);
      assert.equal(stats.responded, network.length);
      assert.deepEqual([...set.keys()].sort(), network.map((n) => n.self.id.hex).sort());
      assert.equal(outer.live(), 0, "no listener left on the caller's signal");
      assert.equal(inner.length, 1, 'one signal for the whole crawl');
      assert.equal(inner[0]!.live(), 0, 'no listener left on the signal the requests got');
    } finally {
      clearInterval(sampler);
      await Promise.all([...network, crawler].map((n) => n.close()));
    }
  });

  it("ends on its deadline without touching the caller's signal further", async () => {
    const ctrlC = new AbortController();
    const outer = trackListeners(ctrlC.signal);
    const source: CrawlSource = {
      self: randomNode(),
      table: { size: 0, nodes: () => [] },
      requestENR: () => Promise.reject(new Error('no answer')),
      randomNodes: async function* () {},
      randomLookup: async () => [],
    };
    const started = Date.now();
    await crawl(source, {
      seeds: [randomNode()],
      set: new Map(),
      timeoutMs: 300,
      signal: ctrlC.signal,
      progress: () => {},
    });
    assert.ok(Date.now() - started < 2_000);
    assert.equal(outer.live(), 0);
    assert.equal(ctrlC.signal.aborted, false);
  });

  it('keeps its memory bounded when the network offers more nodes than it can check', async () => {
    // A walk that never ends and nodes that never answer: the queue fills up at once.
    const source: CrawlSource = {
      self: randomNode(),
      table: { size: 0, nodes: () => [] },
      requestENR: (_node, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        ),
      randomNodes: async function* (signal) {
        while (!signal.aborted) {
          yield randomNode();
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      },
      randomLookup: async () => Array.from({ length: 16 }, randomNode),
    };
    const stats = await crawl(source, {
      seeds: [],
      set: new Map(),
      timeoutMs: 1_000,
      maxQueue: 50,
      maxNodes: 80,
      concurrency: 4,
      progress: () => {},
    });
    assert.equal(stats.found, 54, 'the queue full, and the requests in flight');
    assert.ok(stats.skipped > 0, 'the rest was skipped');
    const capped = await crawl(source, {
      seeds: [],
      set: new Map(),
      timeoutMs: 1_000,
      maxQueue: 1_000,
      maxNodes: 80,
      progress: () => {},
    });
    assert.equal(capped.found, 80, 'no more ids remembered than maxNodes');
  });
});
