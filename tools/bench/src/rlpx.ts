// RLPx transport, ours (@devp2p/rlpx) against @ethereumjs/devp2p on the same machine and runtime, and against the
// crypto ceiling: handshakes per second and one connection's throughput over loopback TCP. See README.md (rlpx)
// for what each figure counts. Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/rlpx.ts
import {
  createAesCtr,
  createKeccak256,
  ecdhX,
  generatePrivateKey,
  publicKeyFromPrivate,
  randomBytes,
  recoverPublicKey,
  sign,
} from '@devp2p/crypto';
import {
  FrameDecoder,
  FrameEncoder,
  snappyCompressInto,
  snappyMaxCompressedLength,
  snappyUncompress,
} from '@devp2p/rlpx';
import { type BenchRow, runBench, runtimeInfo } from './lib/harness.ts';
import { handshakesPerSecond, measureThroughput, type RlpxSide, type Throughput, withTimeout } from './lib/loopback.ts';
import { ethjs } from './lib/rlpx-ethjs.ts';
import { ours } from './lib/rlpx-ours.ts';

/** Handshake concurrency of the second handshake figure. */
const CONCURRENT_HANDSHAKES = 16;
/** No figure may take longer than this (a stalled side is reported n/a, not waited for). */
const FIGURE_TIMEOUT_MS = 30_000;

/**
 * Message sizes, with the least ours / ethjs throughput ratio each must reach (snappy on and off) and the least
 * ours / ceiling ratio (the ceiling has no snappy in it: 1 KiB messages must reach it with snappy on and off, 1 MiB
 * ones with snappy off, where snappy's own work does not count against us). None for 64 KiB.
 */
const SIZES: readonly {
  label: string;
  bytes: number;
  ethjsTarget?: number;
  ceilingTarget?: { ratio: number; snappyToo: boolean };
}[] = [
  { label: '1 KiB', bytes: 1024, ethjsTarget: 8, ceilingTarget: { ratio: 0.5, snappyToo: true } },
  { label: '64 KiB', bytes: 64 * 1024 },
  { label: '1 MiB', bytes: 1024 * 1024, ethjsTarget: 10, ceilingTarget: { ratio: 0.8, snappyToo: false } },
];
/** Least ours / ethjs handshake ratio. */
const HANDSHAKE_TARGET = 3;

/**
 * A payload half of which snappy can squeeze: 32-byte words alternating between random bytes (a hash, a key) and
 * zeros ending in a 4-byte counter (a left-padded integer), roughly what eth messages carry.
 */
function payload(size: number): Uint8Array {
  const out = randomBytes(size);
  for (let word = 1; word * 32 < size; word += 2) {
    const start = word * 32;
    const end = Math.min(start + 32, size);
    out.fill(0, start, end);
    if (end - start === 32) new DataView(out.buffer, out.byteOffset).setUint32(end - 4, word);
  }
  return out;
}

/** Frame content padded to the AES block: what RLPx encrypts and MACs for a message of `size` bytes and code 0x10. */
function frameSize(size: number): number {
  return (size + 1 + 15) & ~15;
}

/** Warm-up, then runs of the ceiling loop; the best run is the ceiling (an upper bound: noise only lowers it). */
const CEILING_WARMUP_MS = 150;
const CEILING_RUN_MS = 200;
const CEILING_RUNS = 5;

/**
 * The crypto ceiling for messages of `size` bytes, in payload MB/s: per message, over its padded frame content,
 * what the sender does at least (AES-256-CTR and a keccak-256 absorb) and then what the receiver does at least
 * (the same), in this one process; no headers, digests or copies. The best of CEILING_RUNS runs.
 */
function ceiling(size: number): number {
  const frame = payload(frameSize(size));
  const egressAes = createAesCtr(randomBytes(32), new Uint8Array(16));
  const ingressAes = createAesCtr(randomBytes(32), new Uint8Array(16));
  const egressMac = createKeccak256();
  const ingressMac = createKeccak256();
  return (
    (size / 1e6) *
    bestRate(() => {
      egressMac.update(egressAes.update(frame));
      ingressMac.update(frame);
      ingressAes.update(frame);
    })
  );
}

/**
 * Our frame codec alone, in payload MB/s: `FrameEncoder.encodeFrame` on the sender's secrets, then
 * `FrameDecoder.push` and `next` on the receiver's (the same secrets, as the two ends of a connection hold them), in
 * memory: everything RLPx does per frame (header, both MACs with their digests and AES blocks, padding) without
 * sockets, promises or snappy. Between it and the ceiling is the per-frame MAC work the ceiling leaves out; between
 * it and the connection's figure, the socket layer and the connection's bookkeeping. With `snappy`, the sender
 * compresses each payload first (into one reused array, grown to the payload's worst case, as the connection does
 * for messages up to 2 MiB) and the receiver decompresses it: what snappy adds per message, net of the fewer bytes
 * to encrypt and MAC.
 */
