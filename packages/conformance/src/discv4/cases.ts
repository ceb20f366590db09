/**
 * The discv4 cases: geth's fifteen (cmd/devp2p/internal/v4test) and eight more from discv4.md and EIP-868, each
 * from fresh UDP sockets with a fresh key. Cases that expect silence end by checking the node still answers a
 * Ping, so a dead or unreachable node fails them instead of passing.
 */
import { bytesToHex, equalBytes, type RlpInput } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate, randomBytes } from '@devp2p/crypto';
import { MAX_PACKET_SIZE, PACKET_TYPE, type PongPacket, type WireEndpoint } from '@devp2p/discovery';
import { normalizeIp, parseIp } from '@devp2p/enode';
import { type CaseContext, type ConformanceCase, defineCase } from '../case.ts';
import {
  DISCV4_CASE_TIMEOUT_MS,
  MAX_FINDNODE_RESULTS,
  NEIGHBOR_HELPERS,
  NEIGHBORS_QUIET_MS,
  PAST_EXPIRATION_S,
  REPLY_TIMEOUT_MS,
} from '../constants.ts';
import {
  type Arrival,
  encodeRawPacket,
  PACKET_TYPE_OFFSET,
  PING_VERSION,
  rawEndpoint,
  signPacket,
  TARGET_REQUESTS,
  Tester,
  unixSeconds,
} from './tester.ts';

/** An endpoint no node is at (TEST-NET-1, RFC 5737), as geth's suite uses for "wrong" fields. */
const WRONG_ENDPOINT: WireEndpoint = { ip: '192.0.2.0', udp: 0, tcp: 0 };
/** A packet type discv4 does not define (geth's suite uses the same). */
const UNKNOWN_PACKET_TYPE = 66;
/** Extra list elements for the EIP-8 cases: an integer and a byte string, as geth's `pingWithJunk`. */
const JUNK_INTEGER = 42;
const JUNK_BYTES: Uint8Array = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2, 1);
/** Bytes after the RLP list (EIP-8: ignored). */
const TRAILING_BYTES: Uint8Array = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01, 0x02);
/** Bytes beyond the 1280-byte limit the oversize packet carries. */
const OVERSIZE_EXCESS = 120;
/** Length of a reply token (a packet hash). */
const TOKEN_LENGTH = 32;
/** Address the fake node of the unsolicited Neighbors has when we send from an unspecified address (geth's). */
const FAKE_NODE_IP = '1.2.3.4';
/** Its UDP and TCP port. */
const FAKE_NODE_PORT = 30303;
/** hash ‖ signature ‖ type: where the RLP data of a packet starts. */
const PACKET_HEAD = PACKET_TYPE_OFFSET + 1;
/** Bytes cut from the end of a valid Ping's data to make a truncated list. */
const TRUNCATED_BYTES = 4;

const DISCV4_MD = 'discv4.md';

function discv4Case(
  name: string,
  description: string,
  spec: string,
  body: (ctx: CaseContext) => Promise<string>,
): ConformanceCase {
  return defineCase({ name, suite: 'discv4', description, spec, timeoutMs: DISCV4_CASE_TIMEOUT_MS, body });
}

function pastExpiration(ctx: CaseContext): number {
  return unixSeconds(ctx) - PAST_EXPIRATION_S;
}

function randomTarget(): Uint8Array {
  return publicKeyFromPrivate(generatePrivateKey());
}

/** The raw bytes of an IP, for raw packets. */
function ipBytes(ip: string | undefined): Uint8Array {
  return (ip === undefined ? undefined : parseIp(ip)) ?? new Uint8Array(0);
}

/**
 * Waits for the Neighbors packets of one FindNode answer: the first within the reply timeout, each next one within
 * {@link NEIGHBORS_QUIET_MS} of the last. Pings are answered; anything else fails the case. Returns the packets.
 */
