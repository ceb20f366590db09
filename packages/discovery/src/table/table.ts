/**
 * The Kademlia table (geth p2p/discover/table.go and table_reval.go): 17 buckets of 16 by log distance, a
 * replacement list per bucket, IP limits, and the fast / slow revalidation lists. Synchronous and clock-driven:
 * the discovery service does the networking and reports results back.
 */
import { type Clock, systemClock } from '@devp2p/core';
import { compareDistance, isLan, logDistance, type Node, type NodeId } from '@devp2p/enode';
import {
  BUCKET_IP_LIMIT,
  BUCKET_MIN_DISTANCE,
  BUCKET_SIZE,
  HASH_BITS,
  MAX_FINDNODE_FAILURES,
  MAX_REPLACEMENTS,
  N_BUCKETS,
  PING_INTERVAL_MS,
  SLOW_REVALIDATION_FACTOR,
  TABLE_IP_LIMIT,
  TABLE_SUBNET,
} from '../constants.ts';
import { DistinctNetSet } from '../netutil.ts';

/**
 * A node in the table, with its liveness state.
 * @example for (const entry of table.entries()) console.log(entry.node.id.short(), entry.livenessChecks)
 */
export interface TableEntry {
  readonly node: Node;
  /** When the node entered the table (ms). */
  readonly addedAt: number;
  /** Passed revalidations, divided by 3 on each failure; the node leaves the table at 0 after a failure. */
  readonly livenessChecks: number;
  /** True once the node has answered a ping from us while in the table (or was added on a fresh pong). */
  readonly isValidatedLive: boolean;
}

interface MutableEntry {
  node: Node;
  addedAt: number;
  livenessChecks: number;
  isValidatedLive: boolean;
  list: RevalidationList | undefined;
}

interface Bucket {
  entries: MutableEntry[];
  replacements: Node[];
  readonly ips: DistinctNetSet;
}

class RevalidationList {
  readonly name: 'fast' | 'slow';
  readonly interval: number;
  nextTime = Number.POSITIVE_INFINITY;
  readonly nodes: MutableEntry[] = [];

  constructor(name: 'fast' | 'slow', interval: number) {
    this.name = name;
    this.interval = interval;
  }

  schedule(now: number, random: () => number): void {
    this.nextTime = now + Math.floor(random() * this.interval);
  }

  push(entry: MutableEntry, now: number, random: () => number): void {
    this.nodes.push(entry);
    entry.list = this;
    if (this.nextTime === Number.POSITIVE_INFINITY) this.schedule(now, random);
  }

  remove(entry: MutableEntry): void {
    const i = this.nodes.indexOf(entry);
    if (i !== -1) this.nodes.splice(i, 1);
    if (this.nodes.length === 0) this.nextTime = Number.POSITIVE_INFINITY;
    entry.list = undefined;
  }
}

/**
 * Options of {@link Table}.
 * @example new Table(self.id, { clock: new ManualClock(), random: seeded.next })
 */
export interface TableOptions {
  /** Clock for node ages and revalidation times (default {@link systemClock}). */
  clock?: Pick<Clock, 'now'>;
  /** Uniform [0, 1) source for bucket picks and schedules (default `Math.random`). */
  random?: () => number;
  /** Fast revalidation list interval (default {@link PING_INTERVAL_MS}); the slow list's is 3 times it. */
  pingIntervalMs?: number;
  /** Called for each node that enters the table (bucket entries, not replacements). */
  onAdded?: (node: Node) => void;
  /** Called for each node that leaves the table. */
  onRemoved?: (node: Node) => void;
}

/**
 * What revalidation found out about a node: whether it answered our ping, and the newer record it sent, if any.
 * @example table.revalidated(node.id, { responded: true, record: fresher })
 */
export interface RevalidationResult {
  readonly responded: boolean;
  readonly record?: Node | undefined;
}

/**
 * The routing table.
 * @example
 * const table = new Table(local.id)
 * table.addFoundNode(bootnode)
 * table.closest(target, 16, true)
 */
export class Table {
  readonly self: NodeId;
  readonly #buckets: Bucket[] = [];
  readonly #ips = new DistinctNetSet(TABLE_SUBNET, TABLE_IP_LIMIT);
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #fast: RevalidationList;
  readonly #slow: RevalidationList;
  readonly #active = new Set<string>();
  readonly #onAdded: ((node: Node) => void) | undefined;
  readonly #onRemoved: ((node: Node) => void) | undefined;

