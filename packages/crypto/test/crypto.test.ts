import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { bytesToHex, CryptoError, concatBytes, hexToBytes, utf8ToBytes } from '@devp2p/core';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import * as noble from '@noble/secp256k1';
import fc from 'fast-check';
import {
  aes128GcmDecrypt,
  aes128GcmEncrypt,
  aesCtr,
  CTR_JS_MAX_BYTES,
  compressPublicKey,
  concatKdf,
  createAes256Ecb,
  createAesCtr,
  createKeccak256,
  decompressPublicKey,
  ecdhCompressed,
  ecdhX,
  eciesDecrypt,
  eciesEncrypt,
  generatePrivateKey,
  hkdfSha256,
  hmacSha256,
  isValidPrivateKey,
  isValidPublicKey,
  keccak256,
  publicKeyFromPrivate,
  randomBytes,
  recoverPublicKey,
  sha256,
  sign,
  verify,
} from '../src/index.ts';

// noble, the independent reference here, signs synchronously only once it is given HMAC-SHA256 (RFC 6979).
noble.hashes.sha256 = nobleSha256;
noble.hashes.hmacSha256 = (key, message) => hmac(nobleSha256, key, message);

interface HandshakeVectors {
  keys: Record<string, string>;
  auth: { name: string; hex: string }[];
  ack: { name: string; hex: string }[];
  computed_by_helper: Record<string, string>;
}

const handshake = (): HandshakeVectors => readVectorJson<HandshakeVectors>('rlpx/eip8-handshake.json');

function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ b[i]!);
}

