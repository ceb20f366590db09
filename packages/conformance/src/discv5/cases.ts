/**
 * The discv5 cases: geth's seven (cmd/devp2p/internal/v5test, same names) and four more from discv5-wire.md and
 * discv5-theory.md, each from fresh UDP sockets with a fresh key. Cases that expect silence end by checking the
 * node still answers a PING, so a dead node fails them instead of passing.
 */
import { bytesToHex, concatBytes, equalBytes, rlpEncode, utf8ToBytes } from '@devp2p/core';
import { randomBytes } from '@devp2p/crypto';
import { DISCV5_MAX_PACKET_SIZE, DISCV5_MESSAGE_TYPE, MAX_REQUEST_ID_SIZE } from '@devp2p/discovery';
import { type Enr, logDistance } from '@devp2p/enode';
import { type CaseContext, type ConformanceCase, defineCase } from '../case.ts';
import {
  DISCV5_BYSTANDERS,
  DISCV5_CASE_TIMEOUT_MS,
  DISCV5_FINDNODE_RETRY_MS,
  DISCV5_SPLIT_BYSTANDERS,
  DISCV5_TABLE_CASE_TIMEOUT_MS,
  SILENCE_MS,
} from '../constants.ts';
import { V5Tester } from './tester.ts';

const WIRE_MD = 'discv5-wire.md';
const THEORY_MD = 'discv5-theory.md';
/** The protocol of the TALKREQ case: one no node serves (geth's suite uses the same). */
const UNKNOWN_TALK_PROTOCOL = 'test-protocol';
/** Bystanders that handshake with the node at once: below its per-IP challenge limit (16 in ours). */
const BYSTANDER_BATCH = 4;

function discv5Case(
  name: string,
  description: string,
  spec: string,
  body: (ctx: CaseContext) => Promise<string>,
  timeoutMs: number = DISCV5_CASE_TIMEOUT_MS,
): ConformanceCase {
  return defineCase({ name, suite: 'discv5', description, spec, timeoutMs, body });
}

const ping = discv5Case(
  'Ping',
  'A PING from an unknown node (after the handshake the node asks for) gets a PONG with the request id and the address the PING came from.',
  `${WIRE_MD} PING Request, PONG Response; geth v5test Ping`,
  async (ctx: CaseContext) => {
    const t = await V5Tester.open(ctx);
    const pong = await t.ping();
    return `PONG with the request id and our address ${pong.ip}:${pong.port}`;
  },
);

const pingMaxRequestId = discv5Case(
  'PingMaxRequestID',
  `A PING with a request id of ${MAX_REQUEST_ID_SIZE} bytes, the most the spec allows, gets a PONG echoing all ${MAX_REQUEST_ID_SIZE} bytes.`,
  `${WIRE_MD} Protocol Messages ("request-id … RLP byte array of length <= 8 bytes")`,
  async (ctx: CaseContext) => {
    const t = await V5Tester.open(ctx);
    const requestId = concatBytes(Uint8Array.of(0xff), randomBytes(MAX_REQUEST_ID_SIZE - 1));
    await t.ping(requestId);
    return `PONG echoing the ${MAX_REQUEST_ID_SIZE}-byte request id ${bytesToHex(requestId)}`;
  },
);

const pingLargeRequestId = discv5Case(
  'PingLargeRequestID',
  `A PING whose request id is ${MAX_REQUEST_ID_SIZE + 1} bytes, one more than allowed, gets no PONG; a valid PING afterwards does.`,
  `${WIRE_MD} Protocol Messages ("request-id … length <= 8 bytes"); geth v5test PingLargeRequestID`,
  async (ctx: CaseContext) => {
    const t = await V5Tester.open(ctx);
    // The encoder refuses such an id, so the plaintext is made here: message-type ‖ rlp([request-id, enr-seq]).
    const requestId = new Uint8Array(MAX_REQUEST_ID_SIZE + 1).fill(1);
    const plaintext = concatBytes(Uint8Array.of(DISCV5_MESSAGE_TYPE.ping), rlpEncode([requestId, t.record.seq]));
    t.send(plaintext);
    const challenge = await t.expectWhoareyou('a WHOAREYOU for the PING');
    t.handshake(challenge, plaintext);
    await t.silence(`no PONG to a ${requestId.length}-byte request id`, SILENCE_MS, true);
    await t.ping();
    return `no PONG to the ${requestId.length}-byte request id; a valid PING is answered`;
  },
);

