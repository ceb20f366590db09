/**
 * Node Discovery v5: {@link Discv5} assembles the packet service (service.ts over codec.ts, session.ts, calls.ts,
 * talk.ts and nodes.ts) and the protocol-neutral table, lookups, random-nodes iterator, revalidation and refresh
 * (../table/), on a socket of its own or on discv4's.
 */

import {
  AbortError,
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  defaultLogger,
  type Logger,
  systemClock,
  utf8ToBytes,
} from '@devp2p/core';
import { randomBytes } from '@devp2p/crypto';
import {
  compareDistance,
  type Endpoint,
  LocalNode,
  MemoryNodeDatabase,
  type NetList,
  type Node,
  type NodeDatabase,
  type NodeDiscovery,
  NodeId,
} from '@devp2p/enode';
import { PING_INTERVAL_MS, REFRESH_INTERVAL_MS, REFRESH_RANDOM_LOOKUPS } from '../constants.ts';
import { Lifecycle } from '../lifecycle.ts';
import { announceBoundEndpoint } from '../local-endpoint.ts';
import { checkRelayIp } from '../netutil.ts';
import type { DiscoveryServiceOptions } from '../options.ts';
import { lookupIterator } from '../table/iterator.ts';
import { runLookup, type TableContext } from '../table/lookup.ts';
import { Refresh } from '../table/refresh.ts';
import { Revalidation } from '../table/revalidation.ts';
import { Table } from '../table/table.ts';
import { DISCV5_RESP_TIMEOUT_MS, FINDNODE_RESULT_LIMIT } from './constants.ts';
import type { Discv5Pong } from './messages.ts';
import { lookupDistances } from './nodes.ts';
import { Discv5Service } from './service.ts';
import type { Discv5Stats } from './stats.ts';
import type { TalkHandler } from './talk.ts';

export type { Discv5DropReason, Discv5Stats } from './stats.ts';
export type { TalkHandler, TalkRequestInfo } from './talk.ts';

/**
 * Options of {@link Discv5.start}: `transport` (a socket of its own) or `socket` (discv4's, shared).
 * @example await Discv5.start({ privateKey, transport: udpTransport, host: '0.0.0.0', port: 30303, bootnodes })
 */
export interface Discv5Options extends DiscoveryServiceOptions {
  /** Binds a socket of our own (`udpTransport` from `@devp2p/transport-node`) on `host` and `port`. */
  transport?: DatagramTransport;
  /**
   * A socket someone else bound and owns, shared with them (discv4's `socket`): discv5 sends on it and receives
   * what it is handed through {@link Discv5.receive} (discv4's `unhandled` option). `close()` leaves it open.
   */
  socket?: DatagramSocket;
}

/**
 * Options of calls that may be cancelled.
 * @example await discv5.lookup(target, { signal: AbortSignal.timeout(5_000) })
 */
export interface Discv5CallOptions {
  signal?: AbortSignal;
}

/**
 * A Node Discovery v5.1 service: sessions and handshakes, PING, FINDNODE, TALKREQ, a Kademlia table of verified
 * records, lookups. Start with {@link Discv5.start}; stop with {@link Discv5.close}.
 *
 * @example
 * const discv5 = await Discv5.start({ privateKey, transport: udpTransport, port: 30303, bootnodes })
 * discv5.registerTalkProtocol('echo', (request) => request)
 * for await (const node of discv5.randomNodes({ signal })) dial(node)
 * await discv5.close()
 */
export class Discv5 implements NodeDiscovery {
  /** This source's name in logs, metrics and `discovery:candidate` events. */
  readonly name = 'discv5';
  /** Our record and endpoint predictor (the same record discv4 announces when both run). */
  readonly localNode: LocalNode;
  /** The routing table. */
  readonly table: Table;
  /** Packet counters. */
  readonly stats: Discv5Stats;
  readonly #db: NodeDatabase;
  readonly #ownsDb: boolean;
  readonly #netRestrict: NetList | undefined;
  readonly #log: Logger;
  readonly #lifecycle: Lifecycle;
  readonly #ctx: TableContext;
  readonly #service: Discv5Service;
  readonly #revalidation: Revalidation;
  readonly #refresh: Refresh;

