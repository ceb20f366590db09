/**
 * The discv4 wire format (github:ethereum/devp2p discv4.md): `hash ‖ signature ‖ type ‖ rlp(data)`, with the
 * EIP-8 rules (extra list elements and trailing bytes are ignored) and EIP-868's enr-seq in Ping and Pong.
 */
import {
  bytesToBigInt,
  concatBytes,
  equalBytes,
  ProtocolError,
  type RlpInput,
  type RlpValue,
  rlpBytes,
  rlpDecodePrefix,
  rlpEncode,
  rlpList,
  rlpUint,
} from '@devp2p/core';
import { keccak256, recoverPublicKey, sign } from '@devp2p/crypto';
import { Enr, formatIp, isIPv4MappedIp, NodeId, parseIp } from '@devp2p/enode';
import { ERR_DISCV4_PACKET } from '../codes.ts';
import { MAX_NEIGHBORS, MAX_PACKET_SIZE } from '../constants.ts';

/** Length of the packet hash at the front of every packet. */
const HASH_LENGTH = 32;
/** Length of the recoverable signature (r ‖ s ‖ v) after the hash. */
const SIGNATURE_LENGTH = 65;
/** hash ‖ signature ‖ type: the smallest possible packet, before its RLP data. */
const HEAD_LENGTH = HASH_LENGTH + SIGNATURE_LENGTH + 1;

/**
 * Packet type bytes.
 * @example if (bytes[97] === PACKET_TYPE.ping) ...
 */
export const PACKET_TYPE: {
  readonly ping: 1;
  readonly pong: 2;
  readonly findnode: 3;
  readonly neighbors: 4;
  readonly enrRequest: 5;
  readonly enrResponse: 6;
} = { ping: 1, pong: 2, findnode: 3, neighbors: 4, enrRequest: 5, enrResponse: 6 };

/**
 * Why a datagram is not a valid discv4 packet: the reasons {@link decodePacket} rejects one with.
 * @example if (err instanceof Discv4PacketError && err.reason === 'bad-hash') stats.badHash++
 */
export type PacketErrorReason = 'too-small' | 'too-large' | 'bad-hash' | 'bad-signature' | 'unknown-type' | 'malformed';

/**
 * A datagram that is not a valid discv4 packet (`ERR_DISCV4_PACKET`); `reason` says why.
 * @example try { decodePacket(bytes) } catch (err) { if (err instanceof Discv4PacketError) drop(err.reason) }
 */
export class Discv4PacketError extends ProtocolError {
  readonly reason: PacketErrorReason;
  constructor(reason: PacketErrorReason, message: string, options: { cause?: unknown } = {}) {
    super(ERR_DISCV4_PACKET, `discv4 packet: ${message}`, options);
    this.reason = reason;
  }
}

/**
 * An endpoint as packets carry it: IP (canonical text; undefined when the bytes are not 4 or 16 long), UDP and
 * TCP ports.
 * @example const to: WireEndpoint = { ip: '127.0.0.1', udp: 30303, tcp: 30303 }
 */
export interface WireEndpoint {
  readonly ip: string | undefined;
  readonly udp: number;
  readonly tcp: number;
}

/**
 * A node in a Neighbors packet: its endpoint and 64-byte public key.
 * @example const n: WireNode = { ip: '10.0.0.1', udp: 30303, tcp: 30303, publicKey }
 */
export interface WireNode extends WireEndpoint {
  readonly publicKey: Uint8Array;
}

/** Fields every packet has: the expiration (Unix seconds) and extra list elements (EIP-8). */
interface PacketBase {
  /** Unix time in seconds after which the packet is void (0 for ENRResponse, which has none). */
  readonly expiration: number;
  /** List elements after the known ones, kept for inspection (EIP-8 forward compatibility). */
  readonly rest?: readonly RlpValue[];
}

/** Ping (0x01). */
export interface PingPacket extends PacketBase {
  readonly type: 'ping';
  readonly version: number;
  readonly from: WireEndpoint;
  readonly to: WireEndpoint;
  /** EIP-868: the sender's record sequence number. */
  readonly enrSeq?: bigint | undefined;
}

/** Pong (0x02). */
export interface PongPacket extends PacketBase {
  readonly type: 'pong';
  readonly to: WireEndpoint;
  /** Hash of the Ping this answers. */
  readonly replyToken: Uint8Array;
  readonly enrSeq?: bigint | undefined;
}

/** FindNode (0x03). */
export interface FindNodePacket extends PacketBase {
  readonly type: 'findnode';
  /** A 64-byte public key; distance is measured to its keccak-256. */
  readonly target: Uint8Array;
}

/** Neighbors (0x04). */
export interface NeighborsPacket extends PacketBase {
  readonly type: 'neighbors';
  readonly nodes: readonly WireNode[];
}

/** ENRRequest (0x05, EIP-868). */
export interface EnrRequestPacket extends PacketBase {
  readonly type: 'enrRequest';
}

/** ENRResponse (0x06, EIP-868). */
export interface EnrResponsePacket extends PacketBase {
  readonly type: 'enrResponse';
  /** Hash of the ENRRequest this answers. */
  readonly replyToken: Uint8Array;
  /** The record (signature not yet checked against any node id). */
  readonly record: Enr;
}

