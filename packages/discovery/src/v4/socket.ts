/**
 * The discv4 packet socket: binds the UDP socket, signs and sends packets, and decodes and verifies each received
 * datagram (v4wire), counting and dropping what fails before the service sees it.
 */
import {
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  formatHostPort,
  type Logger,
} from '@devp2p/core';
import type { NetList, NodeId } from '@devp2p/enode';
import { EXPIRATION_MS } from '../constants.ts';
import { closedError, type Lifecycle } from '../lifecycle.ts';
import { canonicalHost } from '../netutil.ts';
import {
  type DecodedPacket,
  Discv4PacketError,
  decodePacket,
  encodePacket,
  type Packet,
  type PacketErrorReason,
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
  /** Datagrams that were not discv4 packets, handed to `Discv4Options.unhandled` (discv5 on the same socket). */
  unhandled: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Record<DropReason, number>;
  /** Lookups run (self, random and asked for). */
  lookups: number;
  /** Endpoint proofs that failed: a node we had to bond with did not answer our Ping. */
  bondFailures: number;
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

/**
 * Acts on an authenticated packet from `from`; returns a drop reason when it must be ignored.
 * @example const handle: PacketHandler = (d, from) => (bonded(d.id, from.host) ? answer(d, from) : 'unbonded')
 */
export type PacketHandler = (decoded: DecodedPacket, from: DatagramAddress) => DropReason | undefined;

/**
 * Options of {@link PacketSocket}.
 * @example new PacketSocket({ privateKey, self: localNode.id, netRestrict, now, lifecycle, log, handle })
 */
export interface PacketSocketOptions {
  /** Signs every packet. */
  readonly privateKey: Uint8Array;
  /** Our id: packets signed with it are dropped. */
  readonly self: NodeId;
  /** Only packets from these networks are handled. */
  readonly netRestrict: NetList | undefined;
  readonly now: () => number;
  readonly lifecycle: Lifecycle;
  readonly log: Logger;
  /** Receives each packet that decodes and verifies. */
  readonly handle: PacketHandler;
  /** Receives each datagram that is not a discv4 packet, instead of dropping it (see `Discv4Options.unhandled`). */
  readonly unhandled?: ((data: Uint8Array, from: DatagramAddress) => void) | undefined;
}

/**
 * One UDP socket speaking discv4 packets.
 * @example const hash = socket.send({ type: 'findnode', target, expiration: socket.expiration() }, ip, port)
 */
export class PacketSocket {
  /** Packet counters. */
  readonly stats: Discv4Stats = {
    received: 0,
    sent: 0,
    unhandled: 0,
    dropped: newDropCounters(),
    lookups: 0,
    bondFailures: 0,
  };
  readonly #privateKey: Uint8Array;
  readonly #self: NodeId;
  readonly #netRestrict: NetList | undefined;
  readonly #now: () => number;
  readonly #lifecycle: Lifecycle;
  readonly #log: Logger;
  readonly #handle: PacketHandler;
  readonly #unhandled: PacketSocketOptions['unhandled'];
  #socket: DatagramSocket | undefined;

  constructor(options: PacketSocketOptions) {
    this.#privateKey = options.privateKey;
    this.#self = options.self;
    this.#netRestrict = options.netRestrict;
    this.#now = options.now;
    this.#lifecycle = options.lifecycle;
    this.#log = options.log;
    this.#handle = options.handle;
    this.#unhandled = options.unhandled;
  }

  /** Binds the socket; resolves with its address. */
  async bind(transport: DatagramTransport, host: string, port: number): Promise<DatagramAddress> {
    this.#socket = await transport.bind({ host, port }, (data, from) => this.#onDatagram(data, from));
    return this.#socket.address;
  }

  /** The bound socket address. */
  get address(): DatagramAddress {
    return this.socket.address;
  }

  /** The bound socket. */
  get socket(): DatagramSocket {
    if (!this.#socket) throw closedError();
    return this.#socket;
  }

  /** The expiration (unix seconds) of a packet sent now. */
  expiration(): number {
    return Math.floor((this.#now() + EXPIRATION_MS) / 1000);
  }

  /** Signs and sends `packet` (nothing is sent once closed); returns its hash. */
  send(packet: Packet, host: string, port: number): Uint8Array {
    const { bytes, hash } = encodePacket(packet, this.#privateKey);
    if (this.#socket && !this.#lifecycle.closed) {
      this.#socket.send(bytes, host, port);
      this.stats.sent++;
    }
    return hash;
  }

  #onDatagram(data: Uint8Array, from: DatagramAddress): void {
    if (this.#lifecycle.closed) return;
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
      if (this.#unhandled) {
        // Not discv4: the next protocol on this socket gets it (geth's `Unhandled` channel).
        this.stats.unhandled++;
        this.#unhandled(data, { host, port: from.port });
        return;
      }
      const reason: DropReason = err instanceof Discv4PacketError ? err.reason : 'malformed';
      this.stats.dropped[reason]++;
      if (this.#log.enabled('trace')) this.#log.trace('bad packet', { from: formatHostPort(host, from.port), reason });
      return;
    }
    if (decoded.id.equals(this.#self)) {
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

  /** Closes the socket. */
  async close(): Promise<void> {
    const socket = this.#socket;
    if (socket) await socket.close();
  }
}
