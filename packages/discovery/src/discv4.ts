/**
 * Node Discovery v4 over one datagram socket: packet handling with endpoint proofs (geth p2p/discover/v4_udp.go),
 * the table's upkeep (seeding, refresh, revalidation), lookups and the random-node iterator.
 */
import {
  AbortError,
  bytesToHex,
  ConnectionClosedError,
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  Devp2pError,
  defaultLogger,
  formatHostPort,
  type Logger,
  systemTimers,
  TimeoutError,
  type Timers,
} from '@devp2p/core';
import { isValidPublicKey, keccak256, randomBytes } from '@devp2p/crypto';
import {
  compareDistance,
  type Endpoint,
  isIPv4MappedIp,
  isLan,
  isUnspecifiedIp,
  LocalNode,
  MemoryNodeDatabase,
  type NetList,
  Node,
  type NodeDatabase,
  type NodeDiscovery,
  NodeId,
  parseIp,
} from '@devp2p/enode';
import {
  ALPHA,
  BOND_EXPIRATION_MS,
  BUCKET_SIZE,
  EMPTY_TABLE_SLOWDOWN_MS,
  EXPIRATION_MS,
  ITERATOR_SEEN_LIMIT,
  MAX_FINDNODE_FAILURES,
  MAX_NEIGHBORS,
  MAX_PENDING_REPLIES,
  MAX_PING_RECORDS,
  NEIGHBORS_FOLLOW_UP_MS,
  PING_INTERVAL_MS,
  REFRESH_INTERVAL_MS,
  REFRESH_RANDOM_LOOKUPS,
  RESP_TIMEOUT_MS,
  SEED_COUNT,
  SEED_MAX_AGE_MS,
} from './constants.ts';
import { checkRelayIp } from './netutil.ts';
import { Table } from './table.ts';
import {
  type DecodedPacket,
  Discv4PacketError,
  decodePacket,
  type EnrResponsePacket,
  encodePacket,
  type NeighborsPacket,
  type Packet,
  type PacketErrorReason,
  type PongPacket,
  type WireEndpoint,
  type WireNode,
} from './wire.ts';

/**
 * Why a received datagram was dropped: a decoding failure, or a valid packet we must not act on.
 * @example discv4.stats.dropped.unbonded
 */
export type DropReason =
  | PacketErrorReason
  | 'expired'
  | 'unsolicited'
  | 'unbonded'
  | 'restricted'
  | 'self'
  | 'handler-error';

/**
 * Packet counters.
 * @example console.log(discv4.stats.received, discv4.stats.dropped['bad-signature'])
 */
export interface Discv4Stats {
  /** Datagrams received. */
  received: number;
  /** Packets sent. */
  sent: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Record<DropReason, number>;
}

/**
 * Options of {@link Discv4.start}.
 * @example
 * await Discv4.start({ privateKey, transport: udpTransport, host: '0.0.0.0', port: 30303, bootnodes })
 */