async function collectNeighbors(t: Tester): Promise<Arrival[]> {
  const packets: Arrival[] = [];
  let wait = REPLY_TIMEOUT_MS;
  t.ctx.step = 'waiting for Neighbors';
  for (;;) {
    const arrival = await t.next(wait);
    if (!arrival) break;
    const d = arrival.decoded;
    if (!d) t.ctx.fail(`expected Neighbors, got an undecodable datagram (${arrival.error})`);
    if (d.packet.type === 'ping') t.pong(d);
    if (TARGET_REQUESTS.includes(d.packet.type)) continue;
    if (d.packet.type !== 'neighbors') t.ctx.fail(`expected Neighbors, got ${d.packet.type}`);
    t.checkSigner(d, 'Neighbors');
    packets.push(arrival);
    wait = NEIGHBORS_QUIET_MS;
  }
  if (packets.length === 0) t.ctx.fail(`no Neighbors within ${REPLY_TIMEOUT_MS} ms of a FindNode from a bonded node`);
  return packets;
}

function neighborKeys(packets: readonly Arrival[]): Uint8Array[] {
  return packets
    .flatMap((a) => (a.decoded?.packet.type === 'neighbors' ? a.decoded.packet.nodes : []))
    .map((n) => n.publicKey);
}

const pingBasic = discv4Case(
  'Ping/Basic',
  'A Ping from an unknown node gets a Pong (reply token = the Ping hash, `to` = our address, not expired) and a Ping back.',
  `${DISCV4_MD} Ping Packet, Pong Packet; geth v4test BasicPing`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.awaitPingPong(t.ping());
    return 'Pong with the Ping hash and our endpoint, and a Ping back';
  },
);

const pingWrongTo = discv4Case(
  'Ping/WrongTo',
  'A Ping whose `to` is not the node still gets a Pong and a Ping back: `to` is informational.',
  `${DISCV4_MD} Ping Packet; geth v4test PingWrongTo`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.awaitPingPong(t.ping({ to: WRONG_ENDPOINT }));
    return 'Pong and Ping back despite the wrong `to`';
  },
);

const pingWrongFrom = discv4Case(
  'Ping/WrongFrom',
  'A Ping whose `from` is not the sender gets a Pong sent to the packet source, not to `from`.',
  `${DISCV4_MD} Ping Packet; geth v4test PingWrongFrom`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.awaitPingPong(t.ping({ from: WRONG_ENDPOINT }));
    return 'Pong and Ping back to the packet source despite the wrong `from`';
  },
);

const pingExtraData = discv4Case(
  'Ping/ExtraData',
  'A Ping with extra list elements after its fields (EIP-8) gets a Pong and a Ping back.',
  `${DISCV4_MD} Wire Protocol ("ignore any additional elements"), EIP-8; geth v4test PingExtraData`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    const to = t.targetEndpoint;
    const data: RlpInput = [
      PING_VERSION,
      rawEndpoint(ipBytes(t.endpoint.ip), t.endpoint.udp, 0),
      rawEndpoint(ipBytes(to.ip), to.udp, 0),
      t.expiration(),
      JUNK_INTEGER,
      JUNK_BYTES,
    ];
    const { bytes, hash } = encodeRawPacket(PACKET_TYPE.ping, data, t.key);
    t.sendRaw(bytes);
    await t.awaitPingPong(hash);
    return 'Pong and Ping back despite the extra list elements';
  },
);

const pingExtraDataWrongFrom = discv4Case(
  'Ping/ExtraDataWrongFrom',
  'A Ping with extra list elements, bytes after the list and a wrong `from` gets a Pong and a Ping back.',
  `${DISCV4_MD} Wire Protocol ("as well as any extra data after the list"), EIP-8; geth v4test PingExtraDataWrongFrom`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    const to = t.targetEndpoint;
    const data: RlpInput = [
      PING_VERSION,
      rawEndpoint(ipBytes(WRONG_ENDPOINT.ip), WRONG_ENDPOINT.udp, WRONG_ENDPOINT.tcp),
      rawEndpoint(ipBytes(to.ip), to.udp, 0),
      t.expiration(),
      JUNK_INTEGER,
      JUNK_BYTES,
    ];
    const { bytes, hash } = encodeRawPacket(PACKET_TYPE.ping, data, t.key, TRAILING_BYTES);
    t.sendRaw(bytes);
    await t.awaitPingPong(hash);
    return 'Pong and Ping back despite extra elements, trailing bytes and the wrong `from`';
  },
);