function frameCodec(size: number, snappy: boolean): number {
  const data = payload(size);
  const aesSecret = randomBytes(32);
  const macSecret = randomBytes(32);
  const macSeed = randomBytes(32);
  const encoder = new FrameEncoder(aesSecret, macSecret, createKeccak256().update(macSeed));
  const decoder = new FrameDecoder(aesSecret, macSecret, createKeccak256().update(macSeed));
  let scratch = new Uint8Array(SNAPPY_SCRATCH_BYTES);
  const compress = (message: Uint8Array): Uint8Array => {
    const room = snappyMaxCompressedLength(message.length);
    if (room > scratch.length) scratch = new Uint8Array(room);
    return scratch.subarray(0, snappyCompressInto(message, scratch, 0));
  };
  return (
    (size / 1e6) *
    bestRate(() => {
      decoder.push(encoder.encodeFrame(BENCH_FRAME_CODE, snappy ? compress(data) : data));
      const frame = decoder.next();
      const received = frame && (snappy ? snappyUncompress(frame.data) : frame.data);
      if (received?.length !== size) throw new Error('frame codec: a frame did not decode');
    })
  );
}

/** The size the connection's reused array for compressed payloads starts at (compressShared in @devp2p/rlpx). */
const SNAPPY_SCRATCH_BYTES = 64 * 1024;

/** The message code of the frame-codec figure (the first one past the base protocol, as in the throughput runs). */
const BENCH_FRAME_CODE = 0x10;

/** Calls per second of `message`: the best of CEILING_RUNS runs after warm-up (interference only lowers it). */
function bestRate(message: () => void): number {
  const warmupEnd = performance.now() + CEILING_WARMUP_MS;
  while (performance.now() < warmupEnd) message();
  let best = 0;
  for (let run = 0; run < CEILING_RUNS; run++) {
    const start = performance.now();
    let messages = 0;
    let now = start;
    while (now - start < CEILING_RUN_MS) {
      message();
      messages++;
      now = performance.now();
    }
    best = Math.max(best, messages / ((now - start) / 1000));
  }
  return best;
}

/** The figure, or the reason it could not be taken on this runtime. */
type Outcome<T> = { value: T } | { error: string };

