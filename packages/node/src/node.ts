import {
  AbortError,
  type AnyProtocol,
  type Clock,
  type DatagramAddress,
  type DatagramTransport,
  type DisconnectError,
  type DisconnectInitiator,
  type DisconnectReasonName,
  defaultLogger,
  disconnectReasonName,
  type Logger,
  systemClock,
  type Transport,
  type TxtResolver,
  TypedEventTarget,
} from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { checkNodes, Dialer, type DialOutcome, filterNodes, type NodeSource } from '@devp2p/dial';
import { Discv4, Discv5, N_BUCKETS } from '@devp2p/discovery';
import { DnsDiscovery } from '@devp2p/dnsdisc';
import {
  LocalNode,
  loadOrCreateNodeKey,
  MemoryNodeDatabase,
  NetList,
  type Node,
  type NodeDatabase,
  type NodeDiscovery,
  openNodeDatabase,
  parseNode,
} from '@devp2p/enode';
import { createServer, type NodeInfo, type Peer, type PeerInfo, type Server } from '@devp2p/server';
import { createTxtResolver, tcpTransport, udpTransport } from '@devp2p/transport-node';
import { NodeMetrics } from './metrics.ts';
import { findPmpGateway } from './nat/find.ts';
import { guessGateways } from './nat/gateways.ts';
import { PortMapper, type PortMappingClient } from './nat/mapper.ts';
import { PmpClient } from './nat/pmp.ts';
import { UpnpClient } from './nat/upnp.ts';

/**
 * Discovered nodes whose records are fetched at once before the protocols' dial filters judge them (geth's
 * `maxParallelENRRequests`).
 */
export const MAX_PARALLEL_ENR_REQUESTS = 16;

/** A node as the config takes it: an `enode://` URL, `enr:` text, or a parsed {@link Node}. */
export type NodeInput = string | Node;

/**
 * Where discovery runs; `false` in {@link NodeConfig.discovery} turns it off (geth's `--nodiscover`). With both
 * discv4 and discv5 on, they share one UDP socket and one record, as in geth: datagrams discv4 cannot decode go
 * to discv5.
 */
export interface DiscoveryConfig {
  /** Run discv4 on UDP (default true; geth's `--discovery.v4`). */
  readonly v4?: boolean;
  /** Run discv5 on UDP (default true; geth's `--discovery.v5`). */
  readonly v5?: boolean;
  /** UDP port for discovery (default: the TCP listening port; 0 picks a free one). */
  readonly port?: number;
  /** More sources of candidates (a plugin's, your own), mixed fairly with discv4 and discv5 by the dialer. */
  readonly sources?: readonly NodeDiscovery[];
  /**
   * EIP-1459 DNS trees (`enrtree://` URLs) to take nodes from (default: the network's; an empty list turns DNS
   * discovery off, as geth's `--discovery.dns ''`).
   */
  readonly dnsTrees?: readonly string[];
  /** How the DNS trees are read (default: `createTxtResolver()` of `@devp2p/transport-node`, the system resolver). */
  readonly txtResolver?: TxtResolver;
}

/**
 * How our node is reachable from outside, as geth's `--nat`: `none` (default); a fixed external IP (`extip:IP`);
 * NAT-PMP on a named gateway (`pmp:IP`; `port` only for tests, the protocol's is 5351) or, with `'pmp'`, on the first
 * gateway guessed from this machine's private networks that answers; UPnP on the gateway an SSDP search finds
 * (`'upnp'`), or the one whose description is at a given URL (`{ upnp }`); `'any'` takes whichever of UPnP and
 * NAT-PMP answers first. Our TCP and UDP ports are then mapped (and the mappings removed on close) and the
 * gateway's external IP goes into our record.
 */
export type NatConfig =
  | 'none'
  | 'any'
  | 'pmp'
  | 'upnp'
  | { readonly extIp: string }
  | { readonly pmp: string; readonly port?: number }
  | { readonly upnp: string };

/**
 * A network's discovery entry points. The eth plugin's chain presets have this shape, so `network: sepolia` joins
 * Sepolia the way `geth --sepolia` does.
 * @example createNode({ network: sepolia, protocols: eth({ chain: sepolia }).protocols })
 */
export interface NetworkPreset {
  readonly name: string;
  readonly discovery: {
    /** discv4 bootnodes (`enode://` URLs). */
    readonly bootnodes: readonly string[];
    /** discv5 bootnodes (`enr:` records; geth's `V5Bootnodes`). */
    readonly bootnodesV5?: readonly string[];
    /** EIP-1459 DNS trees (`enrtree://` URLs). */
    readonly dnsTrees?: readonly string[];
  };
}

