/**
 * The discv4 packet service (geth p2p/discover/v4_udp.go): answers Ping, FindNode and ENRRequest, and sends our
 * own Ping, FindNode and ENRRequest, over the packet socket (socket.ts), with endpoint proofs (bond.ts) and
 * reply matching (pending.ts).
 */
import {
  bytesToHex,
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  Devp2pError,
  type Logger,
  TimeoutError,
} from '@devp2p/core';
import { isValidPublicKey, keccak256 } from '@devp2p/crypto';
import { type Endpoint, isLan, type LocalNode, type NetList, Node, type NodeDatabase, NodeId } from '@devp2p/enode';
import { BoundedMap } from '../bounded-map.ts';
import { ERR_DISCV4_ENR, ERR_DISCV4_RESTRICTED } from '../codes.ts';
import {
  BUCKET_SIZE,
  EXPIRATION_MS,
  MAX_NEIGHBORS,
  MAX_PENDING_REPLIES,
  NEIGHBORS_FOLLOW_UP_MS,
} from '../constants.ts';
import type { Lifecycle } from '../lifecycle.ts';
import { checkRelayIp } from '../netutil.ts';
import type { Table } from '../table/table.ts';
import { Bonds } from './bond.ts';
import type { PendingReplies } from './pending.ts';
import { type Discv4Stats, type DropReason, PacketSocket } from './socket.ts';
import type {
  DecodedPacket,
  EnrResponsePacket,
  NeighborsPacket,
  Packet,
  PongPacket,
  WireEndpoint,
  WireNode,
} from './wire.ts';

/**
 * Options of {@link PacketService}: what the `Discv4` assembling it shares with it.
 * @example new PacketService({ privateKey, localNode, table, db, now, lifecycle, log, respTimeout, replies, initDone })
 */
export interface PacketServiceOptions {
  readonly privateKey: Uint8Array;
  readonly localNode: LocalNode;
  readonly table: Table;
  readonly db: NodeDatabase;
  readonly netRestrict: NetList | undefined;
  readonly now: () => number;
  readonly lifecycle: Lifecycle;
  readonly log: Logger;
  readonly respTimeout: number;
  readonly replies: PendingReplies;
  /** Whether the first refresh is over: nodes that ping us join the table only after it. */
  readonly initDone: () => boolean;
  /** Datagrams that are not discv4 packets (see `Discv4Options.unhandled`). */
  readonly unhandled?: ((data: Uint8Array, from: DatagramAddress) => void) | undefined;
}

/**
 * The discv4 protocol over one socket.
 * @example const service = new PacketService(options); await service.bind(udpTransport, '0.0.0.0', 30303)
 */
export class PacketService {
  readonly #localNode: LocalNode;
  readonly #table: Table;
  readonly #db: NodeDatabase;
  readonly #netRestrict: NetList | undefined;
  readonly #now: () => number;
  readonly #lifecycle: Lifecycle;
  readonly #pending: PendingReplies;
  readonly #initDone: () => boolean;
  readonly #socket: PacketSocket;
  readonly #bonds: Bonds;
  /** Pings sent recently (hash → recipient), so a pong that comes after the reply timeout still proves the bond. */
  readonly #sentPings = new BoundedMap<{ idHex: string; ip: string; at: number }>(MAX_PENDING_REPLIES);

