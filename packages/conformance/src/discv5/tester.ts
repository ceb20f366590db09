/**
 * The discv5 side of the cases: a scripted node with its own key, record and UDP socket that builds its packets
 * with the wire code of `@devp2p/discovery` (one session at a time, the one of its socket's address), and the
 * exchanges several cases share (a request with its handshake, collecting NODES, answering the node's requests).
 */
import { bytesToHex, type DatagramAddress, type DatagramSocket, equalBytes } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import {
  DISCV5_MAX_PACKET_SIZE,
  type Discv5Message,
  type Discv5MessageInput,
  type Discv5Nodes,
  type Discv5Packet,
  type Discv5WhoareyouPacket,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  encodeDiscv5HandshakePacket,
  encodeDiscv5MessagePacket,
  encodeDiscv5RandomPacket,
} from '@devp2p/discovery';
import { Enr, logDistance, NodeId, normalizeIp } from '@devp2p/enode';
import { type CaseContext, Inbox } from '../case.ts';
import { NEIGHBORS_QUIET_MS, REPLY_TIMEOUT_MS } from '../constants.ts';

/** The sequence number of a tester's record unless a case asks for another. */
const TESTER_RECORD_SEQ = 1n;
/** Length of the request ids the tester picks (a counter, as geth's suite): 4 bytes. */
const REQUEST_ID_LENGTH = 4;
/** Most NODES packets one answer may announce (geth's suite accepts 1..6). */
const MAX_NODES_PACKETS = 6;

/** One datagram from the node, as far as it decodes. */
export interface V5Arrival {
  readonly from: DatagramAddress;
  readonly size: number;
  /** The packet, when the header decodes. */
  readonly packet?: Discv5Packet;
  /** The message of an ordinary packet, when it decrypts under our session. */
  readonly message?: Discv5Message;
  /** Why it does not decode or decrypt, otherwise. */
  readonly error?: string;
}

/** The keys of the tester's session with the node. */
export interface TesterSession {
  readonly writeKey: Uint8Array;
  readonly readKey: Uint8Array;
}

/** One NODES packet of an answer, with its datagram size. */
export interface NodesPacket {
  readonly size: number;
  readonly message: Discv5Nodes;
}

/** Options of {@link V5Tester.open}. */
export interface V5TesterOptions {
  /** Local IP to bind (default: the case's first local address). */
  readonly host?: string;
  /** Our key (default: a fresh one); two testers with one key are one node at two addresses. */
  readonly key?: Uint8Array;
  /**
   * Whether our record names our socket's IP and port (default false: then the node cannot contact us and, as
   * ours and geth's, keeps us out of its table, so a case's testers never crowd the bystanders out of an answer).
   */
  readonly endpoint?: boolean;
  /** Records the tester hands out when the node asks it for nodes (a bystander's table). */
  readonly known?: readonly Enr[];
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(a: V5Arrival): string {
  if (a.message) return `${a.message.type.toUpperCase()}`;
  if (a.packet?.kind === 'whoareyou') return 'WHOAREYOU';
  if (a.packet) return `a ${a.packet.kind} packet that does not open (${a.error})`;
  return `an undecodable datagram (${a.error})`;
}

/**
 * A scripted discv5 node: its own key and record, a UDP socket on a local address with an OS-chosen port (closed
 * when the case ends), and at most one session with the target.
 */
export class V5Tester {
  readonly ctx: CaseContext;
  readonly key: Uint8Array;
  readonly id: NodeId;
  readonly socket: DatagramSocket;
  /** The target's UDP address. */
  readonly to: DatagramAddress;
  /** The target's node id and public key. */
  readonly targetId: NodeId;
  readonly targetPublicKey: Uint8Array;
  /** The record our handshakes carry. */
  record: Enr;
  /** Our session with the target, when a handshake made one. */
  session: TesterSession | undefined;
  readonly known: readonly Enr[];
  readonly #inbox: Inbox<V5Arrival>;
  /** What went out in each packet (by nonce), so a WHOAREYOU for it can be answered with the same message. */
  readonly #sent = new Map<string, Discv5MessageInput>();
  #requestCounter = 0;

  private constructor(
    ctx: CaseContext,
    key: Uint8Array,
    socket: DatagramSocket,
    to: DatagramAddress,
    inbox: Inbox<V5Arrival>,
    options: V5TesterOptions,
    target: { id: NodeId; publicKey: Uint8Array },
  ) {
    this.ctx = ctx;
    this.key = key;
    this.id = NodeId.fromPublicKey(publicKeyFromPrivate(key));
    this.socket = socket;
    this.to = to;
    this.#inbox = inbox;
    this.targetId = target.id;
    this.targetPublicKey = target.publicKey;
    this.known = options.known ?? [];
    this.record = this.makeRecord(TESTER_RECORD_SEQ, options.endpoint ?? false);
  }