/** What {@link createNode} assembles; the names follow geth's `p2p.Config`. */
export interface NodeConfig {
  /** Our node key (32 bytes). Without it, `<datadir>/nodekey` (created when missing), or a new key in memory. */
  readonly privateKey?: Uint8Array;
  /** Where the node key and the node database (`nodes`) live. Without it, the database is in memory. */
  readonly datadir?: string;
  /** Client name sent in Hello (default `devp2p.ts/v<version>/<os>-<arch>/<runtime><version>`). */
  readonly name?: string;
  /** TCP `host:port` to listen on (port 0: any free port); `null` to not listen. Default `0.0.0.0:30303`. */
  readonly listenAddr?: string | null;
  /** Subprotocols (plugins) to run on every peer. */
  readonly protocols?: readonly AnyProtocol[];
  /**
   * Discovery: discv4, discv5 and any other sources (default: discv4 and discv5 on one UDP socket at the TCP port);
   * `false` turns it off.
   */
  readonly discovery?: DiscoveryConfig | false;
  /** The network whose bootnodes discovery starts from, unless `bootnodes` is given. */
  readonly network?: NetworkPreset;
  /**
   * Nodes discovery (discv4 and discv5) starts from when its table is empty (default: the network's; an empty list
   * means none, as geth).
   */
  readonly bootnodes?: readonly NodeInput[];
  /**
   * Nodes discv5 starts from (default, as geth: `bootnodes` when given, else the network's discv5 bootnodes, else
   * none).
   */
  readonly bootnodesV5?: readonly NodeInput[];
  /** Kept connected: dialed, and redialed when they drop. */
  readonly staticNodes?: readonly NodeInput[];
  /** Always admitted, even above the peer limits. */
  readonly trustedNodes?: readonly NodeInput[];
  /** Most peers at once (default 50). */
  readonly maxPeers?: number;
  /** Most connections in the handshakes at once (default 50). */
  readonly maxPendingPeers?: number;
  /** `maxPeers / dialRatio` slots are kept for outbound connections (default 3). */
  readonly dialRatio?: number;
  /** Only these CIDR networks are dialed, admitted and contacted by discovery. */
  readonly netRestrict?: readonly string[];
  readonly nat?: NatConfig;
  /** Where everything logs (default: silent unless `DEBUG` names devp2p). */
  readonly logger?: Logger;
  /** Time and timers for every part (default: the runtime's). */
  readonly clock?: Clock;
  /** TCP (default `tcpTransport` from `@devp2p/transport-node`). */
  readonly transport?: Transport;
  /** UDP for discovery (default `udpTransport` from `@devp2p/transport-node`). */
  readonly datagramTransport?: DatagramTransport;
  /**
   * Collect Prometheus metrics under geth's names (`node.metrics`; the CLI serves them with `--metrics`). Off by
   * default: it meters every connection and message.
   */
  readonly metrics?: boolean;
  /** Emit every message sent and received as the server's `peer:message` event (geth's `EnableMsgEvents`). */
  readonly messageEvents?: boolean;
}

/** Why a peer was removed: the wire code and its name. */
export interface PeerRemovedReason {
  readonly code: number;
  readonly name: DisconnectReasonName | 'Unknown';
}

/** Events of a {@link DevP2PNode}. */
export interface NodeEvents {
  'peer:added': { readonly peer: Peer };
  'peer:removed': {
    readonly peer: Peer;
    readonly reason: PeerRemovedReason;
    readonly initiator: DisconnectInitiator;
    readonly error: DisconnectError;
  };
  /** A discovery source offered a dial candidate (the dialer pulls one when it has a free slot). */
  'discovery:candidate': { readonly source: string; readonly node: Node };
  /** A candidate no protocol's dial filter accepts (eth: no `eth` entry, or a foreign fork id): it is not dialed. */
  'discovery:rejected': { readonly source: string; readonly node: Node };
  /** A dial ended: the node as dialed and the typed outcome. */
  dial: { readonly node: Node; readonly static: boolean; readonly outcome: DialOutcome };
}

/** Options of {@link DevP2PNode.start}. */
export interface StartOptions {
  /** Aborting before `start()` resolves closes the node and rejects with AbortError. */
  readonly signal?: AbortSignal;
}

