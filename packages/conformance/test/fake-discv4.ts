/**
 * A small discv4 responder for the tests: correct by default (it passes every discv4 case, which the tests check),
 * and able to break exactly one rule at a time, so each case is shown to fail against a node that breaks the rule
 * it checks.
 */
import { bytesToHex, type DatagramAddress, type DatagramSocket, equalBytes, rlpDecodePrefix } from '@devp2p/core';
import { generatePrivateKey, keccak256, publicKeyFromPrivate, randomBytes } from '@devp2p/crypto';
import {
  type DecodedPacket,
  Discv4PacketError,
  decodePacket,
  encodePacket,
  MAX_NEIGHBORS,
  MAX_PACKET_SIZE,
  type Packet,
  type WireNode,
} from '@devp2p/discovery';
import { Enr, Node } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';

/** The rules the responder can break, one per discv4 case. */
export type Discv4Break =
  /** Pongs carry a random reply token. */
  | 'pong-wrong-token'
  /** Pings whose `to` is not this node are dropped. */
  | 'drop-ping-wrong-to'
  /** Pings whose `from` is not the packet source are dropped. */
  | 'drop-ping-wrong-from'
  /** Packets with list elements beyond the known ones are dropped. */
  | 'strict-list'
  /** Packets with bytes after the RLP list are dropped. */
  | 'strict-trailing'
  /** Expired Pings are answered. */
  | 'ping-ignores-expiration'
  /** Packets of an unknown type are answered with a Pong. */
  | 'answer-unknown-type'
  /** After bonding, Pings whose `from` is not the source are dropped. */
  | 'drop-bonded-ping-wrong-from'
  /** Pongs and Pings go out from a second socket. */
  | 'reply-from-other-socket'
  /** A Pong answering no Ping of ours completes the endpoint proof. */
  | 'unsolicited-pong-bonds'
  /** Pongs carry an enr-seq one below the record's. */
  | 'pong-stale-seq'
  /** The ENRResponse holds a record signed by another key. */
  | 'enr-foreign-record'
  /** ENRRequests are answered without an endpoint proof. */
  | 'enr-without-bond'
  /** Expired ENRRequests are answered. */
  | 'enr-ignores-expiration'
  /** FindNodes are answered without an endpoint proof. */
  | 'findnode-without-bond'
  /** FindNodes are never answered. */
  | 'no-neighbors'
  /** Nodes of unsolicited Neighbors packets go into the table. */
  | 'accept-unsolicited-neighbors'
  /** Expired FindNodes are answered. */
  | 'findnode-ignores-expiration'
  /** All answer nodes go in one Neighbors packet, whatever its size. */
  | 'neighbors-one-packet'
  /** A Pong from a node we pinged completes the proof whatever its reply token. */
  | 'pong-any-token'
  /** The endpoint proof is kept per node id, for any IP. */
  | 'bond-by-id'
  /** Packets above 1280 bytes are read (their first 1280 bytes). */
  | 'accept-oversize'
  /** The packet hash is not checked. */
  | 'ignore-hash';

/** The record's sequence number. */
const RECORD_SEQ = 5n;
/** Expiration of what the responder sends. */
const EXPIRATION_S = 20;
/** Nodes per FindNode answer. */
const ANSWER_SIZE = 16;
const HOST = '127.0.0.1';
/** hash ‖ signature ‖ type. */
const HEAD = 32 + 65 + 1;

export class FakeDiscv4 {
  readonly key: Uint8Array = generatePrivateKey();
  readonly publicKey: Uint8Array = publicKeyFromPrivate(this.key);
  readonly breaks: ReadonlySet<Discv4Break>;
  #socket!: DatagramSocket;
  #other!: DatagramSocket;
  #record!: Enr;
  readonly #foreignRecord: Enr;
  readonly #bonds = new Set<string>();
  readonly #sentPings = new Map<string, { id: string; ip: string }>();
  /** Nodes we pinged and wait a Pong from (id hex). */
  readonly #pinged = new Set<string>();
  readonly #table: WireNode[] = [];

  private constructor(breaks: readonly Discv4Break[]) {
    this.breaks = new Set(breaks);
    const other = generatePrivateKey();
    this.#foreignRecord = Enr.create({ ip: HOST, udp: 1 }, RECORD_SEQ).sign(other);
  }

  static async start(breaks: readonly Discv4Break[] = []): Promise<FakeDiscv4> {
    const fake = new FakeDiscv4(breaks);
    fake.#socket = await udpTransport.bind({ host: HOST, port: 0 }, (data, from) => fake.#receive(data, from));
    fake.#other = await udpTransport.bind({ host: HOST, port: 0 }, () => undefined);
    fake.#record = Enr.create({ ip: HOST, udp: fake.#socket.address.port }, RECORD_SEQ).sign(fake.key);
    return fake;
  }

  /** The responder as a target. */
  get node(): Node {
    return Node.fromRecord(this.#record);
  }

  async close(): Promise<void> {
    await this.#socket.close();
    await this.#other.close();
  }

  #has(b: Discv4Break): boolean {
    return this.breaks.has(b);
  }

