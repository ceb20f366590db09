/**
 * The discv5 codec with sessions (geth p2p/discover/v5wire/encoding.go `Codec`): picks the packet kind for each
 * message (handshake when answering a challenge, ordinary under the session keys, random bytes to start a
 * handshake when there are none), sends and repeats WHOAREYOU challenges, and turns datagrams into messages with
 * the keys of their (node id, address).
 */
import { type Endpoint, type LocalNode, Node, type NodeId } from '@devp2p/enode';
import { Discv5PacketError } from './errors.ts';
import type { Discv5Message } from './messages.ts';
import {
  type Discv5WhoareyouPacket,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  encodeDiscv5HandshakePacket,
  encodeDiscv5MessagePacket,
  encodeDiscv5RandomPacket,
  encodeDiscv5WhoareyouPacket,
  openDiscv5Handshake,
} from './packet.ts';
import type { SessionCache } from './session.ts';

/**
 * A WHOAREYOU we received, to be answered with a handshake.
 * @example codec.encode(id, to, message, { challengeData: whoareyou.headerData, node })
 */
export interface ReceivedChallenge {
  /** The challenge's unmasked header (`headerData` of the decoded WHOAREYOU). */
  readonly challengeData: Uint8Array;
  /** The challenger's record or public key (the keys are derived with it). */
  readonly node: Node;
}

/**
 * What a datagram turned out to be.
 * - `whoareyou`: a challenge (match its nonce to a request of ours);
 * - `unknown`: an ordinary packet we hold no keys for, or whose keys do not fit (answer WHOAREYOU);
 * - `message`: a message under an established session;
 * - `handshake`: a verified handshake answering our challenge: a new session, and its first message;
 * - `unexpected-handshake`: a handshake with no challenge of ours to answer (dropped before any cryptography).
 */
export type CodecResult =
  | { readonly kind: 'whoareyou'; readonly packet: Discv5WhoareyouPacket }
  | { readonly kind: 'unknown'; readonly srcId: NodeId; readonly nonce: Uint8Array }
  | { readonly kind: 'message' | 'handshake'; readonly srcId: NodeId; readonly node: Node; message: Discv5Message }
  | { readonly kind: 'unexpected-handshake' | 'self'; readonly srcId: NodeId };

/**
 * Options of {@link Discv5Codec}.
 * @example new Discv5Codec({ privateKey, localNode, sessions })
 */
export interface Discv5CodecOptions {
  readonly privateKey: Uint8Array;
  readonly localNode: LocalNode;
  readonly sessions: SessionCache;
}

/**
 * Encodes and decodes the packets of one node.
 * @example const { bytes, nonce } = codec.encode(node.id, to, { type: 'ping', requestId, enrSeq })
 */
export class Discv5Codec {
  readonly #privateKey: Uint8Array;
  readonly #localNode: LocalNode;
  readonly #sessions: SessionCache;

  constructor(options: Discv5CodecOptions) {
    this.#privateKey = options.privateKey;
    this.#localNode = options.localNode;
    this.#sessions = options.sessions;
  }

