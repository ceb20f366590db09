/**
 * The client over the real transport-node resolver, against a UDP DNS server on 127.0.0.1 (test-utils, on
 * dns-packet): nothing here sends a packet anywhere else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AbortError, Devp2pError, TimeoutError } from '@devp2p/core';
import { countingClock, readVectorJson, until } from '@devp2p/test-utils';
import { type DnsTestServer, startDnsServer } from '@devp2p/test-utils/dns';
import { createTxtResolver } from '@devp2p/transport-node';
import {
  buildTree,
  DnsDiscError,
  type DnsDiscErrorReason,
  DnsDiscovery,
  type DnsDiscoveryOptions,
  formatEntry,
  formatRoot,
  signRoot,
  signTree,
} from '../src/index.ts';
import { ids, makeList, makeNodes, publish } from './helpers.ts';

/** Fast enough for tests; the rate limit itself has its own test. */
const FAST = { rateLimit: 1_000, timeoutMs: 1_000 };

const reason =
  (want: DnsDiscErrorReason) =>
  (error: unknown): boolean =>
    error instanceof DnsDiscError && error.reason === want;

let dns: DnsTestServer;
before(async () => {
  dns = await startDnsServer();
});
after(() => dns.close());

function client(options: Partial<DnsDiscoveryOptions> = {}): DnsDiscovery {
  return new DnsDiscovery({ resolver: createTxtResolver({ server: dns.address }), ...FAST, ...options });
}

/** Takes nodes from a walk until `enough` says stop (or `limit` nodes), then ends the walk. */
async function walk(
  discovery: DnsDiscovery,
  enough: (seen: Set<string>) => boolean,
  limit = 2_000,
): Promise<Set<string>> {
  const seen = new Set<string>();
  let count = 0;
  for await (const node of discovery.randomNodes({ signal: AbortSignal.timeout(20_000) })) {
    seen.add(node.id.hex);
    if (enough(seen) || ++count >= limit) break;
  }
  return seen;
}

