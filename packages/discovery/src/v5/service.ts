/**
 * The discv5 packet service (geth p2p/discover/v5_udp.go `UDPv5`): receives datagrams (from its own socket, or
 * those discv4 could not decode on a shared one), answers WHOAREYOU, PING, FINDNODE and TALKREQ, and makes our
 * own PING, FINDNODE and TALKREQ requests over the codec (codec.ts, session.ts) and the request matching
 * (calls.ts).
 */
import {
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  Devp2pError,
  formatHostPort,
  type Logger,
  TimeoutError,
} from '@devp2p/core';
import { randomBytes } from '@devp2p/crypto';
import type { Endpoint, LocalNode, NetList, Node, NodeDatabase, NodeId } from '@devp2p/enode';
import { ERR_DISCV5_ENR, ERR_DISCV5_RESTRICTED } from '../codes.ts';
import { closedError, type Lifecycle } from '../lifecycle.ts';
import { canonicalHost } from '../netutil.ts';
import type { Table } from '../table/table.ts';
import { type CallRequest, Calls, type ResponseType } from './calls.ts';
import { type CodecResult, Discv5Codec, type ReceivedChallenge } from './codec.ts';
import { REQUEST_ID_SIZE, TOTAL_NODES_RESPONSE_LIMIT } from './constants.ts';
import { Discv5MessageError, Discv5PacketError } from './errors.ts';
import type { Discv5Message, Discv5Pong } from './messages.ts';
import { collectTableNodes, packNodes, VerifiedRecords, verifyResponseRecord } from './nodes.ts';
import { SessionCache } from './session.ts';
import { type Discv5DropReason, type Discv5Stats, newDropCounters } from './stats.ts';
import { type TalkHandler, TalkSystem } from './talk.ts';

/**
 * Options of {@link Discv5Service}: what the `Discv5` assembling it shares with it.
 * @example new Discv5Service({ privateKey, localNode, table, db, netRestrict, lifecycle, log, respTimeout, onHandshake })
 */
export interface Discv5ServiceOptions {
  readonly privateKey: Uint8Array;
  readonly localNode: LocalNode;
  readonly table: Table;
  readonly db: NodeDatabase;
  readonly netRestrict: NetList | undefined;
  readonly now: () => number;
  readonly lifecycle: Lifecycle;
  readonly log: Logger;
  readonly respTimeout: number;
  /** A remote completed a handshake with us from `from` (its record verified). */
  readonly onHandshake: (node: Node, from: Endpoint) => void;
}

/**
 * The discv5 protocol over one socket.
 * @example const service = new Discv5Service(options); await service.bind(udpTransport, '0.0.0.0', 30303)
 */
export class Discv5Service {
  /** Packet counters. */
  readonly stats: Discv5Stats;
  /** Session keys and challenges. */
  readonly sessions: SessionCache;
  readonly #localNode: LocalNode;
  readonly #table: Table;
  readonly #db: NodeDatabase;
  readonly #netRestrict: NetList | undefined;
  /** Records of NODES answers already verified: the same records come back lookup after lookup. */
  readonly #verified = new VerifiedRecords();
  readonly #lifecycle: Lifecycle;
  readonly #log: Logger;
  readonly #onHandshake: Discv5ServiceOptions['onHandshake'];
  readonly #codec: Discv5Codec;
  readonly #calls: Calls;
  readonly #talk: TalkSystem;
  #socket: DatagramSocket | undefined;
  #ownsSocket = false;