  constructor(self: NodeId, options: TableOptions = {}) {
    this.self = self;
    const clock = options.clock ?? systemClock;
    this.#now = () => clock.now();
    this.#random = options.random ?? Math.random;
    const interval = options.pingIntervalMs ?? PING_INTERVAL_MS;
    this.#fast = new RevalidationList('fast', interval);
    this.#slow = new RevalidationList('slow', interval * SLOW_REVALIDATION_FACTOR);
    this.#onAdded = options.onAdded;
    this.#onRemoved = options.onRemoved;
    for (let i = 0; i < N_BUCKETS; i++) {
      this.#buckets.push({ entries: [], replacements: [], ips: new DistinctNetSet(TABLE_SUBNET, BUCKET_IP_LIMIT) });
    }
  }

  /**
   * The bucket index (0..16) of an id: log distance 240 or closer is bucket 0, 256 is bucket 16.
   * @example table.bucketIndex(node.id)
   */
  bucketIndex(id: NodeId): number {
    const d = logDistance(this.self, id);
    return d <= BUCKET_MIN_DISTANCE ? 0 : d - BUCKET_MIN_DISTANCE - 1;
  }

  #bucket(id: NodeId): Bucket {
    return this.#buckets[this.bucketIndex(id)]!;
  }

  /** Number of nodes in the buckets (not counting replacements). */
  get size(): number {
    let n = 0;
    for (const b of this.#buckets) n += b.entries.length;
    return n;
  }

  /**
   * All nodes in the buckets.
   * @example const known = table.nodes().length
   */
  nodes(): Node[] {
    return this.#buckets.flatMap((b) => b.entries.map((e) => e.node));
  }

  /**
   * All entries with their liveness state.
   * @example table.entries().filter((e) => e.isValidatedLive)
   */
  entries(): TableEntry[] {
    return this.#buckets.flatMap((b) => b.entries.map((e) => ({ ...e })));
  }

  /**
   * Bucket contents and replacement lists, by bucket index (for tests and admin views).
   * @example table.bucket(16).entries.length
   */
  bucket(index: number): { entries: Node[]; replacements: Node[] } {
    const b = this.#buckets[index];
    if (!b) throw new RangeError(`bucket index ${index} out of range 0..${N_BUCKETS - 1}`);
    return { entries: b.entries.map((e) => e.node), replacements: [...b.replacements] };
  }

  /**
   * The node with this id if it is in a bucket.
   * @example table.get(id)?.udpEndpoint()
   */
  get(id: NodeId): Node | undefined {
    return this.#find(this.#bucket(id), id)?.node;
  }

  #find(b: Bucket, id: NodeId): MutableEntry | undefined {
    return b.entries.find((e) => e.node.id.equals(id));
  }

  #addIp(b: Bucket, ip: string | undefined): boolean {
    if (ip === undefined) return false;
    if (isLan(ip)) return true;
    if (!this.#ips.add(ip)) return false;
    if (!b.ips.add(ip)) {
      this.#ips.remove(ip);
      return false;
    }
    return true;
  }

  #removeIp(b: Bucket, ip: string | undefined): void {
    if (ip === undefined || isLan(ip)) return;
    this.#ips.remove(ip);
    b.ips.remove(ip);
  }

  /**
   * Adds a node that may not be live (found in a lookup, a seed): into its bucket when there is room, else to
   * the bucket's replacement list. With `forceSetLive` it counts as validated (we just had a pong from it).
   * Returns true when the node entered the bucket.
   * @example table.addFoundNode(node)
   */
  addFoundNode(node: Node, forceSetLive = false): boolean {
    if (node.id.equals(this.self) || !node.udpEndpoint()) return false;
    const b = this.#bucket(node.id);
    if (this.#bump(b, node)) {
      if (forceSetLive) {
        // A node already in the table that just proved its endpoint again counts as live.
        const entry = this.#find(b, node.id)!;
        entry.isValidatedLive = true;
        entry.livenessChecks = Math.max(entry.livenessChecks, 1);
      }
      return false;
    }
    if (b.entries.length >= BUCKET_SIZE) {
      this.#addReplacement(b, node);
      return false;
    }
    if (!this.#addIp(b, node.ip)) return false;
    const entry: MutableEntry = {
      node,
      addedAt: this.#now(),
      livenessChecks: forceSetLive ? 1 : 0,
      isValidatedLive: forceSetLive,
      list: undefined,
    };
    b.entries.push(entry);
    this.#dropReplacement(b, node.id);
    this.#fast.push(entry, this.#now(), this.#random);
    this.#onAdded?.(node);
    return true;
  }

  /**
   * Adds a node that just proved its endpoint (it pinged us and answered our ping back).
   * @example table.addInboundNode(node)
   */
  addInboundNode(node: Node): boolean {
    return this.addFoundNode(node, true);
  }

  /** Updates an entry already in the bucket with a newer record; true when the node was in the bucket. */
  #bump(b: Bucket, node: Node): boolean {
    const entry = this.#find(b, node.id);
    if (!entry) return false;
    if (node.seq < entry.node.seq) return true;
    const endpointChanged = entry.node.ip !== node.ip || entry.node.udp !== node.udp;
    if (node.ip !== entry.node.ip) {
      this.#removeIp(b, entry.node.ip);
      if (!this.#addIp(b, node.ip)) {
        this.#addIp(b, entry.node.ip);
        return true;
      }
    }
    entry.node = node;
    if (endpointChanged) {
      // A new endpoint has to prove itself again.
      entry.list?.remove(entry);
      this.#fast.push(entry, this.#now(), this.#random);
    }
    return true;
  }

  #addReplacement(b: Bucket, node: Node): void {
    const i = b.replacements.findIndex((n) => n.id.equals(node.id));
    if (i !== -1) {
      b.replacements[i] = node;
      return;
    }
    if (!this.#addIp(b, node.ip)) return;
    b.replacements.unshift(node);
    if (b.replacements.length > MAX_REPLACEMENTS) {
      const dropped = b.replacements.pop()!;
      this.#removeIp(b, dropped.ip);
    }
  }

  #dropReplacement(b: Bucket, id: NodeId): void {
    const i = b.replacements.findIndex((n) => n.id.equals(id));
    if (i === -1) return;
    this.#removeIp(b, b.replacements[i]!.ip);
    b.replacements.splice(i, 1);
  }

  /**
   * Removes a node from its bucket and moves a random replacement in; true when it was there.
   * @example table.delete(dead.id)
   */
  delete(id: NodeId): boolean {
    const b = this.#bucket(id);
    const i = b.entries.findIndex((e) => e.node.id.equals(id));
    if (i === -1) return false;
    const [entry] = b.entries.splice(i, 1);
    entry!.list?.remove(entry!);
    this.#removeIp(b, entry!.node.ip);
    this.#onRemoved?.(entry!.node);
    if (b.replacements.length > 0) {
      const r = Math.floor(this.#random() * b.replacements.length);
      const [replacement] = b.replacements.splice(r, 1);
      // Its IP is already counted (replacements count toward the limits).
      const added: MutableEntry = {
        node: replacement!,
        addedAt: this.#now(),
        livenessChecks: 0,
        isValidatedLive: false,
        list: undefined,
      };
      b.entries.push(added);
      this.#fast.push(added, this.#now(), this.#random);
      this.#onAdded?.(replacement!);
    }
    return true;
  }

  /**
   * The `n` nodes closest to `target`. With `preferLive`, only validated nodes when there are any (what
   * FindNode answers, as geth's `findnodeByID`).
   * @example table.closest(target, 16, true)
   */
  closest(target: NodeId, n: number, preferLive = false): Node[] {
    const all: MutableEntry[] = [];
    for (const b of this.#buckets) for (const e of b.entries) all.push(e);
    let pool = all;
    if (preferLive) {
      const live = all.filter((e) => e.isValidatedLive);
      if (live.length > 0) pool = live;
    }
    return pool
      .map((e) => e.node)
      .sort((a, b) => compareDistance(target, a.id, b.id))
      .slice(0, n);
  }

  /**
   * The nodes at log distance `distance` (1..256) from us, in random order; with `liveOnly`, only validated ones.
   * What a discv5 FINDNODE answers (geth `appendBucketNodes`, which returns the whole first bucket for any distance
   * up to 240: here the distance is exact, so the asker does not drop the answer as off-distance).
   * @example table.nodesAtDistance(256, true)
   */
  nodesAtDistance(distance: number, liveOnly = false): Node[] {
    if (!Number.isInteger(distance) || distance < 1 || distance > HASH_BITS) return [];
    const index = distance <= BUCKET_MIN_DISTANCE ? 0 : distance - BUCKET_MIN_DISTANCE - 1;
    const out = this.#buckets[index]!.entries.filter(
      (e) => (!liveOnly || e.isValidatedLive) && logDistance(this.self, e.node.id) === distance,
    ).map((e) => e.node);
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /**
   * Marks a node in the table as live when it answered a ping of ours at its table endpoint (a bond or a
   * revalidation): it then counts for FindNode answers, which prefer live nodes. True when it was in the table.
   * @example table.markLive(id, '10.0.0.1')
   */
  markLive(id: NodeId, ip: string): boolean {
    const entry = this.#find(this.#bucket(id), id);
    if (!entry || entry.node.ip !== ip) return false;
    entry.isValidatedLive = true;
    entry.livenessChecks = Math.max(entry.livenessChecks, 1);
    return true;
  }

  /**
   * Records a FindNode result: drops the node after {@link MAX_FINDNODE_FAILURES} consecutive failures (only
   * when its bucket has at least a quarter of its capacity, so small networks keep their few nodes), and adds
   * what it returned.
   * @example table.trackRequest(node, fails, found)
   */
  trackRequest(node: Node, fails: number, found: readonly Node[]): void {
    const b = this.#bucket(node.id);
    if (fails >= MAX_FINDNODE_FAILURES && b.entries.length >= BUCKET_SIZE / 4) this.delete(node.id);
    for (const n of found) this.addFoundNode(n);
  }

  /**
   * When the next revalidation is due (ms), or Infinity when the table is empty.
   * @example timers.setTimeout(tick, Math.max(0, table.nextRevalidationTime() - now()))
   */
  nextRevalidationTime(): number {
    return Math.min(this.#fast.nextTime, this.#slow.nextTime);
  }

  /**
   * The nodes due for a revalidation ping now (at most one per list), marked active until
   * {@link Table.revalidated} reports on them.
   * @example for (const node of table.dueForRevalidation()) ping(node).then((r) => table.revalidated(node.id, r))
   */
  dueForRevalidation(): Node[] {
    const now = this.#now();
    const out: Node[] = [];
    for (const list of [this.#fast, this.#slow]) {
      if (now < list.nextTime) continue;
      const idle = list.nodes.filter((e) => !this.#active.has(e.node.id.hex));
      if (idle.length > 0) {
        const entry = idle[Math.floor(this.#random() * idle.length)]!;
        this.#active.add(entry.node.id.hex);
        out.push(entry.node);
      }
      list.schedule(now, this.#random);
      if (list.nodes.length === 0) list.nextTime = Number.POSITIVE_INFINITY;
    }
    return out;
  }

  /**
   * Applies a revalidation result (geth `tableRevalidation.handleResponse`): no answer divides the liveness
   * count by 3 and removes the node at 0; an answer raises it, marks the node live, takes a newer record and
   * moves the node to the slow list. Returns the entry's new state, or undefined when it left the table.
   * @example table.revalidated(node.id, { responded: false })
   */
  revalidated(id: NodeId, result: RevalidationResult): TableEntry | undefined {
    this.#active.delete(id.hex);
    const b = this.#bucket(id);
    const entry = this.#find(b, id);
    if (!entry?.list) return undefined;
    const now = this.#now();
    if (!result.responded) {
      entry.livenessChecks = Math.floor(entry.livenessChecks / 3);
      if (entry.livenessChecks <= 0) {
        this.delete(id);
        return undefined;
      }
      entry.list.remove(entry);
      this.#fast.push(entry, now, this.#random);
      return { ...entry };
    }
    entry.livenessChecks++;
    entry.isValidatedLive = true;
    const before = entry.node;
    if (result.record?.id.equals(id)) this.#bump(b, result.record);
    const endpointChanged = before.ip !== entry.node.ip || before.udp !== entry.node.udp;
    if (!endpointChanged) {
      entry.list?.remove(entry);
      this.#slow.push(entry, now, this.#random);
    }
    return { ...entry };
  }
}
