/**
 * The discv4 side of the cases: a fresh UDP socket with a fresh key that sends crafted packets to the target and
 * reads what comes back, and the exchanges several cases share (bonding, the liveness check).
 */
import {
  bytesToHex,
  concatBytes,
  type DatagramAddress,
  type DatagramSocket,
  equalBytes,
  type RlpInput,
  rlpEncode,
} from '@devp2p/core';
import { generatePrivateKey, keccak256, publicKeyFromPrivate, sign } from '@devp2p/crypto';
import {
  type DecodedPacket,
  decodePacket,
  encodePacket,
  MAX_PACKET_SIZE,
  type Packet,
  type PingPacket,
  type PongPacket,
  type WireEndpoint,
} from '@devp2p/discovery';
import { type CaseContext, Inbox } from '../case.ts';
import { EXPIRATION_S, REPLY_TIMEOUT_MS, SILENCE_MS } from '../constants.ts';

/** discv4's Ping version. */
export const PING_VERSION: number = 4;
/** Where a packet's type byte sits: after the 32-byte hash and the 65-byte signature. */
export const PACKET_TYPE_OFFSET: number = 32 + 65;
const MS_PER_SECOND = 1000;

/** One datagram from anywhere, decoded when it is a valid discv4 packet. */
export interface Arrival {
  readonly from: DatagramAddress;
  readonly size: number;
  /** The packet, when the datagram decodes and authenticates. */
  readonly decoded?: DecodedPacket;
  /** Why it does not, otherwise. */
  readonly error?: string;
}

/** Packet type names as the wire codec spells them. */
export type PacketName = Packet['type'];

/**
 * Requests the target may send us at any time (bonding with us, or querying us once we are in its table): never a
 * violation, and skipped while waiting for something else.
 */
export const TARGET_REQUESTS: readonly PacketName[] = ['ping', 'findnode', 'enrRequest'];

/** The decoded packet of a given type. */
export type DecodedOf<T extends PacketName> = DecodedPacket & { readonly packet: Extract<Packet, { type: T }> };

/** Unix time in seconds by the case's clock. */
export function unixSeconds(ctx: CaseContext): number {
  return Math.floor(ctx.clock.now() / MS_PER_SECOND);
}

/** Hashes and signs `type ‖ data` as it is: `hash ‖ signature ‖ type ‖ data`, whatever `data` holds. */
export function signPacket(
  type: number,
  data: Uint8Array,
  privateKey: Uint8Array,
): { bytes: Uint8Array; hash: Uint8Array } {
  const body = concatBytes(Uint8Array.of(type), data);
  const signature = sign(keccak256(body), privateKey);
  const hash = keccak256(concatBytes(signature, body));
  return { bytes: concatBytes(hash, signature, body), hash };
}

/** Signs arbitrary packet data: `hash ‖ signature ‖ type ‖ rlp(data) ‖ trailing`, for packets the codec won't make. */
export function encodeRawPacket(
  type: number,
  data: RlpInput,
  privateKey: Uint8Array,
  trailing: Uint8Array = new Uint8Array(0),
): { bytes: Uint8Array; hash: Uint8Array } {
  return signPacket(type, concatBytes(rlpEncode(data), trailing), privateKey);
}

/** The endpoint list `[ip, udp, tcp]` as Ping carries it, for raw packets. */
export function rawEndpoint(ip: Uint8Array, udp: number, tcp: number): RlpInput {
  return [ip, udp, tcp];
}

function describe(a: Arrival): string {
  if (a.decoded) return a.decoded.packet.type;
  return `an undecodable datagram (${a.error})`;
}

/**
 * A scripted remote node: its own key and UDP socket bound to a local address with an OS-chosen port, closed when
 * the case ends.
 */
export class Tester {
  readonly ctx: CaseContext;
  readonly key: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly socket: DatagramSocket;
  /** The target's UDP address. */
  readonly to: DatagramAddress;
  readonly #inbox: Inbox<Arrival>;

  private constructor(
    ctx: CaseContext,
    key: Uint8Array,
    socket: DatagramSocket,
    to: DatagramAddress,
    inbox: Inbox<Arrival>,
  ) {
    this.ctx = ctx;
    this.key = key;
    this.publicKey = publicKeyFromPrivate(key);
    this.socket = socket;
    this.to = to;
    this.#inbox = inbox;
  }