  #expiration(): number {
    return Math.floor(Date.now() / 1000) + EXPIRATION_S;
  }

  #expired(expiration: number): boolean {
    return expiration * 1000 < Date.now();
  }

  #bondKey(id: string, ip: string): string {
    return this.#has('bond-by-id') ? id : `${id}|${ip}`;
  }

  #bonded(d: DecodedPacket, from: DatagramAddress): boolean {
    return this.#bonds.has(this.#bondKey(d.id.hex, from.host));
  }

  #bond(d: DecodedPacket, from: DatagramAddress): void {
    this.#bonds.add(this.#bondKey(d.id.hex, from.host));
    if (!this.#table.some((n) => equalBytes(n.publicKey, d.publicKey))) {
      this.#table.push({ ip: from.host, udp: from.port, tcp: 0, publicKey: d.publicKey });
    }
  }

  #send(packet: Packet, to: DatagramAddress, socket: DatagramSocket = this.#socket): Uint8Array {
    const { bytes, hash } = encodePacket(packet, this.key);
    socket.send(bytes, to.host, to.port);
    return hash;
  }

  #decode(data: Uint8Array, from: DatagramAddress): DecodedPacket | undefined {
    let bytes = data;
    if (bytes.length > MAX_PACKET_SIZE) {
      if (!this.#has('accept-oversize')) return undefined;
      // Read the first 1280 bytes as the packet: the hash no longer matches, so re-hash (the signature then
      // recovers some other key, which answers to the same source address all the same).
      bytes = bytes.slice(0, MAX_PACKET_SIZE);
      bytes.set(keccak256(bytes.subarray(32)), 0);
    }
    if (this.#has('ignore-hash') && bytes.length > 32) {
      bytes = bytes.slice();
      bytes.set(keccak256(bytes.subarray(32)), 0);
    }
    try {
      const d = decodePacket(bytes);
      if (this.#has('strict-list') && (d.packet.rest?.length ?? 0) > 0) return undefined;
      if (this.#has('strict-trailing') && rlpDecodePrefix(bytes.subarray(HEAD)).consumed < bytes.length - HEAD) {
        return undefined;
      }
      return d;
    } catch (error) {
      if (this.#has('answer-unknown-type') && error instanceof Discv4PacketError && error.reason === 'unknown-type') {
        this.#send(
          {
            type: 'pong',
            to: { ip: from.host, udp: from.port, tcp: 0 },
            replyToken: bytes.slice(0, 32),
            expiration: this.#expiration(),
          },
          from,
        );
      }
      return undefined;
    }
  }

  #receive(data: Uint8Array, from: DatagramAddress): void {
    const d = this.#decode(data, from);
    if (!d) return;
    const p = d.packet;
    switch (p.type) {
      case 'ping': {
        if (this.#expired(p.expiration) && !this.#has('ping-ignores-expiration')) return;
        const ours = this.#socket.address;
        if (this.#has('drop-ping-wrong-to') && (p.to.ip !== ours.host || p.to.udp !== ours.port)) return;
        const wrongFrom = p.from.ip !== from.host || p.from.udp !== from.port;
        if (this.#has('drop-ping-wrong-from') && wrongFrom) return;
        const bonded = this.#bonded(d, from);
        if (this.#has('drop-bonded-ping-wrong-from') && bonded && wrongFrom) return;
        const socket = this.#has('reply-from-other-socket') ? this.#other : this.#socket;
        this.#send(
          {
            type: 'pong',
            to: { ip: from.host, udp: from.port, tcp: 0 },
            replyToken: this.#has('pong-wrong-token') ? randomBytes(32) : d.hash,
            expiration: this.#expiration(),
            enrSeq: this.#has('pong-stale-seq') ? RECORD_SEQ - 1n : RECORD_SEQ,
          },
          from,
          socket,
        );
        if (!bonded) {
          const hash = this.#send(
            {
              type: 'ping',
              version: 4,
              from: { ip: ours.host, udp: ours.port, tcp: 0 },
              to: { ip: from.host, udp: from.port, tcp: 0 },
              expiration: this.#expiration(),
              enrSeq: RECORD_SEQ,
            },
            from,
            socket,
          );
          this.#sentPings.set(bytesToHex(hash), { id: d.id.hex, ip: from.host });
          this.#pinged.add(d.id.hex);
        }
        return;
      }
      case 'pong': {
        if (this.#expired(p.expiration)) return;
        const sent = this.#sentPings.get(bytesToHex(p.replyToken));
        const proper = sent !== undefined && sent.id === d.id.hex && sent.ip === from.host;
        if (
          proper ||
          (this.#has('pong-any-token') && this.#pinged.has(d.id.hex)) ||
          this.#has('unsolicited-pong-bonds')
        ) {
          this.#bond(d, from);
        }
        return;
      }
      case 'findnode': {
        if (this.#expired(p.expiration) && !this.#has('findnode-ignores-expiration')) return;
        if (!this.#bonded(d, from) && !this.#has('findnode-without-bond')) return;
        if (this.#has('no-neighbors')) return;
        const nodes = this.#table.slice(0, ANSWER_SIZE);
        const size = this.#has('neighbors-one-packet') ? ANSWER_SIZE : MAX_NEIGHBORS;
        for (let i = 0; i === 0 || i < nodes.length; i += size) {
          this.#send({ type: 'neighbors', nodes: nodes.slice(i, i + size), expiration: this.#expiration() }, from);
        }
        return;
      }
      case 'neighbors': {
        if (this.#has('accept-unsolicited-neighbors')) this.#table.unshift(...p.nodes);
        return;
      }
      case 'enrRequest': {
        if (this.#expired(p.expiration) && !this.#has('enr-ignores-expiration')) return;
        if (!this.#bonded(d, from) && !this.#has('enr-without-bond')) return;
        const record = this.#has('enr-foreign-record') ? this.#foreignRecord : this.#record;
        this.#send({ type: 'enrResponse', replyToken: d.hash, record, expiration: 0 }, from);
        return;
      }
      case 'enrResponse':
        return;
    }
  }
}
