// Node Discovery per packet: what one discv4 or discv5 packet costs to decode, authenticate and answer. The packet
// codecs alone (no sockets) against the cost of the signature recovery every discv4 packet needs, and PING→PONG
// between our own services over UDP on 127.0.0.1 in this one process. See README.md (discovery) for what each
// figure counts. Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/discovery.ts
import process from 'node:process';
import { generatePrivateKey, keccak256, recoverPublicKey, sign } from '@devp2p/crypto';
import {
  Discv4,
  Discv5,
  type Discv5Message,
  type Discv5MessagePacket,
  decodeDiscv5Packet,
  decodePacket,
  decryptDiscv5Message,
  deriveDiscv5SessionKeys,
  encodeDiscv5HandshakePacket,
  encodeDiscv5MessagePacket,
  encodeDiscv5RandomPacket,
  encodeDiscv5WhoareyouPacket,
  encodePacket,
  openDiscv5Handshake,
} from '@devp2p/discovery';
import { LocalNode, MemoryNodeDatabase, type Node } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';
import { type BenchRow, opsPerSecond, runBench } from './lib/harness.ts';
import { HOST } from './lib/loopback.ts';

/**
 * The per-packet budget to meet: reth spends about 25 µs decoding a discv4 packet (signature recovery included),
 * so our codecs should too, discv4's and discv5's alike.
 */
const RETH_DECODE_MICROS = 25;
/** Seconds a discv4 packet stays valid; the codec benches never check it, the value only has to be plausible. */
const EXPIRATION_S = 20;
/**
 * Services pinging the one answering service in the PING→PONG figures, each with one ping in flight: discv5 runs
 * one request at a time per remote node, so more than one pinger is what keeps the answering side busy.
 */
const PINGERS = 8;
/** PING→PONG runs this long before the counted window: bonds and sessions made, the JIT settled. */
const LOOP_WARMUP_MS = 500;
/** The counted window of a PING→PONG figure. */
const LOOP_WINDOW_MS = 2_000;

const micros = (opsPerSec: number): number => 1e6 / opsPerSec;

/** A signed discv4 PING as a peer would send it (EIP-868 enr-seq included). */
function discv4Ping(privateKey: Uint8Array): Uint8Array {
  const endpoint = { ip: HOST, udp: 30303, tcp: 30303 };
  return encodePacket(
    {
      type: 'ping',
      version: 4,
      from: endpoint,
      to: endpoint,
      expiration: Math.floor(Date.now() / 1000) + EXPIRATION_S,
      enrSeq: 1n,
    },
    privateKey,
  ).bytes;
}

function* discv4Codec(): Generator<BenchRow> {
  const key = generatePrivateKey();
  const ping = discv4Ping(key);
  const decodeMicros = micros(opsPerSecond(() => decodePacket(ping)));
  yield {
    name: 'discv4 codec: decode + verify a PING',
    unit: 'µs',
    value: decodeMicros,
    target: RETH_DECODE_MICROS,
    lowerIsBetter: true,
  };
  // The same signature recovery decodePacket does, alone: the floor under any discv4 decoder.
  const hash = keccak256(ping.subarray(32 + 65));
  const signature = sign(hash, key);
  const recoverMicros = micros(opsPerSecond(() => recoverPublicKey(hash, signature)));
  yield { name: 'signature-recovery ceiling: recoverPublicKey()', unit: 'µs', value: recoverMicros };
  yield { name: 'discv4 decode / recover', unit: '×', value: decodeMicros / recoverMicros };
}

/** Two static keys, their records, and a discv5 PING message. */
function discv5Parties(): {
  a: { key: Uint8Array; local: LocalNode };
  b: { key: Uint8Array; local: LocalNode };
  ping: Discv5Message;
} {
  const party = (): { key: Uint8Array; local: LocalNode } => {
    const key = generatePrivateKey();
    return { key, local: new LocalNode(key, { db: new MemoryNodeDatabase() }) };
  };
  return { a: party(), b: party(), ping: { type: 'ping', requestId: Uint8Array.of(1, 2, 3, 4), enrSeq: 1n } };
}