/**
 * Any discv4 packet.
 * @example const p: Packet = { type: 'findnode', target, expiration: nowSeconds + 20 }
 */
export type Packet = PingPacket | PongPacket | FindNodePacket | NeighborsPacket | EnrRequestPacket | EnrResponsePacket;

/**
 * A decoded, authenticated packet: what it says, its hash (reply token), and who signed it.
 * @example const { packet, hash, publicKey, id } = decodePacket(datagram)
 */
export interface DecodedPacket {
  readonly packet: Packet;
  readonly hash: Uint8Array;
  /** The signer's 64-byte public key. */
  readonly publicKey: Uint8Array;
  readonly id: NodeId;
}

function encodeIp(ip: string | undefined): Uint8Array {
  if (ip === undefined) return new Uint8Array(0);
  let bytes = parseIp(ip);
  if (!bytes) throw new TypeError(`discv4: invalid IP address ${ip}`);
  if (isIPv4MappedIp(bytes)) bytes = bytes.subarray(12);
  return bytes;
}

function encodeEndpoint(e: WireEndpoint): RlpInput {
  return [encodeIp(e.ip), e.udp, e.tcp];
}

function packetData(packet: Packet): RlpInput {
  switch (packet.type) {
    case 'ping': {
      const items: RlpInput[] = [
        packet.version,
        encodeEndpoint(packet.from),
        encodeEndpoint(packet.to),
        packet.expiration,
      ];
      if (packet.enrSeq !== undefined) items.push(packet.enrSeq);
      return items;
    }
    case 'pong': {
      const items: RlpInput[] = [encodeEndpoint(packet.to), packet.replyToken, packet.expiration];
      if (packet.enrSeq !== undefined) items.push(packet.enrSeq);
      return items;
    }
    case 'findnode':
      return [packet.target, packet.expiration];
    case 'neighbors':
      return [packet.nodes.map((n) => [encodeIp(n.ip), n.udp, n.tcp, n.publicKey]), packet.expiration];
    case 'enrRequest':
      return [packet.expiration];
    case 'enrResponse':
      return [packet.replyToken, rlpDecodePrefix(packet.record.encode()).value];
  }
}

/**
 * Encodes and signs a packet: `hash ‖ signature ‖ type ‖ rlp(data)`. Returns the datagram and its hash (the
 * reply token a Pong or ENRResponse will carry).
 * @example const { bytes, hash } = encodePacket({ type: 'enrRequest', expiration: now + 20 }, privateKey)
 */
export function encodePacket(packet: Packet, privateKey: Uint8Array): { bytes: Uint8Array; hash: Uint8Array } {
  const body = concatBytes(Uint8Array.of(PACKET_TYPE[packet.type]), rlpEncode(packetData(packet)));
  const signature = sign(keccak256(body), privateKey);
  const hash = keccak256(concatBytes(signature, body));
  return { bytes: concatBytes(hash, signature, body), hash };
}

function malformed(message: string, cause?: unknown): Discv4PacketError {
  return new Discv4PacketError('malformed', message, { cause });
}

function port(value: RlpValue | undefined, label: string): number {
  const n = rlpUint(value, label);
  if (n > 0xffff) throw malformed(`${label}: port ${n} out of range`);
  return n;
}

function decodeIp(value: RlpValue | undefined, label: string): string | undefined {
  const bytes = rlpBytes(value, label);
  return bytes.length === 4 || bytes.length === 16 ? formatIp(bytes) : undefined;
}

function decodeEndpoint(value: RlpValue | undefined, label: string): WireEndpoint {
  const items = rlpList(value, label, 3);
  return {
    ip: decodeIp(items[0], `${label}.ip`),
    udp: port(items[1], `${label}.udp`),
    tcp: port(items[2], `${label}.tcp`),
  };
}

/** Expiration is a uint64 of seconds; a value beyond 2^53 is "never" for our purposes. */
function expiration(value: RlpValue | undefined, label: string): number {
  const bytes = rlpBytes(value, label);
  if (bytes.length > 8) throw malformed(`${label}: more than 64 bits`);
  if (bytes.length > 0 && bytes[0] === 0) throw malformed(`${label}: leading zero bytes`);
  return Number(bytesToBigInt(bytes));
}

/**
 * EIP-868's optional enr-seq at `index`, and the rest after it. A non-integer there (a list, as in EIP-8's
 * version 555 ping) counts as absent and stays in the rest, as a tolerant decoder should (see the vectors' notes).
 */
function optionalSeq(items: RlpValue[], index: number): { enrSeq: bigint | undefined; rest: RlpValue[] } {
  const value = items[index];
  if (value instanceof Uint8Array && value.length <= 8 && (value.length === 0 || value[0] !== 0)) {
    return { enrSeq: bytesToBigInt(value), rest: items.slice(index + 1) };
  }
  return { enrSeq: undefined, rest: items.slice(index) };
}

