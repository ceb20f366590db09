/**
 * The RLPx cases: the encryption handshake (EIP-8 and legacy, and an auth the node cannot decrypt), frame MACs,
 * the p2p base protocol (Hello, Disconnect, Ping/Pong), snappy, and the eth Status exchange. Each case dials the
 * node with a fresh key and closes its connection at the end.
 */
import { bytesToHex, equalBytes, type RlpInput, rlpDecode, rlpList, rlpUint } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate, randomBytes } from '@devp2p/crypto';
import { eth69Messages } from '@devp2p/plugin-eth';
import { encodeAuth, snappyCompress } from '@devp2p/rlpx';
import { type CaseContext, type ConformanceCase, defineCase } from '../case.ts';
import {
  CLOSE_TIMEOUT_MS,
  FUTURE_P2P_VERSION,
  MAX_UNCOMPRESSED_SIZE,
  P2P_VERSION,
  RLPX_CASE_TIMEOUT_MS,
  SNAPPY_MIN_VERSION,
  TOO_OLD_P2P_VERSION,
} from '../constants.ts';
import {
  ETH_CAPS,
  EthCode,
  type EthSession,
  type EthStatus,
  encodeStatus,
  ethCode,
  openEthSession,
  sharedEthVersion,
} from './eth.ts';
import { connect, Probe, readChunk } from './probe.ts';
import {
  BaseCode,
  capsText,
  EMPTY_LIST,
  encodeDisconnect,
  type Hello,
  type HelloFields,
  Reason,
  reasonText,
} from './wire.ts';

const RLPX_MD = 'rlpx.md';
const ETH_MD = 'caps/eth.md';

/** p2p version 4: before snappy (EIP-706), still one a node must talk to uncompressed. */
const PRE_SNAPPY_VERSION = 4;
/** Capabilities no node runs, for the unsorted-caps Hello (not shared, so they take no message codes). */
const UNKNOWN_CAPS = [
  { name: 'xyz', version: 1 },
  { name: 'abc', version: 2 },
] as const;
/** Extra Hello list elements of the forward-compatibility case. */
const FUTURE_HELLO_EXTRA: readonly RlpInput[] = [[1, 2, 3], 'future field'];
/** Length of a block hash. */
const HASH_LENGTH = 32;
/** Flips every bit of a byte: corrupts a MAC. */
const FLIP = 0xff;
/** Every bit of a 4-byte fork hash: XOR with it gives a hash of no fork of the node's chain. */
const FORK_HASH_BITS = 0xffffffff;
/** Hex digits of a key shown in a reason. */
const KEY_PREFIX_HEX = 16;
/** Length of a frame MAC (the last bytes of every frame). */
const MAC_LENGTH = 16;

/** Snappy element tags (format_description.txt): a literal of length n-1 < 60, a copy with a 2-byte offset. */
const SNAPPY_LITERAL = 0x00;
const SNAPPY_COPY2 = 0x02;
/** The longest copy one element holds. */
const SNAPPY_MAX_COPY = 64;

function rlpxCase(
  name: string,
  description: string,
  spec: string,
  body: (ctx: CaseContext) => Promise<string>,
): ConformanceCase {
  return defineCase({ name, suite: 'rlpx', description, spec, timeoutMs: RLPX_CASE_TIMEOUT_MS, body });
}

/** Dials, sends our Hello (eth caps, fields replaceable) and reads the node's: the session most cases start from. */
async function openSession(
  ctx: CaseContext,
  fields: Partial<HelloFields> = {},
  options: { legacy?: boolean } = {},
): Promise<{ probe: Probe; hello: Hello }> {
  const probe = await Probe.dial(ctx, options);
  await probe.sendHello({ caps: ETH_CAPS, ...fields });
  const hello = await probe.readHello(fields.version ?? P2P_VERSION);
  return { probe, hello };
}