async function attempt<T>(what: string, take: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await withTimeout(take(), FIGURE_TIMEOUT_MS, what) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function row<T>(name: string, unit: BenchRow['unit'], outcome: Outcome<T>, pick: (value: T) => number): BenchRow {
  if ('error' in outcome) return { name, unit, value: null, note: `${name}: ${outcome.error}` };
  return { name, unit, value: pick(outcome.value) };
}

/** `ours / theirs`, n/a (with the reason) when either is. */
function ratio(name: string, ours: BenchRow, theirs: BenchRow, target?: number): BenchRow {
  const base = { name, unit: '×' as const, ...(target === undefined ? {} : { target }) };
  if (ours.value === null || theirs.value === null) {
    return { ...base, value: null, note: ours.note ?? theirs.note };
  }
  return { ...base, value: ours.value / theirs.value };
}

function targetLabel(target: number | undefined): string {
  return target === undefined ? '' : ` (target ≥ ${target}×)`;
}

async function handshakes(side: RlpxSide, concurrency: number): Promise<number> {
  const server = await side.handshakeServer();
  try {
    return await handshakesPerSecond(server, concurrency);
  } finally {
    await server.close();
  }
}

async function throughput(side: RlpxSide, snappy: boolean, data: Uint8Array): Promise<Throughput> {
  const pair = await side.connect(snappy);
  try {
    return await measureThroughput(pair, data);
  } finally {
    await pair.close();
  }
}

/**
 * The secp256k1 work one RLPx handshake needs at least, both ends together, in handshakes per second (one thread):
 * the initiator's static ECDH, its signature, the auth's ECIES (a key pair and an ECDH), the ack's decryption (ECDH)
 * and the ephemeral ECDH; the recipient's auth decryption (ECDH), static ECDH, recovery of the initiator's
 * ephemeral key, its own ephemeral public key, the ack's ECIES (a key pair and an ECDH) and the ephemeral ECDH:
 * 8 ECDH, 3 public keys, 1 signature and 1 recovery (random keys drawn beforehand). Best of CEILING_RUNS runs.
 */
function handshakeCeiling(): number {
  const keys = Array.from({ length: 4 }, () => generatePrivateKey());
  const publicKey = publicKeyFromPrivate(keys[0]!);
  const hash = randomBytes(32);
  const signature = sign(hash, keys[1]!);
  return bestRate(() => {
    for (let i = 0; i < 8; i++) ecdhX(keys[i % 4]!, publicKey);
    for (let i = 0; i < 3; i++) publicKeyFromPrivate(keys[i]!);
    sign(hash, keys[2]!);
    recoverPublicKey(hash, signature);
  });
}

async function* rlpx(): AsyncGenerator<BenchRow> {
  const { runtime } = runtimeInfo();
  const handshakeCeilingRow: BenchRow = {
    name: 'handshake crypto ceiling: 8 ECDH + 3 public keys + sign + recover',
    unit: 'handshakes/s',
    value: handshakeCeiling(),
  };
  yield handshakeCeilingRow;
  for (const concurrency of [1, CONCURRENT_HANDSHAKES]) {
    const label = concurrency === 1 ? 'handshakes, sequential' : `handshakes, ${concurrency} concurrent`;
    const measure = (side: RlpxSide, who: string) =>
      attempt(`${who} ${label} on ${runtime}`, () => handshakes(side, concurrency));
    const ourRow = row(`${label}: ours`, 'handshakes/s', await measure(ours, 'ours'), (v) => v);
    yield ourRow;
    const theirRow = row(`${label}: ethjs`, 'handshakes/s', await measure(ethjs, 'ethjs'), (v) => v);
    yield theirRow;
    yield ratio(`${label}: ours / ethjs${targetLabel(HANDSHAKE_TARGET)}`, ourRow, theirRow, HANDSHAKE_TARGET);
    yield ratio(`${label}: ours / handshake crypto ceiling`, ourRow, handshakeCeilingRow);
  }

  const ceilings = new Map<number, BenchRow>();
  const codecs = new Map<number, BenchRow>();
  for (const { label, bytes } of SIZES) {
    const ceilingRow: BenchRow = {
      name: `ceiling, ${label}: 2 × (keccak-256 + AES-256-CTR)`,
      unit: 'MB/s',
      value: ceiling(bytes),
    };
    ceilings.set(bytes, ceilingRow);
    yield ceilingRow;
    const codecRow: BenchRow = {
      name: `frame codec alone, ${label}: encode + decode`,
      unit: 'MB/s',
      value: frameCodec(bytes, false),
    };
    codecs.set(bytes, codecRow);
    yield codecRow;
    yield ratio(`frame codec alone, ${label}: codec / ceiling`, codecRow, ceilingRow);
    const snappyCodecRow: BenchRow = {
      name: `frame codec + snappy, ${label}: compress, encode, decode, decompress`,
      unit: 'MB/s',
      value: frameCodec(bytes, true),
    };
    yield snappyCodecRow;
    yield ratio(`frame codec + snappy, ${label}: / frame codec alone`, snappyCodecRow, codecRow);
  }

  for (const { label, bytes, ethjsTarget, ceilingTarget } of SIZES) {
    const data = payload(bytes);
    for (const snappy of [false, true]) {
      const group = `${label}, snappy ${snappy ? 'on' : 'off'}`;
      const measure = (side: RlpxSide, who: string) =>
        attempt(`${who} ${group} on ${runtime}`, () => throughput(side, snappy, data));
      const ourRun = await measure(ours, 'ours');
      const theirRun = await measure(ethjs, 'ethjs');
      const ourRow = row(`${group}: ours`, 'MB/s', ourRun, (t) => t.megabytesPerSecond);
      const theirRow = row(`${group}: ethjs`, 'MB/s', theirRun, (t) => t.megabytesPerSecond);
      yield ourRow;
      yield theirRow;
      yield row(`${group}: ours per CPU-second`, 'MB/CPU-s', ourRun, (t) => t.megabytesPerCpuSecond);
      yield row(`${group}: ethjs per CPU-second`, 'MB/CPU-s', theirRun, (t) => t.megabytesPerCpuSecond);
      yield ratio(`${group}: ours / ethjs${targetLabel(ethjsTarget)}`, ourRow, theirRow, ethjsTarget);
      const target = ceilingTarget && (!snappy || ceilingTarget.snappyToo) ? ceilingTarget.ratio : undefined;
      if (!snappy || target !== undefined) {
        yield ratio(`${group}: ours / ceiling${targetLabel(target)}`, ourRow, ceilings.get(bytes)!, target);
      }
      if (!snappy) yield ratio(`${group}: ours / frame codec alone`, ourRow, codecs.get(bytes)!);
    }
  }
}

await runBench('rlpx', rlpx);