const pingPastExpiration = discv4Case(
  'Ping/PastExpiration',
  'A Ping whose expiration lies in the past gets no reply at all.',
  `${DISCV4_MD} Ping Packet ("packets containing a time stamp that lies in the past are expired"); geth v4test PingPastExpiration`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    t.ping({ expiration: pastExpiration(ctx) });
    await t.silence('no reply to an expired Ping', { allow: [] });
    await t.checkAlive();
    return 'no reply to the expired Ping; a valid one is answered';
  },
);

const pingWrongPacketType = discv4Case(
  'Ping/WrongPacketType',
  `A packet of an undefined type (${UNKNOWN_PACKET_TYPE}) gets no reply.`,
  `${DISCV4_MD} Wire Protocol ("valid packet types are listed below"); geth v4test WrongPacketType`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    const to = t.targetEndpoint;
    const data: RlpInput = [
      PING_VERSION,
      rawEndpoint(ipBytes(t.endpoint.ip), t.endpoint.udp, 0),
      rawEndpoint(ipBytes(to.ip), to.udp, 0),
      t.expiration(),
    ];
    t.sendRaw(encodeRawPacket(UNKNOWN_PACKET_TYPE, data, t.key).bytes);
    await t.silence('no reply to a packet of unknown type', { allow: [] });
    await t.checkAlive();
    return `no reply to packet type ${UNKNOWN_PACKET_TYPE}; a valid Ping is answered`;
  },
);

const bondThenPingWrongFrom = discv4Case(
  'Ping/BondThenPingWithWrongFrom',
  'After the endpoint proof, a Ping with a wrong `from` still gets a Pong: bonding does not make `from` matter.',
  `${DISCV4_MD} Ping Packet, Endpoint Proof; geth v4test BondThenPingWithWrongFrom`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.bond();
    const hash = t.ping({ from: WRONG_ENDPOINT });
    const pong = await t.expect('pong', 'a Pong to the second Ping');
    t.checkPong(pong, hash);
    return 'Pong to the bonded Ping with a wrong `from`';
  },
);

const replyFromTargetAddress = discv4Case(
  'Ping/ReplyFromTargetAddress',
  "The Pong (and the Ping back) come from the node's own UDP address, the one we sent to.",
  `${DISCV4_MD} Endpoint Proof (the proof binds a node id to the address packets come from)`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    const hash = t.ping();
    const want = `${normalizeIp(t.to.host) ?? t.to.host}:${t.to.port}`;
    let pong = false;
    let ping = false;
    ctx.step = 'waiting for a Pong and a Ping from the target';
    const deadline = ctx.clock.now() + REPLY_TIMEOUT_MS;
    while (!pong || !ping) {
      const left = deadline - ctx.clock.now();
      const arrival = left > 0 ? await t.next(left) : undefined;
      if (!arrival) ctx.fail(`no ${pong ? 'Ping' : 'Pong'} within ${REPLY_TIMEOUT_MS} ms`);
      const d = arrival.decoded;
      if (!d) continue;
      const from = `${normalizeIp(arrival.from.host) ?? arrival.from.host}:${arrival.from.port}`;
      if (from !== want) ctx.fail(`the ${d.packet.type} came from ${from}, not from the node's address ${want}`);
      if (d.packet.type === 'pong' && equalBytes((d.packet as PongPacket).replyToken, hash)) pong = true;
      if (d.packet.type === 'ping') {
        t.pong(d);
        ping = true;
      }
    }
    return `Pong and Ping both from ${want}`;
  },
);

