/**
 * discv5 protocol messages (discv5-wire.md "Protocol Messages"): `message-type ‖ rlp(message-data)`, the plaintext
 * that message and handshake packets encrypt. PING, PONG, FINDNODE, NODES, TALKREQ and TALKRESP.
 *
 * Decoding is strict, as geth's: the exact number of list elements, canonical integers, no trailing bytes.
 */
import {
  concatBytes,
  type RlpInput,
  type RlpValue,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpDecodePrefix,
  rlpEncode,
  rlpList,
  rlpUint,
} from '@devp2p/core';
import { Enr, EnrError, formatIp, isIPv4MappedIp, parseIp } from '@devp2p/enode';
import { MAX_FINDNODE_DISTANCE, MAX_NODES_TOTAL, MAX_REQUEST_ID_SIZE } from './constants.ts';
import { Discv5MessageError } from './errors.ts';

/**
 * Message type bytes (the first plaintext byte).
 * @example if (plaintext[0] === DISCV5_MESSAGE_TYPE.ping) ...
 */
export const DISCV5_MESSAGE_TYPE: {
  readonly ping: 1;
  readonly pong: 2;
  readonly findnode: 3;
  readonly nodes: 4;
  readonly talkreq: 5;
  readonly talkresp: 6;
} = { ping: 1, pong: 2, findnode: 3, nodes: 4, talkreq: 5, talkresp: 6 };

/** Fields every message has. */
interface MessageBase {
  /** Chosen by the requester, mirrored by the response: a byte string of at most 8 bytes. */
  readonly requestId: Uint8Array;
}

/** PING (0x01): liveness check, carrying the sender's ENR sequence number. */
export interface Discv5Ping extends MessageBase {
  readonly type: 'ping';
  /** The sender's current record sequence number (uint64). */
  readonly enrSeq: bigint;
}

/** PONG (0x02): the reply to PING, telling the pinger the address its packet came from. */
export interface Discv5Pong extends MessageBase {
  readonly type: 'pong';
  /** The sender's current record sequence number (uint64). */
  readonly enrSeq: bigint;
  /** The recipient's IP as the sender saw it (canonical text; sent as 4 or 16 bytes). */
  readonly ip: string;
  /** The recipient's UDP port as the sender saw it. */
  readonly port: number;
}

/** FINDNODE (0x03): asks for nodes at the given log2 distances (0..256) from the recipient. */
export interface Discv5FindNode extends MessageBase {
  readonly type: 'findnode';
  readonly distances: readonly number[];
}

/** NODES (0x04): one of `total` responses to FINDNODE, carrying node records. */
export interface Discv5Nodes extends MessageBase {
  readonly type: 'nodes';
  /** How many NODES messages answer the request in all (0..255). */
  readonly total: number;
  /**
   * The records. The decoder checks their structure only, not their signatures: verify each (`record.verify()`)
   * and its distance before use, as geth does per node.
   */
  readonly records: readonly Enr[];
}

/** TALKREQ (0x05): an application-level request to the named protocol. */
export interface Discv5TalkReq extends MessageBase {
  readonly type: 'talkreq';
  readonly protocol: Uint8Array;
  readonly request: Uint8Array;
}

/** TALKRESP (0x06): the reply to TALKREQ (empty when the protocol is unknown to the responder). */
export interface Discv5TalkResp extends MessageBase {
  readonly type: 'talkresp';
  readonly response: Uint8Array;
}

/**
 * Any discv5 message.
 * @example const ping: Discv5Message = { type: 'ping', requestId: Uint8Array.of(1), enrSeq: 5n }
 */
export type Discv5Message = Discv5Ping | Discv5Pong | Discv5FindNode | Discv5Nodes | Discv5TalkReq | Discv5TalkResp;

const UINT64_MAX = (1n << 64n) - 1n;

function checkRequestId(requestId: Uint8Array): Uint8Array {
  if (!(requestId instanceof Uint8Array)) throw new TypeError('discv5: requestId must be a Uint8Array');
  if (requestId.length > MAX_REQUEST_ID_SIZE) {
    throw new RangeError(`discv5: requestId of ${requestId.length} bytes exceeds ${MAX_REQUEST_ID_SIZE}`);
  }
  return requestId;
}

