/**
 * The DNS discovery client (dnsdisc.md, after geth's `p2p/dnsdisc` Client, clientTree and randomIterator): random
 * walks over any number of trees and the trees they link to, and full downloads of one tree.
 */
import {
  AbortError,
  type Clock,
  type DiscoveryCallOptions,
  defaultLogger,
  type Logger,
  systemClock,
  TimeoutError,
  type TxtResolver,
} from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { LocalNode, type Node, type NodeDiscovery } from '@devp2p/enode';
import {
  DNSDISC_CACHE_LIMIT,
  DNSDISC_QUERY_TIMEOUT_MS,
  DNSDISC_RATE_BURST,
  DNSDISC_RATE_LIMIT,
  DNSDISC_RECHECK_INTERVAL_MS,
  DNSDISC_ROOT_RECHECK_FAIL_COUNT,
  DNSDISC_ROOT_RETRY_DELAYS,
} from './constants.ts';
import {
  cacheKey,
  type LinkEntry,
  matchesHash,
  parseAndVerifyRoot,
  parseEnrTreeUrl,
  parseEntry,
  ROOT_PREFIX,
  type RootEntry,
  type TreeEntry,
} from './entries.ts';
import { DnsDiscError } from './errors.ts';
import { type Tree, treeLinks, treeNodes } from './tree.ts';

/**
 * Options of {@link DnsDiscovery}. The limits default to geth's (see the `DNSDISC_*` constants).
 * @example new DnsDiscovery({ urls: [url], resolver: createTxtResolver() })
 */
export interface DnsDiscoveryOptions {
  /** How TXT records are looked up: `createTxtResolver()` of `@devp2p/transport-node`, or any other. */
  readonly resolver: TxtResolver;
  /** The `enrtree://` URLs {@link DnsDiscovery.randomNodes} walks (default none: only `syncTree` is of use). */
  readonly urls?: readonly string[];
  /** Deadline of each DNS query (default {@link DNSDISC_QUERY_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** Time between root checks of a tree (default {@link DNSDISC_RECHECK_INTERVAL_MS}). */
  readonly recheckIntervalMs?: number;
  /** Tree entries cached (default {@link DNSDISC_CACHE_LIMIT}). */
  readonly cacheLimit?: number;
  /** Entry queries per second (default {@link DNSDISC_RATE_LIMIT}), with a burst of {@link DNSDISC_RATE_BURST}. */
  readonly rateLimit?: number;
  /**
   * Our record, for the `Discovery` interface only: DNS discovery announces nothing. Default: a record of a fresh
   * key, never sent anywhere.
   */
  readonly localNode?: LocalNode;
  /** Clock (default {@link systemClock}): every timer is cleared by `close()` or when the call using it ends. */
  readonly clock?: Clock;
  /** Uniform [0, 1) source for the random walk (default `Math.random`). */
  readonly random?: () => number;
  readonly logger?: Logger;
}

/** Options of {@link DnsDiscovery.syncTree}. */
export interface SyncTreeOptions {
  readonly signal?: AbortSignal;
  /** Also download every tree the tree links to, and theirs, each once (default false, as geth's `SyncTree`). */
  readonly followLinks?: boolean;
}

/** A tree downloaded and verified by {@link DnsDiscovery.syncTree}. */
export interface SyncedTree extends Tree {
  /** The tree's `enrtree://` URL. */
  readonly url: string;
  /** Its nodes, sorted by id. */
  readonly nodes: readonly Node[];
  /** The URLs it links to, sorted. */
  readonly links: readonly string[];
  /** With `followLinks`: the trees reached through links (each once, this one excluded), in the order found. */
  readonly linked: readonly SyncedTree[];
}

/** A least-recently-used map with a size limit. */
class Lru<K, V> {
  readonly #limit: number;
  readonly #map = new Map<K, V>();
  constructor(limit: number) {
    this.#limit = limit;
  }
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#limit) this.#map.delete(this.#map.keys().next().value as K);
  }
  get size(): number {
    return this.#map.size;
  }
}

