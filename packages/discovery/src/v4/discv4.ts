/**
 * Node Discovery v4: {@link Discv4} assembles the packet service (service.ts over socket.ts, with bond.ts and
 * pending.ts) and the protocol-neutral table, lookups, random-nodes iterator and revalidation (../table/), and
 * keeps the table's refresh (seeding, a self lookup, random lookups).
 */

import {
  AbortError,
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  defaultLogger,
  type Logger,
  systemClock,
} from '@devp2p/core';
import { randomBytes } from '@devp2p/crypto';
import { LocalNode, MemoryNodeDatabase, type Node, type NodeDatabase, type NodeDiscovery, NodeId } from '@devp2p/enode';
import {
  type ALPHA,
  type BUCKET_SIZE,
  type ITERATOR_SEEN_LIMIT,
  PING_INTERVAL_MS,
  REFRESH_INTERVAL_MS,
  REFRESH_RANDOM_LOOKUPS,
  RESP_TIMEOUT_MS,
} from '../constants.ts';
import { Lifecycle } from '../lifecycle.ts';
import { announceBoundEndpoint } from '../local-endpoint.ts';
import type { DiscoveryServiceOptions } from '../options.ts';
import { lookupIterator } from '../table/iterator.ts';
import { runLookup, type TableContext } from '../table/lookup.ts';
import { Refresh } from '../table/refresh.ts';
import { Revalidation } from '../table/revalidation.ts';
import { Table } from '../table/table.ts';
import { PendingReplies } from './pending.ts';
import { PacketService } from './service.ts';
import type { Discv4Stats } from './socket.ts';
import type { PongPacket } from './wire.ts';

export type { Discv4Stats, DropReason } from './socket.ts';

/**
 * Options of {@link Discv4.start}.
 * @example
 * await Discv4.start({ privateKey, transport: udpTransport, host: '0.0.0.0', port: 30303, bootnodes })
 */
export interface Discv4Options extends DiscoveryServiceOptions {
  /** Binds the socket (`udpTransport` from `@devp2p/transport-node`). */
  transport: DatagramTransport;
  /**
   * Receives every datagram that is not a discv4 packet, instead of dropping it (geth `Config.Unhandled`): with
   * discv5 on the same socket, `(data, from) => discv5.receive(data, from)`.
   */
  unhandled?: (data: Uint8Array, from: DatagramAddress) => void;
}

/**
 * Options of calls that may be cancelled.
 * @example await discv4.lookup(key, { signal: AbortSignal.timeout(5_000) })
 */
export interface Discv4CallOptions {
  signal?: AbortSignal;
}

/**
 * A Node Discovery v4 service: answers other nodes the way geth does, keeps a Kademlia table of verified
 * nodes, and finds nodes through lookups. Start with {@link Discv4.start}; stop with {@link Discv4.close}.
 *
 * @example
 * const discv4 = await Discv4.start({ privateKey, transport: udpTransport, port: 30303, bootnodes })
 * for await (const node of discv4.randomNodes({ signal })) dial(node)
 * await discv4.close()
 */
export class Discv4 implements NodeDiscovery {
  /** This source's name in logs, metrics and `discovery:candidate` events. */
  readonly name = 'discv4';
  /** Our record and endpoint predictor. */
  readonly localNode: LocalNode;
  /** The routing table. */
  readonly table: Table;
  /** Packet counters. */
  readonly stats: Discv4Stats;
  readonly #db: NodeDatabase;
  readonly #ownsDb: boolean;
  readonly #log: Logger;
  readonly #lifecycle: Lifecycle;
  readonly #ctx: TableContext;
  readonly #replies: PendingReplies;
  readonly #service: PacketService;
  readonly #revalidation: Revalidation;
  readonly #refresh: Refresh;