/** Fails the case unless the Hello's id is the key the handshake proved. */
function checkHelloId(ctx: CaseContext, hello: Hello): void {
  const key = ctx.target.publicKey;
  if (key && !equalBytes(hello.nodeId, key)) {
    ctx.fail(`the node's Hello id ${bytesToHex(hello.nodeId).slice(0, KEY_PREFIX_HEX)}… is not its handshake key`);
  }
}

function helloText(hello: Hello): string {
  return `Hello from "${hello.clientName}" (p2p/${hello.version}; ${capsText(hello.caps)})`;
}

/** The snappy varint length header. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/**
 * A valid snappy block that decompresses to `length` bytes of 0xc0: one literal byte, then copies of the byte
 * before (offset 1). About 3 bytes per 64 of output, so 16 MiB of output takes about 800 KB.
 */
export function snappyRun(length: number): Uint8Array {
  const copies = Math.floor((length - 1) / SNAPPY_MAX_COPY);
  const rest = (length - 1) % SNAPPY_MAX_COPY;
  const header = varint(length);
  const out = new Uint8Array(header.length + 2 + (copies + (rest > 0 ? 1 : 0)) * 3);
  out.set(header, 0);
  let at = header.length;
  out[at++] = SNAPPY_LITERAL;
  out[at++] = 0xc0;
  const copy = (n: number): void => {
    out[at++] = ((n - 1) << 2) | SNAPPY_COPY2;
    out[at++] = 1;
    out[at++] = 0;
  };
  for (let i = 0; i < copies; i++) copy(SNAPPY_MAX_COPY);
  if (rest > 0) copy(rest);
  return out;
}

const handshakeEip8 = rlpxCase(
  'RLPx/HandshakeEIP8',
  "Dialing with an EIP-8 auth completes the handshake: the node's ack decrypts, and its Hello and a Pong come through the frame layer.",
  `${RLPX_MD} Initial Handshake; EIP-8`,
  async (ctx: CaseContext) => {
    const { probe, hello } = await openSession(ctx);
    checkHelloId(ctx, hello);
    await probe.pingPong();
    return `EIP-8 auth answered with ${probe.legacyAck ? 'a legacy' : 'an EIP-8'} ack; ${helloText(hello)}`;
  },
);

const handshakeLegacy = rlpxCase(
  'RLPx/HandshakeLegacy',
  'Dialing with a pre-EIP-8 (legacy, 307-byte) auth completes the handshake as well.',
  `${RLPX_MD} Initial Handshake (auth in the old format); EIP-8 ("receivers must accept the old format")`,
  async (ctx: CaseContext) => {
    const { probe, hello } = await openSession(ctx, {}, { legacy: true });
    checkHelloId(ctx, hello);
    await probe.pingPong();
    return `legacy auth answered with ${probe.legacyAck ? 'a legacy' : 'an EIP-8'} ack; ${helloText(hello)}`;
  },
);

const handshakeWrongKey = rlpxCase(
  'RLPx/HandshakeWrongKey',
  "An auth encrypted to another key than the node's (a dialer that expects a different node) cannot be decrypted: the node closes the connection without answering.",
  `${RLPX_MD} Initial Handshake (the auth is ECIES-encrypted to the recipient's static key)`,
  async (ctx: CaseContext) => {
    const stream = await connect(ctx);
    const wrongKey = publicKeyFromPrivate(generatePrivateKey());
    const auth = encodeAuth({ privateKey: generatePrivateKey(), remotePublicKey: wrongKey });
    stream.write(auth.packet).catch(() => undefined);
    ctx.step = 'waiting for the node to close the connection (an auth for another key)';
    const deadline = ctx.clock.now() + CLOSE_TIMEOUT_MS;
    for (;;) {
      const chunk = await readChunk(ctx, stream, deadline - ctx.clock.now());
      if (chunk === 'timeout')
        ctx.fail(`the connection is still open ${CLOSE_TIMEOUT_MS} ms after an auth for another key`);
      if (chunk === null) return 'closed without answering the auth for another key';
      ctx.fail(`the node answered an auth it cannot decrypt with ${chunk.length} bytes`);
    }
  },
);