describe('keccak-256', () => {
  it('hashes known inputs', () => {
    assert.equal(
      bytesToHex(keccak256(new Uint8Array())),
      'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    );
    assert.equal(
      bytesToHex(keccak256(utf8ToBytes('abc'))),
      '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45',
    );
  });

  it('digests without finalising, and copies are independent', () => {
    const data = randomBytes(1000);
    const h = createKeccak256();
    h.update(data.subarray(0, 300));
    assert.deepEqual(h.digest(), keccak256(data.subarray(0, 300)));
    const fork = h.copy();
    h.update(data.subarray(300));
    assert.deepEqual(h.digest(), keccak256(data));
    assert.deepEqual(fork.digest(), keccak256(data.subarray(0, 300)));
    fork.update(utf8ToBytes('x'));
    assert.deepEqual(fork.digest(), keccak256(concatBytes(data.subarray(0, 300), utf8ToBytes('x'))));
  });

  it('gives the same digest for any chunking', () => {
    const data = randomBytes(4099);
    for (const chunk of [1, 7, 135, 136, 137, 1024]) {
      const h = createKeccak256();
      for (let i = 0; i < data.length; i += chunk) h.update(data.subarray(i, i + chunk));
      assert.deepEqual(h.digest(), keccak256(data), `chunk ${chunk}`);
    }
  });
});

describe('sha-256, HMAC, HKDF, concat KDF', () => {
  it('sha256 of "abc"', () => {
    assert.equal(
      bytesToHex(sha256(utf8ToBytes('abc'))),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('HMAC-SHA256 (RFC 4231 case 2), over one or several parts', () => {
    const expected = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
    assert.equal(bytesToHex(hmacSha256(utf8ToBytes('Jefe'), utf8ToBytes('what do ya want for nothing?'))), expected);
    assert.equal(
      bytesToHex(hmacSha256(utf8ToBytes('Jefe'), utf8ToBytes('what do ya '), utf8ToBytes('want for nothing?'))),
      expected,
    );
  });

  it('HKDF-SHA256 (RFC 5869 case 1)', () => {
    const okm = hkdfSha256(
      hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
      hex('000102030405060708090a0b0c'),
      hex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    assert.equal(
      bytesToHex(okm),
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('concat KDF: counter ‖ z ‖ otherInfo blocks, truncated', () => {
    const z = randomBytes(32);
    const first = sha256(concatBytes(hex('00000001'), z));
    const second = sha256(concatBytes(hex('00000002'), z));
    assert.deepEqual(concatKdf(z, 32), first);
    assert.deepEqual(concatKdf(z, 48), concatBytes(first, second.subarray(0, 16)));
    assert.deepEqual(concatKdf(z, 16, hex('aa')), sha256(concatBytes(hex('00000001'), z, hex('aa'))).subarray(0, 16));
  });
});

describe('secp256k1', () => {
  it('derives the vector public keys and node ids', () => {
    const v = handshake();
    assert.equal(bytesToHex(publicKeyFromPrivate(hex(v.keys.static_key_a!))), v.computed_by_helper.public_key_a);
    assert.equal(bytesToHex(publicKeyFromPrivate(hex(v.keys.static_key_b!))), v.computed_by_helper.public_key_b);
    assert.equal(
      bytesToHex(keccak256(publicKeyFromPrivate(hex(v.keys.static_key_a!)))),
      v.computed_by_helper.node_id_a,
    );
  });

  it('converts between compressed and uncompressed forms', () => {
    for (let i = 0; i < 20; i++) {
      const pub = publicKeyFromPrivate(generatePrivateKey());
      const compressed = compressPublicKey(pub);
      assert.equal(compressed.length, 33);
      assert.ok(compressed[0] === 2 || compressed[0] === 3);
      assert.deepEqual(decompressPublicKey(compressed), pub);
      assert.deepEqual(decompressPublicKey(concatBytes(hex('04'), pub)), pub);
    }
  });

  it('rejects points not on the curve and bad private keys', () => {
    const pub = publicKeyFromPrivate(generatePrivateKey());
    const offCurve = pub.slice();
    offCurve[63]! ^= 1;
    assert.equal(isValidPublicKey(offCurve), false);
    assert.equal(isValidPublicKey(new Uint8Array(64)), false);
    assert.equal(isValidPublicKey(pub), true);
    assert.throws(() => decompressPublicKey(offCurve), CryptoError);
    assert.throws(() => ecdhX(generatePrivateKey(), offCurve), CryptoError);
    assert.throws(() => ecdhCompressed(generatePrivateKey(), offCurve), CryptoError);
    assert.throws(() => compressPublicKey(offCurve), CryptoError);
    assert.equal(verify(new Uint8Array(32), new Uint8Array(64), offCurve), false);
    assert.throws(() => decompressPublicKey(new Uint8Array(10)), RangeError);
    assert.equal(isValidPrivateKey(new Uint8Array(32)), false);
    assert.equal(isValidPrivateKey(hex('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')), false);
    assert.throws(() => publicKeyFromPrivate(new Uint8Array(32)), CryptoError);
  });

  it('ECDH agrees with an independent implementation (noble), and both sides derive the same secret', () => {
    for (let i = 0; i < 30; i++) {
      const a = generatePrivateKey();
      const b = generatePrivateKey();
      const ab = ecdhX(a, publicKeyFromPrivate(b));
      assert.deepEqual(ab, noble.getSharedSecret(a, noble.getPublicKey(b, false), true).subarray(1));
      assert.deepEqual(ab, ecdhX(b, publicKeyFromPrivate(a)));
      assert.deepEqual(ecdhCompressed(a, publicKeyFromPrivate(b)).subarray(1), ab);
    }
  });

  it('ECDH reproduces the RLPx and discv5 vectors', () => {
    const v = handshake();
    const pubB = hex(v.computed_by_helper.public_key_b!);
    assert.equal(bytesToHex(ecdhX(hex(v.keys.static_key_a!), pubB)), v.computed_by_helper.static_shared_secret);
    const ephB = hex(v.computed_by_helper.ephemeral_public_key_b!);
    assert.equal(bytesToHex(ecdhX(hex(v.keys.ephemeral_key_a!), ephB)), v.computed_by_helper.ephemeral_shared_secret);
    const d5 = readVectorJson<{
      crypto: { ecdh: { inputs: Record<string, string>; expected: Record<string, string> } };
    }>('discv5/wire-test-vectors.json').crypto.ecdh;
    assert.equal(
      `0x${bytesToHex(ecdhCompressed(hex(d5.inputs['secret-key']!), hex(d5.inputs['public-key']!)))}`,
      d5.expected['shared-secret'],
    );
  });

  it('recovers the RLPx auth signature vector, and our signature over the same hash recovers too', () => {
    const v = handshake();
    const signed = xorBytes(hex(v.computed_by_helper.static_shared_secret!), hex(v.keys.nonce_a!));
    const ephemeralA = v.computed_by_helper.ephemeral_public_key_a;
    assert.equal(bytesToHex(recoverPublicKey(signed, hex(v.computed_by_helper.auth_signature!))), ephemeralA);
    const ours = sign(signed, hex(v.keys.ephemeral_key_a!));
    assert.equal(bytesToHex(recoverPublicKey(signed, ours)), ephemeralA);
    // RFC 6979: the same key and hash always give the same signature.
    assert.deepEqual(sign(signed, hex(v.keys.ephemeral_key_a!)), ours);
  });

  it('sign and recover agree with noble byte for byte; recovery accepts high-s signatures as geth does', () => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    for (let i = 0; i < 20; i++) {
      const key = generatePrivateKey();
      const hash = keccak256(randomBytes(40));
      const ours = sign(hash, key);
      const theirs = noble.sign(hash, key, { prehash: false, format: 'recovered' });
      assert.deepEqual(ours, concatBytes(theirs.subarray(1), theirs.subarray(0, 1)));
      const pub = noble.getPublicKey(key, false).subarray(1);
      assert.deepEqual(publicKeyFromPrivate(key), pub);
      assert.deepEqual(recoverPublicKey(hash, ours), pub);
      // (r, n - s) with the flipped recovery id is the same signature in high-s form: libsecp256k1 recovers it.
      const s = BigInt(`0x${bytesToHex(ours.subarray(32, 64))}`);
      const highS = concatBytes(
        ours.subarray(0, 32),
        hexToBytes((n - s).toString(16).padStart(64, '0')),
        new Uint8Array([ours[64]! ^ 1]),
      );
      assert.deepEqual(recoverPublicKey(hash, highS), pub);
      assert.equal(verify(hash, highS, pub), false);
    }
  });

  it('sign / recover / verify round trip, and tampering fails', () => {
    for (let i = 0; i < 20; i++) {
      const key = generatePrivateKey();
      const pub = publicKeyFromPrivate(key);
      const hash = keccak256(randomBytes(40));
      const sig = sign(hash, key);
      assert.equal(sig.length, 65);
      assert.ok(sig[64] === 0 || sig[64] === 1);
      assert.deepEqual(recoverPublicKey(hash, sig), pub);
      assert.ok(verify(hash, sig, pub));
      assert.ok(verify(hash, sig.subarray(0, 64), compressPublicKey(pub)));
      const otherHash = hash.slice();
      otherHash[0]! ^= 1;
      assert.equal(verify(otherHash, sig, pub), false);
      assert.notDeepEqual(recoverPublicKey(otherHash, sig), pub);
    }
    const bad = new Uint8Array(65);
    bad[64] = 5;
    assert.throws(() => recoverPublicKey(new Uint8Array(32), bad), CryptoError);
    assert.throws(() => recoverPublicKey(new Uint8Array(32), new Uint8Array(65)), CryptoError);
  });
});

describe('ECIES', () => {
  it('opens every auth message with key B and every ack with key A', () => {
    const v = handshake();
    for (const [messages, key] of [
      [v.auth, hex(v.keys.static_key_b!)],
      [v.ack, hex(v.keys.static_key_a!)],
    ] as const) {
      for (const m of messages) {
        const packet = hex(m.hex);
        // Legacy messages are bare ECIES; EIP-8 ones carry a 2-byte size prefix authenticated as shared MAC data.
        const legacy = packet[0] === 0x04;
        const plain = legacy ? eciesDecrypt(key, packet) : eciesDecrypt(key, packet.subarray(2), packet.subarray(0, 2));
        assert.ok(plain.length > 0, m.name);
        if (m.name === 'Auth2')
          assert.equal(bytesToHex(plain).startsWith(v.computed_by_helper.auth2_plaintext_rlp!), true);
        if (m.name === 'Ack2')
          assert.equal(bytesToHex(plain).startsWith(v.computed_by_helper.ack2_plaintext_rlp!), true);
      }
    }
  });

  it('rejects every single-byte tampering of an EIP-8 auth message with CryptoError', () => {
    const v = handshake();
    const packet = hex(v.auth.find((a) => a.name === 'Auth2')!.hex);
    const key = hex(v.keys.static_key_b!);
    for (let i = 0; i < packet.length; i++) {
      const tampered = packet.slice();
      tampered[i]! ^= 0x01;
      assert.throws(() => eciesDecrypt(key, tampered.subarray(2), tampered.subarray(0, 2)), CryptoError, `byte ${i}`);
    }
  });

  it('round-trips with and without shared MAC data; wrong key, short input fail', () => {
    const key = generatePrivateKey();
    const pub = publicKeyFromPrivate(key);
    for (const size of [0, 1, 15, 16, 17, 300]) {
      const message = randomBytes(size);
      const sealed = eciesEncrypt(pub, message, { sharedMacData: hex('01c2') });
      assert.equal(sealed.length, size + 113);
      assert.deepEqual(eciesDecrypt(key, sealed, hex('01c2')), message);
      assert.throws(() => eciesDecrypt(key, sealed), CryptoError);
      assert.throws(() => eciesDecrypt(generatePrivateKey(), sealed, hex('01c2')), CryptoError);
    }
    assert.throws(() => eciesDecrypt(key, new Uint8Array(112)), CryptoError);
    const offCurve = eciesEncrypt(pub, randomBytes(10));
    offCurve.fill(7, 1, 65);
    assert.throws(() => eciesDecrypt(key, offCurve), CryptoError);
  });
});

describe('AES', () => {
  it('AES-128-CTR matches NIST SP 800-38A F.5.1', () => {
    const out = aesCtr(
      hex('2b7e151628aed2a6abf7158809cf4f3c'),
      hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'),
      hex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51'),
    );
    assert.equal(bytesToHex(out), '874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff');
  });

  it('AES-256-CTR keystream continues across partial blocks', () => {
    const key = randomBytes(32);
    const iv = randomBytes(16);
    const data = randomBytes(1000);
    const whole = aesCtr(key, iv, data);
    const stream = createAesCtr(key, iv);
    const parts: Uint8Array[] = [];
    for (const [from, to] of [
      [0, 5],
      [5, 16],
      [16, 17],
      [17, 500],
      [500, 1000],
    ] as const) {
      parts.push(stream.update(data.subarray(from, to)));
    }
    assert.deepEqual(concatBytes(...parts), whole);
  });

  it("AES-256-CTR gives node:crypto's keystream whatever mix of short (JavaScript) and long (native) spans", () => {
    // Lengths around the JavaScript/native split, the native cipher's catch-up distance and block boundaries; IVs
    // near the 128-bit counter's wrap, which must carry as OpenSSL's does.
    const length = fc.oneof(
      fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33, CTR_JS_MAX_BYTES, CTR_JS_MAX_BYTES + 1, 80, 129, 1024),
      fc.integer({ min: 0, max: 3000 }),
    );
    // `dataAt` random bytes lead the input: skipped by `updateInto`, handed to `updateTail` as its `from`.
    const step = fc.record({
      length,
      call: fc.constantFrom('update', 'updateInto', 'updateTail'),
      dataAt: fc.nat(20),
      outAt: fc.nat(9),
    });
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.nat(15),
        fc.array(step, { maxLength: 40 }),
        (key, ivBytes, saturated, steps) => {
          const iv = ivBytes.slice();
          iv.fill(0xff, 16 - saturated);
          const reference = createCipheriv('aes-256-ctr', key, iv);
          const stream = createAesCtr(key, iv);
          for (const { length, call, dataAt, outAt } of steps) {
            const data = randomBytes(dataAt + length);
            const before = data.slice();
            const want = bytesToHex(reference.update(data.subarray(dataAt)));
            if (call === 'updateInto') {
              const out = new Uint8Array(outAt + length + 3);
              stream.updateInto(data, dataAt, length, out, outAt);
              assert.equal(bytesToHex(out.subarray(outAt, outAt + length)), want);
            } else if (call === 'updateTail') {
              const tail = stream.updateTail(data, dataAt);
              assert.equal(bytesToHex(tail), want);
              assert.deepEqual(data, before, 'updateTail leaves its input as it was');
            } else assert.equal(bytesToHex(stream.update(data.subarray(dataAt))), want);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('AES-CTR peekBlockInto gives a block of keystream ahead and leaves the stream where it was', () => {
    // Streams moved on by spans of any length (JavaScript and native, for AES-256), then a block peeked up to 20
    // blocks ahead: the keystream node:crypto gives there, whether the counter wraps or not.
    fc.assert(
      fc.property(
        fc.constantFrom(16, 32),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.nat(15),
        fc.array(fc.record({ length: fc.nat(300), blocksAhead: fc.nat(20) }), { minLength: 1, maxLength: 12 }),
        (keyLength, ivBytes, saturated, steps) => {
          const key = randomBytes(keyLength);
          const iv = ivBytes.slice();
          iv.fill(0xff, 16 - saturated);
          const total = steps.reduce((sum, { length }) => sum + length, 0) + 16 * 22;
          const keystream = createCipheriv(`aes-${keyLength * 8}-ctr`, key, iv).update(new Uint8Array(total));
          const stream = createAesCtr(key, iv);
          let position = 0;
          for (const { length, blocksAhead } of steps) {
            const data = randomBytes(16);
            const out = new Uint8Array(20);
            const ahead = ((16 - (position % 16)) % 16) + 16 * blocksAhead;
            stream.peekBlockInto(ahead, data, 0, out, 3);
            const at = position + ahead;
            const want = data.map((byte, i) => byte ^ keystream[at + i]!);
            assert.equal(bytesToHex(out.subarray(3, 19)), bytesToHex(want));
            assert.throws(() => stream.peekBlockInto(ahead + 1, data, 0, out, 0), RangeError);
            const next = randomBytes(length);
            const moved = stream.update(next);
            const wantMoved = next.map((byte, i) => byte ^ keystream[position + i]!);
            assert.equal(bytesToHex(moved), bytesToHex(wantMoved), 'the stream goes on from where it was');
            position += length;
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('AES-CTR updateInto encrypts in place and refuses spans out of bounds', () => {
    for (const keyLength of [16, 32]) {
      const key = randomBytes(keyLength);
      const iv = randomBytes(16);
      const data = randomBytes(100);
      const want = aesCtr(key, iv, data);
      for (const split of [10, 90]) {
        const stream = createAesCtr(key, iv);
        const buffer = data.slice();
        stream.updateInto(buffer, 0, split, buffer, 0);
        stream.updateInto(buffer, split, 100 - split, buffer, split);
        assert.deepEqual(buffer, want);
      }
      const stream = createAesCtr(key, iv);
      assert.throws(() => stream.updateInto(data, 90, 11, new Uint8Array(100), 0), RangeError);
      assert.throws(() => stream.updateInto(data, 0, 10, new Uint8Array(100), 91), RangeError);
      assert.throws(() => stream.updateInto(data, -1, 10, new Uint8Array(100), 0), RangeError);
      assert.throws(() => stream.updateTail(data, 101), RangeError);
      assert.throws(() => stream.updateTail(data, -1), RangeError);
    }
  });

  it('AES-256-ECB single blocks match FIPS-197 C.3, and the cipher is reusable', () => {
    const ecb = createAes256Ecb(hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'));
    const block = hex('00112233445566778899aabbccddeeff');
    assert.equal(bytesToHex(ecb.encryptBlock(block)), '8ea2b7ca516745bfeafc49904b496089');
    assert.equal(bytesToHex(ecb.encryptBlock(block)), '8ea2b7ca516745bfeafc49904b496089');
    assert.throws(() => ecb.encryptBlock(new Uint8Array(15)), RangeError);
  });

  it("AES-256-ECB (JavaScript) gives node:crypto's bytes for random keys and blocks, also encrypting in place", () => {
    for (let i = 0; i < 500; i++) {
      const key = randomBytes(32);
      const block = randomBytes(16);
      const reference = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(block);
      const ecb = createAes256Ecb(key);
      assert.equal(bytesToHex(ecb.encryptBlock(block)), reference.toString('hex'));
      const scratch = block.slice();
      assert.equal(ecb.encryptBlock(scratch, scratch), scratch);
      assert.equal(bytesToHex(scratch), reference.toString('hex'));
    }
    assert.throws(
      () => createAes256Ecb(randomBytes(32)).encryptBlock(new Uint8Array(16), new Uint8Array(8)),
      RangeError,
    );
  });

  it('AES-128-GCM matches the discv5 vector and rejects a bad tag', () => {
    const g = readVectorJson<{
      crypto: { aes_gcm: { inputs: Record<string, string>; expected: Record<string, string> } };
    }>('discv5/wire-test-vectors.json').crypto.aes_gcm;
    const key = hex(g.inputs['encryption-key']!);
    const nonce = hex(g.inputs.nonce!);
    const ad = hex(g.inputs.ad!);
    const sealed = aes128GcmEncrypt(key, nonce, hex(g.inputs.pt!), ad);
    assert.equal(`0x${bytesToHex(sealed)}`, g.expected['message-ciphertext']);
    assert.deepEqual(aes128GcmDecrypt(key, nonce, sealed, ad), hex(g.inputs.pt!));
    const bad = sealed.slice();
    bad[bad.length - 1]! ^= 1;
    assert.throws(() => aes128GcmDecrypt(key, nonce, bad, ad), CryptoError);
    assert.throws(() => aes128GcmDecrypt(key, nonce, sealed, new Uint8Array(1)), CryptoError);
  });
});

describe('helpers', () => {
  it('randomBytes fills large buffers', () => {
    const r = randomBytes(100_000);
    assert.equal(r.length, 100_000);
    assert.notDeepEqual(r.subarray(70_000, 70_032), new Uint8Array(32));
    assert.deepEqual(hexToBytes(bytesToHex(r.subarray(0, 64))), r.subarray(0, 64));
  });
});