function checkUint64(value: bigint, label: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) {
    throw new RangeError(`discv5: ${label} must be a bigint in 0..2^64-1`);
  }
  return value;
}

function checkInteger(value: number, label: string, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`discv5: ${label} must be an integer in 0..${max}, got ${value}`);
  }
  return value;
}

function checkBytes(value: Uint8Array, label: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`discv5: ${label} must be a Uint8Array`);
  return value;
}

function encodeIp(ip: string): Uint8Array {
  let bytes = parseIp(ip);
  if (!bytes) throw new RangeError(`discv5: invalid IP address ${ip}`);
  if (isIPv4MappedIp(bytes)) bytes = bytes.subarray(12);
  return bytes;
}

function messageData(message: Discv5Message): RlpInput {
  const requestId = checkRequestId(message.requestId);
  switch (message.type) {
    case 'ping':
      return [requestId, checkUint64(message.enrSeq, 'ping.enrSeq')];
    case 'pong':
      return [
        requestId,
        checkUint64(message.enrSeq, 'pong.enrSeq'),
        encodeIp(message.ip),
        checkInteger(message.port, 'pong.port', 0xffff),
      ];
    case 'findnode':
      return [requestId, message.distances.map((d) => checkInteger(d, 'findnode distance', MAX_FINDNODE_DISTANCE))];
    case 'nodes':
      return [
        requestId,
        checkInteger(message.total, 'nodes.total', MAX_NODES_TOTAL),
        message.records.map((r) => rlpDecodePrefix(r.encode()).value),
      ];
    case 'talkreq':
      return [
        requestId,
        checkBytes(message.protocol, 'talkreq.protocol'),
        checkBytes(message.request, 'talkreq.request'),
      ];
    case 'talkresp':
      return [requestId, checkBytes(message.response, 'talkresp.response')];
    default:
      throw new TypeError(`discv5: unknown message type ${(message as { type: unknown }).type}`);
  }
}

/**
 * Encodes a message as the plaintext a packet encrypts: `message-type ‖ rlp(message-data)`. Throws a RangeError
 * or TypeError for values the wire cannot carry (a request id over 8 bytes, an enr-seq beyond 64 bits, a
 * distance over 256, a `total` over 255, an invalid IP, a port over 65535).
 * @example const plaintext = encodeDiscv5Message({ type: 'ping', requestId: Uint8Array.of(0, 0, 0, 1), enrSeq: 2n })
 */
export function encodeDiscv5Message(message: Discv5Message): Uint8Array {
  return concatBytes(Uint8Array.of(DISCV5_MESSAGE_TYPE[message.type]), rlpEncode(messageData(message)));
}

function malformed(message: string, cause?: unknown): Discv5MessageError {
  return new Discv5MessageError('malformed', message, { cause });
}

/** The list `value` with exactly `length` elements. */
function exactList(value: RlpValue, label: string, length: number): RlpValue[] {
  const items = rlpList(value, label);
  if (items.length !== length) throw malformed(`${label}: expected ${length} elements, got ${items.length}`);
  return items;
}

function decodeRequestId(value: RlpValue | undefined, label: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new Discv5MessageError('bad-request-id', `${label}.requestId: expected a byte string`);
  }
  if (value.length > MAX_REQUEST_ID_SIZE) {
    throw new Discv5MessageError(
      'bad-request-id',
      `${label}.requestId: ${value.length} bytes exceeds ${MAX_REQUEST_ID_SIZE}`,
    );
  }
  return value.slice();
}

function boundedUint(value: RlpValue | undefined, label: string, max: number): number {
  const n = rlpUint(value, label);
  if (n > max) throw malformed(`${label}: ${n} exceeds ${max}`);
  return n;
}

function decodeIp(value: RlpValue | undefined, label: string): string {
  const bytes = rlpBytes(value, label);
  if (bytes.length !== 4 && bytes.length !== 16) throw malformed(`${label}: ${bytes.length} bytes, want 4 or 16`);
  return formatIp(bytes);
}

