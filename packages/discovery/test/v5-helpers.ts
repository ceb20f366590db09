import { concatBytes, type DatagramAddress, type DatagramSocket } from '@devp2p/core';
import { aes128GcmEncrypt, generatePrivateKey, publicKeyFromPrivate, randomBytes } from '@devp2p/crypto';
import { Enr, Node, NodeId } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';
import {
  type Discv5Message,
  type Discv5Packet,
  type Discv5SessionKeys,
  type Discv5WhoareyouPacket,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  encodeDiscv5HandshakePacket,
  encodeDiscv5MessagePacket,
  encodeDiscv5RandomPacket,
  encodeDiscv5WhoareyouPacket,
  openDiscv5Handshake,
} from '../src/index.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A datagram one of the harness's sockets received. */
export interface Datagram {
  readonly bytes: Uint8Array;
  readonly from: DatagramAddress;
  /** Index of the harness socket it arrived on. */
  readonly socket: number;
}

/** Keys of a session the harness holds with a remote: what it writes with and what it reads with. */
export interface HarnessSession {
  writeKey: Uint8Array;
  readKey: Uint8Array;
}

/**
 * A scripted discv5 remote: its own key, record and UDP sockets (several, for address changes), and the codec
 * functions to craft any packet and read any answer. Sessions are held by the test, per socket.
 */
export class V5Harness {
  readonly key: Uint8Array;
  readonly id: NodeId;
  readonly sockets: DatagramSocket[];
  readonly #inbox: Datagram[] = [];
  #wake: (() => void) | undefined;
  seq: bigint;

  private constructor(key: Uint8Array, sockets: DatagramSocket[], inbox: Datagram[], seq: bigint) {
    this.key = key;
    this.sockets = sockets;
    this.#inbox = inbox;
    this.seq = seq;
    this.id = NodeId.fromPublicKey(publicKeyFromPrivate(key));
  }

  static async create(options: { sockets?: number; key?: Uint8Array; seq?: bigint } = {}): Promise<V5Harness> {
    const inbox: Datagram[] = [];
    let harness: V5Harness | undefined;
    const sockets: DatagramSocket[] = [];
    for (let i = 0; i < (options.sockets ?? 1); i++) {
      sockets.push(
        await udpTransport.bind({ host: '127.0.0.1', port: 0 }, (bytes, from) => {
          inbox.push({ bytes, from, socket: i });
          harness?.wakeUp();
        }),
      );
    }
    harness = new V5Harness(options.key ?? generatePrivateKey(), sockets, inbox, options.seq ?? 1n);
    return harness;
  }

  wakeUp(): void {
    this.#wake?.();
  }

  /** Our signed record at socket `i`'s port, with sequence number `seq`. */
  record(i = 0, seq: bigint = this.seq): Enr {
    return recordOf(this.key, this.sockets[i]!.address.port, seq);
  }

  node(i = 0, seq: bigint = this.seq): Node {
    return Node.fromRecord(this.record(i, seq));
  }

  sendRaw(bytes: Uint8Array, to: Node, socket = 0): void {
    this.sockets[socket]!.send(bytes, to.ip!, to.udp);
  }

  /** The next datagram (on any socket, or on `socket`), or undefined after `timeoutMs`. */
  async next(timeoutMs = 1_000, socket?: number): Promise<Datagram | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#inbox.findIndex((d) => socket === undefined || d.socket === socket);
      if (i !== -1) return this.#inbox.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** The next datagram decoded as a packet to us. */
  async nextPacket(timeoutMs = 1_000, socket?: number): Promise<(Discv5Packet & { datagram: Datagram }) | undefined> {
    const datagram = await this.next(timeoutMs, socket);
    if (!datagram) return undefined;
    return { ...decodeDiscv5Packet(datagram.bytes, this.id), datagram };
  }

  /** The next packet, decrypted with `session` as an ordinary message. */
  async nextMessage(session: HarnessSession, timeoutMs = 1_000, socket?: number): Promise<Discv5Message | undefined> {
    const packet = await this.nextPacket(timeoutMs, socket);
    if (packet?.kind !== 'message') return undefined;
    return decryptDiscv5Message(packet, session.readKey);
  }

  /** Sends `message` under `session`. */
  send(to: Node, session: HarnessSession, message: Discv5Message, socket = 0): void {
    this.sendRaw(
      encodeDiscv5MessagePacket({ srcId: this.id, destId: to.id, key: session.writeKey, message }).bytes,
      to,
      socket,
    );
  }