const pongUnsolicited = discv4Case(
  'Pong/Unsolicited',
  'A Pong that answers no Ping of the node (an unbonded sender) gets no reply and is no endpoint proof: a FindNode after it is not answered.',
  `${DISCV4_MD} Pong Packet ("ignore unsolicited pong packets"), Endpoint Proof`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    t.send({ type: 'pong', to: t.targetEndpoint, replyToken: randomBytes(TOKEN_LENGTH), expiration: t.expiration() });
    await t.silence('no reply to an unsolicited Pong', { allow: [] });
    t.send({ type: 'findnode', target: randomTarget(), expiration: t.expiration() });
    await t.silence('no Neighbors after an unsolicited Pong', { answerPings: false });
    await t.checkAlive();
    return 'the unsolicited Pong was ignored and proved nothing';
  },
);

const pongBonded = discv4Case(
  'Pong/Bonded',
  "A bonded node's Ping gets a Pong carrying the node's current record sequence number (EIP-868 enr-seq), equal to the seq of the record its ENRResponse holds.",
  `${DISCV4_MD} Pong Packet ("enr-seq is the current ENR sequence number of the sender"), EIP-868`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.bond();
    t.send({ type: 'enrRequest', expiration: t.expiration() });
    const response = await t.expect('enrResponse', 'an ENRResponse');
    const seq = response.packet.record.seq;
    const hash = t.ping();
    const pong = await t.expect('pong', 'a Pong to the bonded Ping');
    const p = t.checkPong(pong, hash);
    if (p.enrSeq === undefined) ctx.fail('the Pong carries no enr-seq (EIP-868)');
    if (p.enrSeq !== seq) ctx.fail(`the Pong's enr-seq is ${p.enrSeq}, the record's seq is ${seq}`);
    return `Pong with enr-seq ${seq}, the record's`;
  },
);

const enrRequest = discv4Case(
  'ENRRequest',
  'After the endpoint proof, an ENRRequest gets an ENRResponse with the request hash and a valid record of the node signed by its key.',
  `${DISCV4_MD} ENRRequest Packet, ENRResponse Packet; EIP-868; geth v4test ENRRequest`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.bond();
    const hash = t.send({ type: 'enrRequest', expiration: t.expiration() });
    const response = await t.expect('enrResponse', 'an ENRResponse');
    const { replyToken, record } = response.packet;
    if (!equalBytes(replyToken, hash)) {
      ctx.fail(`ENRResponse request hash ${bytesToHex(replyToken)} is not the ENRRequest's ${bytesToHex(hash)}`);
    }
    if (!record.verify()) ctx.fail('the record in the ENRResponse does not verify');
    const id = record.nodeId;
    if (!id?.equals(ctx.target.id)) ctx.fail(`the record is of node ${id?.short() ?? '(none)'}, not of the target`);
    return `ENRResponse with the node's record (seq ${record.seq})`;
  },
);

const enrWithoutProof = discv4Case(
  'ENRRequest/WithoutEndpointProof',
  'An ENRRequest from a node that has not completed the endpoint proof gets no ENRResponse.',
  `${DISCV4_MD} ENRRequest Packet ("the sender of ENRRequest should have replied to a ping packet recently")`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    t.send({ type: 'enrRequest', expiration: t.expiration() });
    await t.silence('no ENRResponse without an endpoint proof', { answerPings: false });
    await t.checkAlive();
    return 'no ENRResponse before the endpoint proof';
  },
);

const enrPastExpiration = discv4Case(
  'ENRRequest/PastExpiration',
  'An ENRRequest whose expiration lies in the past gets no ENRResponse, even from a bonded node.',
  `${DISCV4_MD} ENRRequest Packet ("no reply should be sent if it refers to a time in the past")`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.bond();
    t.send({ type: 'enrRequest', expiration: pastExpiration(ctx) });
    await t.silence('no ENRResponse to an expired ENRRequest');
    await t.checkAlive();
    return 'no ENRResponse to the expired request';
  },
);