describe('DnsDiscovery against a DNS server on 127.0.0.1', () => {
  it('syncs the EIP-1459 example zone: 3 nodes, 1 link, seq 1', async () => {
    const vector = readVectorJson<{ zone: { name: string; content: string }[]; consistent_url_for_this_zone: string }>(
      'dnsdisc/eip1459-example.json',
    );
    for (const { name, content } of vector.zone) {
      dns.setRecords(name === '@' ? 'nodes.example.org' : `${name}.nodes.example.org`, [content]);
    }
    const discovery = client();
    const tree = await discovery.syncTree(vector.consistent_url_for_this_zone);
    assert.equal(tree.root.seq, 1);
    assert.equal(tree.nodes.length, 3);
    assert.deepEqual(tree.links, [
      'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org',
    ]);
    assert.equal(tree.entries.size, 5);
    await discovery.close();
  });

  it('walks a tree and the tree it links to (which links back) and finds every node, each pass without repeats', async () => {
    const a = makeList('a.walk.test');
    const b = makeList('b.walk.test');
    const nodesA = makeNodes(30, 1);
    const nodesB = makeNodes(5, 2);
    const treeA = publish(dns, a, nodesA, [b.url]);
    publish(dns, b, nodesB, [a.url]);
    // Branches of 13 hashes are longer than one 255-byte character-string: the resolver must join the pieces.
    assert.ok([...treeA.entries.values()].some((entry) => formatEntry(entry).length > 255));
    const discovery = client({ urls: [a.url] });
    const all = ids([...nodesA, ...nodesB]);
    const seen = await walk(discovery, (s) => s.size === all.length);
    assert.deepEqual([...seen].sort(), all);

    // syncTree with followLinks: both trees, each once, though they link to each other.
    const synced = await discovery.syncTree(a.url, { followLinks: true });
    assert.deepEqual(ids(synced.nodes), ids(nodesA));
    assert.deepEqual(synced.links, [b.url]);
    assert.deepEqual(
      synced.linked.map((t) => t.url),
      [b.url],
    );
    assert.deepEqual(ids(synced.linked[0]!.nodes), ids(nodesB));
    const alone = await discovery.syncTree(a.url);
    assert.deepEqual(alone.linked, []);
    await discovery.close();
  });

  it('a pass over a tree yields each node once before any repeats', async () => {
    const list = makeList('pass.test');
    const nodes = makeNodes(20, 3);
    publish(dns, list, nodes);
    const discovery = client({ urls: [list.url] });
    const first: string[] = [];
    for await (const node of discovery.randomNodes()) {
      first.push(node.id.hex);
      if (first.length === nodes.length) break;
    }
    assert.deepEqual([...first].sort(), ids(nodes), 'the first 20 nodes are the 20 distinct nodes');
    await discovery.close();
  });

  it('follows a root that changes (re-checked every recheckIntervalMs) and refuses an older one', async () => {
    const list = makeList('changing.test');
    const before = makeNodes(3, 4);
    const afterNodes = makeNodes(3, 5);
    publish(dns, list, before, [], 1);
    const discovery = client({ urls: [list.url], recheckIntervalMs: 200 });
    const seen = new Set<string>();
    let published = false;
    for await (const node of discovery.randomNodes({ signal: AbortSignal.timeout(20_000) })) {
      seen.add(node.id.hex);
      if (!published && ids(before).every((id) => seen.has(id))) {
        publish(dns, list, afterNodes, [], 2);
        published = true;
      }
      if (ids(afterNodes).every((id) => seen.has(id))) break;
    }
    assert.ok(ids(afterNodes).every((id) => seen.has(id)));
    assert.equal((await discovery.syncTree(list.url)).root.seq, 2);
    // An older root (a stale cache, a replay) is refused.
    publish(dns, list, before, [], 1);
    await assert.rejects(discovery.syncTree(list.url), reason('stale-root'));
    await discovery.close();
  });

  it('refuses forged and misplaced entries with their reasons', async () => {
    const list = makeList('forged.test');
    const other = makeList('other.test');

    // A root signed by another key than the URL's.
    publish(dns, list, makeNodes(3, 6));
    const otherTree = signTree(buildTree(makeNodes(1, 7), [], 1), other.key);
    dns.setRecords(list.domain, [formatRoot(otherTree.root)]);
    await assert.rejects(client().syncTree(list.url), reason('bad-signature'));

    // An entry whose content is not what its name says.
    const tree = publish(dns, list, makeNodes(3, 8));
    const leaf = [...tree.entries.keys()].find((hash) => tree.entries.get(hash)?.type === 'enr')!;
    dns.setRecords(`${leaf}.${list.domain}`, [makeNodes(1, 9)[0]!.record.toText()]);
    await assert.rejects(client().syncTree(list.url), reason('hash-mismatch'));

    // A name with no tree entry among its records, and a root name with no root.
    dns.setRecords(`${leaf}.${list.domain}`, ['v=spf1 -all']);
    await assert.rejects(client().syncTree(list.url), reason('no-entry'));
    const noRoot = makeList('noroot.test');
    dns.setRecords(noRoot.domain, ['hello']);
    await assert.rejects(client().syncTree(noRoot.url), reason('no-root'));

    // Leaves in the wrong subtree: a root whose ENR subtree is the link subtree, and the other way round.
    const mixed = makeList('mixed.test');
    const { root } = publish(dns, mixed, makeNodes(2, 10), [other.url]);
    const linksAsNodes = signRoot({ enrRoot: root.linkRoot, linkRoot: root.linkRoot, seq: 5 }, mixed.key);
    dns.setRecords(mixed.domain, [formatRoot(linksAsNodes)]);
    await assert.rejects(client().syncTree(mixed.url), reason('link-in-enr-tree'));
    const nodesAsLinks = signRoot({ enrRoot: root.enrRoot, linkRoot: root.enrRoot, seq: 6 }, mixed.key);
    dns.setRecords(mixed.domain, [formatRoot(nodesAsLinks)]);
    await assert.rejects(client().syncTree(mixed.url), reason('enr-in-link-tree'));
  });

  it('truncated and garbled answers fail those lookups; the walk goes on with the rest', async () => {
    const list = makeList('flaky.test');
    const nodes = makeNodes(12, 11);
    const tree = publish(dns, list, nodes);
    const leaves = [...tree.entries.keys()].filter((h) => tree.entries.get(h)?.type === 'enr');
    const [truncated, garbled] = leaves;
    dns.setBehaviour(`${truncated}.${list.domain}`, 'truncated');
    dns.setBehaviour(`${garbled}.${list.domain}`, 'garbled');
    const discovery = client({ urls: [list.url], timeoutMs: 300 });
    await assert.rejects(
      discovery.syncTree(list.url),
      (e: unknown) => (e instanceof Devp2pError && e.code === 'ERR_DNS') || e instanceof TimeoutError,
    );
    const broken = new Set(
      [truncated, garbled].map((h) => (tree.entries.get(h!) as { node: { id: { hex: string } } }).node.id.hex),
    );
    const healthy = ids(nodes).filter((id) => !broken.has(id));
    const seen = await walk(discovery, (s) => healthy.every((id) => s.has(id)));
    assert.ok(healthy.every((id) => seen.has(id)));
    assert.ok(![...broken].some((id) => seen.has(id)));
    // Once the server answers properly, those nodes come too.
    dns.setBehaviour(`${truncated}.${list.domain}`, 'answer');
    dns.setBehaviour(`${garbled}.${list.domain}`, 'answer');
    const later = await walk(discovery, (s) => [...broken].every((id) => s.has(id)));
    assert.ok([...broken].every((id) => later.has(id)));
    await discovery.close();
  });

  it('a server that never answers: lookups time out, a walk ends on abort and close, and no timer is left', async () => {
    const list = makeList('silent.test');
    const silent = await startDnsServer();
    silent.setDefaultBehaviour('silent');
    const timers = countingClock();
    const discovery = new DnsDiscovery({
      resolver: createTxtResolver({ server: silent.address }),
      urls: [list.url],
      timeoutMs: 150,
      clock: timers,
    });
    try {
      const started = Date.now();
      await assert.rejects(discovery.syncTree(list.url), (e: unknown) => e instanceof TimeoutError);
      assert.ok(Date.now() - started < 2_000);
      assert.equal(timers.active, 0);

      const controller = new AbortController();
      const iteration = (async () => {
        for await (const _ of discovery.randomNodes({ signal: controller.signal })) assert.fail('no node exists');
      })();
      await until(() => silent.queries.length >= 3, 10_000, 'a few root lookups');
      controller.abort();
      await iteration;

      const second = (async () => {
        for await (const _ of discovery.randomNodes()) assert.fail('no node exists');
      })();
      await until(() => timers.active > 0, 5_000, 'a lookup timer');
      await discovery.close();
      await second;
      assert.equal(timers.active, 0);
      await assert.rejects(discovery.syncTree(list.url), (e: unknown) => e instanceof AbortError);
      for await (const _ of discovery.randomNodes()) assert.fail('closed');
    } finally {
      await discovery.close();
      await silent.close();
    }
  });

  it('rate-limits entry lookups to rateLimit per second after a burst of 10, and caches at most cacheLimit entries', async () => {
    const list = makeList('rate.test');
    const tree = publish(dns, list, makeNodes(20, 12));
    const entries = tree.entries.size;
    const discovery = client({ rateLimit: 20, cacheLimit: 5 });
    const started = Date.now();
    const synced = await discovery.syncTree(list.url);
    const elapsed = Date.now() - started;
    assert.equal(synced.nodes.length, 20);
    // entries − 10 (the burst) lookups at 20/s.
    assert.ok(elapsed >= ((entries - 10) / 20) * 1_000 - 100, `${entries} entries in ${elapsed} ms`);
    assert.equal(discovery.cacheSize, 5);
    await discovery.close();
  });

  it('resolve() gives the newest record met in the trees, the node itself otherwise', async () => {
    const list = makeList('resolve.test');
    const [node] = makeNodes(1, 13);
    publish(dns, list, [node!]);
    const discovery = client({ urls: [list.url] });
    const stranger = makeNodes(1, 14)[0]!;
    assert.equal(await discovery.resolve(stranger), stranger);
    await discovery.syncTree(list.url);
    assert.equal(await discovery.resolve(node!), node, 'same seq: the node itself');
    await assert.rejects(discovery.resolve(node!, { signal: AbortSignal.abort() }), AbortError);
    assert.equal(discovery.name, 'dns');
    assert.deepEqual(discovery.urls, [list.url]);
    await discovery.close();
  });
});