const pingMultiIp = discv5Case(
  'PingMultiIP',
  'Session keys belong to one address: a PING under the keys of a session made from another IP is challenged with WHOAREYOU, and answered once that address has its own handshake; the first address is then challenged in turn.',
  `${THEORY_MD} Sessions ("session keys … tied to the IP address and UDP port"); geth v5test PingMultiIP`,
  async (ctx: CaseContext) => {
    const second = ctx.listen2;
    if (second === undefined) ctx.fail('needs a second local IP address to send from (listen2 / --listen2)');
    const t1 = await V5Tester.open(ctx);
    await t1.ping();
    const t2 = await V5Tester.open(ctx, { host: second, key: t1.key });
    t2.session = t1.session;
    const ping2 = { type: 'ping', requestId: t2.nextRequestId(), enrSeq: t2.record.seq } as const;
    t2.send(ping2);
    const challenge = await t2.expectWhoareyou(`a WHOAREYOU for the PING from ${second} under the keys of another IP`);
    const { message } = await t2.response(t2.handshake(challenge, ping2), ping2, 'a PONG after the handshake');
    if (message.type !== 'pong') ctx.fail(`expected a PONG, got ${message.type.toUpperCase()}`);
    t2.checkPong(message, ping2.requestId);
    t1.session = t2.session;
    t1.send({ type: 'ping', requestId: t1.nextRequestId(), enrSeq: t1.record.seq });
    await t1.expectWhoareyou(`a WHOAREYOU for the PING from ${t1.address.ip} under the keys of ${second}`);
    return `challenged at ${second} and again at ${t1.address.ip} for the other address's keys`;
  },
);

const handshakeResend = discv5Case(
  'HandshakeResend',
  'A second packet before the handshake is answered with the same WHOAREYOU, byte for byte (the nonce of the first packet, the same challenge); a handshake answering it then gets the PONG.',
  `${THEORY_MD} Handshake Steps; ${WIRE_MD} WHOAREYOU Packet; geth v5test HandshakeResend`,
  async (ctx: CaseContext) => {
    const t = await V5Tester.open(ctx);
    const ping1 = { type: 'ping', requestId: t.nextRequestId(), enrSeq: t.record.seq } as const;
    const nonce1 = t.send(ping1);
    const first = await t.expectWhoareyou('a WHOAREYOU for the first PING');
    if (!equalBytes(first.nonce, nonce1)) {
      ctx.fail(`the WHOAREYOU carries nonce ${bytesToHex(first.nonce)}, the PING's is ${bytesToHex(nonce1)}`);
    }
    t.send({ type: 'ping', requestId: t.nextRequestId(), enrSeq: t.record.seq });
    const second = await t.expectWhoareyou('the WHOAREYOU again for the second PING');
    if (!equalBytes(second.nonce, first.nonce)) {
      ctx.fail(`the second WHOAREYOU carries nonce ${bytesToHex(second.nonce)}, not the first's ${bytesToHex(nonce1)}`);
    }
    if (!equalBytes(second.headerData, first.headerData)) {
      ctx.fail('the second WHOAREYOU is a new challenge, not the first one again');
    }
    const { message } = await t.response(t.handshake(second, ping1), ping1, 'a PONG after the handshake');
    if (message.type !== 'pong') ctx.fail(`expected a PONG, got ${message.type.toUpperCase()}`);
    t.checkPong(message, ping1.requestId);
    return 'the same WHOAREYOU again, and a PONG to the handshake answering it';
  },
);