function decodeRecord(value: RlpValue, label: string): Enr {
  if (!Array.isArray(value)) throw new Discv5MessageError('bad-record', `${label}: expected a list`);
  try {
    // The RLP decoder is canonical, so re-encoding the list gives back the record's exact bytes.
    return Enr.decode(rlpEncode(value), { verify: false });
  } catch (cause) {
    if (cause instanceof EnrError) throw new Discv5MessageError('bad-record', `${label}: ${cause.message}`, { cause });
    throw cause;
  }
}

function decodeData(type: number, data: RlpValue): Discv5Message {
  switch (type) {
    case DISCV5_MESSAGE_TYPE.ping: {
      const items = exactList(data, 'ping', 2);
      return {
        type: 'ping',
        requestId: decodeRequestId(items[0], 'ping'),
        enrSeq: rlpBigUint(items[1], 'ping.enrSeq', 8),
      };
    }
    case DISCV5_MESSAGE_TYPE.pong: {
      const items = exactList(data, 'pong', 4);
      return {
        type: 'pong',
        requestId: decodeRequestId(items[0], 'pong'),
        enrSeq: rlpBigUint(items[1], 'pong.enrSeq', 8),
        ip: decodeIp(items[2], 'pong.ip'),
        port: boundedUint(items[3], 'pong.port', 0xffff),
      };
    }
    case DISCV5_MESSAGE_TYPE.findnode: {
      const items = exactList(data, 'findnode', 2);
      const requestId = decodeRequestId(items[0], 'findnode');
      const distances = rlpList(items[1], 'findnode.distances').map((d, i) =>
        boundedUint(d, `findnode.distances[${i}]`, MAX_FINDNODE_DISTANCE),
      );
      return { type: 'findnode', requestId, distances };
    }
    case DISCV5_MESSAGE_TYPE.nodes: {
      const items = exactList(data, 'nodes', 3);
      const requestId = decodeRequestId(items[0], 'nodes');
      const total = boundedUint(items[1], 'nodes.total', MAX_NODES_TOTAL);
      const records = rlpList(items[2], 'nodes.records').map((r, i) => decodeRecord(r, `nodes.records[${i}]`));
      return { type: 'nodes', requestId, total, records };
    }
    case DISCV5_MESSAGE_TYPE.talkreq: {
      const items = exactList(data, 'talkreq', 3);
      return {
        type: 'talkreq',
        requestId: decodeRequestId(items[0], 'talkreq'),
        protocol: rlpBytes(items[1], 'talkreq.protocol').slice(),
        request: rlpBytes(items[2], 'talkreq.request').slice(),
      };
    }
    case DISCV5_MESSAGE_TYPE.talkresp: {
      const items = exactList(data, 'talkresp', 2);
      return {
        type: 'talkresp',
        requestId: decodeRequestId(items[0], 'talkresp'),
        response: rlpBytes(items[1], 'talkresp.response').slice(),
      };
    }
    default:
      throw new Discv5MessageError('unknown-type', `unknown message type ${type}`);
  }
}

/**
 * Decodes a decrypted message plaintext (`message-type ‖ rlp(message-data)`). Strict: the exact element count,
 * canonical integers, request ids of at most 8 bytes, no trailing bytes. NODES records are checked for
 * structure, not signature (see {@link Discv5Nodes.records}). Throws only a {@link Discv5MessageError}.
 * @example const message = decodeDiscv5Message(plaintext); if (message.type === 'ping') replyPong(message.requestId)
 */
export function decodeDiscv5Message(plaintext: Uint8Array): Discv5Message {
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('discv5: expected a Uint8Array');
  const type = plaintext[0];
  if (type === undefined) throw new Discv5MessageError('empty', 'no message type');
  if (type < DISCV5_MESSAGE_TYPE.ping || type > DISCV5_MESSAGE_TYPE.talkresp) {
    throw new Discv5MessageError('unknown-type', `unknown message type ${type}`);
  }
  try {
    return decodeData(type, rlpDecode(plaintext.subarray(1)));
  } catch (cause) {
    if (cause instanceof Discv5MessageError) throw cause;
    throw malformed(cause instanceof Error ? cause.message : String(cause), cause);
  }
}