  /** Opens a tester with a fresh key (or `options.key`) on the case's first local address (or `options.host`). */
  static async open(ctx: CaseContext, options: V5TesterOptions = {}): Promise<V5Tester> {
    const target = ctx.target;
    const endpoint = target.udpEndpoint();
    if (!endpoint) ctx.fail('the target has no IP address and UDP port');
    const publicKey = target.publicKey;
    if (!publicKey) ctx.fail('the target has no public key');
    const key = options.key ?? generatePrivateKey();
    const localId = NodeId.fromPublicKey(publicKeyFromPrivate(key));
    const host = options.host ?? ctx.listen;
    const inbox = new Inbox<V5Arrival>(ctx);
    let tester: V5Tester | undefined;
    const onMessage = (data: Uint8Array, from: DatagramAddress): void => {
      inbox.push(V5Tester.#decode(data, from, localId, tester?.session));
    };
    ctx.step = `binding a UDP socket on ${host}`;
    let socket: DatagramSocket;
    try {
      socket = await ctx.udp.bind({ host, port: 0 }, onMessage);
    } catch (error) {
      ctx.fail(`cannot bind a UDP socket on ${host}: ${errorText(error)}`);
    }
    ctx.defer(() => socket.close());
    const to = { host: endpoint.ip, port: endpoint.port };
    tester = new V5Tester(ctx, key, socket, to, inbox, options, { id: target.id, publicKey });
    return tester;
  }

  static #decode(data: Uint8Array, from: DatagramAddress, localId: NodeId, session?: TesterSession): V5Arrival {
    const size = data.length;
    let packet: Discv5Packet;
    try {
      packet = decodeDiscv5Packet(data, localId);
    } catch (error) {
      return { from, size, error: errorText(error) };
    }
    if (packet.kind === 'whoareyou') return { from, size, packet };
    if (packet.kind === 'handshake') return { from, size, packet, error: 'we sent no WHOAREYOU' };
    if (!session) return { from, size, packet, error: 'we have no session' };
    try {
      return { from, size, packet, message: decryptDiscv5Message(packet, session.readKey) };
    } catch (error) {
      return { from, size, packet, error: errorText(error) };
    }
  }

  /** Our signed record at `seq`, with our socket's address when `endpoint` (and the socket has a specific IP). */
  makeRecord(seq: bigint, endpoint = true): Enr {
    const { host, port } = this.socket.address;
    const specific = host !== '0.0.0.0' && host !== '::';
    return Enr.create(endpoint && specific ? { ip: host, udp: port } : {}, seq).sign(this.key);
  }

  /** Our socket's address as the node should see it. */
  get address(): { ip: string; port: number } {
    const { host, port } = this.socket.address;
    return { ip: normalizeIp(host) ?? host, port };
  }

  /** A new request id: a 4-byte counter. */
  nextRequestId(): Uint8Array {
    this.#requestCounter++;
    const id = new Uint8Array(REQUEST_ID_LENGTH);
    new DataView(id.buffer).setUint32(0, this.#requestCounter);
    return id;
  }

  /**
   * Sends `message` to the node: under our session's keys, or (without one) as the random packet that makes the
   * node challenge us. Returns the packet's nonce.
   */
  send(message: Discv5MessageInput): Uint8Array {
    const packet = this.session
      ? encodeDiscv5MessagePacket({ srcId: this.id, destId: this.targetId, key: this.session.writeKey, message })
      : encodeDiscv5RandomPacket({ srcId: this.id, destId: this.targetId });
    this.#sent.set(bytesToHex(packet.nonce), message);
    this.#write(packet.bytes, this.session ? 'message' : 'random');
    return packet.nonce;
  }

  /** Answers the node's challenge with a handshake carrying `message`; the new session replaces ours. */
  handshake(challenge: Discv5WhoareyouPacket, message: Discv5MessageInput): Uint8Array {
    const packet = encodeDiscv5HandshakePacket({
      srcId: this.id,
      destId: this.targetId,
      privateKey: this.key,
      destPublicKey: this.targetPublicKey,
      challengeData: challenge.headerData,
      record: this.record,
      message,
    });
    this.session = { writeKey: packet.keys.initiatorKey, readKey: packet.keys.recipientKey };
    this.#sent.set(bytesToHex(packet.nonce), message);
    this.#write(packet.bytes, 'handshake');
    return packet.nonce;
  }

  #write(bytes: Uint8Array, kind: string): void {
    this.ctx.log.debug('send', { to: `${this.to.host}:${this.to.port}`, kind, bytes: bytes.length });
    this.socket.send(bytes, this.to.host, this.to.port);
  }