  constructor(options: Discv5ServiceOptions) {
    this.#localNode = options.localNode;
    this.#table = options.table;
    this.#db = options.db;
    this.#netRestrict = options.netRestrict;
    this.#lifecycle = options.lifecycle;
    this.#log = options.log;
    this.#onHandshake = options.onHandshake;
    this.stats = {
      received: 0,
      sent: 0,
      challenges: 0,
      handshakes: 0,
      talkRequests: 0,
      dropped: newDropCounters(),
    };
    this.sessions = new SessionCache({ now: options.now });
    this.#codec = new Discv5Codec({
      privateKey: options.privateKey,
      localNode: this.#localNode,
      sessions: this.sessions,
    });
    this.#calls = new Calls(options.lifecycle, options.respTimeout, (call) =>
      this.#send(call.id, call.to, call.message, call.challenge),
    );
    this.#talk = new TalkSystem({
      lifecycle: options.lifecycle,
      log: options.log,
      respond: (node, to, requestId, response) => {
        this.#send(node.id, to, { type: 'talkresp', requestId, response });
      },
    });
  }

  /** Binds a socket of our own; resolves with its address. */
  async bind(transport: DatagramTransport, host: string, port: number): Promise<DatagramAddress> {
    this.#socket = await transport.bind({ host, port }, (data, from) => this.receive(data, from));
    this.#ownsSocket = true;
    return this.#socket.address;
  }

  /** Sends on a socket someone else owns (discv4's), which then hands us its unhandled datagrams. */
  attach(socket: DatagramSocket): void {
    this.#socket = socket;
  }

  /** The socket's address. */
  get address(): DatagramAddress {
    if (!this.#socket) throw closedError();
    return this.#socket.address;
  }

  /** Requests pending (active or queued). */
  get pendingCalls(): number {
    return this.#calls.size;
  }

  /** See `Discv5.registerTalkProtocol`. */
  registerTalkProtocol(protocol: string, handler: TalkHandler): () => void {
    return this.#talk.register(protocol, handler);
  }

  // -------------------------------------------------------------------------------------------------------
  // Requests

  /** Sends PING; resolves with the PONG. */
  async ping(node: Node, signal?: AbortSignal): Promise<Discv5Pong> {
    let pong: Discv5Pong | undefined;
    await this.#call(
      node,
      { type: 'ping', requestId: newRequestId(), enrSeq: this.#localNode.node.seq },
      'pong',
      (m) => {
        pong = m as Discv5Pong;
        return true;
      },
      signal,
    );
    return pong!;
  }

  /**
   * Sends FINDNODE for `distances`; resolves with the verified records of the answer (up to
   * {@link TOTAL_NODES_RESPONSE_LIMIT} NODES packets). A timeout after part of the answer resolves with that part.
   */
  async findnode(node: Node, distances: readonly number[], signal?: AbortSignal): Promise<Node[]> {
    const nodes: Node[] = [];
    const check = {
      sender: endpointOf(node),
      responderId: node.id,
      distances,
      netRestrict: this.#netRestrict,
      seen: new Set<string>(),
      verified: this.#verified,
    };
    let received = 0;
    let total = -1;
    const message: Discv5Message = { type: 'findnode', requestId: newRequestId(), distances: [...distances] };
    try {
      await this.#call(
        node,
        message,
        'nodes',
        (m) => {
          if (m.type !== 'nodes') return false;
          for (const record of m.records) {
            const found = verifyResponseRecord(record, check);
            if (typeof found === 'string') {
              if (this.#log.enabled('debug'))
                this.#log.debug('invalid record in NODES', { from: node.id.short(), reason: found });
            } else nodes.push(found);
          }
          if (total === -1) total = Math.min(m.total, TOTAL_NODES_RESPONSE_LIMIT);
          return ++received >= total;
        },
        signal,
      );
    } catch (err) {
      if (!(err instanceof TimeoutError) || received === 0) throw err;
    }
    return nodes;
  }

  /** Asks for the node's record: FINDNODE at distance 0, which must bring exactly its own, verified. */
  async requestENR(node: Node, signal?: AbortSignal): Promise<Node> {
    const nodes = await this.findnode(node, [0], signal);
    if (nodes.length !== 1)
      throw new Devp2pError(ERR_DISCV5_ENR, `${nodes.length} records in the answer for distance 0`);
    return nodes[0]!;
  }

  /** Sends TALKREQ; resolves with the TALKRESP's bytes (empty when the remote has no such protocol). */
  async talkRequest(node: Node, protocol: Uint8Array, request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    let response: Uint8Array | undefined;
    const message: Discv5Message = { type: 'talkreq', requestId: newRequestId(), protocol, request };
    await this.#call(
      node,
      message,
      'talkresp',
      (m) => {
        response = m.type === 'talkresp' ? m.response : new Uint8Array(0);
        return true;
      },
      signal,
    );
    return response!;
  }

  #call(
    node: Node,
    message: Discv5Message,
    responseType: ResponseType,
    onResponse: CallRequest['onResponse'],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.#lifecycle.checkOpen(signal);
    const to = node.udpEndpoint();
    if (!to) throw new TypeError(`node ${node.id.short()} has no UDP endpoint`);
    if (this.#netRestrict && !this.#netRestrict.contains(to.ip)) {
      throw new Devp2pError(ERR_DISCV5_RESTRICTED, `${to.ip} is outside NetRestrict`);
    }
    return this.#calls.call({ id: node.id, to, node, message, responseType, onResponse }, signal);
  }

  /** Encodes and sends a message (see `Discv5Codec.encode`); returns its nonce. Throws when it cannot be encoded. */
  #send(id: NodeId, to: Endpoint, message: Discv5Message, challenge?: ReceivedChallenge): Uint8Array {
    const { bytes, nonce } = this.#codec.encode(id, to, message, challenge);
    if (challenge) this.stats.handshakes++;
    this.#write(bytes, to);
    return nonce;
  }

  #write(bytes: Uint8Array, to: Endpoint): void {
    if (!this.#socket || this.#lifecycle.closed) return;
    this.#socket.send(bytes, to.ip, to.port);
    this.stats.sent++;
  }

  // -------------------------------------------------------------------------------------------------------
  // Receiving

  /** Handles one datagram; never throws (what breaks the protocol is counted in `stats.dropped`). */
  receive(data: Uint8Array, source: DatagramAddress): void {
    if (this.#lifecycle.closed) return;
    this.stats.received++;
    const ip = canonicalHost(source.host);
    if (ip === undefined || (this.#netRestrict && !this.#netRestrict.contains(ip))) {
      this.#drop('restricted', source);
      return;
    }
    const from: Endpoint = { ip, port: source.port };
    let reason: Discv5DropReason | undefined;
    try {
      reason = this.#handle(this.#codec.decode(data, from), from);
    } catch (err) {
      reason =
        err instanceof Discv5PacketError
          ? err.reason
          : err instanceof Discv5MessageError
            ? 'bad-message'
            : 'handler-error';
      if (reason === 'handler-error') this.#log.debug('discv5 packet handler failed', { error: String(err) });
    }
    if (reason) this.#drop(reason, source);
  }

  #drop(reason: Discv5DropReason, from: DatagramAddress): void {
    this.stats.dropped[reason]++;
    if (this.#log.enabled('trace'))
      this.#log.trace('packet dropped', { from: formatHostPort(from.host, from.port), reason });
  }

  #handle(result: CodecResult, from: Endpoint): Discv5DropReason | undefined {
    switch (result.kind) {
      case 'whoareyou':
        return this.#calls.challenged(result.packet.nonce, from, result.packet.headerData);
      case 'unknown': {
        // Their keys are gone or never were (a restart, a new address, a first contact): challenge them.
        const known = this.#table.get(result.srcId) ?? this.#db.node(result.srcId);
        const packet = this.#codec.whoareyou(result.srcId, from, result.nonce, known);
        if (!packet) return 'rate-limited';
        this.#write(packet, from);
        this.stats.challenges++;
        return undefined;
      }
      case 'handshake':
        this.stats.handshakes++;
        this.#onHandshake(result.node, from);
        return this.#handleMessage(result.srcId, result.node, result.message, from);
      case 'message':
        return this.#handleMessage(result.srcId, result.node, result.message, from);
      default:
        return result.kind;
    }
  }

  #handleMessage(srcId: NodeId, node: Node, message: Discv5Message, from: Endpoint): Discv5DropReason | undefined {
    switch (message.type) {
      case 'ping':
        this.#send(srcId, from, {
          type: 'pong',
          requestId: message.requestId,
          enrSeq: this.#localNode.node.seq,
          ip: from.ip,
          port: from.port,
        });
        return undefined;
      case 'pong':
        if (!this.#calls.handleResponse(srcId, from, message)) return 'unsolicited';
        this.#localNode.udpEndpointStatement(from, { ip: message.ip, port: message.port });
        return undefined;
      case 'findnode': {
        const nodes = collectTableNodes(this.#table, this.#localNode.node, from.ip, message.distances);
        for (const response of packNodes(message.requestId, nodes)) this.#send(srcId, from, response);
        return undefined;
      }
      case 'talkreq':
        this.stats.talkRequests++;
        return this.#talk.handle(message, node, from);
      default:
        return this.#calls.handleResponse(srcId, from, message) ? undefined : 'unsolicited';
    }
  }

  /** Fails every request (after {@link Lifecycle.close}), forgets the sessions, and closes our own socket. */
  async close(): Promise<void> {
    this.#calls.closeAll();
    this.sessions.clear();
    const socket = this.#socket;
    if (socket && this.#ownsSocket) await socket.close();
  }
}

function newRequestId(): Uint8Array {
  return randomBytes(REQUEST_ID_SIZE);
}

function endpointOf(node: Node): Endpoint {
  return node.udpEndpoint() ?? { ip: node.ip ?? '', port: node.udp };
}