const talkRequest = discv5Case(
  'TalkRequest',
  `A TALKREQ for a protocol the node does not serve ("${UNKNOWN_TALK_PROTOCOL}") gets an empty TALKRESP with the request id, also when the request id is empty.`,
  `${WIRE_MD} TALKREQ Request, TALKRESP Response ("if the protocol is unknown … respond with an empty TALKRESP"); geth v5test TalkRequest`,
  async (ctx: CaseContext) => {
    const t = await V5Tester.open(ctx);
    for (const requestId of [t.nextRequestId(), new Uint8Array(0)]) {
      const request = {
        type: 'talkreq',
        requestId,
        protocol: utf8ToBytes(UNKNOWN_TALK_PROTOCOL),
        request: utf8ToBytes('ping'),
      } as const;
      const { message } = await t.request(request, 'a TALKRESP');
      if (message.type !== 'talkresp') ctx.fail(`expected a TALKRESP, got ${message.type.toUpperCase()}`);
      if (!equalBytes(message.requestId, requestId)) {
        ctx.fail(`TALKRESP request id ${bytesToHex(message.requestId)}, the TALKREQ's is ${bytesToHex(requestId)}`);
      }
      if (message.response.length > 0) {
        ctx.fail(`TALKRESP to an unknown protocol carries ${message.response.length} bytes, not none`);
      }
    }
    return 'empty TALKRESPs with the request ids (4 bytes, and empty)';
  },
);

const findnodeZeroDistance = discv5Case(
  'FindnodeZeroDistance',
  "A FINDNODE for distance 0 gets one NODES packet holding exactly one record: the node's own, signed by its key.",
  `${WIRE_MD} FINDNODE Request ("distance 0 … the recipient's own record"); geth v5test FindnodeZeroDistance`,
  async (ctx: CaseContext) => {
    const t = await V5Tester.open(ctx);
    const { records } = await t.findnode([0]);
    if (records.length !== 1) ctx.fail(`${records.length} records for distance 0, want exactly one`);
    const id = records[0]!.nodeId;
    if (!id?.equals(t.targetId)) ctx.fail(`the record is of ${id?.short()}, not of the node`);
    return `the node's own record (seq ${records[0]!.seq})`;
  },
);

const staleRecord = discv5Case(
  'PingStaleENR',
  "When our copy of the node's record may be old: the PONG's enr-seq is not below the record we were given, and a FINDNODE for distance 0 returns the record with exactly that sequence number.",
  `${WIRE_MD} PING Request, PONG Response ("enr-seq is the current ENR sequence number of the sender"), FINDNODE Request`,
  async (ctx: CaseContext) => {
    const known = ctx.target.seq;
    const t = await V5Tester.open(ctx);
    const pong = await t.ping();
    if (pong.enrSeq < known) ctx.fail(`PONG enr-seq ${pong.enrSeq} is below the ${known} of the record we were given`);
    const { records } = await t.findnode([0]);
    const record = records[0];
    if (records.length !== 1 || !record?.nodeId?.equals(t.targetId)) ctx.fail('no single own record for distance 0');
    if (record.seq !== pong.enrSeq)
      ctx.fail(`PONG enr-seq ${pong.enrSeq}, its record for distance 0 has seq ${record.seq}`);
    return `PONG enr-seq ${pong.enrSeq} (we knew ${known}), the seq of the record it serves`;
  },
);

/**
 * Opens `count` bystanders: testers whose records name their sockets, each a handshake with the node (a PING, a
 * few at a time) and then answering the node's requests until the case ends. Returns their records.
 */
async function bystanders(ctx: CaseContext, count: number): Promise<Enr[]> {
  ctx.step = `introducing ${count} bystanders to the node`;
  const testers: V5Tester[] = [];
  for (let i = 0; i < count; i += BYSTANDER_BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(BYSTANDER_BATCH, count - i) }, () => V5Tester.open(ctx, { endpoint: true })),
    );
    await Promise.all(batch.map((b) => b.ping()));
    testers.push(...batch);
  }
  const stops = testers.map((b) => b.serve());
  ctx.defer(() => Promise.all(stops.map((stop) => stop())));
  return testers.map((b) => b.record);
}

/** The log distances of `records` from the node, each once. */
function distancesOf(records: readonly Enr[], t: V5Tester): number[] {
  return [...new Set(records.map((r) => logDistance(r.nodeId!, t.targetId)))];
}

/** A FINDNODE answer, checked ({@link V5Tester.findnode}). */
type Answer = Awaited<ReturnType<V5Tester['findnode']>>;