const findnodeWithoutProof = discv4Case(
  'Findnode/WithoutEndpointProof',
  'A FindNode from a node that has not completed the endpoint proof gets no Neighbors (a Ping to start the proof is allowed).',
  `${DISCV4_MD} FindNode Packet ("only be sent if the sender of FindNode has been verified"); geth v4test FindnodeWithoutEndpointProof`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    t.send({ type: 'findnode', target: randomTarget(), expiration: t.expiration() });
    await t.silence('no Neighbors without an endpoint proof', { answerPings: false });
    await t.checkAlive();
    return 'no Neighbors before the endpoint proof';
  },
);

const findnodeBasic = discv4Case(
  'Findnode/BasicFindnode',
  'After the endpoint proof, a FindNode gets Neighbors.',
  `${DISCV4_MD} FindNode Packet, Neighbors Packet; geth v4test BasicFindnode`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.bond();
    t.send({ type: 'findnode', target: randomTarget(), expiration: t.expiration() });
    const packets = await collectNeighbors(t);
    return `Neighbors: ${neighborKeys(packets).length} nodes in ${packets.length} packet(s)`;
  },
);

const findnodeUnsolicitedNeighbors = discv4Case(
  'Findnode/UnsolicitedNeighbors',
  'Nodes in a Neighbors packet the node did not ask for do not enter its table: a FindNode for such a node does not return it.',
  `${DISCV4_MD} Neighbors Packet ("the reply to FindNode"); geth v4test UnsolicitedNeighbors`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.bond();
    const fake = randomTarget();
    const ours = t.endpoint.ip;
    const ip = ours === undefined || ours === '0.0.0.0' || ours === '::' ? FAKE_NODE_IP : ours;
    t.send({
      type: 'neighbors',
      nodes: [{ ip, udp: FAKE_NODE_PORT, tcp: FAKE_NODE_PORT, publicKey: fake }],
      expiration: t.expiration(),
    });
    t.send({ type: 'findnode', target: fake, expiration: t.expiration() });
    const packets = await collectNeighbors(t);
    if (neighborKeys(packets).some((k) => equalBytes(k, fake))) {
      ctx.fail('the Neighbors answer holds the node from our unsolicited Neighbors packet');
    }
    return 'the unsolicited node was not returned';
  },
);

const findnodePastExpiration = discv4Case(
  'Findnode/PastExpiration',
  'A FindNode whose expiration lies in the past gets no Neighbors, even from a bonded node.',
  `${DISCV4_MD} Wire Protocol (expiration); geth v4test FindnodePastExpiration`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    await t.bond();
    t.send({ type: 'findnode', target: randomTarget(), expiration: pastExpiration(ctx) });
    await t.silence('no Neighbors to an expired FindNode');
    await t.checkAlive();
    return 'no Neighbors to the expired FindNode';
  },
);