export interface Discv4Options {
  /** Our secp256k1 private key (32 bytes): it signs every packet. */
  privateKey: Uint8Array;
  /** Binds the socket (`udpTransport` from `@devp2p/transport-node`). */
  transport: DatagramTransport;
  /** Address to bind (default `0.0.0.0`). */
  host?: string;
  /** Port to bind (default 0: any free port). */
  port?: number;
  /** Our record; default: a new LocalNode for `privateKey` over an in-memory node database. */
  localNode?: LocalNode;
  /** Node database for bonds and seeds (default: the LocalNode's). */
  db?: NodeDatabase;
  /** Nodes to contact when the table is empty. */
  bootnodes?: readonly Node[];
  /** Only nodes in these networks are contacted, and only their packets are handled (geth `NetRestrict`). */
  netRestrict?: NetList;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Timers (default the runtime's). */
  timers?: Timers;
  /** Uniform [0, 1) source (default `Math.random`). */
  random?: () => number;
  /** Logger (default: silent unless `DEBUG` names devp2p). */
  logger?: Logger;
  /** Reply deadline (default {@link RESP_TIMEOUT_MS}). */
  respTimeoutMs?: number;
  /** Table refresh period (default {@link REFRESH_INTERVAL_MS}). */
  refreshIntervalMs?: number;
  /** Random lookups per refresh after the self lookup (default {@link REFRESH_RANDOM_LOOKUPS}). */
  refreshRandomLookups?: number;
  /** Fast revalidation interval (default {@link PING_INTERVAL_MS}). */
  pingIntervalMs?: number;
}

/**
 * Options of calls that may be cancelled.
 * @example await discv4.lookup(key, { signal: AbortSignal.timeout(5_000) })
 */
export interface Discv4CallOptions {
  signal?: AbortSignal;
}

type ReplyType = 'pong' | 'neighbors' | 'enrResponse';

interface PendingReply {
  readonly idHex: string;
  readonly ip: string;
  readonly type: ReplyType;
  /** Returns whether the packet matched, and whether the request is complete. */
  readonly onPacket: (packet: Packet) => ReplyProgress;
  readonly finish: (error?: Error) => void;
  /** Completes the request successfully `ms` from now (never past its reply deadline), unless a reply does first. */
  readonly settleAfter: (ms: number) => void;
}

/** What a reply did to its request: matched it or not; completed it, or completes it if nothing follows soon. */
interface ReplyProgress {
  matched: boolean;
  done: boolean;
  /** When not done: finish successfully if no further reply comes within this many ms. */
  settleAfterMs?: number;
}

/** The error of requests cut short by {@link Discv4.close}. */
function closedError(): ConnectionClosedError {
  return new ConnectionClosedError('discovery closed');
}

/** Canonical text of a datagram source; IPv4-mapped IPv6 becomes IPv4. */
function canonicalHost(host: string): string | undefined {
  const bytes = parseIp(host);
  if (!bytes) return undefined;
  return isIPv4MappedIp(bytes) ? bytes.subarray(12).join('.') : host;
}

function newDropCounters(): Record<DropReason, number> {
  return {
    'too-small': 0,
    'too-large': 0,
    'bad-hash': 0,
    'bad-signature': 0,
    'unknown-type': 0,
    malformed: 0,
    expired: 0,
    unsolicited: 0,
    unbonded: 0,
    restricted: 0,
    self: 0,
    'handler-error': 0,
  };
}

/** A small insertion-ordered map that forgets its oldest keys beyond `limit`. */
class BoundedMap<V> {
  readonly #limit: number;
  readonly #map = new Map<string, V>();
  constructor(limit: number) {
    this.#limit = limit;
  }
  get(key: string): V | undefined {
    return this.#map.get(key);
  }
  has(key: string): boolean {
    return this.#map.has(key);
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#limit) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
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
  readonly stats: Discv4Stats = { received: 0, sent: 0, dropped: newDropCounters() };
  readonly #privateKey: Uint8Array;
  readonly #db: NodeDatabase;
  readonly #ownsDb: boolean;
  readonly #bootnodes: readonly Node[];
  readonly #netRestrict: NetList | undefined;
  readonly #now: () => number;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #respTimeout: number;
  readonly #refreshInterval: number;
  readonly #refreshRandomLookups: number;
  #socket: DatagramSocket | undefined;
  readonly #pending: PendingReply[] = [];
  readonly #lastPing = new BoundedMap<number>(MAX_PING_RECORDS);
  /** Pings sent recently (hash → recipient), so a pong that comes after the reply timeout still proves the bond. */
  readonly #sentPings = new BoundedMap<{ idHex: string; ip: string; at: number }>(MAX_PENDING_REPLIES);
  readonly #pingWaiters = new Map<string, Set<() => void>>();
  readonly #liveTimers = new Set<unknown>();
  readonly #cancelers = new Set<() => void>();
  readonly #closing = new AbortController();
  #closed = false;
  #initDone = false;
  #refreshing: Promise<void> | undefined;
  #revalidationTimer: unknown;
  #revalidationAt = Number.POSITIVE_INFINITY;

  private constructor(options: Discv4Options, localNode: LocalNode, ownsDb: boolean) {
    this.#privateKey = options.privateKey;
    this.localNode = localNode;
    this.#db = options.db ?? localNode.db;
    this.#ownsDb = ownsDb;
    this.#bootnodes = options.bootnodes ?? [];
    this.#netRestrict = options.netRestrict;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? systemTimers;
    this.#random = options.random ?? Math.random;
    this.#log = (options.logger ?? defaultLogger()).child('discv4');
    this.#respTimeout = options.respTimeoutMs ?? RESP_TIMEOUT_MS;
    this.#refreshInterval = options.refreshIntervalMs ?? REFRESH_INTERVAL_MS;
    this.#refreshRandomLookups = options.refreshRandomLookups ?? REFRESH_RANDOM_LOOKUPS;
    this.table = new Table(localNode.id, {
      now: this.#now,
      random: this.#random,
      pingIntervalMs: options.pingIntervalMs ?? PING_INTERVAL_MS,
      onAdded: () => this.#scheduleRevalidation(),
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
    discv4.#socket = await options.transport.bind({ host, port: options.port ?? 0 }, (data, from) =>
      discv4.#onDatagram(data, from),
    );
    const bound = discv4.#socket.address;
    localNode.setFallbackUdp(bound.port);
    const hostBytes = parseIp(host);
    if (hostBytes && !isUnspecifiedIp(hostBytes)) localNode.setFallbackIp(host);
    // Bound to every interface with no address known yet: announce loopback, as geth's LocalNode does, so our
    // Ping's `from` never carries an empty IP.
    else if (localNode.node.ip === undefined) localNode.setFallbackIp(hostBytes?.length === 16 ? '::1' : '127.0.0.1');
    discv4.#startRefresh();
    return discv4;
  }

  /** The bound socket address. */
  get address(): DatagramAddress {
    if (!this.#socket) throw closedError();
    return this.#socket.address;
  }

  /** Our node as others should see it (signed record). */
  get self(): Node {
    return this.localNode.node;
  }

  /** Requests waiting for a reply right now. */
  get pendingReplies(): number {
    return this.#pending.length;
  }

  /** Timers currently scheduled (0 after {@link Discv4.close}). */
  get activeTimers(): number {
    return this.#liveTimers.size;
  }

  // -------------------------------------------------------------------------------------------------------
  // Timers and cancellation

  #setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#timers.setTimeout(() => {
      this.#liveTimers.delete(handle);
      callback();
    }, ms);
    this.#liveTimers.add(handle);
    return handle;
  }