/**
 * Asks the node for `records`' distances until an answer is `enough` (every DISCV5_FINDNODE_RETRY_MS while the
 * node has not taken the bystanders in yet; the case's deadline ends it), checking every answer on the way.
 */
async function askUntil(
  ctx: CaseContext,
  t: V5Tester,
  records: readonly Enr[],
  enough: (answer: Answer) => string | undefined,
): Promise<Answer> {
  const distances = distancesOf(records, t);
  let what = 'NODES';
  for (;;) {
    const answer = await t.findnode(distances, what);
    const missing = enough(answer);
    if (missing === undefined) return answer;
    what = `NODES again (in the last answer ${missing})`;
    ctx.step = `asking again: ${missing}`;
    await ctx.sleep(DISCV5_FINDNODE_RETRY_MS);
  }
}

/** Undefined when `answer` holds every record of `records`, else how many it lacks. */
function holdsAll(records: readonly Enr[]): (answer: Answer) => string | undefined {
  return (answer) => {
    const found = new Set(answer.records.map((r) => r.nodeId!.hex));
    const missing = records.filter((r) => !found.has(r.nodeId!.hex)).length;
    return missing === 0 ? undefined : `${missing} of ${records.length} bystanders not yet returned`;
  };
}

/** Undefined when `answer`'s records are more bytes than one packet holds, else how many bytes they are. */
function overOnePacket(answer: Answer): string | undefined {
  const bytes = answer.records.reduce((sum, r) => sum + r.size, 0);
  return bytes > DISCV5_MAX_PACKET_SIZE ? undefined : `the answer's records are ${bytes} bytes, one packet holds them`;
}

const findnodeResults = discv5Case(
  'FindnodeResults',
  `After ${DISCV5_BYSTANDERS} bystanders (their records name their address) handshake with the node and answer its requests, a FINDNODE for their distances returns every one of them, each record verifiable and at a requested distance.`,
  `${WIRE_MD} FINDNODE Request, NODES Response; ${THEORY_MD} Node Table; geth v5test FindnodeResults`,
  async (ctx: CaseContext) => {
    const records = await bystanders(ctx, DISCV5_BYSTANDERS);
    const t = await V5Tester.open(ctx);
    const { packets } = await askUntil(ctx, t, records, holdsAll(records));
    return `all ${records.length} bystanders returned at distances ${distancesOf(records, t)} in ${packets.length} packet(s)`;
  },
  DISCV5_TABLE_CASE_TIMEOUT_MS,
);

const findnodeMultiplePackets = discv5Case(
  'FindnodeMultiplePackets',
  `After ${DISCV5_SPLIT_BYSTANDERS} bystanders handshake with the node, a FINDNODE answer whose records are more than one packet carries comes in several NODES packets: each within ${DISCV5_MAX_PACKET_SIZE} bytes, all with the same total, exactly that many.`,
  `${WIRE_MD} NODES Response ("total … the number of responses"), UDP Communication (1280-byte limit)`,
  async (ctx: CaseContext) => {
    const records = await bystanders(ctx, DISCV5_SPLIT_BYSTANDERS);
    const t = await V5Tester.open(ctx);
    const answer = await askUntil(ctx, t, records, overOnePacket);
    const { packets } = answer;
    // Records of more than 1280 bytes in all, and no packet above 1280 (findnode checked): a split answer.
    const largest = Math.max(...packets.map((p) => p.size));
    return `${answer.records.length} records in ${packets.length} NODES packets of total ${packets.length}, the largest ${largest} bytes`;
  },
  DISCV5_TABLE_CASE_TIMEOUT_MS,
);

/** The sequence number of the record the node first learns for the key of `HandshakeStaleENR` (N; then N+1). */
const STALE_SEQ = 3n;

/**
 * Asks `t` for the distance of `record`'s node until the answer holds that node with `record`'s sequence number
 * (every DISCV5_FINDNODE_RETRY_MS; the case's deadline ends it). Returns the answer's copy.
 */
async function askFor(ctx: CaseContext, t: V5Tester, record: Enr, what: string): Promise<Enr> {
  const id = record.nodeId!;
  const answer = await askUntil(ctx, t, [record], (a) => {
    const found = a.records.find((r) => r.nodeId!.equals(id));
    if (found === undefined) return `${what}: ${id.short()} not yet returned`;
    return found.seq === record.seq ? undefined : `${what}: ${id.short()} returned with seq ${found.seq}`;
  });
  return answer.records.find((r) => r.nodeId!.equals(id))!;
}