  /** Opens a tester on `host` (the case's first local address by default) with a fresh key. */
  static async open(
    ctx: CaseContext,
    host: string = ctx.listen,
    key: Uint8Array = generatePrivateKey(),
  ): Promise<Tester> {
    const endpoint = ctx.target.udpEndpoint();
    if (!endpoint) ctx.fail('the target has no IP address and UDP port');
    const to = { host: endpoint.ip, port: endpoint.port };
    const inbox = new Inbox<Arrival>(ctx);
    const onMessage = (data: Uint8Array, from: DatagramAddress): void => {
      let arrival: Arrival;
      if (data.length > MAX_PACKET_SIZE) {
        arrival = { from, size: data.length, error: `${data.length} bytes, above the ${MAX_PACKET_SIZE}-byte limit` };
      } else {
        try {
          arrival = { from, size: data.length, decoded: decodePacket(data) };
        } catch (error) {
          arrival = { from, size: data.length, error: error instanceof Error ? error.message : String(error) };
        }
      }
      inbox.push(arrival);
    };
    ctx.step = `binding a UDP socket on ${host}`;
    let socket: DatagramSocket;
    try {
      socket = await ctx.udp.bind({ host, port: 0 }, onMessage);
    } catch (error) {
      ctx.fail(`cannot bind a UDP socket on ${host}: ${error instanceof Error ? error.message : String(error)}`);
    }
    ctx.defer(() => socket.close());
    return new Tester(ctx, key, socket, to, inbox);
  }

  /** Our socket's endpoint as packets carry it (TCP port 0: we do not listen). */
  get endpoint(): WireEndpoint {
    return { ip: this.socket.address.host, udp: this.socket.address.port, tcp: 0 };
  }

  /** The target's endpoint as packets carry it. */
  get targetEndpoint(): WireEndpoint {
    return { ip: this.to.host, udp: this.to.port, tcp: 0 };
  }

  /** An expiration `EXPIRATION_S` ahead. */
  expiration(): number {
    return unixSeconds(this.ctx) + EXPIRATION_S;
  }

  /** Signs and sends a packet to the target; returns its hash. */
  send(packet: Packet): Uint8Array {
    const { bytes, hash } = encodePacket(packet, this.key);
    this.sendRaw(bytes);
    return hash;
  }

  /** Sends bytes as they are to the target. */
  sendRaw(bytes: Uint8Array): void {
    this.ctx.log.debug('send', {
      to: `${this.to.host}:${this.to.port}`,
      bytes: bytes.length,
      type: bytes[PACKET_TYPE_OFFSET],
    });
    this.socket.send(bytes, this.to.host, this.to.port);
  }

  /** A valid Ping from us to the target (fields replaceable); returns its hash. */
  ping(overrides: Partial<Omit<PingPacket, 'type'>> = {}): Uint8Array {
    return this.send({
      type: 'ping',
      version: PING_VERSION,
      from: this.endpoint,
      to: this.targetEndpoint,
      expiration: this.expiration(),
      ...overrides,
    });
  }

  /** Answers a Ping of the target's with a Pong. */
  pong(ping: DecodedPacket, replyToken: Uint8Array = ping.hash): void {
    this.send({ type: 'pong', to: this.targetEndpoint, replyToken, expiration: this.expiration() });
  }

  /** The next datagram, waiting at most `ms`; undefined when none came. */
  next(ms: number): Promise<Arrival | undefined> {
    return this.#inbox.next(ms);
  }

  /**
   * Waits for a packet of type `type` (signed by the target) within `ms`, skipping the types in `skip` (answering
   * the target's Pings with a Pong on the way, so it can bond with us). Anything else, or nothing, fails the case.
   */
  async expect<T extends PacketName>(
    type: T,
    what: string,
    options: { ms?: number; skip?: readonly PacketName[] } = {},
  ): Promise<DecodedOf<T>> {
    const ms = options.ms ?? REPLY_TIMEOUT_MS;
    const skip = options.skip ?? TARGET_REQUESTS;
    const deadline = this.ctx.clock.now() + ms;
    this.ctx.step = `waiting for ${what}`;
    for (;;) {
      const left = deadline - this.ctx.clock.now();
      const arrival = left > 0 ? await this.next(left) : undefined;
      if (!arrival) this.ctx.fail(`nothing within ${ms} ms: expected ${what}`);
      const decoded = arrival.decoded;
      if (decoded?.packet.type === type) {
        this.checkSigner(decoded, what);
        return decoded as DecodedOf<T>;
      }
      if (decoded && skip.includes(decoded.packet.type)) {
        if (decoded.packet.type === 'ping') this.pong(decoded);
        continue;
      }
      this.ctx.fail(`expected ${what}, got ${describe(arrival)}`);
    }
  }

  /** Fails the case unless `decoded` is signed by the target's key. */
  checkSigner(decoded: DecodedPacket, what: string): void {
    const key = this.ctx.target.publicKey;
    if (key && !equalBytes(decoded.publicKey, key)) {
      this.ctx.fail(`${what} is signed by ${decoded.id.short()}, not by the target's key`);
    }
  }