  private constructor(options: Discv4Options, localNode: LocalNode, ownsDb: boolean) {
    this.localNode = localNode;
    this.#db = options.db ?? localNode.db;
    this.#ownsDb = ownsDb;
    const clock = options.clock ?? systemClock;
    const now = (): number => clock.now();
    this.#log = (options.logger ?? defaultLogger()).child('discovery:v4');
    const respTimeout = options.respTimeoutMs ?? RESP_TIMEOUT_MS;
    this.#lifecycle = new Lifecycle(clock);
    this.table = new Table(localNode.id, {
      clock,
      random: options.random ?? Math.random,
      pingIntervalMs: options.pingIntervalMs ?? PING_INTERVAL_MS,
      onAdded: () => this.#revalidation.schedule(),
    });
    this.#ctx = { table: this.table, db: this.#db, lifecycle: this.#lifecycle, now };
    this.#replies = new PendingReplies(this.#lifecycle, now, respTimeout);
    this.#service = new PacketService({
      privateKey: options.privateKey,
      localNode,
      table: this.table,
      db: this.#db,
      netRestrict: options.netRestrict,
      now,
      lifecycle: this.#lifecycle,
      log: this.#log,
      respTimeout,
      replies: this.#replies,
      initDone: () => this.#refresh.initDone,
      unhandled: options.unhandled,
    });
    this.stats = this.#service.stats;
    this.#revalidation = new Revalidation(this.#ctx, this);
    this.#refresh = new Refresh({
      ctx: this.#ctx,
      bootnodes: options.bootnodes ?? [],
      intervalMs: options.refreshIntervalMs ?? REFRESH_INTERVAL_MS,
      randomLookups: options.refreshRandomLookups ?? REFRESH_RANDOM_LOOKUPS,
      log: this.#log,
      lookupSelf: (signal) => this.#lookup(localNode.publicKey, signal),
      lookupRandom: (signal) => this.#lookup(randomBytes(64), signal),
    });
  }

  /**
   * Binds the socket, seeds the table from the node database and the bootnodes, and starts the refresh
   * (a self lookup, then random ones) and revalidation loops.
   * @example const discv4 = await Discv4.start({ privateKey, transport: udpTransport, host: '127.0.0.1' })
   */
  static async start(options: Discv4Options): Promise<Discv4> {
    const ownsDb = options.localNode === undefined && options.db === undefined;
    const localNode =
      options.localNode ??
      new LocalNode(options.privateKey, { db: options.db ?? new MemoryNodeDatabase(), logger: options.logger });
    const discv4 = new Discv4(options, localNode, ownsDb);
    const host = options.host ?? '0.0.0.0';
    const bound = await discv4.#service.bind(options.transport, host, options.port ?? 0);
    announceBoundEndpoint(localNode, host, bound.port);
    discv4.#refresh.start();
    return discv4;
  }

  /** The bound socket address. */
  get address(): DatagramAddress {
    return this.#service.address;
  }

  /**
   * The bound UDP socket, for discv5 to send on when both share one port (`Discv5Options.socket`); it closes with
   * this service.
   */
  get socket(): DatagramSocket {
    return this.#service.socket;
  }

  /** Our node as others should see it (signed record). */
  get self(): Node {
    return this.localNode.node;
  }

  /** Requests waiting for a reply right now. */
  get pendingReplies(): number {
    return this.#replies.size;
  }

  /** Timers currently scheduled (0 after {@link Discv4.close}). */
  get activeTimers(): number {
    return this.#lifecycle.activeTimers;
  }

  // -------------------------------------------------------------------------------------------------------
  // Public requests

  /**
   * Pings a node and resolves with its Pong (its `enrSeq` tells whether its record changed); rejects with a
   * TimeoutError when no Pong comes within the reply timeout.
   * @example const pong = await discv4.ping(node); if ((pong.enrSeq ?? 0n) > node.seq) await discv4.requestENR(node)
   */
  ping(node: Node, options: Discv4CallOptions = {}): Promise<PongPacket> {
    const to = node.udpEndpoint();
    if (!to) return Promise.reject(new TypeError(`node ${node.id.short()} has no UDP endpoint`));
    return this.#service.ping(node.id, to, options.signal);
  }

  /**
   * Asks a node for its record (EIP-868), after making sure it has a bond with us. Resolves with the node
   * built from the record (or `node` itself when the answer is older); rejects when the record does not
   * verify, belongs to another id or names an address the node may not relay, or on timeout.
   * @example const fresh = await discv4.requestENR(node); console.log(fresh.record.toText())
   */
  requestENR(node: Node, options: Discv4CallOptions = {}): Promise<Node> {
    return this.#service.requestENR(node, options.signal);
  }

  /**
   * Finds the nodes closest to `target` (a node, or a 64-byte public key: discv4 measures distance to its
   * keccak-256): Kademlia with {@link ALPHA} concurrent queries, the {@link BUCKET_SIZE} closest kept.
   * @example const closest = await discv4.lookup(someNode); console.log(closest.map((n) => n.id.short()))
   */
  lookup(target: Node | Uint8Array, options: Discv4CallOptions = {}): Promise<Node[]> {
    const key = target instanceof Uint8Array ? target : target.publicKey;
    if (key?.length !== 64) return Promise.reject(new TypeError('lookup target: expected a 64-byte public key'));
    return this.#lookup(key, options.signal);
  }

  /**
   * The newest record of a node (geth `Resolve`): ask it directly, else the table's copy, else a lookup for
   * its id. Resolves with `node` unchanged when nothing newer is found.
   * @example const current = await discv4.resolve(staticPeer)
   */
  async resolve(node: Node, options: Discv4CallOptions = {}): Promise<Node> {
    const { signal } = options;
    const attempt = async (n: Node): Promise<Node | undefined> => {
      try {
        return await this.requestENR(n, { signal });
      } catch (err) {
        if (err instanceof AbortError || this.#lifecycle.closed) throw err;
        return undefined;
      }
    };
    if (node.udpEndpoint()) {
      const direct = await attempt(node);
      if (direct) return direct;
    }
    const inTable = this.table.get(node.id);
    if (inTable && inTable.seq > node.seq) {
      const fresh = await attempt(inTable);
      if (fresh) return fresh;
      node = inTable;
    }
    if (!node.publicKey) return node;
    for (const found of await this.#lookup(node.publicKey, signal)) {
      if (!found.id.equals(node.id)) continue;
      const fresh = await attempt(found);
      if (fresh) return fresh;
    }
    return node;
  }

  /**
   * An endless stream of nodes found by random lookups, each checked as Neighbors entries are (relay rules,
   * port, NetRestrict, point on the curve), none repeated among the last {@link ITERATOR_SEEN_LIMIT}. Ends when
   * `signal` aborts, the consumer stops, or discovery closes.
   * @example
   * for await (const node of discv4.randomNodes({ signal: controller.signal })) dialer.add(node)
   */
  randomNodes(options: Discv4CallOptions = {}): AsyncGenerator<Node, void, undefined> {
    return lookupIterator(this.#ctx, (signal, onNode) => this.#lookup(randomBytes(64), signal, onNode), options.signal);
  }

  /** A lookup for the node id of the public key `target`, asking each node with FindNode. */
  #lookup(target: Uint8Array, signal?: AbortSignal, onNode?: (node: Node) => void): Promise<Node[]> {
    this.stats.lookups++;
    return runLookup(
      this.#ctx,
      NodeId.fromPublicKey(target),
      (node, to, s) => this.#service.findnode(node, to, target, s),
      signal,
      onNode,
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Table upkeep

  /**
   * Refills the table: adds database seeds and bootnodes, then runs a self lookup and random lookups. Returns
   * the running refresh when one is under way.
   * @example await discv4.refresh()
   */
  refresh(): Promise<void> {
    return this.#refresh.refresh();
  }

  // -------------------------------------------------------------------------------------------------------

  /**
   * Stops everything: the socket, timers, pending requests (they reject with ConnectionClosedError), running
   * lookups and iterators. Idempotent.
   * @example await discv4.close()
   */
  async close(): Promise<void> {
    if (this.#lifecycle.closed) return;
    this.#lifecycle.close();
    this.#replies.closeAll();
    this.#lifecycle.cancelAll();
    await this.#service.close();
    await this.#refresh.running;
    this.#lifecycle.clearTimers();
    if (this.#ownsDb) this.#db.close();
  }
}
