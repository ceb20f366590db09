import {
  bytesToHex,
  type Clock,
  defaultLogger,
  equalBytes,
  hexToBytes,
  type Logger,
  systemClock,
  unrefTimer,
} from '@devp2p/core';
import { Enr } from './enr.ts';
import { ERR_NODEDB_CLOSED, NodeDatabaseError } from './errors.ts';
import { NodeId } from './id.ts';
import { normalizeIp } from './ip.ts';
import { Node } from './node.ts';

/**
 * A node with no pong (or, never ponged, no record update) for this long is dropped (geth `dbNodeExpiration`).
 * @example const stale = Date.now() - db.lastPongReceived(id, ip) > NODEDB_NODE_EXPIRATION_MS
 */
export const NODEDB_NODE_EXPIRATION_MS: number = 24 * 60 * 60 * 1000;
/**
 * How often expiry runs once discovery has started asking for pongs (geth `dbCleanupCycle`).
 * @example setInterval(() => db.expireNodes(), NODEDB_CLEANUP_CYCLE_MS)
 */
export const NODEDB_CLEANUP_CYCLE_MS: number = 60 * 60 * 1000;

/**
 * What discovery remembers about nodes, and the local node's record sequence number.
 *
 * Per node: its latest record. Per node and endpoint IP: the last ping received from it, the last pong
 * received from it, and consecutive FINDNODE failures. Times are milliseconds since the epoch, 0 for never.
 * Reads are answered from memory; the file-backed implementation journals writes and flushes them in
 * batches. Two implementations: {@link MemoryNodeDatabase} and {@link FileNodeDatabase}.
 *
 * @example
 * const db = openNodeDatabase(datadir ? join(datadir, 'nodes') : undefined)
 * db.updateNode(node)
 * db.updateLastPongReceived(node.id, node.ip!, Date.now())
 * const bootstrap = db.seeds(30, 5 * 24 * 3600_000)
 * db.close()
 */
export interface NodeDatabase {
  /** Number of nodes with a stored record. */
  readonly size: number;
  /** The stored node with this id, or undefined. */
  node(id: NodeId): Node | undefined;
  /**
   * Stores the node's record, unless the stored one has a higher sequence number. Returns false when the
   * update was ignored for that reason. DNS names are not stored.
   */
  updateNode(node: Node): boolean;
  /** Sequence number of the stored record, 0n when none. */
  nodeSeq(id: NodeId): bigint;
  /** The stored node when its record is at least as new as `node`'s, else `node`. */
  resolve(node: Node): Node;
  /** Forgets everything about a node (record and endpoints). */
  deleteNode(id: NodeId): void;
  /** When we last received a ping from the node at `ip` (ms, 0 for never). */
  lastPingReceived(id: NodeId, ip: string): number;
  updateLastPingReceived(id: NodeId, ip: string, time: number): void;
  /** When we last received a pong from the node at `ip` (ms, 0 for never). Starts the hourly expiry. */
  lastPongReceived(id: NodeId, ip: string): number;
  updateLastPongReceived(id: NodeId, ip: string, time: number): void;
  /** Consecutive FINDNODE failures of the node at `ip` since it last answered. */
  findFails(id: NodeId, ip: string): number;
  updateFindFails(id: NodeId, ip: string, fails: number): void;
  /** The local record sequence number stored for our id, if any. */
  localSeq(id: NodeId): bigint | undefined;
  storeLocalSeq(id: NodeId, seq: bigint): void;
  /**
   * Up to `n` distinct random nodes whose last pong at their endpoint is at most `maxAge` ms old: seeds for
   * bootstrapping the table.
   */
  seeds(n: number, maxAge: number): Node[];
  /** Drops endpoints and nodes with no pong for {@link NODEDB_NODE_EXPIRATION_MS}; returns the nodes dropped. */
  expireNodes(): number;
  /** Writes buffered changes to storage now (a no-op in memory). */
  flush(): void;
  /** Flushes, stops timers and releases the storage. Later writes throw `ERR_NODEDB_CLOSED`. */
  close(): void;
}

/**
 * Options shared by both node databases.
 * @example new MemoryNodeDatabase({ clock: new ManualClock() })
 */
export interface NodeDatabaseOptions {
  /**
   * Clock for node ages, expiry and flushing (default {@link systemClock}; its timers are unref'd where the runtime
   * allows, so they never keep a process alive).
   */
  clock?: Clock;
  /** Logger (default: silent unless `DEBUG` names devp2p). */
  logger?: Logger;
}