  /**
   * Encodes `message` to `id` at `to`: as a handshake answering `challenge` (storing the new session), else under
   * the session's keys, else as random bytes that make the remote challenge us. Throws a RangeError when the
   * message does not fit in a packet.
   */
  encode(
    id: NodeId,
    to: Endpoint,
    message: Discv5Message,
    challenge?: ReceivedChallenge,
  ): { bytes: Uint8Array; nonce: Uint8Array } {
    const srcId = this.#localNode.id;
    if (challenge) {
      const publicKey = challenge.node.publicKey;
      if (!publicKey) throw new TypeError(`discv5: no public key for ${id.short()}`);
      const packet = encodeDiscv5HandshakePacket({
        srcId,
        destId: id,
        privateKey: this.#privateKey,
        destPublicKey: publicKey,
        challengeData: challenge.challengeData,
        record: this.#localNode.node.record,
        message,
      });
      this.#sessions.storeSession(id, to, {
        writeKey: packet.keys.initiatorKey,
        readKey: packet.keys.recipientKey,
        nonceCounter: 0,
        node: challenge.node,
      });
      return { bytes: packet.bytes, nonce: packet.nonce };
    }
    const session = this.#sessions.session(id, to);
    const packet = session
      ? encodeDiscv5MessagePacket({
          srcId,
          destId: id,
          key: session.writeKey,
          nonce: this.#sessions.nextNonce(session),
          message,
        })
      : encodeDiscv5RandomPacket({ srcId, destId: id });
    return { bytes: packet.bytes, nonce: packet.nonce };
  }

  /**
   * The WHOAREYOU answering the packet with `nonce` from `id` at `to`: the challenge already awaiting a handshake
   * from there, byte for byte (the remote may have sent several packets before our first challenge reached it),
   * else a new one carrying the sequence number of `known` (our signed copy of its record; 0 without one).
   * Undefined when a new challenge would exceed the limits (rate-limited).
   */
  whoareyou(id: NodeId, to: Endpoint, nonce: Uint8Array, known: Node | undefined): Uint8Array | undefined {
    const current = this.#sessions.challenge(id, to);
    if (current) return current.packet;
    if (!this.#sessions.mayChallenge(to.ip)) return undefined;
    const node = known?.record.signed ? known : undefined;
    const packet = encodeDiscv5WhoareyouPacket({ destId: id, nonce, enrSeq: node?.seq ?? 0n });
    this.#sessions.storeChallenge(id, to, { packet: packet.bytes, challengeData: packet.headerData, node });
    return packet.bytes;
  }

  /**
   * Decodes a datagram from `from`. Throws a `Discv5PacketError` or `Discv5MessageError` for bytes that break the
   * protocol (sizes are checked before anything else).
   */
  decode(bytes: Uint8Array, from: Endpoint): CodecResult {
    const localId = this.#localNode.id;
    const remoteAddress = `${from.ip}:${from.port}`;
    const packet = decodeDiscv5Packet(bytes, localId, { remoteAddress });
    if (packet.kind === 'whoareyou') return { kind: 'whoareyou', packet };
    const srcId = packet.srcId;
    if (srcId.equals(localId)) return { kind: 'self', srcId };
    if (packet.kind === 'message') {
      const session = this.#sessions.session(srcId, from);
      if (!session) return { kind: 'unknown', srcId, nonce: packet.nonce };
      for (const key of [session.readKey, session.previousReadKey]) {
        if (key === undefined) continue;
        try {
          const message = decryptDiscv5Message(packet, key, { remoteAddress });
          return { kind: 'message', srcId, node: session.node, message };
        } catch (err) {
          if (!(err instanceof Discv5PacketError && err.reason === 'decrypt-failed')) throw err;
        }
      }
      return { kind: 'unknown', srcId, nonce: packet.nonce };
    }
    // A handshake is only worth its cryptography when it answers a challenge of ours; each challenge gets one try.
    const challenge = this.#sessions.takeChallenge(srcId, from);
    if (!challenge) return { kind: 'unexpected-handshake', srcId };
    const opened = openDiscv5Handshake(packet, {
      privateKey: this.#privateKey,
      localId,
      challengeData: challenge.challengeData,
      knownRecord: challenge.node?.record,
      remoteAddress,
    });
    const node =
      challenge.node && opened.record === challenge.node.record
        ? challenge.node
        : Node.fromTrustedRecord(opened.record, srcId);
    this.#sessions.storeSession(srcId, from, {
      writeKey: opened.keys.recipientKey,
      readKey: opened.keys.initiatorKey,
      nonceCounter: 0,
      node,
    });
    return { kind: 'handshake', srcId, node, message: opened.message };
  }
}