  /** The next datagram, waiting at most `ms`; undefined when none came. */
  next(ms: number): Promise<V5Arrival | undefined> {
    return this.#inbox.next(ms);
  }

  /**
   * Answers a request of the node's (it may ping us, ask us for nodes or talk to us at any time): true when
   * `message` was one.
   */
  answer(message: Discv5Message): boolean {
    const requestId = message.requestId;
    switch (message.type) {
      case 'ping': {
        const { ip, port } = this.address;
        this.send({ type: 'pong', requestId, enrSeq: this.record.seq, ip, port });
        return true;
      }
      case 'findnode': {
        const records = this.known.filter((r) => {
          const id = r.nodeId;
          return id !== undefined && message.distances.includes(logDistance(id, this.id));
        });
        this.send({ type: 'nodes', requestId, total: 1, records });
        return true;
      }
      case 'talkreq':
        this.send({ type: 'talkresp', requestId, response: new Uint8Array(0) });
        return true;
      default:
        return false;
    }
  }

  /**
   * Sends `message` and returns the first message that is not a request of the node's (those are answered), going
   * through the handshake when the node challenges the packet. A second challenge, a packet that does not open or
   * nothing within the reply timeout fails the case.
   */
  async request(message: Discv5MessageInput, what: string): Promise<{ message: Discv5Message; size: number }> {
    const nonce = this.send(message);
    return this.response(nonce, message, what);
  }

  /** After the packet with `nonce` carrying `message`: its response, through one handshake if challenged. */
  async response(
    nonce: Uint8Array,
    message: Discv5MessageInput,
    what: string,
  ): Promise<{ message: Discv5Message; size: number }> {
    let challenged = false;
    const deadline = this.ctx.clock.now() + REPLY_TIMEOUT_MS;
    this.ctx.step = `waiting for ${what}`;
    for (;;) {
      const left = deadline - this.ctx.clock.now();
      const arrival = left > 0 ? await this.next(left) : undefined;
      if (!arrival) this.ctx.fail(`nothing within ${REPLY_TIMEOUT_MS} ms: expected ${what}`);
      const packet = arrival.packet;
      if (packet?.kind === 'whoareyou') {
        if (!equalBytes(packet.nonce, nonce)) {
          this.ctx.fail(`a WHOAREYOU for nonce ${bytesToHex(packet.nonce)}, not for our packet's ${bytesToHex(nonce)}`);
        }
        if (challenged) this.ctx.fail(`a second WHOAREYOU for the same request, after our handshake: ${what}`);
        challenged = true;
        this.ctx.step = `waiting for ${what} after the handshake`;
        nonce = this.handshake(packet, message);
        continue;
      }
      if (!arrival.message) this.ctx.fail(`expected ${what}, got ${describe(arrival)}`);
      if (this.answer(arrival.message)) continue;
      return { message: arrival.message, size: arrival.size };
    }
  }

  /** Sends a PING and returns the PONG (checked to answer it and to carry our address). */
  async ping(requestId: Uint8Array = this.nextRequestId()): Promise<Discv5Message & { type: 'pong' }> {
    const { message } = await this.request({ type: 'ping', requestId, enrSeq: this.record.seq }, 'a PONG');
    if (message.type !== 'pong') this.ctx.fail(`expected a PONG, got ${message.type.toUpperCase()}`);
    this.checkPong(message, requestId);
    return message;
  }

  /** Fails the case unless `pong` carries `requestId` and our socket's address. */
  checkPong(pong: Discv5Message & { type: 'pong' }, requestId: Uint8Array): void {
    if (!equalBytes(pong.requestId, requestId)) {
      this.ctx.fail(`PONG request id ${bytesToHex(pong.requestId)}, the PING's is ${bytesToHex(requestId)}`);
    }
    const { ip, port } = this.address;
    const specific = ip !== '0.0.0.0' && ip !== '::';
    if (pong.port !== port || (specific && pong.ip !== ip)) {
      this.ctx.fail(`PONG names ${pong.ip}:${pong.port} as our address, we are at ${ip}:${port}`);
    }
  }

  /** Waits for a WHOAREYOU (answering the node's requests on the way); anything else fails the case. */
  async expectWhoareyou(what: string): Promise<Discv5WhoareyouPacket> {
    const deadline = this.ctx.clock.now() + REPLY_TIMEOUT_MS;
    this.ctx.step = `waiting for ${what}`;
    for (;;) {
      const left = deadline - this.ctx.clock.now();
      const arrival = left > 0 ? await this.next(left) : undefined;
      if (!arrival) this.ctx.fail(`nothing within ${REPLY_TIMEOUT_MS} ms: expected ${what}`);
      if (arrival.packet?.kind === 'whoareyou') return arrival.packet;
      if (arrival.message && this.answer(arrival.message)) continue;
      this.ctx.fail(`expected ${what}, got ${describe(arrival)}`);
    }
  }