const findnodeSizeLimit = discv4Case(
  'Findnode/NeighborsSizeLimit',
  `After ${NEIGHBOR_HELPERS} other nodes bond with it, a FindNode from a bonded node gets at most ${MAX_FINDNODE_RESULTS} nodes, split over Neighbors packets of at most ${MAX_PACKET_SIZE} bytes each, and at least one node.`,
  `${DISCV4_MD} Wire Protocol ("the maximum size of any packet is 1280 bytes"), FindNode Packet ("the closest 16 nodes")`,
  async (ctx: CaseContext) => {
    ctx.step = `bonding ${NEIGHBOR_HELPERS} nodes with the target`;
    const helpers = await Promise.all(Array.from({ length: NEIGHBOR_HELPERS }, () => Tester.open(ctx)));
    await Promise.all(helpers.map((h) => h.bond()));
    const t = await Tester.open(ctx);
    await t.bond();
    t.send({ type: 'findnode', target: randomTarget(), expiration: t.expiration() });
    // The helpers keep answering the target's Pings (revalidation) while the answer is read.
    const drains = helpers.map((h) => h.silence('helper traffic', { ms: REPLY_TIMEOUT_MS }));
    const packets = await collectNeighbors(t);
    await Promise.all(drains);
    for (const p of packets) {
      if (p.size > MAX_PACKET_SIZE) ctx.fail(`a Neighbors packet of ${p.size} bytes exceeds ${MAX_PACKET_SIZE}`);
    }
    const keys = neighborKeys(packets);
    if (keys.length > MAX_FINDNODE_RESULTS)
      ctx.fail(`${keys.length} nodes returned, more than ${MAX_FINDNODE_RESULTS}`);
    if (keys.length === 0) {
      ctx.fail(`no nodes returned although ${NEIGHBOR_HELPERS} nodes completed the endpoint proof with the target`);
    }
    const largest = Math.max(...packets.map((p) => p.size));
    return `${keys.length} nodes in ${packets.length} packet(s), the largest ${largest} bytes`;
  },
);

const amplificationInvalidPongHash = discv4Case(
  'Amplification/InvalidPongHash',
  'A Pong whose reply token is not the hash of the Ping it answers completes no endpoint proof: a FindNode after it gets no Neighbors.',
  `${DISCV4_MD} Endpoint Proof ("a valid Pong response with matching ping hash"); geth v4test FindnodeAmplificationInvalidPongHash`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    t.ping();
    let pinged = false;
    let ponged = false;
    ctx.step = 'waiting for a Pong and a Ping from the target';
    const deadline = ctx.clock.now() + REPLY_TIMEOUT_MS;
    while (!pinged || !ponged) {
      const left = deadline - ctx.clock.now();
      const arrival = left > 0 ? await t.next(left) : undefined;
      if (!arrival) ctx.fail(`no ${ponged ? 'Ping' : 'Pong'} within ${REPLY_TIMEOUT_MS} ms`);
      const d = arrival.decoded;
      if (d?.packet.type === 'ping') {
        t.pong(d, new Uint8Array(TOKEN_LENGTH));
        pinged = true;
      } else if (d?.packet.type === 'pong') {
        ponged = true;
      }
    }
    t.send({ type: 'findnode', target: randomTarget(), expiration: t.expiration() });
    await t.silence('no Neighbors after a Pong with a wrong reply token', { answerPings: false });
    await t.checkAlive();
    return 'the Pong with a zero reply token proved nothing';
  },
);

const amplificationWrongIp = discv4Case(
  'Amplification/WrongIP',
  'The endpoint proof holds for the address it was made from only: a FindNode with the same key from another IP gets no Neighbors.',
  `${DISCV4_MD} Endpoint Proof; geth v4test FindnodeAmplificationWrongIP`,
  async (ctx: CaseContext) => {
    const second = ctx.listen2;
    if (second === undefined) {
      ctx.fail('needs a second local IP address to send from (listen2 / --listen2)');
    }
    const t1 = await Tester.open(ctx);
    await t1.bond();
    const t2 = await Tester.open(ctx, second, t1.key);
    t2.send({ type: 'findnode', target: randomTarget(), expiration: t2.expiration() });
    await t2.silence(`no Neighbors to ${second}, where no endpoint proof was made`, { answerPings: false });
    await t2.checkAlive();
    return `no Neighbors to the bonded key at ${second}`;
  },
);