function decodeData(type: number, data: RlpValue): Packet {
  switch (type) {
    case PACKET_TYPE.ping: {
      const items = rlpList(data, 'ping', 4);
      const { enrSeq, rest } = optionalSeq(items, 4);
      return {
        type: 'ping',
        version: rlpUint(items[0], 'ping.version'),
        from: decodeEndpoint(items[1], 'ping.from'),
        to: decodeEndpoint(items[2], 'ping.to'),
        expiration: expiration(items[3], 'ping.expiration'),
        enrSeq,
        rest,
      };
    }
    case PACKET_TYPE.pong: {
      const items = rlpList(data, 'pong', 3);
      const { enrSeq, rest } = optionalSeq(items, 3);
      return {
        type: 'pong',
        to: decodeEndpoint(items[0], 'pong.to'),
        replyToken: rlpBytes(items[1], 'pong.replyToken', 32).slice(),
        expiration: expiration(items[2], 'pong.expiration'),
        enrSeq,
        rest,
      };
    }
    case PACKET_TYPE.findnode: {
      const items = rlpList(data, 'findnode', 2);
      return {
        type: 'findnode',
        target: rlpBytes(items[0], 'findnode.target', 64).slice(),
        expiration: expiration(items[1], 'findnode.expiration'),
        rest: items.slice(2),
      };
    }
    case PACKET_TYPE.neighbors: {
      const items = rlpList(data, 'neighbors', 2);
      const list = rlpList(items[0], 'neighbors.nodes');
      if (list.length > MAX_NEIGHBORS * 2) throw malformed(`neighbors: ${list.length} nodes`);
      const nodes = list.map((n, i): WireNode => {
        const fields = rlpList(n, `neighbors.nodes[${i}]`, 4);
        return {
          ip: decodeIp(fields[0], `neighbors.nodes[${i}].ip`),
          udp: port(fields[1], `neighbors.nodes[${i}].udp`),
          tcp: port(fields[2], `neighbors.nodes[${i}].tcp`),
          publicKey: rlpBytes(fields[3], `neighbors.nodes[${i}].id`, 64).slice(),
        };
      });
      return {
        type: 'neighbors',
        nodes,
        expiration: expiration(items[1], 'neighbors.expiration'),
        rest: items.slice(2),
      };
    }
    case PACKET_TYPE.enrRequest: {
      const items = rlpList(data, 'enrRequest', 1);
      return { type: 'enrRequest', expiration: expiration(items[0], 'enrRequest.expiration'), rest: items.slice(1) };
    }
    case PACKET_TYPE.enrResponse: {
      const items = rlpList(data, 'enrResponse', 2);
      const replyToken = rlpBytes(items[0], 'enrResponse.replyToken', 32).slice();
      rlpList(items[1], 'enrResponse.record');
      // The decoder is canonical, so re-encoding the record list gives back its exact bytes.
      const record = Enr.decode(rlpEncode(items[1] as RlpInput), { verify: false });
      return { type: 'enrResponse', replyToken, record, expiration: 0, rest: items.slice(2) };
    }
    default:
      throw new Discv4PacketError('unknown-type', `unknown packet type ${type}`);
  }
}

/**
 * Decodes and authenticates a datagram: checks the size, the hash and the signature, and decodes the data
 * (extra list elements and trailing bytes ignored). Expiration is not checked here (the handler does, so
 * that vectors with old timestamps decode). Throws only a {@link Discv4PacketError}.
 * @example
 * const { packet, hash, id } = decodePacket(datagram)
 * if (packet.type === 'ping') reply(hash)
 */
export function decodePacket(bytes: Uint8Array): DecodedPacket {
  if (bytes.length > MAX_PACKET_SIZE) {
    throw new Discv4PacketError('too-large', `${bytes.length} bytes exceeds ${MAX_PACKET_SIZE}`);
  }
  if (bytes.length < HEAD_LENGTH + 1) throw new Discv4PacketError('too-small', `${bytes.length} bytes`);
  const hash = bytes.subarray(0, HASH_LENGTH);
  if (!equalBytes(hash, keccak256(bytes.subarray(HASH_LENGTH)))) {
    throw new Discv4PacketError('bad-hash', 'hash mismatch');
  }
  const signature = bytes.subarray(HASH_LENGTH, HASH_LENGTH + SIGNATURE_LENGTH);
  const body = bytes.subarray(HASH_LENGTH + SIGNATURE_LENGTH);
  let publicKey: Uint8Array;
  try {
    publicKey = recoverPublicKey(keccak256(body), signature);
  } catch (cause) {
    throw new Discv4PacketError('bad-signature', 'signature does not recover', { cause });
  }
  const type = body[0]!;
  if (type < PACKET_TYPE.ping || type > PACKET_TYPE.enrResponse) {
    throw new Discv4PacketError('unknown-type', `unknown packet type ${type}`);
  }
  let packet: Packet;
  try {
    packet = decodeData(type, rlpDecodePrefix(body.subarray(1)).value);
  } catch (cause) {
    if (cause instanceof Discv4PacketError) throw cause;
    throw malformed(cause instanceof Error ? cause.message : String(cause), cause);
  }
  return { packet, hash: hash.slice(), publicKey, id: NodeId.fromPublicKey(publicKey) };
}