  /**
   * Sends FINDNODE for `distances` and collects its NODES answer (`what` names it in the case's step): every packet within the size limit, all with
   * the request id and the same `total` (1..6), as many packets as `total` says and no more (a quiet window
   * after the last), every record verifiable and at a requested distance from the node.
   */
  async findnode(distances: readonly number[], what = 'NODES'): Promise<{ packets: NodesPacket[]; records: Enr[] }> {
    const requestId = this.nextRequestId();
    const first = await this.request({ type: 'findnode', requestId, distances }, what);
    const packets: NodesPacket[] = [];
    let current: { message: Discv5Message; size: number } | undefined = first;
    let total = 0;
    while (current) {
      const { message, size } = current;
      if (message.type !== 'nodes') this.ctx.fail(`expected NODES, got ${message.type.toUpperCase()}`);
      if (!equalBytes(message.requestId, requestId)) {
        this.ctx.fail(`NODES request id ${bytesToHex(message.requestId)}, the FINDNODE's is ${bytesToHex(requestId)}`);
      }
      if (size > DISCV5_MAX_PACKET_SIZE) {
        this.ctx.fail(`a NODES packet of ${size} bytes exceeds ${DISCV5_MAX_PACKET_SIZE}`);
      }
      if (packets.length === 0) {
        total = message.total;
        if (total < 1 || total > MAX_NODES_PACKETS) {
          this.ctx.fail(`NODES total ${total} is not in 1..${MAX_NODES_PACKETS}`);
        }
      } else if (message.total !== total) {
        this.ctx.fail(`NODES packets disagree on the total: ${total}, then ${message.total}`);
      }
      packets.push({ size, message });
      if (packets.length > total) {
        this.ctx.fail(`${packets.length} NODES packets answered one FINDNODE, more than their total of ${total}`);
      }
      const wait = packets.length < total ? REPLY_TIMEOUT_MS : NEIGHBORS_QUIET_MS;
      current = await this.#nextMessage(wait, packets.length < total ? `NODES ${packets.length + 1} of ${total}` : '');
    }
    if (packets.length < total) this.ctx.fail(`${packets.length} NODES packets of the ${total} announced`);
    const records = packets.flatMap((p) => [...p.message.records]);
    for (const record of records) {
      const id = record.nodeId;
      if (!record.verify() || id === undefined) this.ctx.fail('a NODES record does not verify');
      const distance = logDistance(id, this.targetId);
      if (!distances.includes(distance)) {
        this.ctx.fail(`NODES holds ${id.short()} at distance ${distance}, not one of the requested ${distances}`);
      }
    }
    return { packets, records };
  }

  /**
   * The next message within `ms` that is not a request of the node's; undefined when none came (or `what` is
   * empty and the wait was only a quiet window). Anything that does not open fails the case.
   */
  async #nextMessage(ms: number, what: string): Promise<{ message: Discv5Message; size: number } | undefined> {
    const deadline = this.ctx.clock.now() + ms;
    for (;;) {
      const left = deadline - this.ctx.clock.now();
      const arrival = left > 0 ? await this.next(left) : undefined;
      if (!arrival) {
        if (what) this.ctx.fail(`nothing within ${ms} ms: expected ${what}`);
        return undefined;
      }
      if (!arrival.message) this.ctx.fail(`expected ${what || 'nothing more'}, got ${describe(arrival)}`);
      if (this.answer(arrival.message)) continue;
      return { message: arrival.message, size: arrival.size };
    }
  }

  /**
   * Listens `ms` and fails the case on any response (the node's own requests are answered, and a WHOAREYOU is
   * allowed when `allowChallenge`).
   */
  async silence(what: string, ms: number, allowChallenge = false): Promise<void> {
    const deadline = this.ctx.clock.now() + ms;
    this.ctx.step = `listening for ${what}`;
    for (;;) {
      const left = deadline - this.ctx.clock.now();
      if (left <= 0) return;
      const arrival = await this.next(left);
      if (!arrival) return;
      if (arrival.message && this.answer(arrival.message)) continue;
      if (allowChallenge && arrival.packet?.kind === 'whoareyou') continue;
      this.ctx.fail(`${what}: got ${describe(arrival)}`);
    }
  }

  /**
   * Answers the node's requests in the background until the case ends or the returned stop is called (a
   * bystander the node revalidates).
   */
  serve(): () => Promise<void> {
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        try {
          const arrival = await this.next(NEIGHBORS_QUIET_MS);
          if (arrival?.message) this.answer(arrival.message);
        } catch {
          return; // The case ended.
        }
      }
    })();
    return async () => {
      stopped = true;
      await loop;
    };
  }
}