const oversizePacket = discv4Case(
  'Packet/Oversize',
  `A validly signed Ping of ${MAX_PACKET_SIZE + OVERSIZE_EXCESS} bytes (trailing bytes after its list) is above the ${MAX_PACKET_SIZE}-byte limit and gets no reply.`,
  `${DISCV4_MD} Wire Protocol ("the maximum size of any packet is 1280 bytes")`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    const to = t.targetEndpoint;
    const data: RlpInput = [
      PING_VERSION,
      rawEndpoint(ipBytes(t.endpoint.ip), t.endpoint.udp, 0),
      rawEndpoint(ipBytes(to.ip), to.udp, 0),
      t.expiration(),
    ];
    const head = encodeRawPacket(PACKET_TYPE.ping, data, t.key).bytes.length;
    const trailing = new Uint8Array(MAX_PACKET_SIZE + OVERSIZE_EXCESS - head);
    const { bytes } = encodeRawPacket(PACKET_TYPE.ping, data, t.key, trailing);
    t.sendRaw(bytes);
    await t.silence(`no reply to a ${bytes.length}-byte packet`, { allow: [] });
    await t.checkAlive();
    return `no reply to the ${bytes.length}-byte Ping; a valid one is answered`;
  },
);

const malformedPackets = discv4Case(
  'Packet/Malformed',
  'Packets that are not valid discv4 get no reply: a wrong hash, data that is not RLP, a truncated list, an endpoint that is not a list, a Ping with two of its four fields, no data at all, fewer bytes than a header.',
  `${DISCV4_MD} Wire Protocol (hash = keccak256(signature ‖ packet-type ‖ packet-data); packet-data is an RLP list)`,
  async (ctx: CaseContext) => {
    const t = await Tester.open(ctx);
    const to = t.targetEndpoint;
    const from = rawEndpoint(ipBytes(t.endpoint.ip), t.endpoint.udp, 0);
    const target = rawEndpoint(ipBytes(to.ip), to.udp, 0);
    const good = encodeRawPacket(PACKET_TYPE.ping, [PING_VERSION, from, target, t.expiration()], t.key).bytes;
    const badHash = good.slice();
    badHash[0] = badHash[0]! ^ 0xff;
    const truncatedBody = good.subarray(PACKET_HEAD, good.length - TRUNCATED_BYTES);
    const variants: Uint8Array[] = [
      badHash,
      rawWithBody(t, Uint8Array.of(0xff, 0x01)),
      rawWithBody(t, truncatedBody),
      encodeRawPacket(PACKET_TYPE.ping, [PING_VERSION, 'not an endpoint', target, t.expiration()], t.key).bytes,
      encodeRawPacket(PACKET_TYPE.ping, [PING_VERSION, from], t.key).bytes,
      rawWithBody(t, new Uint8Array(0)),
      randomBytes(PACKET_HEAD - 1),
    ];
    for (const bytes of variants) t.sendRaw(bytes);
    await t.silence('no reply to malformed packets', { allow: [] });
    await t.checkAlive();
    return `no reply to ${variants.length} malformed packets; a valid Ping is answered`;
  },
);

/** A correctly hashed and signed Ping whose data is `body` as given (not necessarily valid RLP). */
function rawWithBody(t: Tester, body: Uint8Array): Uint8Array {
  return signPacket(PACKET_TYPE.ping, body, t.key).bytes;
}

/**
 * The discv4 cases, in the order they run: geth's fifteen (cmd/devp2p/internal/v4test, same names) and eight more.
 * @example const results = await runCases(discv4Cases, parseNode('enode://…@127.0.0.1:30303'))
 */
export const discv4Cases: readonly ConformanceCase[] = [
  pingBasic,
  pingWrongTo,
  pingWrongFrom,
  pingExtraData,
  pingExtraDataWrongFrom,
  pingPastExpiration,
  pingWrongPacketType,
  bondThenPingWrongFrom,
  replyFromTargetAddress,
  pongUnsolicited,
  pongBonded,
  enrRequest,
  enrWithoutProof,
  enrPastExpiration,
  findnodeWithoutProof,
  findnodeBasic,
  findnodeUnsolicitedNeighbors,
  findnodePastExpiration,
  findnodeSizeLimit,
  amplificationInvalidPongHash,
  amplificationWrongIp,
  oversizePacket,
  malformedPackets,
];
