/**
 * The crawler behind `devp2p discv4 crawl` and `devp2p discv5 crawl` (geth's `cmd/devp2p/crawl.go`): it walks the
 * network with random lookups from the bootnodes, asks every node found for its record, and keeps the set in
 * geth's nodes.json format. Memory is bounded (the queue and the set of ids seen are capped), and it stops on its
 * deadline or on an abort signal, leaving no listener on that signal.
 */
import { setMaxListeners } from 'node:events';
import { Enr, Node } from '@devp2p/enode';
import { UsageError } from '../node-command.ts';
import { parseNodeArgument } from './common.ts';
import { isJsonObject, type NodeJson, readJsonFile, sortedObject, writeJsonFile } from './files.ts';

/** How often a crawl prints its progress line. */
export const CRAWL_PROGRESS_INTERVAL_MS = 1_000;

/** Record requests a crawl keeps in flight at once (geth's crawler runs 16 workers). */
export const CRAWL_CONCURRENCY = 16;

/**
 * Nodes waiting to be checked, at most. A node found while the queue is full is skipped, not remembered: the walk
 * finds it again later.
 */
export const CRAWL_MAX_QUEUE = 4_096;

/**
 * Node ids a crawl remembers having queued, at most; past it, new nodes are no longer checked (the nodes of the
 * output file are always checked). Several times the size of the largest Ethereum discovery network.
 */
export const CRAWL_MAX_NODES = 200_000;

/** Pause between two of the crawler's own random lookups. */
const LOOKUP_PAUSE_MS = 500;

/**
 * What the crawler needs of a discovery service (discv4 or discv5).
 * @example const source: CrawlSource = { table: disc.table, requestENR: ..., randomNodes: ..., randomLookup: ... }
 */
export interface CrawlSource {
  /** Our own node: never queued (other nodes return it once they know us). */
  readonly self: Node;
  /** The routing table: its size for the progress line, its nodes as more candidates. */
  readonly table: { readonly size: number; nodes(): Node[] };
  /** Asks a node for its current record. */
  requestENR(node: Node, signal: AbortSignal): Promise<Node>;
  /** The discovery's random-nodes iterator. */
  randomNodes(signal: AbortSignal): AsyncIterable<Node>;
  /** One lookup toward a random target. */
  randomLookup(signal: AbortSignal): Promise<Node[]>;
  /** After a node answered: asks it for its neighbours (discv5: FINDNODE over its buckets). Optional. */
  neighbours?(node: Node, signal: AbortSignal): Promise<Node[]>;
}

/** Options of {@link crawl}. */
export interface CrawlOptions {
  /** Nodes to start from (the bootnodes and the nodes already in the output). */
  readonly seeds: readonly Node[];
  /** The node set to update (geth's nodes.json, keyed by node id): changed in place. */
  readonly set: Map<string, NodeJson>;
  /** When to stop, in ms from now. */
  readonly timeoutMs: number;
  /** Stops the crawl early (Ctrl-C); the set keeps what was learnt. */
  readonly signal?: AbortSignal;
  /** Receives the progress line every {@link CRAWL_PROGRESS_INTERVAL_MS} (default: stderr). */
  readonly progress?: (line: string) => void;
  readonly concurrency?: number;
  readonly maxQueue?: number;
  readonly maxNodes?: number;
}

/** What a crawl did. */
export interface CrawlStats {
  /** Nodes queued to be checked. */
  readonly found: number;
  /** Nodes that answered a record request. */
  readonly responded: number;
  /** Nodes not queued because the queue was full. */
  readonly skipped: number;
}

/** geth truncates these times to seconds and writes them as RFC 3339 in UTC. */
function goTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * A node's text for nodes.json: its record, or its enode URL when it has no signed record.
 * @example recordText(node) // 'enr:-IS4Q…'
 */
export function recordText(node: Node): string {
  return node.record.signed ? node.record.toText() : node.toEnodeUrl();
}

/**
 * Reads a nodes.json (missing file: an empty set); entries without a record are skipped.
 * @example const set = loadNodeSet('nodes.json')
 */
export function loadNodeSet(path: string): Map<string, NodeJson> {
  const set = new Map<string, NodeJson>();
  const parsed = readJsonFile(path);
  if (parsed === undefined) return set;
  if (!isJsonObject(parsed)) throw new Error(`${path}: expected a JSON object of node id → node`);
  for (const [id, value] of Object.entries(parsed)) {
    if (isJsonObject(value) && typeof value.record === 'string') set.set(id, value as unknown as NodeJson);
  }
  return set;
}

function parseRecordText(text: string): Node | undefined {
  try {
    return text.startsWith('enr:') ? Node.fromRecord(Enr.decodeText(text)) : parseNodeArgument(text, 'record');
  } catch {
    return undefined;
  }
}

/**
 * The nodes a crawl starts from: `--bootnodes` (comma-separated enode URLs or records), then the nodes of the set
 * read from `--out`. A usage error when there are none.
 * @example const seeds = crawlSeeds(values.bootnodes, set)
 */
export function crawlSeeds(bootnodes: string | boolean | undefined, set: ReadonlyMap<string, NodeJson>): Node[] {
  const seeds: Node[] = [];
  if (typeof bootnodes === 'string') {
    for (const text of bootnodes
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      seeds.push(parseNodeArgument(text, '--bootnodes'));
    }
  }
  for (const entry of set.values()) {
    const node = parseRecordText(entry.record);
    if (node) seeds.push(node);
  }
  if (seeds.length === 0) throw new UsageError('no bootnodes: pass --bootnodes or an existing --out file');
  return seeds;
}