/**
 * One change to a node database: what {@link FileNodeDatabase} journals, and replays on open.
 * @example const change: NodeDatabaseChange = { type: 'localSeq', id: id.bytes, seq: 5n }
 */
export type NodeDatabaseChange =
  | { readonly type: 'node'; readonly id: Uint8Array; readonly record: Uint8Array; readonly time: number }
  | { readonly type: 'deleteNode'; readonly id: Uint8Array }
  | {
      readonly type: 'endpoint';
      readonly id: Uint8Array;
      readonly ip: string;
      readonly lastPing: number;
      readonly lastPong: number;
      readonly findFails: number;
    }
  | { readonly type: 'deleteEndpoint'; readonly id: Uint8Array; readonly ip: string }
  | { readonly type: 'localSeq'; readonly id: Uint8Array; readonly seq: bigint };

/** What is known about a node at one IP. Plain objects in a short array: most nodes have one endpoint. */
interface EndpointState {
  readonly ip: string;
  lastPing: number;
  lastPong: number;
  findFails: number;
}

/** One node's facts. Kept small (no NodeId object, no Map): a database holds 100k of them. */
interface Entry {
  /** The node id in hex, the key of the entry map. */
  readonly hex: string;
  /** Encoded record, or undefined when only endpoint data is known. */
  record: Uint8Array | undefined;
  /** When the record was last stored (ms). */
  recordTime: number;
  /** Sequence number of the record; undefined until first needed (decoding is deferred). */
  seq: bigint | undefined;
  /** Endpoint IP chosen from the record (valid once `seq` is set). */
  ip: string | undefined;
  endpoints: EndpointState[] | undefined;
  /** Position in the sampling array, -1 without a record. */
  index: number;
}

function findEndpoint(entry: Entry | undefined, ip: string): EndpointState | undefined {
  if (!entry?.endpoints) return undefined;
  for (const state of entry.endpoints) if (state.ip === ip) return state;
  return undefined;
}

function idHex(id: Uint8Array): string {
  if (id.length !== 32) throw new RangeError(`node database: expected a 32-byte node id, got ${id.length} bytes`);
  return bytesToHex(id);
}

function checkTime(label: string, time: number): number {
  if (!Number.isSafeInteger(time) || time < 0) throw new RangeError(`${label}: expected a time in ms, got ${time}`);
  return time;
}