function* discv5Codec(): Generator<BenchRow> {
  const { a, b, ping } = discv5Parties();
  // Session keys as a handshake would leave them; B reads what A writes with the initiator key.
  const keys = deriveDiscv5SessionKeys(
    generatePrivateKey(),
    b.local.publicKey,
    a.local.id,
    b.local.id,
    new Uint8Array(63),
  );
  const packet = encodeDiscv5MessagePacket({
    srcId: a.local.id,
    destId: b.local.id,
    key: keys.initiatorKey,
    message: ping,
  }).bytes;
  yield {
    name: 'discv5 codec: unmask + decrypt a PING',
    unit: 'µs',
    value: micros(
      opsPerSecond(() => {
        const decoded = decodeDiscv5Packet(packet, b.local.id) as Discv5MessagePacket;
        return decryptDiscv5Message(decoded, keys.initiatorKey);
      }),
    ),
    target: RETH_DECODE_MICROS,
    lowerIsBetter: true,
  };

  // A first contact, both sides: A's undecryptable packet, B's WHOAREYOU, A's handshake (ephemeral key, id
  // signature, ECDH, key derivation, record sent), B opening it (record and id signature verified, ECDH).
  const challenge = (): { whoareyou: Uint8Array; challengeData: Uint8Array } => {
    const random = encodeDiscv5RandomPacket({ srcId: a.local.id, destId: b.local.id });
    const first = decodeDiscv5Packet(random.bytes, b.local.id);
    const sent = encodeDiscv5WhoareyouPacket({ destId: a.local.id, nonce: first.nonce, enrSeq: 0n });
    return { whoareyou: sent.bytes, challengeData: sent.headerData };
  };
  const answer = (whoareyou: Uint8Array): Uint8Array => {
    const received = decodeDiscv5Packet(whoareyou, a.local.id);
    return encodeDiscv5HandshakePacket({
      srcId: a.local.id,
      destId: b.local.id,
      privateKey: a.key,
      destPublicKey: b.local.publicKey,
      challengeData: received.headerData,
      record: a.local.node.record,
      message: ping,
    }).bytes;
  };
  const open = (handshake: Uint8Array, challengeData: Uint8Array): unknown => {
    const received = decodeDiscv5Packet(handshake, b.local.id);
    if (received.kind !== 'handshake') throw new Error(`expected a handshake packet, got ${received.kind}`);
    return openDiscv5Handshake(received, { privateKey: b.key, localId: b.local.id, challengeData });
  };
  const whole = micros(
    opsPerSecond(() => {
      const { whoareyou, challengeData } = challenge();
      return open(answer(whoareyou), challengeData);
    }),
  );
  yield { name: 'discv5 handshake, both sides (codec)', unit: 'µs', value: whole };
  const { whoareyou, challengeData } = challenge();
  yield {
    name: '… initiator: WHOAREYOU in, handshake out',
    unit: 'µs',
    value: micros(opsPerSecond(() => answer(whoareyou))),
  };
  const handshake = answer(whoareyou);
  yield {
    name: '… recipient: handshake opened',
    unit: 'µs',
    value: micros(opsPerSecond(() => open(handshake, challengeData))),
  };
}

/** One service answering, PINGERS services pinging it; what the loop needs from either protocol. */
interface Service {
  readonly self: Node;
  readonly stats: { readonly received: number };
  ping(node: Node): Promise<unknown>;
  close(): Promise<void>;
}

/** Datagrams received per second by all services, and CPU µs per datagram received, over the window. */
async function pingLoop(start: () => Promise<Service>): Promise<{ perSecond: number; cpuMicros: number }> {
  const server = await start();
  const pingers: Service[] = [];
  try {
    for (let i = 0; i < PINGERS; i++) pingers.push(await start());
    const all = [server, ...pingers];
    const received = (): number => all.reduce((sum, s) => sum + s.stats.received, 0);
    const windowStart = performance.now() + LOOP_WARMUP_MS;
    let opened = -1;
    let before = 0;
    let cpuStart: NodeJS.CpuUsage | undefined;
    let result: { perSecond: number; cpuMicros: number } | undefined;
    const pinger = async (service: Service): Promise<void> => {
      while (!result) {
        await service.ping(server.self);
        if (opened < 0 && performance.now() >= windowStart) {
          opened = performance.now();
          before = received();
          cpuStart = process.cpuUsage();
          // The window closes on a timer, not on a pong, so every pinger's packets until then count.
          setTimeout(() => {
            const cpu = process.cpuUsage(cpuStart);
            const packets = received() - before;
            const seconds = (performance.now() - opened) / 1000;
            result = { perSecond: packets / seconds, cpuMicros: (cpu.user + cpu.system) / packets };
          }, LOOP_WINDOW_MS);
        }
      }
    };
    await Promise.all(pingers.map(pinger));
    return result!;
  } finally {
    await Promise.all([server, ...pingers].map((s) => s.close()));
  }
}

async function* discovery(): AsyncGenerator<BenchRow> {
  yield* discv4Codec();
  const v4 = await pingLoop(() =>
    Discv4.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: HOST }),
  );
  yield { name: 'discv4 PING→PONG over UDP: packets received', unit: 'datagrams/s', value: v4.perSecond };
  yield { name: 'discv4 PING→PONG: CPU per packet received', unit: 'µs', value: v4.cpuMicros };
  yield* discv5Codec();
  const v5 = await pingLoop(() =>
    Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: HOST }),
  );
  yield { name: 'discv5 PING→PONG over UDP: packets received', unit: 'datagrams/s', value: v5.perSecond };
  yield { name: 'discv5 PING→PONG: CPU per packet received', unit: 'µs', value: v5.cpuMicros };
}

await runBench('discovery', discovery);
