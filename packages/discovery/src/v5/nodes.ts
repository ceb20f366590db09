/**
 * FINDNODE and NODES (geth v5_udp.go `collectTableNodes`, `packNodes`, `verifyResponseNode`, `lookupDistances`):
 * which of our nodes answer a request, how they split into packets, and which records of an answer we believe.
 */
import { bytesToHex, equalBytes } from '@devp2p/core';
import { type Endpoint, type Enr, isLan, logDistance, type NetList, Node, type NodeId } from '@devp2p/enode';
import { BoundedMap } from '../bounded-map.ts';
import { HASH_BITS } from '../constants.ts';
import { checkRelayIp } from '../netutil.ts';
import type { Table } from '../table/table.ts';
import {
  FINDNODE_RESULT_LIMIT,
  LOOKUP_REQUEST_LIMIT,
  NODES_RESPONSE_SIZE_LIMIT,
  VERIFIED_RECORDS_LIMIT,
} from './constants.ts';
import type { Discv5Nodes } from './messages.ts';

/** Lowest UDP port a public node may announce (geth `errLowPort`); LAN nodes may use any. */
const MIN_PUBLIC_UDP_PORT = 1025;

/**
 * The distances a lookup for `target` asks `dest` for: their log distance and its neighbours, up to
 * {@link LOOKUP_REQUEST_LIMIT} (geth `lookupDistances`: 255 gives [255, 256, 254]).
 * @example lookupDistances(target, node.id) // [254, 255, 253]
 */
export function lookupDistances(target: NodeId, dest: NodeId): number[] {
  const td = logDistance(target, dest);
  const out = [td];
  for (let i = 1; out.length < LOOKUP_REQUEST_LIMIT && i <= HASH_BITS; i++) {
    if (td + i <= HASH_BITS) out.push(td + i);
    if (td - i > 0 && out.length < LOOKUP_REQUEST_LIMIT) out.push(td - i);
  }
  return out;
}

/**
 * What a FINDNODE from `requesterIp` gets: our own record for distance 0, else the live nodes of the table at
 * each distance asked (each once; over 256 skipped) that the requester may be told of (the relay rule) and that
 * have a signed record, at most {@link FINDNODE_RESULT_LIMIT} in all.
 * @example collectTableNodes(table, self, from.ip, [0, 256])
 */
export function collectTableNodes(
  table: Table,
  self: Node,
  requesterIp: string,
  distances: readonly number[],
  limit: number = FINDNODE_RESULT_LIMIT,
): Node[] {
  const out: Node[] = [];
  const processed = new Set<number>();
  for (const distance of distances) {
    if (processed.has(distance) || distance > HASH_BITS) continue;
    processed.add(distance);
    const candidates = distance === 0 ? [self] : table.nodesAtDistance(distance, true);
    for (const node of candidates) {
      if (!node.record.signed) continue;
      if (distance !== 0 && checkRelayIp(requesterIp, node.ip) !== undefined) continue;
      out.push(node);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/**
 * The NODES messages answering a FINDNODE: records packed up to {@link NODES_RESPONSE_SIZE_LIMIT} bytes each (so
 * each packet stays within 1280 bytes), every message naming their number as `total`; one empty message when
 * there is nothing to send.
 * @example for (const message of packNodes(request.requestId, nodes)) send(message)
 */
export function packNodes(requestId: Uint8Array, nodes: readonly Node[]): Discv5Nodes[] {
  const batches: Enr[][] = [];
  let batch: Enr[] = [];
  let size = 0;
  for (const node of nodes) {
    const record = node.record;
    if (batch.length > 0 && size + record.size > NODES_RESPONSE_SIZE_LIMIT) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(record);
    size += record.size;
  }
  if (batch.length > 0 || batches.length === 0) batches.push(batch);
  return batches.map((records) => ({ type: 'nodes', requestId, total: batches.length, records }));
}

/**
 * How to judge the records of one NODES answer.
 * @example const check: ResponseCheck = { sender: to, responderId: node.id, distances, netRestrict, seen: new Set() }
 */
export interface ResponseCheck {
  /** Where the answer came from (its address decides which addresses it may tell us of). */
  readonly sender: Endpoint;
  /** Who answered: records must lie at a requested distance from it. */
  readonly responderId: NodeId;
  /** The distances we asked for. */
  readonly distances: readonly number[];
  readonly netRestrict: NetList | undefined;
  /** Ids already taken from this answer (a record repeated is dropped). */
  readonly seen: Set<string>;
  /** Records verified before, so an identical one is not verified again (default: verify every record). */
  readonly verified?: VerifiedRecords | undefined;
}

/**
 * The nodes of the last {@link VERIFIED_RECORDS_LIMIT} records whose signature verified, by signature: a record
 * equal byte for byte to one of them is the same signed record, so its node is reused without a second
 * secp256k1 verification.
 * @example const node = verified.fromRecord(record) // Node.fromRecord, once per distinct record
 */
export class VerifiedRecords {
  readonly #nodes = new BoundedMap<Node>(VERIFIED_RECORDS_LIMIT);

  /** {@link Node.fromRecord}, or the node of an identical record verified before. Throws as Node.fromRecord does. */
  fromRecord(record: Enr): Node {
    const key = record.signed ? bytesToHex(record.signature) : undefined;
    const known = key === undefined ? undefined : this.#nodes.get(key);
    if (known && equalBytes(known.record.encode(), record.encode())) return known;
    const node = Node.fromRecord(record);
    if (key !== undefined) this.#nodes.set(key, node);
    return node;
  }
}

/**
 * The node of a NODES record when it holds up (geth `verifyResponseNode`), else why not: a valid "v4" signature,
 * an address the sender may relay (no loopback from a remote host, no LAN address from a public one, no special
 * network), inside NetRestrict, a UDP port above 1024 unless on a LAN, at a distance we asked for, not repeated.
 * @example const node = verifyResponseRecord(record, check); if (typeof node === 'string') log(node)
 */
export function verifyResponseRecord(record: Enr, check: ResponseCheck): Node | string {
  let node: Node;
  try {
    node = check.verified ? check.verified.fromRecord(record) : Node.fromRecord(record);
  } catch (err) {
    return `invalid record: ${(err as Error).message}`;
  }
  const relay = checkRelayIp(check.sender.ip, node.ip);
  if (relay !== undefined) return relay;
  if (check.netRestrict && !check.netRestrict.contains(node.ip!)) return 'not in NetRestrict';
  if (node.udp === 0 || (node.udp < MIN_PUBLIC_UDP_PORT && !isLan(node.ip!))) return `low UDP port ${node.udp}`;
  const distance = logDistance(check.responderId, node.id);
  if (!check.distances.includes(distance)) return `distance ${distance} was not requested`;
  if (check.seen.has(node.id.hex)) return 'duplicate record';
  check.seen.add(node.id.hex);
  return node;
}