  /**
   * Sends `plaintext` (any bytes: a malformed message) encrypted under `session`.
   */
  sendPlaintext(to: Node, session: HarnessSession, plaintext: Uint8Array, socket = 0): void {
    this.sendRaw(this.sealPlaintext(to, session, plaintext), to, socket);
  }

  /** A message packet to `to` carrying `plaintext` (any bytes) encrypted under `session`. */
  sealPlaintext(to: Node, session: HarnessSession, plaintext: Uint8Array): Uint8Array {
    const nonce = randomBytes(12);
    const template = encodeDiscv5MessagePacket({
      srcId: this.id,
      destId: to.id,
      key: session.writeKey,
      nonce,
      message: { type: 'ping', requestId: new Uint8Array(0), enrSeq: 0n },
    });
    const header = template.bytes.subarray(0, template.headerData.length);
    return concatBytes(header, aes128GcmEncrypt(session.writeKey, nonce, plaintext, template.headerData));
  }

  /** Sends random bytes from `srcId` (default ours): the start of a handshake; returns the packet's nonce. */
  sendRandom(to: Node, socket = 0, srcId: NodeId = this.id): Uint8Array {
    const packet = encodeDiscv5RandomPacket({ srcId, destId: to.id });
    this.sendRaw(packet.bytes, to, socket);
    return packet.nonce;
  }

  /** Answers `challenge` from `to` with a handshake carrying `message` (our record when theirs is older). */
  answerChallenge(
    to: Node,
    challenge: Discv5WhoareyouPacket,
    message: Discv5Message,
    socket = 0,
    record: Enr = this.record(socket),
  ): { session: HarnessSession; recordSent: boolean } {
    const hs = encodeDiscv5HandshakePacket({
      srcId: this.id,
      destId: to.id,
      privateKey: this.key,
      destPublicKey: to.publicKey!,
      challengeData: challenge.headerData,
      record,
      message,
    });
    this.sendRaw(hs.bytes, to, socket);
    return { session: initiatorSession(hs.keys), recordSent: hs.recordSent };
  }

  /** Starts a session with `to` from socket `socket`: random packet, WHOAREYOU, handshake with `message`. */
  async handshake(
    to: Node,
    message: Discv5Message,
    socket = 0,
  ): Promise<{ session: HarnessSession; challenge: Discv5WhoareyouPacket }> {
    this.sendRandom(to, socket);
    const challenge = await this.nextPacket(1_000, socket);
    if (challenge?.kind !== 'whoareyou') throw new Error(`expected WHOAREYOU, got ${challenge?.kind}`);
    const { session } = this.answerChallenge(to, challenge, message, socket);
    return { session, challenge };
  }

  /**
   * Answers a packet from `to` that we cannot decrypt with a WHOAREYOU naming `enrSeq`, then opens the handshake
   * that should follow; returns the session and the message it carried.
   */
  async challenge(
    to: Node,
    packet: Discv5Packet & { datagram: Datagram },
    enrSeq: bigint,
  ): Promise<{ session: HarnessSession; message: Discv5Message; recordSent: boolean; handshakeNonce: Uint8Array }> {
    const whoareyou = encodeDiscv5WhoareyouPacket({ destId: to.id, nonce: packet.nonce, enrSeq });
    this.sendRaw(whoareyou.bytes, to, packet.datagram.socket);
    const hs = await this.nextPacket(1_000, packet.datagram.socket);
    if (hs?.kind !== 'handshake') throw new Error(`expected a handshake, got ${hs?.kind}`);
    const opened = openDiscv5Handshake(hs, {
      privateKey: this.key,
      localId: this.id,
      challengeData: whoareyou.headerData,
      knownRecord: hs.record ? undefined : to.record,
    });
    return {
      session: { writeKey: opened.keys.recipientKey, readKey: opened.keys.initiatorKey },
      message: opened.message,
      recordSent: hs.record !== undefined,
      handshakeNonce: hs.nonce,
    };
  }

  clear(): void {
    this.#inbox.length = 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => s.close()));
  }
}

function initiatorSession(keys: Discv5SessionKeys): HarnessSession {
  return { writeKey: keys.initiatorKey, readKey: keys.recipientKey };
}

/** A signed record of `key` on 127.0.0.1 at `port`. */
export function recordOf(key: Uint8Array, port: number, seq: bigint): Enr {
  return Enr.create({ ip: '127.0.0.1', udp: port }, seq).sign(key);
}