function toNode(input: NodeInput, label: string): Node {
  if (typeof input !== 'string') return input;
  try {
    return parseNode(input);
  } catch (cause) {
    throw new TypeError(`${label}: ${(cause as Error).message}`, { cause });
  }
}

/** The first of `candidates` to resolve to a client; the others are closed when they come. */
async function firstFound(
  candidates: readonly (Promise<PortMappingClient | undefined> | undefined)[],
): Promise<PortMappingClient | undefined> {
  const pending = candidates.filter((c) => c !== undefined);
  if (pending.length === 0) return undefined;
  const winner = await Promise.any(
    pending.map(async (c) => {
      const client = await c;
      if (!client) throw new Error('none');
      return client;
    }),
  ).catch(() => undefined);
  for (const c of pending) void c.then((client) => (client && client !== winner ? client.close() : undefined));
  return winner;
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The TCP port of a `host:port` listen address, or undefined when it has none we can read. */
function listenPort(listenAddr: string | null): number | undefined {
  if (listenAddr === null) return undefined;
  const match = /:(\d+)$/.exec(listenAddr);
  return match ? Number(match[1]) : undefined;
}

/** The host of a `host:port` listen address, without IPv6 brackets. */
function listenHost(listenAddr: string | null): string {
  if (listenAddr === null) return '0.0.0.0';
  const host = listenAddr.slice(0, listenAddr.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host || '0.0.0.0';
}

/**
 * A devp2p node: the server (listener, peers, limits), the dial scheduler, discovery and the node database,
 * assembled by {@link createNode}. The parts stay reachable (`server`, `dialer`, `discovery`, `localNode`).
 */
export class DevP2PNode extends TypedEventTarget<NodeEvents> {
  /** The devp2p server: listener, handshakes, peers and their protocols. */
  readonly server: Server;
  /** The dial scheduler: static nodes and discovery candidates into outbound connections. */
  readonly dialer: Dialer;
  /** Our record, shared by the server and discovery. */
  readonly localNode: LocalNode;
  /** Prometheus metrics under geth's names, with `metrics: true`; undefined otherwise. */
  readonly metrics: NodeMetrics | undefined;
  readonly #config: NodeConfig;
  readonly #privateKey: Uint8Array;
  readonly #db: NodeDatabase;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #sources: NodeDiscovery[];
  #discv4: Discv4 | undefined;
  #discv5: Discv5 | undefined;
  #state: 'idle' | 'starting' | 'running' | 'closed' = 'idle';
  #closing: Promise<void> | undefined;
  #natStarted: Promise<void> | undefined;
  #portMapper: PortMapper | undefined;

  /** Use {@link createNode}. */
  constructor(config: NodeConfig, privateKey: Uint8Array, db: NodeDatabase) {
    super();
    this.#config = config;
    this.#privateKey = privateKey;
    this.#db = db;
    this.#log = config.logger ?? defaultLogger();
    this.#clock = config.clock ?? systemClock;
    this.#sources = [...(config.discovery === false ? [] : (config.discovery?.sources ?? []))];
    this.localNode = new LocalNode(privateKey, { db, clock: this.#clock, logger: this.#log });
    const dnsTrees =
      config.discovery === false ? [] : (config.discovery?.dnsTrees ?? config.network?.discovery.dnsTrees ?? []);
    if (dnsTrees.length > 0) {
      const resolver = (config.discovery === false ? undefined : config.discovery?.txtResolver) ?? createTxtResolver();
      this.#sources.push(
        new DnsDiscovery({
          resolver,
          urls: dnsTrees,
          localNode: this.localNode,
          clock: this.#clock,
          logger: this.#log,
        }),
      );
    }
    this.metrics = config.metrics
      ? new NodeMetrics({
          peers: () => this.server.peers(),
          discv4Stats: () => this.#discv4?.stats,
          discv5Stats: () => this.#discv5?.stats,
          tableBuckets: () => {
            const table = this.#discv4?.table;
            return table ? Array.from({ length: N_BUCKETS }, (_, i) => table.bucket(i).entries.length) : [];
          },
        })
      : undefined;
    const metrics = this.metrics;
    const nat = config.nat ?? 'none';
    if (typeof nat === 'object' && 'extIp' in nat) this.localNode.setStaticIp(nat.extIp);
    const clock = this.#clock;
    const protocols = config.protocols ?? [];
    for (const protocol of protocols) if (protocol.enrEntries) this.localNode.set(protocol.enrEntries());
    // Geth's eth NodeFilter: when a protocol judges candidates by their records, only nodes one accepts are dialed;
    // discv4 finds nodes without records, so theirs are fetched first (geth's AsyncFilter with RequestENR).
    const filters = protocols.filter((protocol) => protocol.acceptsNode !== undefined);
    const accept =
      (source: string) =>
      (node: Node): boolean => {
        if (filters.some((protocol) => protocol.acceptsNode?.(node.record))) return true;
        this.emit('discovery:rejected', { source, node });
        return false;
      };
    const discv4Nodes: NodeSource = (signal) => this.#announced(() => this.#discv4, signal);
    const discv5Nodes: NodeSource = (signal) => this.#announced(() => this.#discv5, signal);
    const fetchRecord = (node: Node, signal: AbortSignal): Promise<Node | undefined> =>
      this.#discv4 ? this.#discv4.requestENR(node, { signal }) : Promise.resolve(undefined);
    // One dialer source per discovery source (the dialer mixes them fairly); discv4 and discv5 exist only once
    // started. discv5 nodes come with their records, so they are judged at once (geth's Filter).
    this.dialer = new Dialer({
      nodeSources: [
        filters.length === 0
          ? discv4Nodes
          : filterNodes(checkNodes(discv4Nodes, fetchRecord, MAX_PARALLEL_ENR_REQUESTS), accept('discv4')),
        filters.length === 0 ? discv5Nodes : filterNodes(discv5Nodes, accept('discv5')),
        ...this.#sources.map((source) => {
          const nodes: NodeSource = (signal) => this.#announced(() => source, signal);
          return filters.length === 0 ? nodes : filterNodes(nodes, accept(source.name));
        }),
      ],
      resolve: (node, { signal }) => this.#resolve(node, signal),
      clock,
      logger: this.#log,
      statusFields: () => ({ table: this.#discv4?.table.size ?? 0 }),
    });
    const discoveryOn = config.discovery !== false;
    this.server = createServer({
      privateKey,
      ...(config.name === undefined ? {} : { name: config.name }),
      ...(config.listenAddr === undefined ? {} : { listenAddr: config.listenAddr }),
      ...(config.maxPeers === undefined ? {} : { maxPeers: config.maxPeers }),
      ...(config.maxPendingPeers === undefined ? {} : { maxPendingPeers: config.maxPendingPeers }),
      ...(config.dialRatio === undefined ? {} : { dialRatio: config.dialRatio }),
      ...(config.netRestrict ? { netRestrict: config.netRestrict } : {}),
      staticNodes: (config.staticNodes ?? []).map((n, i) => toNode(n, `staticNodes[${i}]`)),
      trustedNodes: (config.trustedNodes ?? []).map((n, i) => toNode(n, `trustedNodes[${i}]`)),
      protocols,
      localNode: this.localNode,
      logger: this.#log,
      transport: metrics
        ? metrics.meterTransport(config.transport ?? tcpTransport)
        : (config.transport ?? tcpTransport),
      dialer: this.dialer,
      enableMsgEvents: metrics !== undefined || config.messageEvents === true,
      clock,
      // Discovery starts once the TCP port is in our record, so its first packets announce it (geth's order).
      ...(discoveryOn ? { onListening: () => this.#startDiscovery() } : {}),
    });
    this.server.on('peer:added', (event) => this.emit('peer:added', event));
    this.server.on('peer:removed', ({ peer, reason, initiator, error }) =>
      this.emit('peer:removed', {
        peer,
        reason: { code: reason, name: disconnectReasonName(reason) },
        initiator,
        error,
      }),
    );
    this.server.on('dial', (event) => this.emit('dial', event));
    if (metrics) {
      this.server.on('dial', ({ outcome }) => metrics.dialed(outcome));
      this.server.on('connection', (event) => metrics.connection(event));
      this.server.on('peer:message', (event) => metrics.message(event));
      this.server.on('peer:removed', ({ peer, error }) => metrics.peerRemoved(peer.inbound, error));
    }
  }

  /** The running discovery sources (discv4, then discv5, when on); empty before `start()` and after `close()`. */
  get discovery(): readonly NodeDiscovery[] {
    return [...(this.#discv4 ? [this.#discv4] : []), ...(this.#discv5 ? [this.#discv5] : []), ...this.#sources];
  }

  /** The discv4 service once started; undefined when off. */
  get discv4(): Discv4 | undefined {
    return this.#discv4;
  }

  /** The discv5 service once started; undefined when off. */
  get discv5(): Discv5 | undefined {
    return this.#discv5;
  }

  /** Connected peers. */
  peers(): Peer[] {
    return this.server.peers();
  }

  /** Geth's `admin_nodeInfo`: ids, enode URL, ENR, ports and each protocol's info. */
  nodeInfo(): NodeInfo {
    return this.server.nodeInfo();
  }

  /** Geth's `admin_peers`. */
  peersInfo(): PeerInfo[] {
    return this.server.peersInfo();
  }

  /**
   * Listens, starts discovery (once the TCP port is known) and dialing. Rejects, with nothing left running, when a
   * socket cannot be bound or `signal` aborts first.
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`node already ${this.#state}`);
    this.#state = 'starting';
    const { signal } = options;
    const aborted = (): AbortError => new AbortError('node start aborted', { cause: signal?.reason });
    if (signal?.aborted) {
      await this.close();
      throw aborted();
    }
    const onAbort = (): void => void this.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.server.start();
      if (signal?.aborted) throw aborted();
      this.#state = 'running';
      this.#hintIfStranded();
      this.#natStarted = this.#startNat().catch((error: unknown) => {
        this.#log.warn('NAT port mapping not set up', { reason: (error as Error).message });
      });
    } catch (error) {
      await this.close();
      throw signal?.aborted ? aborted() : error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Stops everything: peers get "client quitting", sockets and timers are released, the database is saved. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    const wasStarted = this.#state !== 'idle';
    this.#state = 'closed';
    await this.#natStarted;
    await this.#portMapper?.close();
    this.#portMapper = undefined;
    if (wasStarted) await this.server.close();
    const sources = this.discovery;
    this.#discv4 = undefined;
    this.#discv5 = undefined;
    this.#sources.length = 0;
    await Promise.all(sources.map((source) => source.close()));
    await this.#db.close();
  }

  /** NAT-PMP: finds the gateway (named, or the first guessed one to answer) and maps our TCP and UDP ports on it. */
  async #startNat(): Promise<void> {
    const nat = this.#config.nat ?? 'none';
    if (nat === 'none' || (typeof nat === 'object' && 'extIp' in nat)) return;
    const transport = this.#config.datagramTransport ?? udpTransport;
    let client: PortMappingClient | undefined;
    if (typeof nat === 'object' && 'pmp' in nat) {
      client = await PmpClient.open(transport, nat.pmp, {
        clock: this.#clock,
        ...(nat.port ? { port: nat.port } : {}),
      });
    } else if (typeof nat === 'object') {
      client = await UpnpClient.fromDescription(new URL(nat.upnp));
    } else {
      const upnp = nat === 'pmp' ? undefined : UpnpClient.discover(transport).catch(() => undefined);
      const pmp =
        nat === 'upnp' ? undefined : findPmpGateway(transport, guessGateways(), this.#clock).catch(() => undefined);
      // 'any': whichever answers first; the other, if it answers too, is released.
      client = await firstFound([upnp, pmp]);
    }
    if (!client) {
      this.#log.info('no NAT gateway answered; ports are not mapped', { nat: typeof nat === 'string' ? nat : 'upnp' });
      return;
    }
    if (this.#state === 'closed') return client.close();
    const mapper = new PortMapper(client, {
      localNode: this.localNode,
      clock: this.#clock,
      logger: this.#log.child('nat'),
    });
    this.#portMapper = mapper;
    const tcp = this.server.listenAddress?.port;
    if (tcp) mapper.add('tcp', tcp);
    const udp = this.#discv4?.address.port;
    if (udp) mapper.add('udp', udp);
  }

  async #startDiscovery(): Promise<void> {
    const discovery = this.#config.discovery === false ? undefined : this.#config.discovery;
    const v4 = discovery?.v4 !== false;
    const v5 = discovery?.v5 !== false;
    if (!v4 && !v5) return;
    const listen = this.#config.listenAddr === undefined ? '0.0.0.0:30303' : this.#config.listenAddr;
    const port = discovery?.port ?? this.server.listenAddress?.port ?? listenPort(listen) ?? 0;
    const raw = this.#config.datagramTransport ?? udpTransport;
    const transport = this.metrics ? this.metrics.meterDatagrams(raw) : raw;
    const common = {
      privateKey: this.#privateKey,
      localNode: this.localNode,
      bootnodes: this.#bootnodes(),
      ...(this.#config.netRestrict ? { netRestrict: new NetList(this.#config.netRestrict) } : {}),
      clock: this.#clock,
      logger: this.#log,
    };
    if (v4) {
      this.#discv4 = await Discv4.start({
        ...common,
        transport,
        host: listenHost(listen),
        port,
        // One socket for both, as geth: what is not a discv4 packet goes to discv5.
        ...(v5 ? { unhandled: (data: Uint8Array, from: DatagramAddress) => this.#discv5?.receive(data, from) } : {}),
      });
    }
    if (v5) {
      this.#discv5 = await Discv5.start({
        ...common,
        bootnodes: this.#bootnodesV5(),
        ...(this.#discv4 ? { socket: this.#discv4.socket } : { transport, host: listenHost(listen), port }),
      });
    }
  }

  /** The bootnodes given, else the network's (geth: `--bootnodes` replaces the preset's, even when empty). */
  #bootnodes(): Node[] {
    const given = this.#config.bootnodes;
    if (given !== undefined) return given.map((n, i) => toNode(n, `bootnodes[${i}]`));
    const preset = this.#config.network?.discovery.bootnodes ?? [];
    return preset.map((n, i) => toNode(n, `network ${this.#config.network?.name} bootnodes[${i}]`));
  }

  /** discv5's bootnodes: its own list, else the bootnodes given, else the network's discv5 list (geth's order). */
  #bootnodesV5(): Node[] {
    const config = this.#config;
    if (config.bootnodesV5 !== undefined) return config.bootnodesV5.map((n, i) => toNode(n, `bootnodesV5[${i}]`));
    if (config.bootnodes !== undefined) return this.#bootnodes();
    const preset = config.network?.discovery.bootnodesV5 ?? [];
    return preset.map((n, i) => toNode(n, `network ${config.network?.name} bootnodesV5[${i}]`));
  }

  /** Says once at start why the node may find no peers, with what would fix it. */
  #hintIfStranded(): void {
    const config = this.#config;
    const statics = config.staticNodes?.length ?? 0;
    if (config.discovery === false) {
      if (statics === 0) {
        this.#log.info('discovery is off and there are no static nodes: peers come only from inbound connections');
      }
      return;
    }
    if (this.#bootnodes().length === 0 && this.#sources.length === 0 && (this.#discv4?.table.size ?? 0) === 0) {
      // Info, not a warning: a bootnode (the devnet's first node, geth's bootnode) starts from nothing on purpose.
      this.#log.info('discovery has nowhere to start: no bootnodes and no other source (give bootnodes or a network)');
    }
  }

  /** A source's candidates, each announced as a `discovery:candidate` event; nothing when the source is off. */
  async *#announced(
    current: () => NodeDiscovery | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<Node, void, undefined> {
    const source = current();
    if (!source) return;
    for await (const node of source.randomNodes({ signal })) {
      this.emit('discovery:candidate', { source: source.name, node });
      yield node;
    }
  }

  /** A static node's newest record: the first source that finds one newer than what we have. */
  async #resolve(node: Node, signal: AbortSignal): Promise<Node | undefined> {
    for (const source of this.discovery) {
      const found = await source.resolve(node, { signal });
      if (found.seq > node.seq || (found.tcpEndpoint() && !node.tcpEndpoint())) return found;
    }
    return undefined;
  }
}

/**
 * Assembles a devp2p node from one config: node key and database (from `datadir`, or in memory), our record, the
 * server with its protocols and limits, the dial scheduler, and discv4, discv5 and any other discovery sources. Nothing
 * is bound until `start()`.
 *
 * @example
 * const node = createNode({ listenAddr: '127.0.0.1:0', protocols: [ping], discovery: false })
 * await node.start()
 * console.log(node.nodeInfo().enode)
 * await node.close()
 */
export function createNode(config: NodeConfig = {}): DevP2PNode {
  const { datadir } = config;
  // The database first: opening it creates the data directory the key file goes in.
  const dbOptions = {
    ...(config.clock === undefined ? {} : { clock: config.clock }),
    ...(config.logger === undefined ? {} : { logger: config.logger }),
  };
  const db =
    datadir === undefined ? new MemoryNodeDatabase(dbOptions) : openNodeDatabase(joinPath(datadir, 'nodes'), dbOptions);
  try {
    const privateKey =
      config.privateKey ??
      (datadir === undefined ? generatePrivateKey() : loadOrCreateNodeKey(joinPath(datadir, 'nodekey')));
    return new DevP2PNode(config, privateKey, db);
  } catch (error) {
    void db.close();
    throw error;
  }
}