const handshakeStaleRecord = discv5Case(
  'HandshakeStaleENR',
  `A node in the table (its record of seq ${STALE_SEQ} names its address) writes from a new address with a record of seq ${STALE_SEQ + 1n}: the WHOAREYOU carries enr-seq ${STALE_SEQ}, the seq of the record the node holds (not 0, not the newer one); the handshake with the newer record gets a PONG, and FINDNODE then returns the newer record.`,
  `${THEORY_MD} Sessions, Handshake Steps (Step 2: "enr-seq … of this record", Step 4); ${WIRE_MD} WHOAREYOU Packet (enr-seq), Handshake Message Packet (record); geth v5_udp.go sendWhoareyou, v5wire encoding.go`,
  async (ctx: CaseContext) => {
    // (1) K at its first address, seq N: a handshake, then answering the node until it returns K to another tester.
    const old = await V5Tester.open(ctx, { endpoint: true });
    old.record = old.makeRecord(STALE_SEQ);
    await old.ping();
    const stopOld = old.serve();
    ctx.defer(stopOld);
    const observer = await V5Tester.open(ctx);
    ctx.step = `waiting for the node to take our first record (seq ${STALE_SEQ}) into its table`;
    await askFor(ctx, observer, old.record, `the record of seq ${STALE_SEQ}`);
    // (2) The same key from a new socket, record N+1 naming it: a packet without keys for this address.
    const moved = await V5Tester.open(ctx, { endpoint: true, key: old.key });
    moved.record = moved.makeRecord(STALE_SEQ + 1n);
    const ping = { type: 'ping', requestId: moved.nextRequestId(), enrSeq: moved.record.seq } as const;
    const nonce = moved.send(ping);
    const challenge = await moved.expectWhoareyou(
      `a WHOAREYOU for the PING from the new address ${moved.address.ip}:${moved.address.port}`,
    );
    if (!equalBytes(challenge.nonce, nonce)) {
      ctx.fail(`the WHOAREYOU carries nonce ${bytesToHex(challenge.nonce)}, the PING's is ${bytesToHex(nonce)}`);
    }
    if (challenge.enrSeq !== STALE_SEQ) {
      ctx.fail(
        `WHOAREYOU enr-seq ${challenge.enrSeq}: the node holds our record of seq ${STALE_SEQ}, so it must ask with ${STALE_SEQ}`,
      );
    }
    // (3) The handshake carries the record of seq N+1.
    const { message } = await moved.response(moved.handshake(challenge, ping), ping, 'a PONG after the handshake');
    if (message.type !== 'pong') ctx.fail(`expected a PONG, got ${message.type.toUpperCase()}`);
    moved.checkPong(message, ping.requestId);
    ctx.defer(moved.serve());
    // (4) Another tester now gets the newer record.
    const third = await V5Tester.open(ctx);
    ctx.step = `waiting for the node to serve our newer record (seq ${STALE_SEQ + 1n})`;
    const served = await askFor(ctx, third, moved.record, `the record of seq ${STALE_SEQ + 1n}`);
    // Records in NODES are verified, and we signed one record of seq N+1: the one naming the new address.
    return `WHOAREYOU enr-seq ${challenge.enrSeq} (the record it held), a PONG to the handshake with seq ${moved.record.seq}, then FINDNODE returns seq ${served.seq}`;
  },
  DISCV5_TABLE_CASE_TIMEOUT_MS,
);

/**
 * The discv5 cases, in the order they run: geth's seven (cmd/devp2p/internal/v5test, same names) and four more.
 * @example const results = await runCases(discv5Cases, parseNode('enr:-…'))
 */
export const discv5Cases: readonly ConformanceCase[] = [
  ping,
  pingMaxRequestId,
  pingLargeRequestId,
  pingMultiIp,
  handshakeResend,
  talkRequest,
  findnodeZeroDistance,
  staleRecord,
  handshakeStaleRecord,
  findnodeResults,
  findnodeMultiplePackets,
];