/** Waits `ms` on `timers`; rejects with an AbortError (the timer cleared) when `signal` aborts first. */
function sleep(timers: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new AbortError('aborted', { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(new AbortError('aborted', { cause: signal.reason }));
    };
    const handle = timers.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles as `promise`, or rejects with an AbortError when `signal` aborts first. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortError('aborted', { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError('aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A token bucket, like Go's `rate.Limiter`: reservations in order, each waiting its turn. */
class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #timers: Clock;
  #tokens: number;
  #last: number;

  constructor(rate: number, burst: number, now: () => number, timers: Clock) {
    this.#rate = rate;
    this.#burst = burst;
    this.#now = now;
    this.#timers = timers;
    this.#tokens = burst;
    this.#last = now();
  }

  async wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new AbortError('aborted', { cause: signal.reason });
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#rate) / 1_000);
    this.#last = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    try {
      await sleep(this.#timers, Math.ceil((-this.#tokens * 1_000) / this.#rate), signal);
    } catch (error) {
      this.#tokens += 1; // the reservation is given back
      throw error;
    }
  }
}

/** The sync state of one subtree (ENR or link): hashes still to fetch, and every hash met, so no walk loops. */
class SubtreeSync {
  readonly root: string;
  readonly link: boolean;
  readonly missing: string[];
  readonly #seen: Set<string>;
  leaves = 0;

  constructor(root: string, link: boolean) {
    this.root = root;
    this.link = link;
    this.missing = [root];
    this.#seen = new Set([cacheKey(root)]);
  }

  get done(): boolean {
    return this.missing.length === 0;
  }

  /** Takes in a fetched entry: checks it belongs to this subtree, queues a branch's children not met before. */
  accept(entry: TreeEntry, dnsName: string): void {
    switch (entry.type) {
      case 'enr':
        if (this.link) throw new DnsDiscError('enr-in-link-tree', 'enr entry in link tree', { dnsName });
        this.leaves++;
        return;
      case 'link':
        if (!this.link) throw new DnsDiscError('link-in-enr-tree', 'link entry in ENR tree', { dnsName });
        this.leaves++;
        return;
      case 'branch':
        for (const child of entry.children) {
          const key = cacheKey(child);
          if (this.#seen.has(key)) continue;
          this.#seen.add(key);
          this.missing.push(child);
        }
    }
  }
}

/** Which trees link to which (geth's `linkCache`): a tree is walked while anything references it. */
class LinkCache {
  /** Target URL → the URLs linking to it ('' for the trees the walk was given). */
  readonly backrefs = new Map<string, Set<string>>();
  changed = false;

  addLink(from: string, to: string): void {
    let refs = this.backrefs.get(to);
    if (refs?.has(from)) return;
    if (!refs) {
      refs = new Set();
      this.backrefs.set(to, refs);
    }
    refs.add(from);
    this.changed = true;
  }

  /** Drops the links of `from` except those in `keep`, and then those of trees nothing references any more. */
  resetLinks(from: string, keep: ReadonlySet<string>): void {
    const stack = [from];
    while (stack.length > 0) {
      const item = stack.pop()!;
      for (const [target, refs] of this.backrefs) {
        if (keep.has(target) || !refs.has(item)) continue;
        this.changed = true;
        refs.delete(item);
        if (refs.size === 0) {
          this.backrefs.delete(target);
          stack.push(target);
        }
      }
    }
  }
}

/** What the walks and downloads of one {@link DnsDiscovery} share: its clock, limits, cache and lookups. */
interface Context {
  readonly timers: Clock;
  readonly now: () => number;
  readonly random: () => number;
  readonly logger: Logger;
  readonly recheckIntervalMs: number;
  resolveRoot(link: LinkEntry, signal: AbortSignal): Promise<RootEntry>;
  resolveEntry(domain: string, hash: string, signal: AbortSignal): Promise<TreeEntry>;
}

/** One tree being walked (geth's `clientTree`). */
class ClientTree {
  readonly link: LinkEntry;
  readonly #client: Context;
  readonly #links: LinkCache | undefined;
  root: RootEntry | undefined;
  enrs: SubtreeSync | undefined;
  linkSync: SubtreeSync | undefined;
  #lastRootCheck = Number.NEGATIVE_INFINITY;
  #leafFailures = 0;
  #rootFailures = 0;
  #currentLinks = new Set<string>();
  #linkGcRoot: string | undefined;

  constructor(client: Context, link: LinkEntry, links: LinkCache | undefined) {
    this.#client = client;
    this.link = link;
    this.#links = links;
  }

  get nextRootCheck(): number {
    return this.#lastRootCheck + this.#client.recheckIntervalMs;
  }

  get rootUpdateDue(): boolean {
    return (
      this.root === undefined ||
      this.#leafFailures > DNSDISC_ROOT_RECHECK_FAIL_COUNT ||
      this.#client.now() >= this.nextRootCheck
    );
  }

  /** Whether {@link syncRandom} can do anything now; false for a fully walked empty tree until its next check. */
  get canSyncRandom(): boolean {
    return (
      this.rootUpdateDue ||
      !this.linkSync?.done ||
      !this.enrs?.done ||
      (this.enrs !== undefined && this.enrs.leaves > 0)
    );
  }

  async updateRoot(signal: AbortSignal): Promise<void> {
    for (const { afterFailures, delayMs } of DNSDISC_ROOT_RETRY_DELAYS) {
      if (this.#rootFailures > afterFailures) {
        await sleep(this.#client.timers, delayMs, signal);
        break;
      }
    }
    this.#lastRootCheck = this.#client.now();
    let root: RootEntry;
    try {
      root = await this.#client.resolveRoot(this.link, signal);
    } catch (error) {
      if (!(error instanceof AbortError)) this.#rootFailures++;
      throw error;
    }
    this.root = root;
    this.#rootFailures = 0;
    this.#leafFailures = 0;
    if (!this.linkSync || root.linkRoot !== this.linkSync.root) {
      this.linkSync = new SubtreeSync(root.linkRoot, true);
      this.#currentLinks = new Set();
    }
    if (!this.enrs || root.enrRoot !== this.enrs.root) this.enrs = new SubtreeSync(root.enrRoot, false);
  }

  /** One step of the walk: the link subtree first, then one random ENR subtree entry; the node when it is one. */
  async syncRandom(signal: AbortSignal): Promise<Node | undefined> {
    if (this.rootUpdateDue) await this.updateRoot(signal);
    try {
      const links = this.linkSync!;
      if (!links.done) {
        const entry = await this.#resolveNext(links, links.missing[0]!, signal);
        links.missing.shift();
        if (entry.type === 'link') {
          this.#links?.addLink(this.link.url, entry.url);
          this.#currentLinks.add(entry.url);
        }
        return undefined;
      }
      this.#gcLinks();
      // Once every node has been visited the walk starts over: the cache and DNS resolvers make that cheap.
      if (this.enrs!.done) this.enrs = new SubtreeSync(this.root!.enrRoot, false);
      const enrs = this.enrs!;
      const index = Math.floor(this.#client.random() * enrs.missing.length);
      const entry = await this.#resolveNext(enrs, enrs.missing[index]!, signal);
      enrs.missing.splice(index, 1);
      return entry.type === 'enr' ? entry.node : undefined;
    } catch (error) {
      if (!(error instanceof AbortError)) this.#leafFailures++;
      throw error;
    }
  }

  /** Fetches every entry of both subtrees into `into` (the root first). */
  async syncAll(into: Map<string, TreeEntry>, signal: AbortSignal): Promise<void> {
    await this.updateRoot(signal);
    for (const sync of [this.linkSync!, this.enrs!]) {
      while (!sync.done) {
        const hash = sync.missing[0]!;
        into.set(hash, await this.#resolveNext(sync, hash, signal));
        sync.missing.shift();
      }
    }
  }

  async #resolveNext(sync: SubtreeSync, hash: string, signal: AbortSignal): Promise<TreeEntry> {
    const entry = await this.#client.resolveEntry(this.link.domain, hash, signal);
    sync.accept(entry, `${hash}.${this.link.domain}`);
    return entry;
  }

  /** Once the link subtree of a new root is synced, the links it no longer has are dropped (geth's `gcLinks`). */
  #gcLinks(): void {
    if (!this.linkSync?.done || this.root?.linkRoot === this.#linkGcRoot || !this.#links) return;
    this.#links.resetLinks(this.link.url, this.#currentLinks);
    this.#linkGcRoot = this.root?.linkRoot;
  }
}

/** The trees one `randomNodes` call walks (geth's `randomIterator`). */
class RandomWalk {
  readonly #client: Context;
  readonly #signal: AbortSignal;
  readonly #links = new LinkCache();
  readonly #trees = new Map<string, ClientTree>();

  constructor(client: Context, urls: readonly LinkEntry[], signal: AbortSignal) {
    this.#client = client;
    this.#signal = signal;
    for (const link of urls) this.#links.addLink('', link.url);
  }

  /** The next node found, or undefined once the walk is over (aborted, or no tree left). */
  async next(): Promise<Node | undefined> {
    for (;;) {
      const tree = await this.#pickTree();
      if (!tree) return undefined;
      try {
        const node = await tree.syncRandom(this.#signal);
        if (node) return node;
      } catch (error) {
        if (this.#signal.aborted) return undefined;
        this.#client.logger.debug('DNS discovery sync failed', { tree: tree.link.domain, error: String(error) });
      }
    }
  }

  async #pickTree(): Promise<ClientTree | undefined> {
    for (;;) {
      if (this.#signal.aborted) return undefined;
      if (this.#links.changed) {
        this.#rebuildTrees();
        this.#links.changed = false;
      }
      const syncable: ClientTree[] = [];
      const waiting: ClientTree[] = [];
      for (const tree of this.#trees.values()) (tree.canSyncRandom ? syncable : waiting).push(tree);
      if (syncable.length > 0) return syncable[Math.floor(this.#client.random() * syncable.length)];
      if (waiting.length === 0) return undefined;
      // Nothing to do until a root is due again: wait for the earliest.
      const next = Math.min(...waiting.map((tree) => tree.nextRootCheck));
      try {
        await sleep(this.#client.timers, Math.max(0, next - this.#client.now()), this.#signal);
      } catch {
        return undefined;
      }
    }
  }

  #rebuildTrees(): void {
    for (const url of this.#trees.keys()) if (!this.#links.backrefs.has(url)) this.#trees.delete(url);
    for (const url of this.#links.backrefs.keys()) {
      if (!this.#trees.has(url)) {
        this.#trees.set(url, new ClientTree(this.#client, parseEnrTreeUrl(url), this.#links));
      }
    }
  }
}

/**
 * DNS discovery (EIP-1459): a {@link NodeDiscovery} source of the nodes in any number of `enrtree://` trees and
 * the trees they link to, walked in random order, rate-limited and cached as geth's client does. Also downloads
 * and verifies a whole tree ({@link DnsDiscovery.syncTree}).
 * @example
 * const dns = new DnsDiscovery({ urls: ['enrtree://AKA3AM6LPBYEUDMVNU3BSVQJ5AD45Y7YPOHJLEF6W26QOE4VTUDPE@all.mainnet.ethdisco.net'], resolver: createTxtResolver() })
 * for await (const node of dns.randomNodes({ signal })) console.log(node.toEnodeUrl())
 * await dns.close()
 */
export class DnsDiscovery implements NodeDiscovery {
  readonly name = 'dns';
  readonly localNode: LocalNode;
  readonly #context: Context;
  readonly #resolver: TxtResolver;
  readonly #urls: readonly LinkEntry[];
  readonly #timeoutMs: number;
  readonly #cache: Lru<string, TreeEntry>;
  readonly #nodes: Lru<string, Node>;
  readonly #limiter: RateLimiter;
  readonly #inflight = new Map<string, Promise<TreeEntry>>();
  readonly #rootsInflight = new Map<string, Promise<RootEntry>>();
  /** The highest sequence number seen per tree URL: an older root is refused (dnsdisc.md, step 2). */
  readonly #seqs = new Map<string, number>();
  readonly #closing = new AbortController();

  constructor(options: DnsDiscoveryOptions) {
    if (!options?.resolver || typeof options.resolver.resolveTxt !== 'function') {
      throw new TypeError('DnsDiscovery: a resolver (TxtResolver) is required');
    }
    const positive = (name: string, value: number | undefined, fallback: number): number => {
      const v = value ?? fallback;
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`DnsDiscovery ${name}: expected > 0, got ${v}`);
      return v;
    };
    this.#resolver = options.resolver;
    this.#urls = (options.urls ?? []).map((url) => parseEnrTreeUrl(url));
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs, DNSDISC_QUERY_TIMEOUT_MS);
    const cacheLimit = Math.floor(positive('cacheLimit', options.cacheLimit, DNSDISC_CACHE_LIMIT));
    const rate = positive('rateLimit', options.rateLimit, DNSDISC_RATE_LIMIT);
    const clock = options.clock ?? systemClock;
    this.#context = {
      timers: clock,
      now: () => clock.now(),
      random: options.random ?? Math.random,
      logger: (options.logger ?? defaultLogger()).child('dnsdisc'),
      recheckIntervalMs: positive('recheckIntervalMs', options.recheckIntervalMs, DNSDISC_RECHECK_INTERVAL_MS),
      resolveRoot: (link, signal) => this.#resolveRoot(link, signal),
      resolveEntry: (domain, hash, signal) => this.#resolveEntry(domain, hash, signal),
    };
    this.#cache = new Lru(cacheLimit);
    this.#nodes = new Lru(cacheLimit);
    this.#limiter = new RateLimiter(rate, DNSDISC_RATE_BURST, () => clock.now(), clock);
    this.localNode = options.localNode ?? new LocalNode(generatePrivateKey(), { clock });
  }

  /** The trees {@link randomNodes} walks, as parsed from the `urls` option. */
  get urls(): readonly string[] {
    return this.#urls.map((link) => link.url);
  }

  /** Entries in the cache (at most the cache limit). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  /**
   * Nodes of the trees, found by a random walk that follows links and never visits an entry twice per pass,
   * until `signal` aborts, the consumer stops or the source closes. Each call walks on its own; passes repeat
   * (served from the cache while it holds them), and roots are checked again every `recheckIntervalMs`.
   */
  async *randomNodes(options: DiscoveryCallOptions = {}): AsyncGenerator<Node, void, undefined> {
    if (this.#closing.signal.aborted) return;
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    this.#closing.signal.addEventListener('abort', stop, { once: true });
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) stop();
    try {
      const walk = new RandomWalk(this.#context, this.#urls, controller.signal);
      for (;;) {
        const node = await walk.next();
        if (!node) return;
        this.#remember(node);
        yield node;
      }
    } finally {
      controller.abort();
      this.#closing.signal.removeEventListener('abort', stop);
      options.signal?.removeEventListener('abort', stop);
    }
  }

  /** The newest record of `node` met in the trees so far (this source makes no query for it); else `node`. */
  async resolve(node: Node, options: DiscoveryCallOptions = {}): Promise<Node> {
    if (options.signal?.aborted) throw new AbortError('resolve aborted', { cause: options.signal.reason });
    const known = this.#nodes.get(node.id.hex);
    return known && known.seq > node.seq ? known : node;
  }

  /**
   * Downloads the tree at `url` and verifies all of it: the root's signature against the URL's key, the hash of
   * every entry against its name, every ENR's signature, that leaves sit in the right subtree, and (with
   * `followLinks`) the same for every linked tree. Rejects with the first {@link DnsDiscError}, a TimeoutError or
   * an `ERR_DNS` error.
   * @example const tree = await dns.syncTree(url); console.log(tree.root.seq, tree.nodes.length)
   */
  async syncTree(url: string, options: SyncTreeOptions = {}): Promise<SyncedTree> {
    const first = parseEnrTreeUrl(url);
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    this.#closing.signal.addEventListener('abort', stop, { once: true });
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted || this.#closing.signal.aborted) stop();
    try {
      const synced: SyncedTree[] = [];
      const seen = new Set([first.url]);
      const queue = [first];
      while (queue.length > 0) {
        const link = queue.shift()!;
        const entries = new Map<string, TreeEntry>();
        const tree = new ClientTree(this.#context, link, undefined);
        await tree.syncAll(entries, controller.signal);
        const result = { root: tree.root!, entries };
        const links = treeLinks(result);
        synced.push({ ...result, url: link.url, nodes: treeNodes(result), links, linked: [] });
        if (!options.followLinks) break;
        for (const next of links) {
          if (seen.has(next)) continue;
          seen.add(next);
          queue.push(parseEnrTreeUrl(next));
        }
      }
      for (const tree of synced) for (const node of tree.nodes) this.#remember(node);
      const [head, ...linked] = synced;
      return { ...head!, linked };
    } finally {
      this.#closing.signal.removeEventListener('abort', stop);
      options.signal?.removeEventListener('abort', stop);
    }
  }

  /** Stops every walk and download and clears every timer. Idempotent. */
  async close(): Promise<void> {
    this.#closing.abort();
  }

  #remember(node: Node): void {
    const known = this.#nodes.get(node.id.hex);
    if (!known || node.seq >= known.seq) this.#nodes.set(node.id.hex, node);
  }

  /** One TXT lookup under the query deadline, ending early when `signal` aborts. */
  async #lookup(name: string, signal: AbortSignal): Promise<string[]> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = this.#context.timers.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    try {
      return await raceAbort(this.#resolver.resolveTxt(name, { signal: controller.signal }), controller.signal);
    } catch (error) {
      if (timedOut) throw new TimeoutError(`DNS TXT lookup of ${name}`, this.#timeoutMs);
      throw error;
    } finally {
      this.#context.timers.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** The verified root of the tree at `link`; one lookup at a time per tree. */
  #resolveRoot(link: LinkEntry, signal: AbortSignal): Promise<RootEntry> {
    let shared = this.#rootsInflight.get(link.url);
    if (!shared) {
      shared = this.#fetchRoot(link).finally(() => this.#rootsInflight.delete(link.url));
      this.#rootsInflight.set(link.url, shared);
      shared.catch(() => undefined);
    }
    return raceAbort(shared, signal);
  }

  async #fetchRoot(link: LinkEntry): Promise<RootEntry> {
    const records = await this.#lookup(link.domain, this.#closing.signal);
    this.#context.logger.trace('DNS discovery root lookup', { tree: link.domain, records: records.length });
    for (const text of records) {
      if (!text.startsWith(ROOT_PREFIX)) continue;
      let root: RootEntry;
      try {
        root = parseAndVerifyRoot(text, link.publicKey);
      } catch (error) {
        throw error instanceof DnsDiscError ? error.at(link.domain) : error;
      }
      const seen = this.#seqs.get(link.url);
      if (seen !== undefined && root.seq < seen) {
        throw new DnsDiscError('stale-root', `sequence number ${root.seq} is below ${seen}, seen before`, {
          entryType: 'root',
          dnsName: link.domain,
        });
      }
      this.#seqs.set(link.url, root.seq);
      return root;
    }
    throw new DnsDiscError('no-root', 'no valid root found', { dnsName: link.domain });
  }

  /**
   * The entry named `hash` under `domain`, from the cache or DNS. Always waits for the rate limiter, even
   * for a cached entry, so that no consumer of a walk spins (as geth does).
   */
  async #resolveEntry(domain: string, hash: string, signal: AbortSignal): Promise<TreeEntry> {
    await this.#limiter.wait(signal);
    const key = cacheKey(hash);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    let shared = this.#inflight.get(key);
    if (!shared) {
      shared = this.#fetchEntry(domain, hash).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, shared);
      shared.then(
        (entry) => this.#cache.set(key, entry),
        () => undefined,
      );
    }
    return raceAbort(shared, signal);
  }

  async #fetchEntry(domain: string, hash: string): Promise<TreeEntry> {
    const name = `${hash}.${domain}`;
    const records = await this.#lookup(name, this.#closing.signal);
    this.#context.logger.trace('DNS discovery lookup', { name, records: records.length });
    for (const text of records) {
      let entry: TreeEntry;
      try {
        entry = parseEntry(text);
      } catch (error) {
        if (error instanceof DnsDiscError && error.reason === 'unknown-entry') continue;
        if (error instanceof DnsDiscError && error.reason !== 'too-large' && !matchesHash(text, hash)) {
          throw new DnsDiscError('hash-mismatch', 'hash mismatch', { dnsName: name });
        }
        throw error instanceof DnsDiscError ? error.at(name) : error;
      }
      if (!matchesHash(text, hash)) throw new DnsDiscError('hash-mismatch', 'hash mismatch', { dnsName: name });
      return entry;
    }
    throw new DnsDiscError('no-entry', 'no valid tree entry found', { dnsName: name });
  }
}