  constructor(options: PacketServiceOptions) {
    this.#localNode = options.localNode;
    this.#table = options.table;
    this.#db = options.db;
    this.#netRestrict = options.netRestrict;
    this.#now = options.now;
    this.#lifecycle = options.lifecycle;
    this.#pending = options.replies;
    this.#initDone = options.initDone;
    this.#socket = new PacketSocket({
      privateKey: options.privateKey,
      self: options.localNode.id,
      netRestrict: options.netRestrict,
      now: options.now,
      lifecycle: options.lifecycle,
      log: options.log,
      handle: (d, from) => this.#handle(d, from),
      unhandled: options.unhandled,
    });
    this.#bonds = new Bonds({
      db: options.db,
      now: options.now,
      lifecycle: options.lifecycle,
      respTimeout: options.respTimeout,
      ping: (id, to, signal) => this.ping(id, to, signal),
      onFailure: () => {
        this.#socket.stats.bondFailures++;
      },
    });
  }

  /** Packet counters. */
  get stats(): Discv4Stats {
    return this.#socket.stats;
  }

  /** Binds the socket; resolves with its address. */
  bind(transport: DatagramTransport, host: string, port: number): Promise<DatagramAddress> {
    return this.#socket.bind(transport, host, port);
  }

  /** The bound socket address. */
  get address(): DatagramAddress {
    return this.#socket.address;
  }

  /** The bound socket. */
  get socket(): DatagramSocket {
    return this.#socket.socket;
  }

  // -------------------------------------------------------------------------------------------------------
  // Sending

  #expiration(): number {
    return this.#socket.expiration();
  }

  #send(packet: Packet, host: string, port: number): Uint8Array {
    return this.#socket.send(packet, host, port);
  }

  #ourEndpoint(): WireEndpoint {
    const node = this.#localNode.node;
    return { ip: node.ip, udp: node.udp || this.address.port, tcp: node.tcp };
  }

  /** Sends a Ping and resolves with the matching Pong (rejects with TimeoutError when none comes). */
  async ping(id: NodeId, to: Endpoint, signal?: AbortSignal): Promise<PongPacket> {
    this.#lifecycle.checkOpen(signal);
    if (this.#netRestrict && !this.#netRestrict.contains(to.ip)) {
      throw new Devp2pError(ERR_DISCV4_RESTRICTED, `${to.ip} is outside NetRestrict`);
    }
    let pong: PongPacket | undefined;
    let hash: Uint8Array | undefined;
    // Registered before sending, so a node at its bound on pending replies sends nothing it could not match.
    const { promise } = this.#pending.expect(
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
        enrSeq: this.#localNode.node.seq,
      },
      to.ip,
      to.port,
    );
    this.#localNode.udpContact(to);
    this.#sentPings.set(bytesToHex(hash), { idHex: id.hex, ip: to.ip, at: this.#now() });
    await promise;
    return pong!;
  }

  /**
   * Sends a FindNode and collects the verified nodes of the Neighbors replies (up to 16, or what came before
   * the reply timeout).
   */
  async findnode(node: Node, to: Endpoint, target: Uint8Array, signal?: AbortSignal): Promise<Node[]> {
    await this.#bonds.ensureBond(node, to, signal);
    this.#lifecycle.checkOpen(signal);
    const nodes: Node[] = [];
    let received = 0;
    const { promise } = this.#pending.expect(
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
      return node.id.equals(this.#localNode.id) ? undefined : node;
    } catch {
      return undefined;
    }
  }

  /** Asks a node for its record (EIP-868) after making sure it has a bond with us; see `Discv4.requestENR`. */
  async requestENR(node: Node, signal?: AbortSignal): Promise<Node> {
    const to = node.udpEndpoint();
    if (!to) throw new TypeError(`node ${node.id.short()} has no UDP endpoint`);
    await this.#bonds.ensureBond(node, to, signal);
    this.#lifecycle.checkOpen(signal);
    let response: EnrResponsePacket | undefined;
    let hash: Uint8Array | undefined;
    const { promise } = this.#pending.expect(
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
      throw new Devp2pError(ERR_DISCV4_ENR, 'ENR response record does not verify', { cause });
    }
    if (!fresh.id.equals(node.id)) throw new Devp2pError(ERR_DISCV4_ENR, 'ENR response record is for another id');
    if (fresh.seq < node.seq) return node;
    const relay = checkRelayIp(to.ip, fresh.ip);
    if (relay !== undefined) throw new Devp2pError(ERR_DISCV4_ENR, `invalid IP in response record: ${relay}`);
    return fresh;
  }

  // -------------------------------------------------------------------------------------------------------
  // Receiving

  #expired(expiration: number): boolean {
    return expiration * 1000 < this.#now();
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
            enrSeq: this.#localNode.node.seq,
          },
          from.host,
          from.port,
        );
        const node = Node.fromPublicKey(d.publicKey, { ip: from.host, udp: from.port, tcp: packet.from.tcp });
        if (this.#bonds.bonded(d.id, from.host)) {
          if (this.#initDone()) this.#table.addInboundNode(node);
        } else {
          this.ping(d.id, { ip: from.host, port: from.port }).then(
            () => {
              if (this.#initDone() && !this.#lifecycle.closed) this.#table.addInboundNode(node);
            },
            () => undefined,
          );
        }
        this.#bonds.pingReceived(d.id, from.host);
        if (packet.to.ip !== undefined) {
          this.#localNode.udpEndpointStatement(
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
        if (!this.#pending.handleReply(d.id, from.host, 'pong', packet)) {
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
        this.#table.markLive(d.id, from.host);
        if (packet.to.ip !== undefined) {
          this.#localNode.udpEndpointStatement(
            { ip: from.host, port: from.port },
            { ip: packet.to.ip, port: packet.to.udp },
          );
        }
        this.#db.updateLastPongReceived(d.id, from.host, this.#now());
        return undefined;
      }
      case 'findnode': {
        if (this.#expired(packet.expiration)) return 'expired';
        if (!this.#bonds.bonded(d.id, from.host)) return 'unbonded';
        const target = NodeId.fromBytes(keccak256(packet.target));
        const closest = this.#table
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
        return this.#pending.handleReply(d.id, from.host, 'neighbors', packet) ? undefined : 'unsolicited';
      }
      case 'enrRequest': {
        if (this.#expired(packet.expiration)) return 'expired';
        if (!this.#bonds.bonded(d.id, from.host)) return 'unbonded';
        this.#send(
          { type: 'enrResponse', replyToken: d.hash, record: this.#localNode.node.record, expiration: 0 },
          from.host,
          from.port,
        );
        return undefined;
      }
      case 'enrResponse':
        return this.#pending.handleReply(d.id, from.host, 'enrResponse', packet) ? undefined : 'unsolicited';
    }
  }

  /** Forgets waits for pings and closes the socket (after {@link Lifecycle.close}). */
  async close(): Promise<void> {
    this.#bonds.clear();
    await this.#socket.close();
  }
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
