import {
  AbortError,
  type AnyProtocol,
  type ByteStream,
  type Clock,
  DisconnectError,
  DisconnectReason,
  defaultLogger,
  formatHostPort,
  type JsonValue,
  type Logger,
  type StreamListener,
  splitHostPort,
  systemClock,
  TimeoutError,
  type Transport,
  TypedEventTarget,
} from '@devp2p/core';
import { isValidPrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import {
  Dialer,
  type DialHost,
  type DialOutcome,
  type DialScheduler,
  type HostDialOptions,
  type NodeResolver,
  type NodeSource,
} from '@devp2p/dial';
import {
  isLan,
  LocalNode,
  MemoryNodeDatabase,
  NetList,
  Node,
  type NodeDatabase,
  NodeId,
  parseNode,
} from '@devp2p/enode';
import { RLPxConnection } from '@devp2p/rlpx';
import { defaultTransport } from './adapters/node-tcp.ts';
import { clientName } from './client-name.ts';
import { checkHello, exchangeHello } from './handshake.ts';
import { encodeDisconnect, type Hello, P2P_VERSION, SNAPPY_MIN_VERSION } from './hello.ts';
import {
  DEFAULT_DIAL_RATIO,
  DEFAULT_MAX_PENDING_PEERS,
  INBOUND_THROTTLE_MS,
  MAX_INBOUND_HISTORY,
  MAX_WAITING_INBOUND,
  PING_INTERVAL_MS,
  PROTOCOL_HANDSHAKE_TIMEOUT_MS,
} from './limits.ts';
import { Peer, type PeerEnd, type PeerMessageEvent } from './peer.ts';
import { ProtocolRegistry } from './registry.ts';

/** A node as the config takes it: an `enode://` URL, `enr:` text, or a parsed {@link Node}. */
export type NodeInput = string | Node;

/** Server configuration; the names follow geth's `p2p.Config`. */
export interface ServerConfig {
  /** Our node key (32 bytes). Required. */
  readonly privateKey: Uint8Array;
  /** Client name sent in Hello (default {@link clientName}(): `devp2p.ts/v<version>/<os>-<arch>/<runtime><version>`). */
  readonly name?: string;
  /** Most peers at once (default 50); 0 accepts no peers but trusted ones. */
  readonly maxPeers?: number;
  /** Most connections in the handshakes at once (default 50, geth's). */
  readonly maxPendingPeers?: number;
  /** `maxPeers / dialRatio` slots are kept for outbound connections (default 3). */
  readonly dialRatio?: number;
  /** Never dial (static nodes included); inbound only. */
  readonly noDial?: boolean;
  /** `host:port` to listen on (port 0: any free port); `null` to not listen. Default `0.0.0.0:30303`. */
  readonly listenAddr?: string | null;
  /** Only peers with IPs in these CIDR networks may connect or be dialed. */
  readonly netRestrict?: readonly string[];
  /** Always allowed to connect, even above the peer limits. */
  readonly trustedNodes?: readonly NodeInput[];
  /** Kept connected (dialed by the scheduler). */
  readonly staticNodes?: readonly NodeInput[];
  /** The subprotocols to run. */
  readonly protocols?: readonly AnyProtocol[];
  /** Where our record's sequence number persists (default: in memory). Ignored with `localNode` (it has its own). */
  readonly nodeDatabase?: NodeDatabase;
  /**
   * Our record, shared with discovery so both announce the same endpoints (default: a new one for `privateKey` over
   * `nodeDatabase`). Its key must be `privateKey`'s.
   */
  readonly localNode?: LocalNode;
  /**
   * Runs in `start()` once the listener is bound (our TCP port is in the record) and before the start is logged and
   * dialing begins, as geth's `setupDiscovery`: where discovery starts, so its first packets carry our TCP port. When
   * it rejects, `start()` closes the listener and rejects with its error.
   */
  readonly onListening?: () => Promise<void>;
  /**
   * Emit `peer:message` for every message sent and received, while anybody listens to it through `on()` (a message
   * with no listener costs no event object).
   */
  readonly enableMsgEvents?: boolean;
  readonly logger?: Logger;
  /** How connections are made (default: TCP). */
  readonly transport?: Transport;
  /**
   * Who decides whom to dial: every outbound connection goes through it. Default: a `Dialer` from `@devp2p/dial`
   * built from `nodeSources` and `resolveNode`, on the server's `clock`.
   */
  readonly dialer?: DialScheduler;
  /**
   * Dynamic dial candidates for the default dialer, mixed fairly: discovery's random nodes
   * (`(signal) => discovery.randomNodes({ signal })`), a plugin's candidates, DNS lists. Without any, the server
   * dials its static nodes only (discovery off).
   */
  readonly nodeSources?: readonly NodeSource[];
  /**
   * How the default dialer finds a static node's current address by id when it has none or it fails (discovery's
   * resolve: its record, then the table, then a lookup), with backoff from 60 s to 1 h. Without it, static nodes
   * are dialed at the address they were given only.
   */
  readonly resolveNode?: NodeResolver;
  /** Deadline for the RLPx handshake and for the Hello exchange, each (default 5 s, geth's). */
  readonly handshakeTimeoutMs?: number;
  /** Interval of base-protocol pings (default 15 s, geth's). */
  readonly pingIntervalMs?: number;
  /** A peer silent for this long is dropped (default 30 s, geth's `frameReadTimeout`; pings keep live peers talking). */
  readonly readTimeoutMs?: number;
  /**
   * A peer that does not take a frame for this long is dropped (default 20 s, geth's `frameWriteTimeout`): with the
   * bounded write queue, what ends a peer that never reads.
   */
  readonly writeTimeoutMs?: number;
  /** How long a non-LAN IP is refused after connecting in (default 30 s, geth's). */
  readonly inboundThrottleMs?: number;
  /** Clock for deadlines, timers, the inbound throttle and the default dialer; {@link systemClock} by default. */
  readonly clock?: Clock;
}

/** Geth's `admin_peers` entry. */
export interface PeerInfo {
  readonly enode: string;
  readonly id: string;
  readonly name: string;
  readonly caps: string[];
  readonly network: {
    readonly localAddress: string;
    readonly remoteAddress: string;
    readonly inbound: boolean;
    readonly trusted: boolean;
    readonly static: boolean;
  };
  readonly protocols: Record<string, JsonValue>;
}

/** Geth's `admin_nodeInfo`. */
export interface NodeInfo {
  readonly id: string;
  readonly name: string;
  readonly enode: string;
  readonly enr: string;
  readonly ip: string;
  readonly ports: { readonly discovery: number; readonly listener: number };
  readonly listenAddr: string;
  readonly protocols: Record<string, JsonValue>;
}

/** Events of a {@link Server}. */
export interface ServerEvents {
  'peer:added': { readonly peer: Peer };
  'peer:removed': {
    readonly peer: Peer;
    readonly reason: number;
    readonly initiator: 'local' | 'remote';
    readonly error: DisconnectError;
  };
  'peer:message': PeerMessageEvent & { readonly peer: Peer };
  /** A dial ended (the scheduler's attempts, through the server): the node as dialed and the typed outcome. */
  dial: { readonly node: Node; readonly static: boolean; readonly outcome: DialOutcome };
  /**
   * A connection's handshakes ended, inbound or dialed (what geth's serve and dial meters count): `peer` when it
   * became one, else the `error` that ended it; `handshakeMs` is the RLPx handshake's duration when it completed.
   */
  connection: ConnectionEvent;
}

/** See {@link ServerEvents.connection}. */
export type ConnectionEvent = {
  readonly inbound: boolean;
  readonly remoteAddress: string;
  readonly handshakeMs: number | undefined;
} & ({ readonly peer: Peer; readonly error?: undefined } | { readonly peer?: undefined; readonly error: unknown });

/** An accepted connection waiting for a handshake slot. */
interface WaitingInbound {
  readonly stream: ByteStream;
  /** The stream's first read, started on accept; handed to the handshake with the stream. */
  readonly firstRead: Promise<Uint8Array | null>;
  /** Whether that read has delivered bytes: such connections are served before silent ones. */
  sentData: boolean;
  readonly timer: unknown;
}

/** `stream` whose first `read()` is the one already started (a stream allows one pending read at a time). */
function replayFirstRead(stream: ByteStream, firstRead: Promise<Uint8Array | null>): ByteStream {
  let pending: Promise<Uint8Array | null> | undefined = firstRead;
  return {
    get remoteAddress() {
      return stream.remoteAddress;
    },
    get localAddress() {
      return stream.localAddress;
    },
    read: () => {
      const first = pending;
      pending = undefined;
      return first ?? stream.read();
    },
    write: (data) => stream.write(data),
    end: () => stream.end(),
    destroy: () => stream.destroy(),
  };
}

interface ConnFlags {
  inbound: boolean;
  static: boolean;
  trusted: boolean;
}

function normaliseNodes(inputs: readonly NodeInput[] | undefined, label: string): Node[] {
  return (inputs ?? []).map((input, i) => {
    if (typeof input !== 'string') return input;
    try {
      return parseNode(input);
    } catch (cause) {
      throw new TypeError(`${label}[${i}]: ${(cause as Error).message}`, { cause });
    }
  });
}

function nonNegativeInteger(value: number | undefined, fallback: number, label: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${label} must be a non-negative integer, got ${value}`);
  return v;
}

function positiveNumber(value: number | undefined, fallback: number, label: string): number {
  const v = value ?? fallback;
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v)))
    throw new RangeError(`${label} must be positive, got ${value}`);
  return v;
}

function hostOf(address: string | undefined): string {
  return (address && splitHostPort(address)?.host) ?? '';
}

/**
 * The devp2p server: listens and dials, runs the RLPx and Hello handshakes on every connection, checks each against
 * its limits (peer counts, pending handshakes, trusted and static nodes, NetRestrict, the inbound throttle), and
 * runs each peer's shared subprotocols, like geth's `p2p.Server`.
 *
 * @example
 * const server = createServer({ privateKey, listenAddr: '127.0.0.1:0', protocols: [ping] })
 * await server.start()
 * server.on('peer:added', ({ peer }) => console.log('connected', peer.clientName))
 * server.addPeer('enode://…@127.0.0.1:30303')
 * await server.close()
 */
export class Server extends TypedEventTarget<ServerEvents> {
  readonly #privateKey: Uint8Array;
  readonly #publicKey: Uint8Array;
  /** Our node id, lowercase hex. */
  readonly id: string;
  readonly name: string;
  readonly maxPeers: number;
  readonly maxPendingPeers: number;
  readonly dialRatio: number;
  readonly noDial: boolean;
  readonly #listenAddr: { host: string; port: number } | null;
  readonly #netRestrict: NetList | undefined;
  readonly #registry: ProtocolRegistry;
  readonly #localNode: LocalNode;
  readonly #onListening: (() => Promise<void>) | undefined;
  readonly #log: Logger;
  readonly #transport: Transport;
  readonly #dialer: DialScheduler;
  readonly #handshakeTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #readTimeoutMs: number | undefined;
  readonly #writeTimeoutMs: number | undefined;
  readonly #inboundThrottleMs: number;
  /** The logger given (or the default): what the parts from other packages (rlpx, dial, enode) name themselves under. */
  readonly #rootLog: Logger;
  readonly #clock: Clock;
  readonly #messageEvents: boolean;
  readonly #trusted = new Map<string, Node>();
  readonly #static = new Map<string, Node>();
  readonly #peers = new Map<string, Peer>();
  /** Inbound connections holding a handshake slot. */
  #pendingInbound = 0;
  /** Ids of inbound connections past the RLPx handshake and not yet peers (id → count): the dialer skips them. */
  readonly #inboundHandshakes = new Map<string, number>();
  /** Accepted connections waiting for a handshake slot, oldest first. */
  #waiting: WaitingInbound[] = [];
  /** Every connection not yet a peer (in handshake or waiting), so close() can close them. */
  readonly #setups = new Set<ByteStream>();
  readonly #setupDone = new Set<Promise<void>>();
  /** IP → time until which it is refused. */
  readonly #inboundHistory = new Map<string, number>();
  #listener: StreamListener | undefined;
  #stopController = new AbortController();
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #stopped: Promise<void> | undefined;

  constructor(config: ServerConfig) {
    super();
    if (!config || !isValidPrivateKey(config.privateKey)) throw new TypeError('privateKey must be a valid 32-byte key');
    this.#privateKey = config.privateKey;
    this.#publicKey = publicKeyFromPrivate(config.privateKey);
    this.id = NodeId.fromPublicKey(this.#publicKey).hex;
    this.name = config.name ?? clientName();
    this.maxPeers = nonNegativeInteger(config.maxPeers, 50, 'maxPeers');
    this.maxPendingPeers = nonNegativeInteger(config.maxPendingPeers, DEFAULT_MAX_PENDING_PEERS, 'maxPendingPeers');
    if (this.maxPendingPeers === 0) throw new RangeError('maxPendingPeers must be at least 1');
    this.dialRatio = nonNegativeInteger(config.dialRatio, DEFAULT_DIAL_RATIO, 'dialRatio');
    if (this.dialRatio === 0) throw new RangeError('dialRatio must be at least 1');
    this.noDial = config.noDial ?? false;
    const listen = config.listenAddr === undefined ? '0.0.0.0:30303' : config.listenAddr;
    if (listen === null) this.#listenAddr = null;
    else {
      const parsed = splitHostPort(listen);
      if (!parsed) throw new TypeError(`listenAddr must be host:port, got ${JSON.stringify(listen)}`);
      this.#listenAddr = { host: parsed.host || '0.0.0.0', port: parsed.port };
    }
    this.#netRestrict = config.netRestrict ? new NetList(config.netRestrict) : undefined;
    for (const node of normaliseNodes(config.trustedNodes, 'trustedNodes')) this.#trusted.set(node.id.hex, node);
    for (const node of normaliseNodes(config.staticNodes, 'staticNodes')) this.#static.set(node.id.hex, node);
    this.#registry = new ProtocolRegistry(config.protocols ?? []);
    const rootLog = config.logger ?? defaultLogger();
    this.#rootLog = rootLog;
    this.#log = rootLog.child('server');
    if (config.localNode && config.localNode.id.hex !== this.id)
      throw new TypeError('localNode must be the LocalNode of privateKey');
    this.#localNode =
      config.localNode ??
      new LocalNode(config.privateKey, { db: config.nodeDatabase ?? new MemoryNodeDatabase(), logger: rootLog });
    this.#onListening = config.onListening;
    this.#transport = config.transport ?? defaultTransport;
    this.#handshakeTimeoutMs = positiveNumber(
      config.handshakeTimeoutMs,
      PROTOCOL_HANDSHAKE_TIMEOUT_MS,
      'handshakeTimeoutMs',
    );
    this.#pingIntervalMs = positiveNumber(config.pingIntervalMs, PING_INTERVAL_MS, 'pingIntervalMs');
    this.#readTimeoutMs =
      config.readTimeoutMs === undefined ? undefined : positiveNumber(config.readTimeoutMs, 1, 'readTimeoutMs');
    this.#writeTimeoutMs =
      config.writeTimeoutMs === undefined ? undefined : positiveNumber(config.writeTimeoutMs, 1, 'writeTimeoutMs');
    this.#inboundThrottleMs = nonNegativeInteger(config.inboundThrottleMs, INBOUND_THROTTLE_MS, 'inboundThrottleMs');
    this.#clock = config.clock ?? systemClock;
    this.#dialer =
      config.dialer ??
      new Dialer({
        ...(config.nodeSources ? { nodeSources: config.nodeSources } : {}),
        ...(config.resolveNode ? { resolve: config.resolveNode } : {}),
        clock: this.#clock,
        logger: rootLog,
      });
    this.#messageEvents = config.enableMsgEvents ?? false;
  }

  /** Outbound slots: `maxPeers / dialRatio`, at least 1 (0 with `noDial`), as geth's `maxDialedConns`. */
  get maxDialedConns(): number {
    if (this.noDial || this.maxPeers === 0) return 0;
    return Math.max(1, Math.floor(this.maxPeers / this.dialRatio));
  }

  /** Inbound slots: what is left of `maxPeers` after the outbound ones, as geth's `maxInboundConns`. */
  get maxInboundConns(): number {
    return this.maxPeers - this.maxDialedConns;
  }

  /** Where we listen, with the real port once started (undefined when not listening). */
  get listenAddress(): { host: string; port: number } | undefined {
    return this.#listener ? { ...this.#listener.address } : undefined;
  }

  /** Connected peers. */
  peers(): Peer[] {
    return [...this.#peers.values()];
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  /** Our node: id, key and signed record (with the listening port once started). */
  get self(): Node {
    return this.#localNode.node;
  }

  /** Starts listening and dialing. Rejects (and leaves nothing running) when the listener cannot bind. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`server already ${this.#state}`);
    this.#state = 'running';
    try {
      if (this.#listenAddr) {
        this.#listener = await this.#transport.listen(this.#listenAddr, (stream) => this.#onInbound(stream));
        const { host, port } = this.#listener.address;
        this.#localNode.set({ tcp: port });
        // As geth: the listening IP when it is a specific one, else loopback, until something better is known.
        this.#localNode.setFallbackIp(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
      }
      await this.#onListening?.();
    } catch (error) {
      this.#state = 'stopped';
      await this.#listener?.close();
      this.#listener = undefined;
      throw error;
    }
    this.#log.info('Started P2P networking', { self: this.self.toEnodeUrl() });
    if (!this.noDial) {
      this.#dialer.start(this.#dialHost());
      for (const node of this.#static.values()) this.#dialer.addStatic(node);
    }
  }

  /**
   * Closes: sends "client quitting" to every peer, closes the listener and every connection, stops dialing, and
   * resolves once nothing is left open. Idempotent.
   */
  close(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    this.#stopController.abort(new AbortError('server stopping'));
    const listenerClosed = this.#listener?.close();
    for (const waiting of this.#waiting.splice(0)) this.#dropWaiting(waiting);
    for (const stream of this.#setups) stream.destroy();
    const peers = this.peers();
    for (const peer of peers) peer.disconnect(DisconnectReason.ClientQuitting);
    if (wasRunning && !this.noDial) await this.#dialer.close();
    await Promise.all([listenerClosed, ...peers.map((p) => p.closed), ...this.#setupDone]);
    this.#listener = undefined;
    this.#state = 'stopped';
    this.#log.info('Stopped P2P networking');
  }

  /** Adds a static node: kept connected by the dial scheduler (redialed after a failure or a disconnect). */
  addPeer(input: NodeInput): void {
    const [node] = normaliseNodes([input], 'addPeer');
    this.#static.set(node!.id.hex, node!);
    const peer = this.#peers.get(node!.id.hex);
    if (peer) peer.static = true;
    if (this.#state === 'running' && !this.noDial) this.#dialer.addStatic(node!);
  }

  /** Removes a static node and disconnects it if connected (geth's `RemovePeer`). */
  removePeer(input: NodeInput): void {
    const [node] = normaliseNodes([input], 'removePeer');
    const id = node!.id.hex;
    this.#static.delete(id);
    this.#dialer.removeStatic(id);
    this.#peers.get(id)?.disconnect(DisconnectReason.Requested);
  }

  /** Adds a trusted node; a connected peer with that id becomes trusted at once. */
  addTrustedPeer(input: NodeInput): void {
    const [node] = normaliseNodes([input], 'addTrustedPeer');
    this.#trusted.set(node!.id.hex, node!);
    const peer = this.#peers.get(node!.id.hex);
    if (peer) peer.trusted = true;
  }

  /** Removes a trusted node; a connected peer with that id stops being trusted (it stays connected). */
  removeTrustedPeer(input: NodeInput): void {
    const [node] = normaliseNodes([input], 'removeTrustedPeer');
    this.#trusted.delete(node!.id.hex);
    const peer = this.#peers.get(node!.id.hex);
    if (peer) peer.trusted = false;
  }

  /** Geth's `admin_nodeInfo`. */
  nodeInfo(): NodeInfo {
    const self = this.self;
    const protocols: Record<string, JsonValue> = {};
    for (const protocol of this.#registry.protocols) protocols[protocol.cap.name] = protocol.nodeInfo();
    const listen = this.#listener?.address ?? this.#listenAddr;
    return {
      id: this.id,
      name: this.name,
      enode: self.toEnodeUrl(),
      enr: self.record.toText(),
      ip: self.ip ?? '',
      ports: { discovery: self.udp, listener: self.tcp },
      listenAddr: listen ? formatHostPort(listen.host, listen.port) : '',
      protocols,
    };
  }

  /** Geth's `admin_peers`. */
  peersInfo(): PeerInfo[] {
    return this.peers().map((peer) => {
      const remote = splitHostPort(peer.remoteAddress);
      // As geth's nodeFromConn: the connection's address, with the TCP port standing in for UDP too.
      const node = Node.fromPublicKey(
        peer.publicKey,
        remote ? { ip: remote.host, tcp: remote.port, udp: remote.port } : {},
      );
      return {
        enode: node.toEnodeUrl(),
        id: peer.id,
        name: peer.clientName,
        caps: peer.caps.map((c) => `${c.name}/${c.version}`),
        network: {
          localAddress: peer.localAddress,
          remoteAddress: peer.remoteAddress,
          inbound: peer.inbound,
          trusted: peer.trusted,
          static: peer.static,
        },
        protocols: peer.protocolsInfo(),
      };
    });
  }

  #dialHost(): DialHost {
    const netRestrict = this.#netRestrict;
    return {
      selfId: this.id,
      maxDialedConns: this.maxDialedConns,
      maxPendingPeers: this.maxPendingPeers,
      isPendingInbound: (id) => this.#inboundHandshakes.has(id),
      ...(netRestrict ? { allowsIp: (ip: string) => netRestrict.contains(ip) } : {}),
      dial: async (node, options) => {
        const outcome = await this.#dial(node, options);
        this.emit('dial', { node, static: options.static, outcome });
        return outcome;
      },
    };
  }

  #ourHello(): Hello {
    return {
      version: P2P_VERSION,
      clientName: this.name,
      caps: this.#registry.caps(),
      listenPort: this.#listener?.address.port ?? 0,
      nodeId: this.#publicKey,
    };
  }

  #onInbound(stream: ByteStream): void {
    if (this.#state !== 'running') {
      stream.destroy();
      return;
    }
    const ip = hostOf(stream.remoteAddress);
    const refusal = this.#checkInbound(ip);
    if (refusal) {
      this.#log.debug('rejected inbound connection', { remote: stream.remoteAddress, reason: refusal });
      stream.destroy();
      return;
    }
    if (this.#pendingInbound >= this.maxPendingPeers) {
      if (this.#waiting.length >= MAX_WAITING_INBOUND) {
        this.#log.debug('rejected inbound connection', { remote: stream.remoteAddress, reason: 'too many waiting' });
        stream.destroy();
        return;
      }
      this.#wait(stream);
      return;
    }
    this.#startInbound(stream);
  }

  /**
   * Holds a connection until a handshake slot frees. Geth leaves it in the kernel's accept backlog; `node:net`
   * accepts every connection at once on all three runtimes, so we hold it here instead, reading only its first
   * bytes: a connection that has sent something gets the next free slot before silent ones, and one that is still
   * silent after the handshake deadline is closed, as its handshake would have failed. So silent sockets cannot
   * keep a real peer waiting longer than one handshake deadline.
   */
  #wait(stream: ByteStream): void {
    const waiting: WaitingInbound = {
      stream,
      firstRead: stream.read(),
      sentData: false,
      timer: this.#clock.setTimeout(() => {
        if (!this.#removeWaiting(waiting)) return;
        this.#log.debug('rejected inbound connection', {
          remote: stream.remoteAddress,
          reason: 'silent while waiting',
        });
        stream.destroy();
      }, this.#handshakeTimeoutMs),
    };
    waiting.firstRead.then(
      (chunk) => {
        if (chunk !== null) waiting.sentData = true;
        else if (this.#removeWaiting(waiting)) this.#dropWaiting(waiting);
      },
      () => {
        if (this.#removeWaiting(waiting)) this.#dropWaiting(waiting);
      },
    );
    this.#waiting.push(waiting);
  }

  /** Takes `waiting` out of the queue (clearing its timer); false when it was no longer there. */
  #removeWaiting(waiting: WaitingInbound): boolean {
    const index = this.#waiting.indexOf(waiting);
    if (index < 0) return false;
    this.#waiting.splice(index, 1);
    this.#clock.clearTimeout(waiting.timer);
    return true;
  }

  #dropWaiting(waiting: WaitingInbound): void {
    this.#clock.clearTimeout(waiting.timer);
    waiting.stream.destroy();
  }

  /** The next waiting connection for a free slot: the oldest that has sent bytes, else the oldest. */
  #nextWaiting(): ByteStream | undefined {
    const waiting = this.#waiting.find((w) => w.sentData) ?? this.#waiting[0];
    if (!waiting) return undefined;
    this.#removeWaiting(waiting);
    return replayFirstRead(waiting.stream, waiting.firstRead);
  }

  /** NetRestrict and the inbound throttle, checked before any handshake (geth's `checkInboundConn`). */
  #checkInbound(ip: string): string | undefined {
    if (this.#netRestrict && !this.#netRestrict.contains(ip)) return 'not in netrestrict list';
    if (isLan(ip) || this.#inboundThrottleMs === 0) return undefined;
    const now = this.#clock.now();
    const until = this.#inboundHistory.get(ip);
    if (until !== undefined && until > now) return 'too many attempts';
    this.#inboundHistory.delete(ip);
    this.#inboundHistory.set(ip, now + this.#inboundThrottleMs);
    if (this.#inboundHistory.size > MAX_INBOUND_HISTORY) {
      for (const [key, expiry] of this.#inboundHistory) {
        if (expiry <= now || this.#inboundHistory.size > MAX_INBOUND_HISTORY) this.#inboundHistory.delete(key);
        else break;
      }
    }
    return undefined;
  }

  #startInbound(stream: ByteStream): void {
    this.#pendingInbound++;
    this.#track(stream, this.#setup(stream, { inbound: true, static: false, trusted: false }, undefined), () => {
      this.#pendingInbound--;
      const next = this.#state === 'running' ? this.#nextWaiting() : undefined;
      if (next) this.#startInbound(next);
    });
  }

  #track(stream: ByteStream, setup: Promise<unknown>, after?: () => void): void {
    this.#setups.add(stream);
    const done = setup.then(
      () => undefined,
      () => undefined,
    );
    this.#setupDone.add(done);
    void done.then(() => {
      this.#setups.delete(stream);
      this.#setupDone.delete(done);
      after?.();
    });
  }

  /** One outbound connection, as the dial scheduler asks for it; never rejects. */
  async #dial(node: Node, options: HostDialOptions): Promise<DialOutcome> {
    const endpoint = node.tcpEndpoint();
    if (!endpoint) return { kind: 'refused', error: new TypeError(`node ${node.id.short()} has no TCP endpoint`) };
    if (this.#netRestrict && !this.#netRestrict.contains(endpoint.ip)) {
      return { kind: 'refused', error: new Error(`${endpoint.ip} is not in the netrestrict list`) };
    }
    if (this.#state !== 'running') return { kind: 'aborted' };
    const signal = AbortSignal.any([options.signal, this.#stopController.signal]);
    // Aborted by the scheduler's deadline: a timeout, whatever stage it stopped.
    const aborted = (): DialOutcome =>
      options.signal.reason instanceof TimeoutError
        ? { kind: 'timeout', error: options.signal.reason }
        : { kind: 'aborted' };
    let stream: ByteStream;
    try {
      stream = await this.#transport.dial(endpoint.ip, endpoint.port, { signal, timeoutMs: options.timeoutMs });
    } catch (error) {
      if (signal.aborted) return aborted();
      if (error instanceof TimeoutError) return { kind: 'timeout', error };
      return { kind: 'refused', error: error as Error };
    }
    if (this.#state !== 'running' || signal.aborted) {
      stream.destroy();
      return aborted();
    }
    const flags = { inbound: false, static: options.static, trusted: this.#trusted.has(node.id.hex) };
    const setup = this.#setup(stream, flags, node, signal);
    this.#track(stream, setup);
    try {
      const peer = await setup;
      return { kind: 'connected', id: peer.id };
    } catch (error) {
      if (signal.aborted) return aborted();
      if (error instanceof TimeoutError) return { kind: 'timeout', error };
      const reason = error instanceof DisconnectError ? error.reason : undefined;
      return { kind: 'handshake-failed', error: error as Error, ...(reason === undefined ? {} : { reason }) };
    }
  }

  /**
   * Geth's checks on a connection whose identity is known: the peer limits (trusted nodes bypass them), already
   * connected, ourselves. Returns the reason to refuse with, or undefined.
   */
  #checkPeer(id: string, flags: ConnFlags): DisconnectReason | undefined {
    if (!flags.trusted && this.#peers.size >= this.maxPeers) return DisconnectReason.TooManyPeers;
    if (!flags.trusted && flags.inbound && this.#inboundCount() >= this.maxInboundConns) {
      return DisconnectReason.TooManyPeers;
    }
    // The dial scheduler over-dials on purpose (twice the free outbound slots, as geth); the surplus that completes
    // its handshake after the outbound slots are full is refused here, so dynamic dials fill exactly
    // `maxDialedConns` (geth lets them in up to maxPeers). Static and trusted nodes are exempt.
    if (!flags.trusted && !flags.static && !flags.inbound && this.#outboundCount() >= this.maxDialedConns) {
      return DisconnectReason.TooManyPeers;
    }
    const existing = this.#peers.get(id);
    if (existing && !this.#replaces(flags.inbound, existing)) return DisconnectReason.AlreadyConnected;
    if (id === this.id) return DisconnectReason.ConnectedToSelf;
    return undefined;
  }

  /**
   * Whether a new connection to a connected node should replace the existing one. When both sides dial each other
   * at once, each completes one connection first and would refuse the other as "already connected", leaving them
   * with none; instead both keep the connection dialed by the node with the lower id, the same one on both sides.
   * Two connections dialed by the same side: the existing one stays.
   */
  #replaces(inbound: boolean, existing: Peer): boolean {
    if (inbound === existing.inbound) return false;
    const newDialedByUs = !inbound;
    const weAreLower = this.id < existing.id;
    return newDialedByUs === weAreLower;
  }

  #inboundCount(): number {
    let count = 0;
    for (const peer of this.#peers.values()) if (peer.inbound) count++;
    return count;
  }

  #outboundCount(): number {
    return this.#peers.size - this.#inboundCount();
  }

  #trackInboundHandshake(id: string, delta: 1 | -1): void {
    const count = (this.#inboundHandshakes.get(id) ?? 0) + delta;
    if (count > 0) this.#inboundHandshakes.set(id, count);
    else this.#inboundHandshakes.delete(id);
  }

  /** The connection pipeline: RLPx handshake → checks → Hello → shared caps → checks → peer runs. */
  async #setup(
    stream: ByteStream,
    flags: ConnFlags,
    dialed: Node | undefined,
    signal: AbortSignal = this.#stopController.signal,
  ): Promise<Peer> {
    const conn = new RLPxConnection(stream, {
      privateKey: this.#privateKey,
      ...(dialed?.publicKey ? { remotePublicKey: dialed.publicKey } : {}),
      handshakeTimeoutMs: this.#handshakeTimeoutMs,
      ...(this.#readTimeoutMs === undefined ? {} : { readTimeoutMs: this.#readTimeoutMs }),
      ...(this.#writeTimeoutMs === undefined ? {} : { writeTimeoutMs: this.#writeTimeoutMs }),
      clock: this.#clock,
      logger: this.#rootLog,
    });
    const remoteAddress = stream.remoteAddress ?? '';
    let inboundId: string | undefined;
    const started = this.#clock.now();
    let handshakeMs: number | undefined;
    try {
      const remoteKey = await conn.handshake({ signal });
      handshakeMs = this.#clock.now() - started;
      const id = NodeId.fromPublicKey(remoteKey).hex;
      if (flags.inbound) {
        inboundId = id;
        this.#trackInboundHandshake(id, 1);
      }
      flags.trusted ||= this.#trusted.has(id);
      flags.static ||= this.#static.has(id);
      const early = this.#checkPeer(id, flags);
      if (early !== undefined) throw this.#refuse(conn, early);
      const hello = await exchangeHello(conn, this.#ourHello(), {
        timeoutMs: this.#handshakeTimeoutMs,
        signal,
        clock: this.#clock,
      });
      // Snappy first: from here on the remote expects every message compressed, a refusal included.
      if (hello.version >= SNAPPY_MIN_VERSION) conn.setSnappy(true);
      const invalid = checkHello(hello, remoteKey);
      if (invalid !== undefined) throw this.#refuse(conn, invalid);
      const matched = this.#registry.match(hello.caps);
      if (this.#registry.protocols.length > 0 && matched.length === 0) {
        throw this.#refuse(conn, DisconnectReason.UselessPeer);
      }
      const late = this.#checkPeer(id, flags);
      if (late !== undefined) throw this.#refuse(conn, late);
      if (this.#state !== 'running') throw this.#refuse(conn, DisconnectReason.ClientQuitting);
      // This connection won the simultaneous-dial tie-break (see #replaces): the other one goes.
      this.#peers.get(id)?.disconnect(DisconnectReason.AlreadyConnected);
      const peer = new Peer({
        connection: conn,
        id,
        publicKey: remoteKey,
        hello,
        matched,
        inbound: flags.inbound,
        trusted: flags.trusted,
        static: flags.static,
        localAddress: stream.localAddress ?? '',
        remoteAddress,
        logger: this.#log,
        messageEvents: this.#messageEvents && this.#hasMessageListeners,
        pingIntervalMs: this.#pingIntervalMs,
        protocolHandshakeTimeoutMs: this.#handshakeTimeoutMs,
        clock: this.#clock,
      });
      this.#addPeer(peer);
      this.emit('connection', { inbound: flags.inbound, remoteAddress, handshakeMs, peer });
      return peer;
    } catch (error) {
      this.emit('connection', { inbound: flags.inbound, remoteAddress, handshakeMs, error });
      // A refusal has queued its Disconnect: close() flushes it (within the stream's flush deadline) before the
      // socket closes; a failed connection has already been destroyed.
      conn.close(error);
      this.#log.debug('connection setup failed', {
        remote: remoteAddress,
        inbound: flags.inbound,
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      if (inboundId !== undefined) this.#trackInboundHandshake(inboundId, -1);
    }
  }

  /** Sends Disconnect with `reason` and closes; returns the error that ends the setup. */
  #refuse(conn: RLPxConnection, reason: DisconnectReason): DisconnectError {
    conn.writeMessage(0x01, encodeDisconnect(reason)).catch(() => undefined);
    const error = new DisconnectError(reason, 'local');
    conn.close(error);
    return error;
  }

  /** Whether anybody listens to `peer:message`: peers ask before each message (see enableMsgEvents). */
  readonly #hasMessageListeners = (): boolean => this.listenerCount('peer:message') > 0;

  #addPeer(peer: Peer): void {
    const replaced = this.#peers.get(peer.id);
    if (replaced && !this.noDial) this.#dialer.peerRemoved(peer.id);
    this.#peers.set(peer.id, peer);
    const offMessage = this.#messageEvents
      ? peer.on('message', (m) => this.emit('peer:message', { ...m, peer }))
      : undefined;
    void peer.closed.then((end: PeerEnd) => {
      offMessage?.();
      this.#log.debug('removing peer', { id: peer.id.slice(0, 16), reason: end.error.message });
      // A peer replaced by a newer connection to the same node is no longer the one in the map.
      if (this.#peers.get(peer.id) === peer) {
        this.#peers.delete(peer.id);
        if (!this.noDial) this.#dialer.peerRemoved(peer.id);
      }
      this.emit('peer:removed', { peer, reason: end.reason, initiator: end.initiator, error: end.error });
    });
    this.#log.debug('adding peer', { id: peer.id.slice(0, 16), name: peer.clientName, inbound: peer.inbound });
    peer.run();
    if (!this.noDial) this.#dialer.peerAdded(peer.id, peer.inbound);
    this.emit('peer:added', { peer });
  }
}

/**
 * Creates a {@link Server}; call `start()` to listen and dial.
 * @example const server = createServer({ privateKey: generatePrivateKey(), listenAddr: '127.0.0.1:0', protocols: [ping] })
 */
export function createServer(config: ServerConfig): Server {
  return new Server(config);
}
