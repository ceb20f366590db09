/**
 * A small discv5 responder for the tests, on the wire code of `@devp2p/discovery`: correct by default (it passes
 * every discv5 case, which the tests check), and able to break exactly one rule at a time, so each case is shown
 * to fail against a node that breaks the rule it checks. It only answers: it never sends a request of its own.
 */
import { concatBytes, type DatagramAddress, type DatagramSocket, rlpDecode, rlpEncode } from '@devp2p/core';
import { aes128GcmDecrypt, generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import {
  DISCV5_MESSAGE_TYPE,
  type Discv5HandshakePacket,
  type Discv5Message,
  Discv5MessageError,
  type Discv5MessageInput,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  deriveDiscv5SessionKeys,
  encodeDiscv5MessagePacket,
  encodeDiscv5WhoareyouPacket,
  openDiscv5Handshake,
  packNodes,
} from '@devp2p/discovery';
import { Enr, logDistance, Node, NodeId, parseIp } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';

/** The rules the responder can break, one per discv5 case. */
export type Discv5Break =
  /** PONGs name a port one above the sender's. */
  | 'pong-wrong-port'
  /** Request ids longer than 4 bytes are echoed cut to 4. */
  | 'truncate-request-id'
  /** A PING with a request id over 8 bytes is answered (with that id). */
  | 'accept-long-request-id'
  /** Sessions are kept per node id, whatever address a packet comes from. */
  | 'session-by-id'
  /** Every packet without a session gets a new challenge, never the pending one again. */
  | 'new-challenge'
  /** A TALKREQ for an unknown protocol is answered with its own request bytes. */
  | 'talk-echo'
  /** FINDNODE distance 0 is answered without our record. */
  | 'zero-distance-empty'
  /** PONGs carry an enr-seq one below the record's. */
  | 'pong-stale-seq'
  /** Nodes that handshake never enter the table. */
  | 'no-table'
  /** Every NODES packet of an answer says total 1. */
  | 'nodes-total-one'
  /** WHOAREYOU carries enr-seq 0 even when the table holds the sender's record. */
  | 'whoareyou-seq-zero'
  /** A node already in the table keeps its first record: a newer one from a handshake is not taken. */
  | 'keep-old-record';

/** The record's sequence number. */
const RECORD_SEQ = 5n;
const HOST = '127.0.0.1';
/** Request id bytes kept by 'truncate-request-id'. */
const TRUNCATED_ID = 4;
/** Nodes per FINDNODE answer (geth's findnodeResultLimit). */
const ANSWER_LIMIT = 16;

interface Session {
  readonly writeKey: Uint8Array;
  readonly readKey: Uint8Array;
}

export class FakeDiscv5 {
  readonly key: Uint8Array = generatePrivateKey();
  readonly id: NodeId = NodeId.fromPublicKey(publicKeyFromPrivate(this.key));
  readonly breaks: ReadonlySet<Discv5Break>;
  #socket!: DatagramSocket;
  #record!: Enr;
  readonly #sessions = new Map<string, Session>();
  readonly #challenges = new Map<string, { packet: Uint8Array; challengeData: Uint8Array; known?: Node | undefined }>();
  readonly #table: Node[] = [];

  private constructor(breaks: readonly Discv5Break[]) {
    this.breaks = new Set(breaks);
  }

  static async start(breaks: readonly Discv5Break[] = []): Promise<FakeDiscv5> {
    const fake = new FakeDiscv5(breaks);
    fake.#socket = await udpTransport.bind({ host: HOST, port: 0 }, (data, from) => fake.#receive(data, from));
    fake.#record = Enr.create({ ip: HOST, udp: fake.#socket.address.port }, RECORD_SEQ).sign(fake.key);
    return fake;
  }

  /** The responder as a target. */
  get node(): Node {
    return Node.fromRecord(this.#record);
  }

  async close(): Promise<void> {
    await this.#socket.close();
  }

  #has(b: Discv5Break): boolean {
    return this.breaks.has(b);
  }

  #key(id: NodeId, from: DatagramAddress): string {
    return this.#has('session-by-id') ? id.hex : `${id.hex}|${from.host}|${from.port}`;
  }

  #send(id: NodeId, from: DatagramAddress, message: Discv5MessageInput): void {
    const session = this.#sessions.get(this.#key(id, from));
    if (!session) return;
    const { bytes } = encodeDiscv5MessagePacket({ srcId: this.id, destId: id, key: session.writeKey, message });
    this.#socket.send(bytes, from.host, from.port);
  }

  #challenge(id: NodeId, from: DatagramAddress, nonce: Uint8Array): void {
    const key = `${id.hex}|${from.host}|${from.port}`;
    let challenge = this.#challenges.get(key);
    if (!challenge || this.#has('new-challenge')) {
      // The seq of the sender's record in the table (0 without one), so a handshake brings a newer record.
      const known = this.#table.find((n) => n.id.equals(id));
      const enrSeq = known && !this.#has('whoareyou-seq-zero') ? known.seq : 0n;
      const packet = encodeDiscv5WhoareyouPacket({ destId: id, nonce, enrSeq });
      challenge = { packet: packet.bytes, challengeData: packet.headerData, known };
      this.#challenges.set(key, challenge);
    }
    this.#socket.send(challenge.packet, from.host, from.port);
  }

  #receive(data: Uint8Array, from: DatagramAddress): void {
    try {
      const packet = decodeDiscv5Packet(data, this.id);
      if (packet.kind === 'whoareyou') return;
      if (packet.kind === 'handshake') {
        this.#handshake(packet, from);
        return;
      }
      const session = this.#sessions.get(this.#key(packet.srcId, from));
      let message: Discv5Message | undefined;
      if (session) {
        try {
          message = decryptDiscv5Message(packet, session.readKey);
        } catch {
          message = undefined;
        }
      }
      if (message) this.#handle(packet.srcId, from, message);
      else this.#challenge(packet.srcId, from, packet.nonce);
    } catch {
      // Bad input is dropped.
    }
  }

  #handshake(packet: Discv5HandshakePacket, from: DatagramAddress): void {
    const addressKey = `${packet.srcId.hex}|${from.host}|${from.port}`;
    const challenge = this.#challenges.get(addressKey);
    if (!challenge) return;
    this.#challenges.delete(addressKey);
    try {
      const opened = openDiscv5Handshake(packet, {
        privateKey: this.key,
        localId: this.id,
        challengeData: challenge.challengeData,
        knownRecord: challenge.known?.record,
      });
      this.#sessions.set(this.#key(packet.srcId, from), {
        writeKey: opened.keys.recipientKey,
        readKey: opened.keys.initiatorKey,
      });
      const node = Node.fromRecord(opened.record);
      const at = node.udpEndpoint();
      const i = this.#table.findIndex((n) => n.id.equals(node.id));
      if (at && at.ip === from.host && at.port === from.port && !this.#has('no-table')) {
        if (i === -1) this.#table.push(node);
        else if (node.seq > this.#table[i]!.seq && !this.#has('keep-old-record')) this.#table[i] = node;
      }
      this.#handle(packet.srcId, from, opened.message);
    } catch (error) {
      if (error instanceof Discv5MessageError && this.#has('accept-long-request-id')) {
        this.#lenientPing(packet, from, challenge.challengeData);
      }
    }
  }

  /** 'accept-long-request-id': opens the handshake by hand and answers the PING whatever its request id. */
  #lenientPing(packet: Discv5HandshakePacket, from: DatagramAddress, challengeData: Uint8Array): void {
    const keys = deriveDiscv5SessionKeys(this.key, packet.ephemeralPublicKey, packet.srcId, this.id, challengeData);
    this.#sessions.set(this.#key(packet.srcId, from), { writeKey: keys.recipientKey, readKey: keys.initiatorKey });
    const plaintext = aes128GcmDecrypt(keys.initiatorKey, packet.nonce, packet.ciphertext, packet.headerData);
    const [requestId] = rlpDecode(plaintext.subarray(1)) as Uint8Array[];
    const data = rlpEncode([requestId!, RECORD_SEQ, parseIp(from.host)!, from.port]);
    this.#send(packet.srcId, from, concatBytes(Uint8Array.of(DISCV5_MESSAGE_TYPE.pong), data));
  }

  #handle(id: NodeId, from: DatagramAddress, message: Discv5Message): void {
    switch (message.type) {
      case 'ping': {
        const long = message.requestId.length > TRUNCATED_ID && this.#has('truncate-request-id');
        this.#send(id, from, {
          type: 'pong',
          requestId: long ? message.requestId.slice(0, TRUNCATED_ID) : message.requestId,
          enrSeq: this.#has('pong-stale-seq') ? RECORD_SEQ - 1n : RECORD_SEQ,
          ip: from.host,
          port: this.#has('pong-wrong-port') ? from.port + 1 : from.port,
        });
        return;
      }
      case 'talkreq':
        this.#send(id, from, {
          type: 'talkresp',
          requestId: message.requestId,
          response: this.#has('talk-echo') ? message.request : new Uint8Array(0),
        });
        return;
      case 'findnode': {
        const nodes: Node[] = [];
        for (const d of new Set(message.distances)) {
          if (d === 0 && !this.#has('zero-distance-empty')) nodes.push(this.node);
          if (d > 0) nodes.push(...this.#table.filter((n) => logDistance(n.id, this.id) === d));
        }
        for (const response of packNodes(message.requestId, nodes.slice(0, ANSWER_LIMIT))) {
          this.#send(id, from, this.#has('nodes-total-one') ? { ...response, total: 1 } : response);
        }
        return;
      }
      default:
        return;
    }
  }
}
