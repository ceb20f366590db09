// The primitives devp2p spends its time in: keccak-256 (RLPx MACs every byte of traffic), AES (RLPx frame
// cipher and MAC), and secp256k1 (handshakes, discovery). Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/primitives.ts
import { createECDH } from 'node:crypto';
import {
  createAes256Ecb,
  createAesCtr,
  createKeccak256,
  createKeccak256Portable,
  ecdhX,
  ecdhXPortable,
  generatePrivateKey,
  type Keccak256Hasher,
  keccak256,
  keccak256Backend,
  keccak256Portable,
  publicKeyFromPrivate,
  randomBytes,
  recoverPublicKey,
  sign,
} from '@devp2p/crypto';
import { type BenchRow, megabytesPerSecond, opsPerSecond, runBench } from './lib/harness.ts';

const MEBIBYTE = 1 << 20;

/** Whether `node:crypto` has secp256k1 here, which is when `ecdhX` takes the native path (the same probe). */
function nativeSecp256k1(): boolean {
  try {
    createECDH('secp256k1').generateKeys();
    return true;
  } catch {
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** One RLPx MAC step: a 16-byte seed absorbed, then a (non-finalising) digest. */
function macStep(mac: Keccak256Hasher, seed: Uint8Array): () => Uint8Array {
  return () => mac.update(seed).digest();
}

function* primitives(): Generator<BenchRow> {
  const wasm = keccak256Backend() === 'wasm';
  const wasmNote = wasm ? undefined : 'no WebAssembly in this runtime: keccak256 fell back to @noble/hashes';
  const small = randomBytes(32);
  const large = randomBytes(MEBIBYTE);
  if (!sameBytes(keccak256(large), keccak256Portable(large))) throw new Error('keccak paths disagree');

  const keccak = (label: string, input: Uint8Array, oneShot: (data: Uint8Array) => Uint8Array): BenchRow => ({
    name: `keccak-256, ${label}`,
    unit: 'MB/s',
    value: megabytesPerSecond(() => oneShot(input), input.length),
  });
  yield { ...keccak('32 B, wasm', small, keccak256), note: wasmNote };
  yield keccak('32 B, noble', small, keccak256Portable);
  yield { ...keccak('1 MiB, wasm', large, keccak256), note: wasmNote };
  yield keccak('1 MiB, noble', large, keccak256Portable);
  const seed = randomBytes(16);
  yield {
    name: 'keccak-256 MAC step (16 B + digest), wasm',
    unit: 'ops/s',
    value: opsPerSecond(macStep(createKeccak256().update(small), seed)),
    note: wasmNote,
  };
  yield {
    name: 'keccak-256 MAC step (16 B + digest), noble',
    unit: 'ops/s',
    value: opsPerSecond(macStep(createKeccak256Portable().update(small), seed)),
  };

  const ctr = createAesCtr(randomBytes(32), randomBytes(16));
  yield {
    name: 'AES-256-CTR, 1 MiB chunks',
    unit: 'MB/s',
    value: megabytesPerSecond(() => ctr.update(large), MEBIBYTE),
  };
  const ecb = createAes256Ecb(randomBytes(32));
  const block = randomBytes(16);
  yield { name: 'AES-256-ECB, one block', unit: 'ops/s', value: opsPerSecond(() => ecb.encryptBlock(block)) };

  const key = generatePrivateKey();
  const peer = publicKeyFromPrivate(generatePrivateKey());
  yield nativeSecp256k1()
    ? { name: 'ECDH secp256k1, node:crypto', unit: 'ops/s', value: opsPerSecond(() => ecdhX(key, peer)) }
    : {
        name: 'ECDH secp256k1, node:crypto',
        unit: 'ops/s',
        value: null,
        note: 'node:crypto has no secp256k1 here: ecdhX uses noble',
      };
  yield { name: 'ECDH secp256k1, noble', unit: 'ops/s', value: opsPerSecond(() => ecdhXPortable(key, peer)) };
  const hash = keccak256(small);
  yield { name: 'sign (recoverable)', unit: 'ops/s', value: opsPerSecond(() => sign(hash, key)) };
  const signature = sign(hash, key);
  yield { name: 'recover public key', unit: 'ops/s', value: opsPerSecond(() => recoverPublicKey(hash, signature)) };
}

await runBench('primitives', primitives);