const badMac = rlpxCase(
  'RLPx/BadMAC',
  'After the Hellos, a Ping frame whose frame MAC is corrupt makes the node close the connection (optionally after a Disconnect), without a Pong.',
  `${RLPX_MD} Framing ("verifying the MAC on ingress frames ... before decrypting")`,
  async (ctx: CaseContext) => {
    const { probe } = await openSession(ctx);
    const frame = probe.frame(BaseCode.Ping, probe.snappy ? snappyCompress(EMPTY_LIST) : EMPTY_LIST);
    const last = frame.length - 1 - Math.floor(MAC_LENGTH / 2);
    frame[last] = frame[last]! ^ FLIP;
    await probe.write(frame);
    const { disconnected, reason } = await probe.expectClose('a frame with a bad MAC', { forbidden: [BaseCode.Pong] });
    return `closed${disconnected ? ` after a Disconnect (${reasonText(reason)})` : ''}`;
  },
);

const helloCaps = rlpxCase(
  'Hello/UnsortedDuplicateCaps',
  'A Hello listing caps out of order and one twice (xyz/1, eth/68, abc/2, eth/69, eth/68) is accepted, and the highest shared eth version is the one run: its Status comes at code 0x10 with that version.',
  `${RLPX_MD} Message ID-based Multiplexing ("the numerically highest wins"), Hello`,
  async (ctx: CaseContext) => {
    const caps = [UNKNOWN_CAPS[0], ETH_CAPS[0]!, UNKNOWN_CAPS[1], ETH_CAPS[1]!, ETH_CAPS[0]!];
    const { probe, hello } = await openSession(ctx, { caps });
    const want = sharedEthVersion(caps, hello.caps);
    let detail = 'the node shares no eth version, so only the session is checked';
    if (want !== undefined) {
      const m = await probe.expect(ethCode(EthCode.Status), 'the eth Status');
      if (m.payload === undefined) ctx.fail(`the Status is not valid snappy: ${m.snappyError}`);
      let version: number;
      try {
        version = rlpUint(rlpList(rlpDecode(m.payload), 'status', 1)[0], 'status.version');
      } catch (error) {
        ctx.fail(`the Status does not decode: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (version !== want) ctx.fail(`the node runs eth/${version}, not eth/${want}, the highest version both list`);
      detail = `eth/${want} Status at code 0x${ethCode(EthCode.Status).toString(16)}`;
    }
    await probe.pingPong();
    return `accepted; ${detail}`;
  },
);

const helloOldVersion = rlpxCase(
  'Hello/OldVersion',
  `A Hello announcing p2p version ${TOO_OLD_P2P_VERSION}, older than any live network speaks, is refused with Disconnect reason 0x06 (incompatible p2p protocol version).`,
  `${RLPX_MD} Disconnect (reason 0x06); p2p Capability`,
  async (ctx: CaseContext) => {
    const probe = await Probe.dial(ctx);
    await probe.sendHello({ caps: ETH_CAPS, version: TOO_OLD_P2P_VERSION });
    await probe.send(BaseCode.Ping, EMPTY_LIST);
    const { disconnected, reason } = await probe.expectClose(`a Hello with p2p version ${TOO_OLD_P2P_VERSION}`, {
      forbidden: [BaseCode.Pong],
    });
    if (!disconnected) ctx.fail('the node closed the connection without a Disconnect');
    if (reason !== Reason.IncompatibleVersion) {
      ctx.fail(`Disconnect reason ${reasonText(reason)}, not ${reasonText(Reason.IncompatibleVersion)}`);
    }
    return `Disconnect ${reasonText(reason)}`;
  },
);

const helloFutureVersion = rlpxCase(
  'Hello/FutureVersion',
  `A Hello announcing p2p version ${FUTURE_P2P_VERSION} with extra list elements is accepted (snappy on, as both sides are at 5 or later): a later version and unknown fields must be ignored.`,
  `${RLPX_MD} p2p Capability ("must ignore any difference in protocol version"), Hello ("must ignore any additional list elements"); EIP-8`,
  async (ctx: CaseContext) => {
    const { probe, hello } = await openSession(ctx, { version: FUTURE_P2P_VERSION, extra: FUTURE_HELLO_EXTRA });
    await probe.pingPong();
    return `accepted; ${helloText(hello)}`;
  },
);

const pingPong = rlpxCase(
  'Base/PingPong',
  'A Ping after the Hellos is answered with a Pong carrying the empty list.',
  `${RLPX_MD} Ping (0x02), Pong (0x03)`,
  async (ctx: CaseContext) => {
    const { probe } = await openSession(ctx);
    const started = ctx.clock.now();
    const pong = await probe.pingPong();
    if (pong.payload === undefined) ctx.fail(`the Pong is not valid snappy: ${pong.snappyError}`);
    if (!equalBytes(pong.payload, EMPTY_LIST))
      ctx.fail(`the Pong carries ${bytesToHex(pong.payload)}, not the empty list`);
    return `Pong after ${ctx.clock.now() - started} ms`;
  },
);

const disconnectHonoured = rlpxCase(
  'Base/DisconnectHonoured',
  'After the Hellos, our Disconnect (reason 0x00, requested) makes the node close the connection.',
  `${RLPX_MD} Disconnect ("if received, a peer should disconnect immediately")`,
  async (ctx: CaseContext) => {
    const { probe } = await openSession(ctx);
    await probe.send(BaseCode.Disconnect, encodeDisconnect(Reason.Requested));
    await probe.expectClose('our Disconnect');
    return 'closed after our Disconnect';
  },
);

const helloWrongIdentity = rlpxCase(
  'Hello/WrongIdentity',
  'A Hello whose node id is not the key our handshake proved is refused with a Disconnect carrying reason 0x09 (unexpected identity), delivered before the close.',
  `${RLPX_MD} Disconnect (reason 0x09 "unexpected identity in handshake"), Hello (nodeId)`,
  async (ctx: CaseContext) => {
    const probe = await Probe.dial(ctx);
    await probe.sendHello({ caps: ETH_CAPS, nodeId: publicKeyFromPrivate(generatePrivateKey()) });
    await probe.readHello();
    await probe.send(BaseCode.Ping, EMPTY_LIST);
    const { disconnected, reason } = await probe.expectClose('a Hello with a foreign id', {
      forbidden: [BaseCode.Pong],
    });
    if (!disconnected) ctx.fail('the node closed the connection without a Disconnect');
    if (reason !== Reason.UnexpectedIdentity) {
      ctx.fail(`Disconnect reason ${reasonText(reason)}, not ${reasonText(Reason.UnexpectedIdentity)}`);
    }
    return `Disconnect ${reasonText(reason)}`;
  },
);

const oversizeMessage = rlpxCase(
  'RLPx/OversizeMessage',
  `After the Hellos (snappy on), a Ping whose snappy data inflates to ${MAX_UNCOMPRESSED_SIZE + 1} bytes (16 MiB + 1; about 800 KB on the wire) makes the node close the connection, without a Pong.`,
  `${RLPX_MD} Message Encoding ("messages carrying uncompressed data larger than 16 MiB should be rejected by closing the connection")`,
  async (ctx: CaseContext) => {
    const { probe, hello } = await openSession(ctx);
    if (!probe.snappy) ctx.fail(`the node announced p2p version ${hello.version}: no snappy, nothing to inflate`);
    // The Hello exchange is done: send the frame as it is (snappyRun is already the compressed form).
    void probe.write(probe.frame(BaseCode.Ping, snappyRun(MAX_UNCOMPRESSED_SIZE + 1)));
    const { disconnected, reason } = await probe.expectClose('a message inflating past 16 MiB', {
      forbidden: [BaseCode.Pong],
    });
    return `closed${disconnected ? ` after a Disconnect (${reasonText(reason)})` : ''}`;
  },
);

const snappyNegotiated = rlpxCase(
  'Snappy/Negotiated',
  'When both Hellos announce p2p version 5, messages after them are snappy-compressed both ways: our compressed Ping gets a compressed Pong.',
  `${RLPX_MD} Message Encoding ("all messages following Hello are compressed"); EIP-706`,
  async (ctx: CaseContext) => {
    const { probe, hello } = await openSession(ctx);
    if (hello.version < SNAPPY_MIN_VERSION) ctx.fail(`the node announced p2p version ${hello.version}: no snappy`);
    const pong = await probe.pingPong();
    if (pong.payload === undefined) ctx.fail(`the Pong is not snappy-compressed: ${pong.snappyError}`);
    if (!equalBytes(pong.payload, EMPTY_LIST)) ctx.fail(`the Pong inflates to ${bytesToHex(pong.payload)}`);
    return `compressed Pong (${bytesToHex(pong.data)})`;
  },
);

const snappyNotWithV4 = rlpxCase(
  'Snappy/NotWithVersion4',
  'When our Hello announces p2p version 4, nothing is compressed: our plain Ping gets a plain Pong (0xc0).',
  `${RLPX_MD} p2p Capability ("when communicating with a peer of lower version, implementations should try to mimic that version"); EIP-706`,
  async (ctx: CaseContext) => {
    const { probe } = await openSession(ctx, { version: PRE_SNAPPY_VERSION });
    const pong = await probe.pingPong();
    if (!equalBytes(pong.data, EMPTY_LIST)) {
      ctx.fail(
        `the Pong is ${bytesToHex(pong.data)}, not the uncompressed empty list c0: compressed for a version-4 peer?`,
      );
    }
    return 'uncompressed Pong to a version-4 peer';
  },
);

function requestId(): bigint {
  return BigInt(`0x${bytesToHex(randomBytes(4))}`);
}

/** Sends GetBlockHeaders for one block and waits for the BlockHeaders with the same request id. */
async function headersOf(session: EthSession, origin: { hash: Uint8Array } | { number: bigint }): Promise<number> {
  const { probe } = session;
  const ctx: CaseContext = probe.ctx;
  const id = requestId();
  const request = eth69Messages.GetBlockHeaders.codec.encode({
    requestId: id,
    origin,
    amount: 1n,
    skip: 0n,
    reverse: false,
  });
  await probe.send(ethCode(EthCode.GetBlockHeaders), request);
  for (;;) {
    const m = await probe.expect(ethCode(EthCode.BlockHeaders), 'BlockHeaders');
    if (m.payload === undefined) ctx.fail(`BlockHeaders is not valid snappy: ${m.snappyError}`);
    const reply = eth69Messages.BlockHeaders.codec.decode(m.payload);
    if (reply.requestId === id) return reply.headers.length;
  }
}

const statusMatching = rlpxCase(
  'Eth/StatusMatching',
  "Answering the node's eth Status with a matching one (same network, genesis and fork id) starts the session: a GetBlockHeaders for block 0 then gets its BlockHeaders reply.",
  `${ETH_MD} Status (0x00), GetBlockHeaders (0x03); EIP-2124`,
  async (ctx: CaseContext) => {
    const session = await openEthSession(ctx);
    await session.probe.send(ethCode(EthCode.Status), encodeStatus(session.status));
    const count = await headersOf(session, { number: 0n });
    const s = session.status;
    return `eth/${s.version} session (network ${s.status.networkId}, fork 0x${s.status.forkId.hash.toString(16).padStart(8, '0')}); BlockHeaders with ${count} header(s)`;
  },
);

/** The node's Status with another fork hash (every bit flipped: not a fork of its chain). */
function foreignFork(s: EthStatus): EthStatus {
  const forkId = { hash: (s.status.forkId.hash ^ FORK_HASH_BITS) >>> 0, next: 0n };
  return s.version === 68
    ? { version: 68, status: { ...s.status, forkId } }
    : { version: 69, status: { ...s.status, forkId } };
}

const statusForkMismatch = rlpxCase(
  'Eth/StatusForkIdMismatch',
  "A Status with the node's network and genesis but a fork hash of no fork of its chain is refused: the node disconnects (geth: reason 0x10) and does not answer a request sent after it.",
  `${ETH_MD} Status ("forkid ... EIP-2124"); EIP-2124 (fork identifier validation)`,
  async (ctx: CaseContext) => {
    const session = await openEthSession(ctx);
    const bad = foreignFork(session.status);
    const { probe } = session;
    await probe.send(ethCode(EthCode.Status), encodeStatus(bad));
    const request = eth69Messages.GetBlockHeaders.codec.encode({
      requestId: requestId(),
      origin: { number: 0n },
      amount: 1n,
      skip: 0n,
      reverse: false,
    });
    await probe.send(ethCode(EthCode.GetBlockHeaders), request);
    const { disconnected, reason } = await probe.expectClose('a Status with a foreign fork id', {
      forbidden: [ethCode(EthCode.BlockHeaders)],
    });
    return disconnected ? `Disconnect ${reasonText(reason)}` : 'closed without a Disconnect';
  },
);

const unservableRequest = rlpxCase(
  'Eth/UnservableRequest',
  'Requests for blocks the node does not have (a random hash) are answered, not ignored or punished: an empty BlockHeaders and an empty BlockBodies with the request ids, and the session stays up.',
  `${ETH_MD} GetBlockHeaders ("the peer may return fewer headers"), GetBlockBodies, request-id`,
  async (ctx: CaseContext) => {
    const session = await openEthSession(ctx);
    const { probe } = session;
    await probe.send(ethCode(EthCode.Status), encodeStatus(session.status));
    const unknown = randomBytes(HASH_LENGTH);
    const headers = await headersOf(session, { hash: unknown });
    if (headers !== 0) ctx.fail(`${headers} header(s) for a random hash`);
    const id = requestId();
    await probe.send(
      ethCode(EthCode.GetBlockBodies),
      eth69Messages.GetBlockBodies.codec.encode({ requestId: id, hashes: [unknown] }),
    );
    for (;;) {
      const m = await probe.expect(ethCode(EthCode.BlockBodies), 'BlockBodies');
      if (m.payload === undefined) ctx.fail(`BlockBodies is not valid snappy: ${m.snappyError}`);
      const reply = eth69Messages.BlockBodies.codec.decode(m.payload);
      if (reply.requestId !== id) continue;
      if (reply.bodies.length !== 0) ctx.fail(`${reply.bodies.length} bodies for a random hash`);
      break;
    }
    await probe.pingPong();
    return 'empty BlockHeaders and BlockBodies with the request ids; the session stays up';
  },
);

/**
 * The RLPx cases, in the order they run.
 * @example const results = await runCases(rlpxCases, parseNode('enode://…@127.0.0.1:30303'))
 */
export const rlpxCases: readonly ConformanceCase[] = [
  handshakeEip8,
  handshakeLegacy,
  handshakeWrongKey,
  badMac,
  helloCaps,
  helloOldVersion,
  helloFutureVersion,
  helloWrongIdentity,
  pingPong,
  disconnectHonoured,
  oversizeMessage,
  snappyNegotiated,
  snappyNotWithV4,
  statusMatching,
  statusForkMismatch,
  unservableRequest,
];