/** An entry's fields in the order of geth's `nodeJSON` struct, which is the order it writes them in. */
function gethFieldOrder(entry: NodeJson): NodeJson {
  const { seq, record, score, firstResponse, lastResponse, lastCheck } = entry;
  return {
    seq,
    record,
    ...(score === undefined ? {} : { score }),
    ...(firstResponse === undefined ? {} : { firstResponse }),
    ...(lastResponse === undefined ? {} : { lastResponse }),
    ...(lastCheck === undefined ? {} : { lastCheck }),
  };
}

/**
 * Writes the set as geth writes nodes.json (node ids sorted, fields in geth's order, four-space indent); `-` prints
 * it.
 * @example writeNodeSet('nodes.json', set)
 */
export function writeNodeSet(path: string, set: ReadonlyMap<string, NodeJson>): void {
  writeJsonFile(path, sortedObject([...set].map(([id, entry]) => [id, gethFieldOrder(entry)] as [string, NodeJson])));
}

/**
 * Calls `stop` on SIGINT and SIGTERM until the returned function is called (which removes the handlers).
 * @example const release = onInterrupt(() => controller.abort()); try { … } finally { release() }
 */
export function onInterrupt(stop: () => void): () => void {
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}

/**
 * Crawls until `timeoutMs` passes or `signal` aborts, updating `set` as geth's crawler does: each node found is
 * asked for its record once per check; an answer raises its `score` by one and sets
 * `firstResponse`/`lastResponse`, a miss halves the score, and a node at 0 leaves the set. Resolves when every
 * request has ended.
 * @example const stats = await crawl(source, { seeds, set, timeoutMs: 60_000, signal })
 */
export async function crawl(source: CrawlSource, options: CrawlOptions): Promise<CrawlStats> {
  const { set } = options;
  const concurrency = options.concurrency ?? CRAWL_CONCURRENCY;
  const maxQueue = options.maxQueue ?? CRAWL_MAX_QUEUE;
  const maxNodes = options.maxNodes ?? CRAWL_MAX_NODES;
  const print = options.progress ?? ((line: string) => console.error(line));
  const controller = new AbortController();
  const { signal } = controller;
  // Every request in flight listens on it (each removes its listener when it ends): more than the runtime's
  // default of 10 is expected, not a leak.
  setMaxListeners(4 * concurrency + 16, signal);
  const stop = (): void => controller.abort();
  const timer = setTimeout(stop, options.timeoutMs);
  const outer = options.signal;
  if (outer?.aborted) stop();
  else outer?.addEventListener('abort', stop, { once: true });
  const started = Date.now();
  const queued = new Set<string>();
  const queue: Node[] = [];
  let inflight = 0;
  let responded = 0;
  let skipped = 0;
  let wake: (() => void) | undefined;

  const enqueue = (node: Node, force = false): void => {
    const id = node.id.hex;
    if (queued.has(id) || !node.udpEndpoint() || node.id.equals(source.self.id)) return;
    if (!force && (queue.length >= maxQueue || queued.size >= maxNodes)) {
      skipped++;
      return;
    }
    queued.add(id);
    queue.push(node);
    wake?.();
  };

  const check = async (node: Node): Promise<void> => {
    const id = node.id.hex;
    const entry: NodeJson = set.get(id) ?? { seq: Number(node.seq), record: recordText(node) };
    entry.lastCheck = goTime(Date.now());
    let fresh: Node | undefined;
    try {
      fresh = await source.requestENR(node, signal);
      entry.record = recordText(fresh);
      entry.seq = Number(fresh.seq);
      entry.score = (entry.score ?? 0) + 1;
      entry.firstResponse ??= entry.lastCheck;
      entry.lastResponse = entry.lastCheck;
      responded++;
    } catch {
      if (signal.aborted) return;
      entry.score = Math.floor((entry.score ?? 0) / 2);
    }
    if ((entry.score ?? 0) <= 0) set.delete(id);
    else set.set(id, entry);
    if (fresh && source.neighbours) {
      try {
        for (const found of await source.neighbours(fresh, signal)) enqueue(found);
      } catch {
        // A node that answered once and not again: its record is already counted.
      }
    }
  };

  const progress = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    print(
      `Crawling: found ${queued.size}, checked ${queued.size - queue.length - inflight}, responded ${responded}, ` +
        `table ${source.table.size}, ${elapsed}s`,
    );
  }, CRAWL_PROGRESS_INTERVAL_MS);

  // The nodes already in the output are checked whatever the caps say: each must be scored.
  for (const seed of options.seeds) enqueue(seed, true);
  // One abort listener for the whole crawl, not one per wait (those would pile up until the deadline).
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort, { once: true });
  const workers = (async () => {
    while (!signal.aborted || inflight > 0) {
      while (!signal.aborted && inflight < concurrency && queue.length > 0) {
        inflight++;
        void check(queue.shift()!).finally(() => {
          inflight--;
          wake?.();
        });
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  })();
  const walk = (async () => {
    try {
      for await (const node of source.randomNodes(signal)) enqueue(node);
    } catch {
      // The walk ends with the crawl.
    }
  })();
  // Lookups of our own toward random targets, besides the iterator's, so that the table keeps filling.
  const lookups = (async () => {
    while (!signal.aborted) {
      try {
        for (const node of await source.randomLookup(signal)) enqueue(node);
      } catch {
        // Aborted or a failed query: the next round tries again.
      }
      for (const node of source.table.nodes()) enqueue(node);
      await new Promise<void>((resolve) => {
        const pause = setTimeout(done, LOOKUP_PAUSE_MS);
        function done(): void {
          clearTimeout(pause);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
  })();
  try {
    await Promise.all([workers, walk, lookups]);
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
    outer?.removeEventListener('abort', stop);
    signal.removeEventListener('abort', onAbort);
  }
  return { found: queued.size, responded, skipped };
}