  #clearTimeout(handle: unknown): void {
    if (handle === undefined) return;
    this.#liveTimers.delete(handle);
    this.#timers.clearTimeout(handle);
  }

  /** Resolves after `ms`; rejects with AbortError on `signal`, or ConnectionClosedError on close. */
  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#closed) return reject(closedError());
      if (signal?.aborted) return reject(new AbortError('aborted', { cause: signal.reason }));
      const done = (error?: Error): void => {
        this.#clearTimeout(timer);
        this.#cancelers.delete(cancel);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const cancel = (): void => done(closedError());
      const onAbort = (): void => done(new AbortError('aborted', { cause: signal?.reason }));
      const timer = this.#setTimeout(() => done(), ms);
      this.#cancelers.add(cancel);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #checkOpen(signal?: AbortSignal): void {
    if (this.#closed) throw closedError();
    if (signal?.aborted) throw new AbortError('aborted', { cause: signal.reason });
  }

  // -------------------------------------------------------------------------------------------------------
  // Sending

  #expiration(): number {
    return Math.floor((this.#now() + EXPIRATION_MS) / 1000);
  }

  #send(packet: Packet, host: string, port: number): Uint8Array {
    const { bytes, hash } = encodePacket(packet, this.#privateKey);
    if (this.#socket && !this.#closed) {
      this.#socket.send(bytes, host, port);
      this.stats.sent++;
    }
    return hash;
  }

  #ourEndpoint(): WireEndpoint {
    const node = this.localNode.node;
    return { ip: node.ip, udp: node.udp || this.address.port, tcp: node.tcp };
  }

  /**
   * Waits for a reply of `type` from `id` at `ip`; the promise settles when `onPacket` says done, or on timeout.
   * Throws ERR_DISCV4_BUSY at once, before the caller sends its request, when {@link MAX_PENDING_REPLIES} wait.
   */
  #expect(
    id: NodeId,
    ip: string,
    type: ReplyType,
    onPacket: (packet: Packet) => ReplyProgress,
    signal?: AbortSignal,
  ): { promise: Promise<void>; cancel: () => void } {
    if (this.#pending.length >= MAX_PENDING_REPLIES) {
      throw new Devp2pError('ERR_DISCV4_BUSY', `too many pending requests (${MAX_PENDING_REPLIES})`);
    }
    let entry: PendingReply | undefined;
    const promise = new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        const i = this.#pending.indexOf(entry!);
        if (i === -1) return;
        this.#pending.splice(i, 1);
        this.#clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = (): void => finish(new AbortError('aborted', { cause: signal?.reason }));
      const deadline = this.#now() + this.#respTimeout;
      let timer = this.#setTimeout(
        () => finish(new TimeoutError(`discv4 ${type}`, this.#respTimeout, { remoteAddress: ip })),
        this.#respTimeout,
      );
      const settleAfter = (ms: number): void => {
        // Only ever brings the end closer: at the reply deadline the request then ends as a success.
        this.#clearTimeout(timer);
        timer = this.#setTimeout(() => finish(), Math.max(0, Math.min(ms, deadline - this.#now())));
      };
      entry = { idHex: id.hex, ip, type, onPacket, finish, settleAfter };
      this.#pending.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { promise, cancel: () => entry?.finish(new AbortError('cancelled')) };
  }

  /** Hands a reply to the first pending request it matches; false when it matches none (unsolicited). */
  #handleReply(id: NodeId, ip: string, type: ReplyType, packet: Packet): boolean {
    const hex = id.hex;
    for (const entry of [...this.#pending]) {
      if (entry.type !== type || entry.idHex !== hex || entry.ip !== ip) continue;
      const { matched, done, settleAfterMs } = entry.onPacket(packet);
      if (matched) {
        if (done) entry.finish();
        else if (settleAfterMs !== undefined) entry.settleAfter(settleAfterMs);
        return true;
      }
    }
    return false;
  }

  /** Sends a Ping and resolves with the matching Pong (rejects with TimeoutError when none comes). */
  async #ping(id: NodeId, to: Endpoint, signal?: AbortSignal): Promise<PongPacket> {
    this.#checkOpen(signal);
    if (this.#netRestrict && !this.#netRestrict.contains(to.ip)) {
      throw new Devp2pError('ERR_DISCV4_RESTRICTED', `${to.ip} is outside NetRestrict`);
    }
    let pong: PongPacket | undefined;
    let hash: Uint8Array | undefined;
    // Registered before sending, so a node at its bound on pending replies sends nothing it could not match.
    const { promise } = this.#expect(
      id,
      to.ip,
      'pong',
      (packet) => {
        const matched = hash !== undefined && packet.type === 'pong' && equal32(packet.replyToken, hash);
        if (matched) pong = packet as PongPacket;
        return { matched, done: matched };
      },
      signal,
    );
    hash = this.#send(
      {
        type: 'ping',
        version: 4,
        from: this.#ourEndpoint(),
        to: { ip: to.ip, udp: to.port, tcp: 0 },
        expiration: this.#expiration(),
        enrSeq: this.localNode.node.seq,
      },
      to.ip,
      to.port,
    );
    this.localNode.udpContact(to);
    this.#sentPings.set(bytesToHex(hash), { idHex: id.hex, ip: to.ip, at: this.#now() });
    await promise;
    return pong!;
  }

  /** Makes sure the remote has a recent pong from us before we ask it anything (geth `ensureBond`). */
  async #ensureBond(node: Node, to: Endpoint, signal?: AbortSignal): Promise<void> {
    const key = `${node.id.hex}|${to.ip}`;
    const lastPing = this.#lastPing.get(key) ?? 0;
    const tooOld = this.#now() - lastPing > BOND_EXPIRATION_MS;
    if (!tooOld && this.#db.findFails(node.id, to.ip) <= MAX_FINDNODE_FAILURES) return;
    try {
      await this.#ping(node.id, to, signal);
    } catch (err) {
      if (err instanceof AbortError || this.#closed) throw err;
      return;
    }
    // Wait (at most a reply timeout) for them to ping us back, and so to get our pong.
    if (this.#now() - (this.#lastPing.get(key) ?? 0) <= BOND_EXPIRATION_MS && lastPing !== this.#lastPing.get(key)) {
      return;
    }
    await this.#waitForPing(key, signal);
    // No ping back: they hold a recent pong from us already (or never will). Either way, do not wait again
    // for this endpoint until the bond would expire or FindNode starts failing.
    if (!this.#lastPing.has(key) || this.#lastPing.get(key) === lastPing) this.#lastPing.set(key, this.#now());
  }

  #waitForPing(key: string, signal?: AbortSignal): Promise<void> {
    if (!this.#pingWaiters.has(key) && this.#pingWaiters.size >= MAX_PENDING_REPLIES) return Promise.resolve();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let waiters = this.#pingWaiters.get(key);
    if (!waiters) {
      waiters = new Set();
      this.#pingWaiters.set(key, waiters);
    }
    const wake = (): void => controller.abort();
    waiters.add(wake);
    return this.#sleep(this.#respTimeout, controller.signal)
      .catch((err: unknown) => {
        if (signal?.aborted || this.#closed) throw err;
      })
      .finally(() => {
        signal?.removeEventListener('abort', onAbort);
        waiters.delete(wake);
        if (waiters.size === 0) this.#pingWaiters.delete(key);
      });
  }

  /**
   * Sends a FindNode and collects the verified nodes of the Neighbors replies (up to 16, or what came before
   * the reply timeout).
   */
  async #findnode(node: Node, to: Endpoint, target: Uint8Array, signal?: AbortSignal): Promise<Node[]> {
    await this.#ensureBond(node, to, signal);
    this.#checkOpen(signal);
    const nodes: Node[] = [];
    let received = 0;
    const { promise } = this.#expect(
      node.id,
      to.ip,
      'neighbors',
      (packet) => {
        const batch = (packet as NeighborsPacket).nodes;
        for (const wire of batch) {
          received++;
          const n = this.#nodeFromWire(to.ip, wire);
          if (n) nodes.push(n);
        }
        // Answers come as full packets of MAX_NEIGHBORS then the remainder: a short packet is the last one,
        // so there is no need to wait out the timeout when the remote knows fewer than BUCKET_SIZE nodes. After
        // a full packet, more may follow at once, or nothing (the remote knows exactly MAX_NEIGHBORS).
        return {
          matched: true,
          done: received >= BUCKET_SIZE || batch.length < MAX_NEIGHBORS,
          settleAfterMs: NEIGHBORS_FOLLOW_UP_MS,
        };
      },
      signal,
    );
    this.#send({ type: 'findnode', target, expiration: this.#expiration() }, to.ip, to.port);
    try {
      await promise;
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
    }
    return nodes;
  }

  /** A node from a Neighbors entry, or undefined when it breaks a rule (geth `nodeFromRPC`). */
  #nodeFromWire(sender: string, wire: WireNode): Node | undefined {
    if (wire.ip === undefined) return undefined;
    if (wire.udp <= 1024 && !isLan(wire.ip)) return undefined;
    if (wire.udp === 0) return undefined;
    if (checkRelayIp(sender, wire.ip) !== undefined) return undefined;
    if (this.#netRestrict && !this.#netRestrict.contains(wire.ip)) return undefined;
    if (!isValidPublicKey(wire.publicKey)) return undefined;
    try {
      const node = Node.fromPublicKey(wire.publicKey, { ip: wire.ip, udp: wire.udp, tcp: wire.tcp });
      return node.id.equals(this.localNode.id) ? undefined : node;
    } catch {
      return undefined;
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Receiving

  #onDatagram(data: Uint8Array, from: DatagramAddress): void {
    if (this.#closed) return;
    this.stats.received++;
    const host = canonicalHost(from.host);
    if (host === undefined || (this.#netRestrict && !this.#netRestrict.contains(host))) {
      this.stats.dropped.restricted++;
      return;
    }
    let decoded: DecodedPacket;
    try {
      decoded = decodePacket(data);
    } catch (err) {
      const reason: DropReason = err instanceof Discv4PacketError ? err.reason : 'malformed';
      this.stats.dropped[reason]++;
      if (this.#log.enabled('trace')) this.#log.trace('bad packet', { from: formatHostPort(host, from.port), reason });
      return;
    }
    if (decoded.id.equals(this.localNode.id)) {
      this.stats.dropped.self++;
      return;
    }
    try {
      const reason = this.#handle(decoded, { host, port: from.port });
      if (reason) {
        this.stats.dropped[reason]++;
        if (this.#log.enabled('trace')) {
          this.#log.trace('packet dropped', {
            type: decoded.packet.type,
            from: formatHostPort(host, from.port),
            reason,
          });
        }
      }
    } catch (err) {
      this.stats.dropped['handler-error']++;
      this.#log.debug('packet handler failed', { type: decoded.packet.type, error: String(err) });
    }
  }

  #expired(expiration: number): boolean {
    return expiration * 1000 < this.#now();
  }

  #bonded(id: NodeId, ip: string): boolean {
    return this.#now() - this.#db.lastPongReceived(id, ip) < BOND_EXPIRATION_MS;
  }

  /** Acts on an authenticated packet; returns a drop reason when it must be ignored. */
  #handle(d: DecodedPacket, from: DatagramAddress): DropReason | undefined {
    const { packet } = d;
    switch (packet.type) {
      case 'ping': {
        if (this.#expired(packet.expiration)) return 'expired';
        this.#send(
          {
            type: 'pong',
            to: { ip: from.host, udp: from.port, tcp: packet.from.tcp },
            replyToken: d.hash,
            expiration: this.#expiration(),
            enrSeq: this.localNode.node.seq,
          },
          from.host,
          from.port,
        );
        const node = Node.fromPublicKey(d.publicKey, { ip: from.host, udp: from.port, tcp: packet.from.tcp });
        if (this.#bonded(d.id, from.host)) {
          if (this.#initDone) this.table.addInboundNode(node);
        } else {
          this.#ping(d.id, { ip: from.host, port: from.port }).then(
            () => {
              if (this.#initDone && !this.#closed) this.table.addInboundNode(node);
            },
            () => undefined,
          );
        }
        const key = `${d.id.hex}|${from.host}`;
        this.#lastPing.set(key, this.#now());
        const waiters = this.#pingWaiters.get(key);
        if (waiters) for (const wake of [...waiters]) wake();
        if (packet.to.ip !== undefined) {
          this.localNode.udpEndpointStatement(
            { ip: from.host, port: from.port },
            { ip: packet.to.ip, port: packet.to.udp },
          );
        }
        return undefined;
      }
      case 'pong': {
        if (this.#expired(packet.expiration)) return 'expired';
        const token = bytesToHex(packet.replyToken);
        const sent = this.#sentPings.get(token);
        if (!this.#handleReply(d.id, from.host, 'pong', packet)) {
          // Late (after the reply timeout) but answering a ping we sent to this id at this address, within the
          // packet expiration window: still an endpoint proof. Anything else is unsolicited.
          const late =
            sent !== undefined &&
            sent.idHex === d.id.hex &&
            sent.ip === from.host &&
            this.#now() - sent.at <= EXPIRATION_MS;
          if (!late) return 'unsolicited';
        }
        this.#sentPings.delete(token);
        this.table.markLive(d.id, from.host);
        if (packet.to.ip !== undefined) {
          this.localNode.udpEndpointStatement(
            { ip: from.host, port: from.port },
            { ip: packet.to.ip, port: packet.to.udp },
          );
        }
        this.#db.updateLastPongReceived(d.id, from.host, this.#now());
        return undefined;
      }
      case 'findnode': {
        if (this.#expired(packet.expiration)) return 'expired';
        if (!this.#bonded(d.id, from.host)) return 'unbonded';
        const target = NodeId.fromBytes(keccak256(packet.target));
        const closest = this.table
          .closest(target, BUCKET_SIZE, true)
          .filter((n) => checkRelayIp(from.host, n.ip) === undefined);
        let batch: WireNode[] = [];
        let sent = false;
        for (const n of closest) {
          batch.push({ ip: n.ip, udp: n.udp, tcp: n.tcp, publicKey: n.publicKey! });
          if (batch.length === MAX_NEIGHBORS) {
            this.#send({ type: 'neighbors', nodes: batch, expiration: this.#expiration() }, from.host, from.port);
            batch = [];
            sent = true;
          }
        }
        if (batch.length > 0 || !sent) {
          this.#send({ type: 'neighbors', nodes: batch, expiration: this.#expiration() }, from.host, from.port);
        }
        return undefined;
      }
      case 'neighbors': {
        if (this.#expired(packet.expiration)) return 'expired';
        return this.#handleReply(d.id, from.host, 'neighbors', packet) ? undefined : 'unsolicited';
      }
      case 'enrRequest': {
        if (this.#expired(packet.expiration)) return 'expired';
        if (!this.#bonded(d.id, from.host)) return 'unbonded';
        this.#send(
          { type: 'enrResponse', replyToken: d.hash, record: this.localNode.node.record, expiration: 0 },
          from.host,
          from.port,
        );
        return undefined;
      }
      case 'enrResponse':
        return this.#handleReply(d.id, from.host, 'enrResponse', packet) ? undefined : 'unsolicited';
    }
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
    return this.#ping(node.id, to, options.signal);
  }

  /**
   * Asks a node for its record (EIP-868), after making sure it has a bond with us. Resolves with the node
   * built from the record (or `node` itself when the answer is older); rejects when the record does not
   * verify, belongs to another id or names an address the node may not relay, or on timeout.
   * @example const fresh = await discv4.requestENR(node); console.log(fresh.record.toText())
   */
  async requestENR(node: Node, options: Discv4CallOptions = {}): Promise<Node> {
    const { signal } = options;
    const to = node.udpEndpoint();
    if (!to) throw new TypeError(`node ${node.id.short()} has no UDP endpoint`);
    await this.#ensureBond(node, to, signal);
    this.#checkOpen(signal);
    let response: EnrResponsePacket | undefined;
    let hash: Uint8Array | undefined;
    const { promise } = this.#expect(
      node.id,
      to.ip,
      'enrResponse',
      (packet) => {
        const matched = hash !== undefined && equal32((packet as EnrResponsePacket).replyToken, hash);
        if (matched) response = packet as EnrResponsePacket;
        return { matched, done: matched };
      },
      signal,
    );
    hash = this.#send({ type: 'enrRequest', expiration: this.#expiration() }, to.ip, to.port);
    await promise;
    const record = response!.record;
    let fresh: Node;
    try {
      fresh = Node.fromRecord(record);
    } catch (cause) {
      throw new Devp2pError('ERR_DISCV4_ENR', 'ENR response record does not verify', { cause });
    }
    if (!fresh.id.equals(node.id)) throw new Devp2pError('ERR_DISCV4_ENR', 'ENR response record is for another id');
    if (fresh.seq < node.seq) return node;
    const relay = checkRelayIp(to.ip, fresh.ip);
    if (relay !== undefined) throw new Devp2pError('ERR_DISCV4_ENR', `invalid IP in response record: ${relay}`);
    return fresh;
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
        if (err instanceof AbortError || this.#closed) throw err;
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
  async *randomNodes(options: Discv4CallOptions = {}): AsyncGenerator<Node, void, undefined> {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    this.#closing.signal.addEventListener('abort', stop, { once: true });
    const seen = new BoundedMap<true>(ITERATOR_SEEN_LIMIT);
    const queue: Node[] = [];
    let wakeConsumer: (() => void) | undefined;
    let wakeRunner: (() => void) | undefined;
    controller.signal.addEventListener(
      'abort',
      () => {
        wakeConsumer?.();
        wakeRunner?.();
      },
      { once: true },
    );
    let pushed = 0;
    const push = (node: Node): void => {
      if (seen.has(node.id.hex)) return;
      seen.set(node.id.hex, true);
      pushed++;
      queue.push(node);
      wakeConsumer?.();
    };
    const runner = (async () => {
      for (const n of this.table.nodes()) push(n);
      while (!controller.signal.aborted) {
        const before = pushed;
        let fresh = false;
        try {
          const closest = await this.#lookup(randomBytes(64), controller.signal, push);
          for (const n of closest) push(n);
          fresh = pushed > before;
        } catch {
          if (controller.signal.aborted) break;
        }
        // Nothing new (a small or quiet network): pause instead of spinning lookups.
        if (!fresh) await this.#sleep(EMPTY_TABLE_SLOWDOWN_MS, controller.signal).catch(() => undefined);
        // Consumer-driven pace: while a bucket's worth waits untaken, run no more lookups.
        while (queue.length >= BUCKET_SIZE && !controller.signal.aborted) {
          await new Promise<void>((resolve) => {
            wakeRunner = resolve;
          });
          wakeRunner = undefined;
        }
      }
    })();
    try {
      for (;;) {
        while (queue.length > 0) {
          const node = queue.shift()!;
          wakeRunner?.();
          yield node;
        }
        if (controller.signal.aborted) return;
        await new Promise<void>((resolve) => {
          wakeConsumer = resolve;
        });
        wakeConsumer = undefined;
      }
    } finally {
      controller.abort();
      options.signal?.removeEventListener('abort', stop);
      this.#closing.signal.removeEventListener('abort', stop);
      await runner;
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Lookups

  /** One FindNode query in a lookup, with the failure bookkeeping of geth's `trackRequest`. */
  async #query(node: Node, target: Uint8Array, signal?: AbortSignal): Promise<Node[]> {
    const to = node.udpEndpoint();
    if (!to) return [];
    let found: Node[];
    try {
      found = await this.#findnode(node, to, target, signal);
    } catch (err) {
      if (err instanceof AbortError || this.#closed) throw err;
      found = [];
    }
    if (this.#closed) return found;
    const fails = found.length > 0 ? 0 : this.#db.findFails(node.id, to.ip) + 1;
    if (fails !== this.#db.findFails(node.id, to.ip)) this.#db.updateFindFails(node.id, to.ip, fails);
    this.table.trackRequest(node, fails, found);
    return found;
  }

  async #lookup(target: Uint8Array, signal?: AbortSignal, onNode?: (node: Node) => void): Promise<Node[]> {
    this.#checkOpen(signal);
    const targetId = NodeId.fromPublicKey(target);
    let result = this.table.closest(targetId, BUCKET_SIZE, false);
    if (result.length === 0) {
      // Avoid finishing at once on an empty table: give seeding and inbound contacts a moment.
      await this.#sleep(EMPTY_TABLE_SLOWDOWN_MS, signal);
      result = this.table.closest(targetId, BUCKET_SIZE, false);
    }
    const seen = new Set<string>([this.localNode.id.hex]);
    for (const n of result) seen.add(n.id.hex);
    const asked = new Set<string>();
    const replies: Node[][] = [];
    let inflight = 0;
    let wake: (() => void) | undefined;
    let failure: unknown;
    for (;;) {
      for (const found of replies.splice(0)) {
        for (const n of found) {
          if (seen.has(n.id.hex)) continue;
          seen.add(n.id.hex);
          onNode?.(n);
          result.push(n);
        }
        result.sort((a, b) => compareDistance(targetId, a.id, b.id));
        if (result.length > BUCKET_SIZE) result.length = BUCKET_SIZE;
      }
      if (failure !== undefined) throw failure;
      this.#checkOpen(signal);
      for (const n of result) {
        if (inflight >= ALPHA) break;
        if (asked.has(n.id.hex)) continue;
        asked.add(n.id.hex);
        inflight++;
        this.#query(n, target, signal).then(
          (found) => {
            replies.push(found);
            inflight--;
            wake?.();
          },
          (err: unknown) => {
            failure ??= err;
            replies.push([]);
            inflight--;
            wake?.();
          },
        );
      }
      if (inflight === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    return result;
  }

  // -------------------------------------------------------------------------------------------------------
  // Table upkeep

  #startRefresh(): void {
    const run = (): void => {
      if (this.#closed) return;
      this.refresh().then(
        () => undefined,
        () => undefined,
      );
      this.#setTimeout(run, this.#refreshInterval);
    };
    run();
  }

  /**
   * Refills the table: adds database seeds and bootnodes, then runs a self lookup and random lookups. Returns
   * the running refresh when one is under way.
   * @example await discv4.refresh()
   */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        for (const seed of this.#db.seeds(SEED_COUNT, SEED_MAX_AGE_MS)) this.table.addFoundNode(seed);
        for (const boot of this.#bootnodes) this.table.addFoundNode(boot);
        await this.#lookup(this.localNode.publicKey, this.#closing.signal);
        this.#initDone = true;
        for (let i = 0; i < this.#refreshRandomLookups; i++) {
          await this.#lookup(randomBytes(64), this.#closing.signal);
        }
      } catch (err) {
        if (!this.#closed) this.#log.debug('refresh failed', { error: String(err) });
      } finally {
        this.#initDone = true;
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #scheduleRevalidation(): void {
    if (this.#closed) return;
    const at = this.table.nextRevalidationTime();
    if (at === Number.POSITIVE_INFINITY || at >= this.#revalidationAt) return;
    this.#clearTimeout(this.#revalidationTimer);
    this.#revalidationAt = at;
    this.#revalidationTimer = this.#setTimeout(
      () => {
        this.#revalidationTimer = undefined;
        this.#revalidationAt = Number.POSITIVE_INFINITY;
        this.#revalidate();
      },
      Math.max(0, at - this.#now()),
    );
  }

  #revalidate(): void {
    if (this.#closed) return;
    for (const node of this.table.dueForRevalidation()) {
      this.#revalidateNode(node).then(
        () => this.#scheduleRevalidation(),
        () => this.#scheduleRevalidation(),
      );
    }
    this.#scheduleRevalidation();
  }

  async #revalidateNode(node: Node): Promise<void> {
    const to = node.udpEndpoint();
    let responded = false;
    let record: Node | undefined;
    if (to) {
      try {
        const pong = await this.#ping(node.id, to, this.#closing.signal);
        responded = true;
        if ((pong.enrSeq ?? 0n) > node.seq) {
          record = await this.requestENR(node, { signal: this.#closing.signal }).catch(() => undefined);
        }
      } catch {
        responded = false;
      }
    }
    if (this.#closed) return;
    const entry = this.table.revalidated(node.id, { responded, record });
    if (entry?.isValidatedLive) this.#db.updateNode(entry.node);
  }

  // -------------------------------------------------------------------------------------------------------

  /**
   * Stops everything: the socket, timers, pending requests (they reject with ConnectionClosedError), running
   * lookups and iterators. Idempotent.
   * @example await discv4.close()
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    for (const entry of [...this.#pending]) entry.finish(closedError());
    for (const cancel of [...this.#cancelers]) cancel();
    for (const handle of [...this.#liveTimers]) this.#clearTimeout(handle);
    this.#pingWaiters.clear();
    const socket = this.#socket;
    if (socket) await socket.close();
    if (this.#refreshing) await this.#refreshing;
    for (const handle of [...this.#liveTimers]) this.#clearTimeout(handle);
    if (this.#ownsDb) this.#db.close();
  }
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