function checkIp(label: string, ip: string): string {
  const normalized = typeof ip === 'string' ? normalizeIp(ip) : undefined;
  if (normalized === undefined) throw new TypeError(`${label}: invalid IP address ${String(ip)}`);
  return normalized;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * A node database held in memory only: for tests, and for nodes run without a data directory. The
 * file-backed {@link FileNodeDatabase} builds on it.
 *
 * @example
 * const db = new MemoryNodeDatabase()
 * db.updateNode(node)
 * db.node(node.id)?.seq
 */
export class MemoryNodeDatabase implements NodeDatabase {
  readonly #entries = new Map<string, Entry>();
  /** Entries with a record, for uniform random sampling in seeds(). */
  readonly #sampled: Entry[] = [];
  readonly #localSeq = new Map<string, bigint>();
  readonly #clock: Clock;
  #stopExpirer: (() => void) | undefined;
  #closed = false;
  /** Records + endpoints + local sequence numbers, kept current by apply(). */
  #liveFacts = 0;
  /** The clock's time in ms. */
  protected readonly now: () => number;
  /** This database's logger. */
  protected readonly logger: Logger;

  constructor(options: NodeDatabaseOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    this.now = () => clock.now();
    this.logger = (options.logger ?? defaultLogger()).child('enode:nodedb');
  }

  /**
   * Number of nodes with a stored record.
   * @example console.log(`${db.size} known nodes`)
   */
  get size(): number {
    return this.#sampled.length;
  }

  /**
   * Number of live facts (records, endpoints, local sequence numbers): what a compacted journal holds.
   * @example if (journalEntries > 2 * db.liveFacts) compact()
   */
  get liveFacts(): number {
    return this.#liveFacts;
  }

  /**
   * Every stored fact as changes that rebuild this database when applied in order (generated lazily: do not
   * modify the database while iterating).
   * @example for (const change of db.snapshot()) journal.write(change)
   */
  *snapshot(): Generator<NodeDatabaseChange, void, undefined> {
    for (const [hex, seq] of this.#localSeq) yield { type: 'localSeq', id: hexToBytes(hex), seq };
    for (const entry of this.#entries.values()) {
      const id = hexToBytes(entry.hex);
      if (entry.record) yield { type: 'node', id, record: entry.record, time: entry.recordTime };
      for (const { ip, lastPing, lastPong, findFails } of entry.endpoints ?? []) {
        yield { type: 'endpoint', id, ip, lastPing, lastPong, findFails };
      }
    }
  }

  /** Storage hook: called with every change after it is applied. The file database journals it. */
  protected persist(_change: NodeDatabaseChange): void {}

  /** Applies a change to the in-memory state without persisting it (used when replaying a journal). */
  protected apply(change: NodeDatabaseChange): void {
    const hex = idHex(change.id);
    switch (change.type) {
      case 'node': {
        const entry = this.#entry(hex);
        if (!entry.record) this.#liveFacts++;
        entry.record = change.record;
        entry.recordTime = change.time;
        entry.seq = undefined;
        if (entry.index === -1) {
          entry.index = this.#sampled.length;
          this.#sampled.push(entry);
        }
        return;
      }
      case 'deleteNode': {
        const entry = this.#entries.get(hex);
        if (!entry) return;
        this.#liveFacts -= (entry.record ? 1 : 0) + (entry.endpoints?.length ?? 0);
        this.#unsample(entry);
        this.#entries.delete(hex);
        return;
      }
      case 'endpoint': {
        const entry = this.#entry(hex);
        const state = findEndpoint(entry, change.ip);
        if (state) {
          state.lastPing = change.lastPing;
          state.lastPong = change.lastPong;
          state.findFails = change.findFails;
        } else {
          entry.endpoints ??= [];
          entry.endpoints.push({
            ip: change.ip,
            lastPing: change.lastPing,
            lastPong: change.lastPong,
            findFails: change.findFails,
          });
          this.#liveFacts++;
        }
        return;
      }
      case 'deleteEndpoint': {
        const entry = this.#entries.get(hex);
        const index = entry?.endpoints?.findIndex((state) => state.ip === change.ip) ?? -1;
        if (index === -1) return;
        entry!.endpoints!.splice(index, 1);
        this.#liveFacts--;
        if (!entry!.record && entry!.endpoints!.length === 0) this.#entries.delete(hex);
        return;
      }
      case 'localSeq':
        if (!this.#localSeq.has(hex)) this.#liveFacts++;
        this.#localSeq.set(hex, change.seq);
        return;
    }
  }

  #entry(hex: string): Entry {
    let entry = this.#entries.get(hex);
    if (!entry) {
      entry = { hex, record: undefined, recordTime: 0, seq: undefined, ip: undefined, endpoints: undefined, index: -1 };
      this.#entries.set(hex, entry);
    }
    return entry;
  }

  #unsample(entry: Entry): void {
    if (entry.index === -1) return;
    const last = this.#sampled.pop()!;
    if (last !== entry) {
      this.#sampled[entry.index] = last;
      last.index = entry.index;
    }
    entry.index = -1;
  }

  #change(change: NodeDatabaseChange): void {
    if (this.#closed) throw new NodeDatabaseError(ERR_NODEDB_CLOSED, 'node database is closed');
    this.apply(change);
    this.persist(change);
  }

  /** Decodes an entry's record; undefined (and a log line) if the stored bytes no longer decode. */
  #decode(entry: Entry): Node | undefined {
    if (!entry.record) return undefined;
    try {
      const node = Node.fromTrustedRecord(Enr.decode(entry.record, { verify: false }), NodeId.fromHex(entry.hex));
      if (entry.seq === undefined) {
        entry.seq = node.seq;
        entry.ip = node.ip;
      }
      return node;
    } catch (err) {
      this.logger.warn('undecodable record in node database', { id: entry.hex, reason: (err as Error).message });
      return undefined;
    }
  }

  /** Makes sure the entry's seq and ip are known; false when its record is missing or undecodable. */
  #known(entry: Entry): boolean {
    if (entry.seq === undefined) this.#decode(entry);
    return entry.seq !== undefined;
  }

  /**
   * The stored node with this id.
   * @example const known = db.node(id)
   */
  node(id: NodeId): Node | undefined {
    const entry = this.#entries.get(id.hex);
    return entry ? this.#decode(entry) : undefined;
  }

  /**
   * Stores `node`'s record unless a higher sequence number is stored; false when ignored.
   * @example db.updateNode(Node.fromRecord(enr))
   */
  updateNode(node: Node): boolean {
    const entry = this.#entries.get(node.id.hex);
    const record = node.record.encode();
    if (entry?.record) {
      if (this.#known(entry) && node.seq < entry.seq!) return false;
      if (equalBytes(entry.record, record)) return true;
    }
    this.#change({ type: 'node', id: node.id.bytes, record, time: this.now() });
    const updated = this.#entries.get(node.id.hex)!;
    updated.seq = node.seq;
    // The endpoint chosen from the record alone: a DNS name's resolved address (withIp) is not stored.
    updated.ip = Node.fromTrustedRecord(node.record, node.id).ip;
    return true;
  }

  /**
   * Sequence number of the stored record, 0n when none.
   * @example if (pong.enrSeq > db.nodeSeq(id)) requestEnr(id)
   */
  nodeSeq(id: NodeId): bigint {
    const entry = this.#entries.get(id.hex);
    return entry && this.#known(entry) ? entry.seq! : 0n;
  }

  /**
   * The stored node if its record is at least as new as `node`'s, else `node`.
   * @example const freshest = db.resolve(node)
   */
  resolve(node: Node): Node {
    if (node.seq > this.nodeSeq(node.id)) return node;
    return this.node(node.id) ?? node;
  }

  /**
   * Forgets the node's record and endpoint data.
   * @example db.deleteNode(id)
   */
  deleteNode(id: NodeId): void {
    if (this.#entries.has(id.hex)) this.#change({ type: 'deleteNode', id: id.bytes });
  }

  #endpoint(id: NodeId, ip: string): EndpointState | undefined {
    const normalized = normalizeIp(ip);
    return normalized === undefined ? undefined : findEndpoint(this.#entries.get(id.hex), normalized);
  }

  #updateEndpoint(id: NodeId, ip: string, update: { lastPing?: number; lastPong?: number; findFails?: number }): void {
    const key = checkIp('node database', ip);
    const current = findEndpoint(this.#entries.get(id.hex), key);
    this.#change({
      type: 'endpoint',
      id: id.bytes,
      ip: key,
      lastPing: update.lastPing ?? current?.lastPing ?? 0,
      lastPong: update.lastPong ?? current?.lastPong ?? 0,
      findFails: update.findFails ?? current?.findFails ?? 0,
    });
  }

  /**
   * When we last received a ping from the node at `ip` (ms, 0 for never).
   * @example db.lastPingReceived(id, '10.0.0.1')
   */
  lastPingReceived(id: NodeId, ip: string): number {
    return this.#endpoint(id, ip)?.lastPing ?? 0;
  }

  /**
   * Records a ping received from the node at `ip`.
   * @example db.updateLastPingReceived(id, from.ip, Date.now())
   */
  updateLastPingReceived(id: NodeId, ip: string, time: number): void {
    this.#updateEndpoint(id, ip, { lastPing: checkTime('lastPing', time) });
  }

  /**
   * When we last received a pong from the node at `ip` (ms, 0 for never). The first call starts the hourly
   * expiry, as in geth: by then discovery is running, so seed nodes are not dropped before they can be used.
   * @example if (Date.now() - db.lastPongReceived(id, ip) > BOND_EXPIRATION) await ping(node)
   */
  lastPongReceived(id: NodeId, ip: string): number {
    this.#ensureExpirer();
    return this.#endpoint(id, ip)?.lastPong ?? 0;
  }

  /**
   * Records a pong received from the node at `ip`.
   * @example db.updateLastPongReceived(id, from.ip, Date.now())
   */
  updateLastPongReceived(id: NodeId, ip: string, time: number): void {
    this.#updateEndpoint(id, ip, { lastPong: checkTime('lastPong', time) });
  }

  /**
   * Consecutive FINDNODE failures of the node at `ip`.
   * @example if (db.findFails(id, ip) >= MAX_FINDNODE_FAILURES) table.remove(id)
   */
  findFails(id: NodeId, ip: string): number {
    return this.#endpoint(id, ip)?.findFails ?? 0;
  }

  /**
   * Stores the FINDNODE failure count of the node at `ip`.
   * @example db.updateFindFails(id, ip, db.findFails(id, ip) + 1)
   */
  updateFindFails(id: NodeId, ip: string, fails: number): void {
    if (!Number.isSafeInteger(fails) || fails < 0) throw new RangeError(`findFails: expected a count, got ${fails}`);
    this.#updateEndpoint(id, ip, { findFails: fails });
  }

  /**
   * The local record sequence number stored for `id`.
   * @example const seq = db.localSeq(self) ?? BigInt(Date.now())
   */
  localSeq(id: NodeId): bigint | undefined {
    return this.#localSeq.get(id.hex);
  }

  /**
   * Stores the local record sequence number for `id`.
   * @example db.storeLocalSeq(self, seq)
   */
  storeLocalSeq(id: NodeId, seq: bigint): void {
    if (typeof seq !== 'bigint' || seq < 0n || seq >= 1n << 64n) throw new RangeError(`localSeq: expected a uint64`);
    if (this.#localSeq.get(id.hex) !== seq) this.#change({ type: 'localSeq', id: id.bytes, seq });
  }

  /**
   * Up to `n` distinct random nodes with a pong at their endpoint at most `maxAge` ms old. Walks the nodes in
   * a random order (random start, random step coprime to the count) and stops after `n` matches, so it
   * touches few nodes when most qualify and visits each at most once when few do.
   * @example for (const seed of db.seeds(30, 5 * 24 * 3600_000)) table.addSeed(seed)
   */
  seeds(n: number, maxAge: number): Node[] {
    const out: Node[] = [];
    const count = this.#sampled.length;
    if (count === 0 || n <= 0) return out;
    const now = this.now();
    const start = Math.floor(Math.random() * count);
    let step = 1 + Math.floor(Math.random() * (count - 1 || 1));
    while (gcd(step, count) !== 1) step = step === count - 1 ? 1 : step + 1;
    for (let i = 0, k = start; i < count && out.length < n; i++, k = (k + step) % count) {
      const entry = this.#sampled[k]!;
      if (!this.#hasRecentPong(entry, now, maxAge)) continue;
      const pong = this.#known(entry) && entry.ip !== undefined ? (findEndpoint(entry, entry.ip)?.lastPong ?? 0) : 0;
      if (pong === 0 || now - pong > maxAge) continue;
      const node = this.#decode(entry);
      if (node) out.push(node);
    }
    return out;
  }

  #hasRecentPong(entry: Entry, now: number, maxAge: number): boolean {
    for (const state of entry.endpoints ?? []) {
      if (state.lastPong !== 0 && now - state.lastPong <= maxAge) return true;
    }
    return false;
  }

  /**
   * Drops endpoint data with a pong older than {@link NODEDB_NODE_EXPIRATION_MS}, and whole nodes whose
   * youngest pong is that old (or, never ponged, whose record and pings are that old). Returns the number of
   * nodes dropped. Runs hourly by itself once discovery asks for pongs; call it directly to run it now.
   * @example const dropped = db.expireNodes()
   */
  expireNodes(): number {
    const threshold = this.now() - NODEDB_NODE_EXPIRATION_MS;
    let dropped = 0;
    for (const entry of [...this.#entries.values()]) {
      let youngestPong = 0;
      let youngestPing = 0;
      const id = hexToBytes(entry.hex);
      for (const state of [...(entry.endpoints ?? [])]) {
        youngestPong = Math.max(youngestPong, state.lastPong);
        youngestPing = Math.max(youngestPing, state.lastPing);
        if (state.lastPong !== 0 && state.lastPong < threshold) {
          this.#change({ type: 'deleteEndpoint', id, ip: state.ip });
        }
      }
      const lastSeen = youngestPong !== 0 ? youngestPong : Math.max(entry.recordTime, youngestPing);
      if (lastSeen < threshold && this.#entries.has(entry.hex)) {
        this.#change({ type: 'deleteNode', id });
        dropped++;
      }
    }
    if (dropped > 0) this.logger.debug('expired nodes', { dropped, remaining: this.size });
    return dropped;
  }

  #ensureExpirer(): void {
    if (this.#stopExpirer !== undefined || this.#closed) return;
    this.#stopExpirer = this.repeat(NODEDB_CLEANUP_CYCLE_MS, () => {
      try {
        this.expireNodes();
      } catch (err) {
        this.logger.error('node expiry failed', { reason: (err as Error).message });
      }
    });
  }

  /**
   * Nothing to write for a memory database.
   * @example db.flush()
   */
  flush(): void {}

  /**
   * True once {@link MemoryNodeDatabase.close} has run.
   * @example if (!db.closed) db.close()
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stops the expiry timer; later writes throw `ERR_NODEDB_CLOSED`. Idempotent.
   * @example db.close()
   */
  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      this.#stopExpirer?.();
      this.#stopExpirer = undefined;
    }
  }

  /**
   * Runs `callback` every `ms` on the clock (each run re-arms an unref'd timer) until the returned function is
   * called; for expiry here and for subclasses' flushes.
   */
  protected repeat(ms: number, callback: () => void): () => void {
    const clock = this.#clock;
    let handle: unknown;
    let stopped = false;
    const arm = (): void => {
      handle = clock.setTimeout(() => {
        if (stopped) return;
        arm();
        callback();
      }, ms);
      unrefTimer(handle);
    };
    arm();
    return () => {
      stopped = true;
      clock.clearTimeout(handle);
    };
  }
}