  private constructor(options: Discv5Options, localNode: LocalNode, ownsDb: boolean) {
    this.localNode = localNode;
    this.#db = options.db ?? localNode.db;
    this.#ownsDb = ownsDb;
    this.#netRestrict = options.netRestrict;
    const clock = options.clock ?? systemClock;
    const now = (): number => clock.now();
    this.#log = (options.logger ?? defaultLogger()).child('discovery:v5');
    this.#lifecycle = new Lifecycle(clock);
    this.table = new Table(localNode.id, {
      clock,
      random: options.random ?? Math.random,
      pingIntervalMs: options.pingIntervalMs ?? PING_INTERVAL_MS,
      onAdded: () => this.#revalidation.schedule(),
    });
    this.#ctx = { table: this.table, db: this.#db, lifecycle: this.#lifecycle, now };
    this.#service = new Discv5Service({
      privateKey: options.privateKey,
      localNode,
      table: this.table,
      db: this.#db,
      netRestrict: options.netRestrict,
      now,
      lifecycle: this.#lifecycle,
      log: this.#log,
      respTimeout: options.respTimeoutMs ?? DISCV5_RESP_TIMEOUT_MS,
      onHandshake: (node, from) => this.#onHandshake(node, from),
    });
    this.stats = this.#service.stats;
    this.#revalidation = new Revalidation(this.#ctx, this);
    this.#refresh = new Refresh({
      ctx: this.#ctx,
      bootnodes: options.bootnodes ?? [],
      intervalMs: options.refreshIntervalMs ?? REFRESH_INTERVAL_MS,
      randomLookups: options.refreshRandomLookups ?? REFRESH_RANDOM_LOOKUPS,
      log: this.#log,
      lookupSelf: (signal) => this.#lookup(localNode.id, signal),
      lookupRandom: (signal) => this.#lookup(NodeId.fromBytes(randomBytes(32)), signal),
    });
  }

  /**
   * Binds the socket (or attaches to the shared one), seeds the table from the node database and the bootnodes,
   * and starts the refresh (a self lookup, then random ones) and revalidation loops.
   * @example const discv5 = await Discv5.start({ privateKey, transport: udpTransport, host: '127.0.0.1' })
   */
  static async start(options: Discv5Options): Promise<Discv5> {
    if ((options.transport === undefined) === (options.socket === undefined)) {
      throw new TypeError('Discv5.start: give either `transport` (own socket) or `socket` (shared), not both');
    }
    const ownsDb = options.localNode === undefined && options.db === undefined;
    const localNode =
      options.localNode ??
      new LocalNode(options.privateKey, { db: options.db ?? new MemoryNodeDatabase(), logger: options.logger });
    const discv5 = new Discv5(options, localNode, ownsDb);
    let host: string;
    let port: number;
    if (options.socket) {
      discv5.#service.attach(options.socket);
      ({ host, port } = options.socket.address);
    } else {
      host = options.host ?? '0.0.0.0';
      ({ port } = await discv5.#service.bind(options.transport!, host, options.port ?? 0));
    }
    announceBoundEndpoint(localNode, host, port);
    discv5.#refresh.start();
    return discv5;
  }

  /** The socket address. */
  get address(): DatagramAddress {
    return this.#service.address;
  }

  /** Our node as others should see it (signed record). */
  get self(): Node {
    return this.localNode.node;
  }

  /** Requests pending right now (active or queued behind another to the same node). */
  get pendingCalls(): number {
    return this.#service.pendingCalls;
  }

  /** Sessions with established keys. */
  get sessionCount(): number {
    return this.#service.sessions.size;
  }

  /** Timers currently scheduled (0 after {@link Discv5.close}). */
  get activeTimers(): number {
    return this.#lifecycle.activeTimers;
  }

  /**
   * Handles one datagram received on a shared socket (discv4's `unhandled` hands over what is not discv4). With a
   * socket of its own, discv5 reads it itself. Never throws.
   * @example await Discv4.start({ ..., unhandled: (data, from) => discv5?.receive(data, from) })
   */
  receive(data: Uint8Array, from: DatagramAddress): void {
    this.#service.receive(data, from);
  }

  // -------------------------------------------------------------------------------------------------------
  // Public requests

  /**
   * Pings a node (a handshake first when there is no session) and resolves with its PONG: its record's sequence
   * number and our address as it saw it. Rejects with a TimeoutError after {@link DISCV5_RESP_TIMEOUT_MS}.
   * @example const pong = await discv5.ping(node); if (pong.enrSeq > node.seq) await discv5.requestENR(node)
   */
  ping(node: Node, options: Discv5CallOptions = {}): Promise<Discv5Pong> {
    return this.#service.ping(node, options.signal);
  }

  /**
   * Asks a node for the nodes at the given log distances from it (0 is the node itself; up to 256) and resolves
   * with the records of the answer that verify: signed, at a requested distance, with an address the node may tell
   * us of. An answer cut short by the timeout resolves with what came.
   * @example const nodes = await discv5.findNode(node, [256, 255, 254])
   */
  findNode(node: Node, distances: readonly number[], options: Discv5CallOptions = {}): Promise<Node[]> {
    return this.#service.findnode(node, distances, options.signal);
  }

  /**
   * Asks a node for its current record (FINDNODE at distance 0); rejects with `ERR_DISCV5_ENR` unless exactly its
   * own valid record comes back.
   * @example const fresh = await discv5.requestENR(node); console.log(fresh.record.toText())
   */
  requestENR(node: Node, options: Discv5CallOptions = {}): Promise<Node> {
    return this.#service.requestENR(node, options.signal);
  }

  /**
   * Sends a TALKREQ of `protocol` and resolves with the TALKRESP's bytes (empty when the node does not know the
   * protocol).
   * @example const reply = await discv5.talkRequest(node, 'echo', utf8ToBytes('hi'))
   */
  talkRequest(
    node: Node,
    protocol: string | Uint8Array,
    request: Uint8Array,
    options: Discv5CallOptions = {},
  ): Promise<Uint8Array> {
    const name = typeof protocol === 'string' ? utf8ToBytes(protocol) : protocol;
    return this.#service.talkRequest(node, name, request, options.signal);
  }

  /**
   * Answers TALKREQs of `protocol` with `handler` (at most `MAX_ACTIVE_TALK_REQUESTS` run at once; others are
   * dropped). Unregistered protocols get an empty TALKRESP, as geth answers. Returns the function that unregisters
   * the handler; throws when the protocol is already registered.
   * @example const stop = discv5.registerTalkProtocol('echo', (request) => request)
   */
  registerTalkProtocol(protocol: string, handler: TalkHandler): () => void {
    return this.#service.registerTalkProtocol(protocol, handler);
  }

  /**
   * Finds the nodes closest to `target` (a node id, or a node's): Kademlia with `ALPHA` concurrent FINDNODEs, each
   * for the target's distance from the node asked and its neighbours; the `BUCKET_SIZE` closest kept.
   * @example const closest = await discv5.lookup(someNode.id)
   */
  lookup(target: NodeId | Node, options: Discv5CallOptions = {}): Promise<Node[]> {
    return this.#lookup(target instanceof NodeId ? target : target.id, options.signal);
  }

  /**
   * The newest record of a node (geth `Resolve`): the table's copy when newer, then the node asked directly, then
   * a lookup for its id. Resolves with the best known when nothing newer is found.
   * @example const current = await discv5.resolve(staticPeer)
   */
  async resolve(node: Node, options: Discv5CallOptions = {}): Promise<Node> {
    const { signal } = options;
    const inTable = this.table.get(node.id);
    if (inTable && inTable.seq > node.seq) node = inTable;
    if (node.udpEndpoint() && node.publicKey) {
      try {
        const fresh = await this.requestENR(node, { signal });
        if (fresh.seq >= node.seq) return fresh;
      } catch (err) {
        if (err instanceof AbortError || this.#lifecycle.closed) throw err;
      }
    }
    for (const found of await this.#lookup(node.id, signal)) {
      if (found.id.equals(node.id) && found.seq > node.seq) return found;
    }
    return node;
  }

  /**
   * An endless stream of verified nodes found by random lookups, none repeated among the last
   * `ITERATOR_SEEN_LIMIT`. Ends when `signal` aborts, the consumer stops, or discovery closes.
   * @example for await (const node of discv5.randomNodes({ signal })) dialer.add(node)
   */
  randomNodes(options: Discv5CallOptions = {}): AsyncGenerator<Node, void, undefined> {
    return lookupIterator(
      this.#ctx,
      (signal, onNode) => this.#lookup(NodeId.fromBytes(randomBytes(32)), signal, onNode),
      options.signal,
    );
  }

  /**
   * Refills the table: adds database seeds and bootnodes, then runs a self lookup and random lookups. Returns the
   * running refresh when one is under way.
   * @example await discv5.refresh()
   */
  refresh(): Promise<void> {
    return this.#refresh.refresh();
  }

  #lookup(target: NodeId, signal?: AbortSignal, onNode?: (node: Node) => void): Promise<Node[]> {
    const self = this.localNode.id;
    return runLookup(
      this.#ctx,
      target,
      async (node, _to, s) => {
        const found = await this.#service.findnode(node, lookupDistances(target, node.id), s);
        return found
          .filter((n) => !n.id.equals(self))
          .sort((a, b) => compareDistance(target, a.id, b.id))
          .slice(0, FINDNODE_RESULT_LIMIT);
      },
      signal,
      onNode,
    );
  }

  /** A remote proved its record in a handshake: it joins the table (live when it wrote from its record's address). */
  #onHandshake(node: Node, from: Endpoint): void {
    if (this.#lifecycle.closed) return;
    const to = node.udpEndpoint();
    if (!to) return;
    if (to.ip === from.ip && to.port === from.port) this.table.addInboundNode(node);
    else if (checkRelayIp(from.ip, to.ip) === undefined && (!this.#netRestrict || this.#netRestrict.contains(to.ip))) {
      this.table.addFoundNode(node);
    }
  }

  /**
   * Stops everything: the socket (unless shared), timers, pending requests (they reject with
   * ConnectionClosedError), running lookups and iterators. Idempotent.
   * @example await discv5.close()
   */
  async close(): Promise<void> {
    if (this.#lifecycle.closed) return;
    this.#lifecycle.close();
    const closing = this.#service.close();
    this.#lifecycle.cancelAll();
    await closing;
    await this.#refresh.running;
    this.#lifecycle.clearTimers();
    if (this.#ownsDb) this.#db.close();
  }
}