  /**
   * Listens `ms` (default {@link SILENCE_MS}) and fails the case on any datagram whose packet type is not in `allow`
   * (default: the target's own requests, {@link TARGET_REQUESTS}). Pings are answered with a Pong unless
   * `answerPings` is false: answering would complete an endpoint proof the case means to withhold.
   */
  async silence(
    what: string,
    options: { allow?: readonly PacketName[]; answerPings?: boolean; ms?: number } = {},
  ): Promise<void> {
    const { allow = TARGET_REQUESTS, answerPings = true, ms = SILENCE_MS } = options;
    const deadline = this.ctx.clock.now() + ms;
    this.ctx.step = `listening for ${what}`;
    for (;;) {
      const left = deadline - this.ctx.clock.now();
      if (left <= 0) return;
      const arrival = await this.next(left);
      if (!arrival) return;
      const type = arrival.decoded?.packet.type;
      if (type === undefined || !allow.includes(type)) this.ctx.fail(`${what}: got ${describe(arrival)}`);
      if (type === 'ping' && answerPings) this.pong(arrival.decoded!);
    }
  }

  /**
   * Checks a Pong answers `pingHash`, is addressed to this socket's port (and IP, when we are bound to one) and
   * has not expired.
   */
  checkPong(pong: DecodedOf<'pong'>, pingHash: Uint8Array): PongPacket {
    const p = pong.packet;
    if (!equalBytes(p.replyToken, pingHash)) {
      this.ctx.fail(`Pong reply token ${bytesToHex(p.replyToken)} is not the Ping's hash ${bytesToHex(pingHash)}`);
    }
    const ours = this.endpoint;
    const unspecified = ours.ip === '0.0.0.0' || ours.ip === '::';
    if (p.to.udp !== ours.udp || (!unspecified && p.to.ip !== ours.ip)) {
      this.ctx.fail(`Pong 'to' is ${p.to.ip}:${p.to.udp}, not our ${ours.ip}:${ours.udp}`);
    }
    if (p.expiration < unixSeconds(this.ctx)) this.ctx.fail(`Pong expired at ${p.expiration}`);
    return p;
  }

  /**
   * The endpoint proof (geth's `bond`): we ping, and answer the target's Ping with a Pong, until we have both its
   * valid Pong and its Ping. Resolves with the Pong.
   */
  async bond(): Promise<DecodedOf<'pong'>> {
    const hash = this.ping();
    return this.awaitPingPong(hash);
  }

  /**
   * After a Ping of ours (`pingHash`): waits for the target's valid Pong and its Ping (answered with a Pong), in
   * either order, as a node that does not know us yet must send both (discv4.md: "a ping should be sent in addition
   * to pong"). Other packets are ignored.
   */
  async awaitPingPong(pingHash: Uint8Array): Promise<DecodedOf<'pong'>> {
    let pong: DecodedOf<'pong'> | undefined;
    let pinged = false;
    const deadline = this.ctx.clock.now() + REPLY_TIMEOUT_MS;
    this.ctx.step = 'waiting for a Pong and a Ping from the target';
    while (!pong || !pinged) {
      const left = deadline - this.ctx.clock.now();
      const arrival = left > 0 ? await this.next(left) : undefined;
      if (!arrival) {
        this.ctx.fail(
          !pong
            ? `no Pong within ${REPLY_TIMEOUT_MS} ms`
            : `a Pong but no Ping within ${REPLY_TIMEOUT_MS} ms: an unknown sender's Ping must be answered with a Ping too`,
        );
      }
      const d = arrival.decoded;
      if (!d) continue;
      if (d.packet.type === 'ping') {
        this.checkSigner(d, 'the Ping');
        this.pong(d);
        pinged = true;
      } else if (d.packet.type === 'pong') {
        const candidate = d as DecodedOf<'pong'>;
        this.checkSigner(candidate, 'the Pong');
        this.checkPong(candidate, pingHash);
        pong = candidate;
      }
    }
    return pong;
  }

  /** Proves the target still answers this socket: a fresh Ping must get its Pong (so silence was not a dead node). */
  async checkAlive(): Promise<void> {
    const hash = this.ping();
    const deadline = this.ctx.clock.now() + REPLY_TIMEOUT_MS;
    this.ctx.step = 'checking the target still answers a Ping';
    for (;;) {
      const left = deadline - this.ctx.clock.now();
      const arrival = left > 0 ? await this.next(left) : undefined;
      if (!arrival) {
        this.ctx.fail(`the target stopped answering: no Pong to a valid Ping within ${REPLY_TIMEOUT_MS} ms`);
      }
      const d = arrival.decoded;
      if (d?.packet.type === 'ping') this.pong(d);
      if (d?.packet.type === 'pong' && equalBytes((d.packet as PongPacket).replyToken, hash)) return;
    }
  }
}
