// The primitives devp2p spends its time in: keccak-256 (RLPx MACs every byte of traffic), AES (RLPx frame
// cipher and MAC), and secp256k1 (handshakes, discovery). Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/primitives.ts
import { createCipheriv, createECDH } from 'node:crypto';
import {
  createAes256Ecb,
  createAesCtr,
  createKeccak256,
  createKeccak256Portable,
  ecdhX,
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
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as noble from '@noble/secp256k1';
import { type BenchRow, megabytesPerSecond, opsPerSecond, runBench } from './lib/harness.ts';

const MEBIBYTE = 1 << 20;

// noble signs synchronously only once it is given HMAC-SHA256 (for RFC 6979 nonces).
noble.hashes.sha256 = sha256;
noble.hashes.hmacSha256 = (key, message) => hmac(sha256, key, message);

/** ECDH x through `node:crypto`, as a caller holding raw key bytes would do it; undefined where it has no secp256k1. */
function nativeEcdhX(): ((privateKey: Uint8Array, publicKey65: Uint8Array) => Uint8Array) | undefined {
  try {
    createECDH('secp256k1').generateKeys();
  } catch {
    return undefined;
  }
  return (privateKey, publicKey65) => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(privateKey);
    return ecdh.computeSecret(publicKey65);
  };
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
  const ecbKey = randomBytes(32);
  const ecb = createAes256Ecb(ecbKey);
  const block = randomBytes(16);
  const scratch = new Uint8Array(16);
  yield {
    name: 'AES-256-ECB, one block, ours (JavaScript)',
    unit: 'ops/s',
    value: opsPerSecond(() => ecb.encryptBlock(block, scratch)),
  };
  // What the RLPx MAC used before: one native call and one new Buffer per block.
  const nodeEcb = createCipheriv('aes-256-ecb', ecbKey, null).setAutoPadding(false);
  yield {
    name: 'AES-256-ECB, one block, node:crypto',
    unit: 'ops/s',
    value: opsPerSecond(() => nodeEcb.update(block)),
  };

  const key = generatePrivateKey();
  const peer = publicKeyFromPrivate(generatePrivateKey());
  yield {
    name: 'ECDH secp256k1, ours (wasm libsecp256k1)',
    unit: 'ops/s',
    value: opsPerSecond(() => ecdhX(key, peer)),
  };
  // The uncompressed SEC1 form (0x04 ‖ x ‖ y) the references take, built once outside the timed loops.
  const peerSec1 = Uint8Array.of(4, ...peer);
  const native = nativeEcdhX();
  yield native
    ? { name: 'ECDH secp256k1, node:crypto', unit: 'ops/s', value: opsPerSecond(() => native(key, peerSec1)) }
    : { name: 'ECDH secp256k1, node:crypto', unit: 'ops/s', value: null, note: 'node:crypto has no secp256k1 here' };
  yield {
    name: 'ECDH secp256k1, noble',
    unit: 'ops/s',
    value: opsPerSecond(() => noble.getSharedSecret(key, peerSec1)),
  };
  const hash = keccak256(small);
  yield { name: 'sign (recoverable), ours', unit: 'ops/s', value: opsPerSecond(() => sign(hash, key)) };
  yield {
    name: 'sign (recoverable), noble',
    unit: 'ops/s',
    value: opsPerSecond(() => noble.sign(hash, key, { prehash: false, format: 'recovered' })),
  };
  const signature = sign(hash, key);
  yield {
    name: 'recover public key, ours',
    unit: 'ops/s',
    value: opsPerSecond(() => recoverPublicKey(hash, signature)),
  };
  const nobleSignature = noble.sign(hash, key, { prehash: false, format: 'recovered' });
  yield {
    name: 'recover public key, noble',
    unit: 'ops/s',
    value: opsPerSecond(() => noble.recoverPublicKey(nobleSignature, hash, { prehash: false })),
  };
}

await runBench('primitives', primitives);
