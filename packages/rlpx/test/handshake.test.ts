import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, ProtocolError, rlpDecodePrefix, rlpEncode, TooLargeError, utf8ToBytes } from '@devp2p/core';
import { ECIES_OVERHEAD, eciesDecrypt, eciesEncrypt, publicKeyFromPrivate } from '@devp2p/crypto';
import { hex, readVectorJson } from '@devp2p/test-utils';
import {
  type AuthMessage,
  createAckReader,
  createAuthReader,
  decodeAck,
  decodeAuth,
  deriveSecrets,
  ERR_HANDSHAKE,
  encodeAck,
  encodeAuth,
  HANDSHAKE_MAX_SIZE,
  type HandshakeRead,
  type HandshakeReader,
  LEGACY_ACK_SIZE,
  LEGACY_AUTH_SIZE,
} from '../src/index.ts';
import { below, keyPair, seededBytes, xorshift } from './helpers.ts';

interface Eip8Vectors {
  keys: Record<'static_key_a' | 'static_key_b' | 'ephemeral_key_a' | 'ephemeral_key_b' | 'nonce_a' | 'nonce_b', string>;
  auth: { name: string; format: string; hex: string; expected: { version?: number } }[];
  ack: { name: string; format: string; hex: string; expected: { version?: number } }[];
  expected_secrets: { aes_secret: string; mac_secret: string; ingress_mac_foo: string };
  computed_by_helper: Record<string, string> & {
    recipient_mac_foo: Record<string, { ingress_mac_foo: string; egress_mac_foo: string }>;
  };
}

const vectors = (): Eip8Vectors => readVectorJson<Eip8Vectors>('rlpx/eip8-handshake.json');

const foo = utf8ToBytes('foo');

/** Feeds `bytes` to a reader in pieces of 1..maxPiece bytes until it yields. */
function feed<T>(reader: HandshakeReader<T>, bytes: Uint8Array, next: () => number, maxPiece = 50): HandshakeRead<T> {
  let offset = 0;
  while (offset < bytes.length) {
    const n = 1 + below(next, maxPiece);
    const read = reader.push(bytes.subarray(offset, offset + n));
    offset += n;
    if (read) return read;
  }
  throw new Error('reader did not complete');
}

function assertTyped(err: unknown): true {
  assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
  return true;
}

describe('EIP-8 handshake vectors', () => {
  it('the recipient parses Auth1 (legacy), Auth2 and Auth3 (EIP-8) and recovers the initiator keys', () => {
    const v = vectors();
    const keyB = hex(v.keys.static_key_b);
    for (const auth of v.auth) {
      const msg = decodeAuth(keyB, hex(auth.hex));
      assert.equal(bytesToHex(msg.initiatorPublicKey), v.computed_by_helper.public_key_a, auth.name);
      assert.equal(bytesToHex(msg.initiatorNonce), v.keys.nonce_a, auth.name);
      assert.equal(bytesToHex(msg.initiatorEphemeralPublicKey), v.computed_by_helper.ephemeral_public_key_a);
      assert.equal(msg.legacy, auth.format.startsWith('legacy'), auth.name);
      assert.equal(msg.version, auth.expected.version ?? 4, auth.name);
      // The stream reader cuts the same message out of any chunking, with nothing left over.
      const read = feed(createAuthReader(keyB), hex(auth.hex), xorshift(auth.hex.length));
      assert.deepEqual(read.message, msg);
      assert.equal(read.rest.length, 0);
      assert.equal(bytesToHex(read.packet), auth.hex);
    }
  });

  it('the initiator parses Ack1 (legacy), Ack2 and Ack3 (EIP-8)', () => {
    const v = vectors();
    const keyA = hex(v.keys.static_key_a);
    for (const ack of v.ack) {
      const msg = decodeAck(keyA, hex(ack.hex));
      assert.equal(bytesToHex(msg.recipientEphemeralPublicKey), v.computed_by_helper.ephemeral_public_key_b);
      assert.equal(bytesToHex(msg.recipientNonce), v.keys.nonce_b);
      assert.equal(msg.legacy, ack.format.startsWith('legacy'), ack.name);
      assert.equal(msg.version, ack.expected.version ?? 4, ack.name);
      const read = feed(createAckReader(keyA), hex(ack.hex), xorshift(ack.hex.length));
      assert.deepEqual(read.message, msg);
    }
  });

  it('both sides derive the published aes-secret, mac-secret and MAC states for every auth/ack pair', () => {
    const v = vectors();
    const keyA = hex(v.keys.static_key_a);
    const keyB = hex(v.keys.static_key_b);
    for (let i = 0; i < 3; i++) {
      const authPacket = hex(v.auth[i]!.hex);
      const ackPacket = hex(v.ack[i]!.hex);
      const pair = `${v.auth[i]!.name}+${v.ack[i]!.name}`;
      const auth = decodeAuth(keyB, authPacket);
      const ack = decodeAck(keyA, ackPacket);
      const b = deriveSecrets({
        initiator: false,
        ephemeralPrivateKey: hex(v.keys.ephemeral_key_b),
        remoteEphemeralPublicKey: auth.initiatorEphemeralPublicKey,
        initiatorNonce: auth.initiatorNonce,
        recipientNonce: hex(v.keys.nonce_b),
        authPacket,
        ackPacket,
      });
      const a = deriveSecrets({
        initiator: true,
        ephemeralPrivateKey: hex(v.keys.ephemeral_key_a),
        remoteEphemeralPublicKey: ack.recipientEphemeralPublicKey,
        initiatorNonce: hex(v.keys.nonce_a),
        recipientNonce: ack.recipientNonce,
        authPacket,
        ackPacket,
      });
      for (const s of [a, b]) {
        assert.equal(bytesToHex(s.aesSecret), v.expected_secrets.aes_secret, pair);
        assert.equal(bytesToHex(s.macSecret), v.expected_secrets.mac_secret, pair);
      }
      const expected = v.computed_by_helper.recipient_mac_foo[pair]!;
      assert.equal(bytesToHex(b.ingressMac.copy().update(foo).digest()), expected.ingress_mac_foo, pair);
      assert.equal(bytesToHex(b.egressMac.copy().update(foo).digest()), expected.egress_mac_foo, pair);
      assert.equal(bytesToHex(a.egressMac.copy().update(foo).digest()), expected.ingress_mac_foo, pair);
      assert.equal(bytesToHex(a.ingressMac.copy().update(foo).digest()), expected.egress_mac_foo, pair);
      if (i === 1) {
        // The source's own value (EIP-8 / geth rlpx_test.go), for (Auth2, Ack2).
        assert.equal(bytesToHex(b.ingressMac.copy().update(foo).digest()), v.expected_secrets.ingress_mac_foo);
      }
    }
  });

  it('reproduces the vectors’ plaintexts byte for byte, apart from the signature', () => {
    // The vectors' signature was made with a random k (geth's test injects it rather than recomputing it);
    // ours is RFC 6979. Both sign the same hash with the same key, so both recover to A's ephemeral key.
    const v = vectors();
    const keyA = hex(v.keys.static_key_a);
    const keyB = hex(v.keys.static_key_b);
    const common = { ephemeralPrivateKey: hex(v.keys.ephemeral_key_a), nonce: hex(v.keys.nonce_a) };
    const auth = encodeAuth({ privateKey: keyA, remotePublicKey: publicKeyFromPrivate(keyB), ...common });
    const body = bytesToHex(eciesDecrypt(keyB, auth.packet.subarray(2), auth.packet.subarray(0, 2)));
    const want = v.computed_by_helper.auth2_plaintext_rlp!;
    const sigEnd = (4 + 65) * 2; // list header f8a7, string header b841, 65-byte signature
    assert.equal(body.slice(0, 8), want.slice(0, 8));
    assert.equal(body.slice(sigEnd, want.length), want.slice(sigEnd));
    assert.ok(body.length / 2 - want.length / 2 >= 100, 'at least 100 bytes of padding');
    assert.deepEqual(
      decodeAuth(keyB, auth.packet).initiatorEphemeralPublicKey,
      hex(v.computed_by_helper.ephemeral_public_key_a!),
    );
    const legacyAuth = encodeAuth({
      privateKey: keyA,
      remotePublicKey: publicKeyFromPrivate(keyB),
      legacy: true,
      ...common,
    });
    assert.equal(legacyAuth.packet.length, LEGACY_AUTH_SIZE);
    assert.deepEqual(
      eciesDecrypt(keyB, legacyAuth.packet).subarray(65),
      eciesDecrypt(keyB, hex(v.auth[0]!.hex)).subarray(65),
    );

    const ackCommon = { ephemeralPrivateKey: hex(v.keys.ephemeral_key_b), nonce: hex(v.keys.nonce_b) };
    const ack = encodeAck({ remotePublicKey: publicKeyFromPrivate(keyA), ...ackCommon });
    const ackBody = eciesDecrypt(keyA, ack.packet.subarray(2), ack.packet.subarray(0, 2));
    assert.equal(
      bytesToHex(ackBody).slice(0, v.computed_by_helper.ack2_plaintext_rlp!.length),
      v.computed_by_helper.ack2_plaintext_rlp,
    );
    const legacyAck = encodeAck({ remotePublicKey: publicKeyFromPrivate(keyA), legacy: true, ...ackCommon });
    assert.equal(legacyAck.packet.length, LEGACY_ACK_SIZE);
    assert.deepEqual(eciesDecrypt(keyA, legacyAck.packet), eciesDecrypt(keyA, hex(v.ack[0]!.hex)));
  });
});

describe('handshake messages', () => {
  it('are byte-identical when all randomness is fixed', () => {
    const a = keyPair();
    const b = keyPair();
    const next = xorshift(7);
    const fixed = {
      privateKey: a.privateKey,
      remotePublicKey: b.publicKey,
      ephemeralPrivateKey: keyPair().privateKey,
      nonce: seededBytes(next, 32),
      padding: seededBytes(next, 123),
      eciesEphemeralPrivateKey: keyPair().privateKey,
      eciesIv: seededBytes(next, 16),
    };
    assert.deepEqual(encodeAuth(fixed).packet, encodeAuth(fixed).packet);
    assert.deepEqual(encodeAck(fixed).packet, encodeAck(fixed).packet);
    assert.equal(encodeAuth(fixed).packet.length, 2 + ECIES_OVERHEAD + 169 + 123);
  });

  it('round-trip in both formats, and the two sides agree on every secret', () => {
    for (const legacy of [false, true]) {
      const a = keyPair();
      const b = keyPair();
      const auth = encodeAuth({ privateKey: a.privateKey, remotePublicKey: b.publicKey, legacy });
      const parsedAuth = decodeAuth(b.privateKey, auth.packet);
      assert.deepEqual(parsedAuth.initiatorPublicKey, a.publicKey);
      assert.deepEqual(parsedAuth.initiatorEphemeralPublicKey, publicKeyFromPrivate(auth.ephemeralPrivateKey));
      assert.equal(parsedAuth.legacy, legacy);
      const ack = encodeAck({ remotePublicKey: parsedAuth.initiatorPublicKey, legacy: parsedAuth.legacy });
      const parsedAck = decodeAck(a.privateKey, ack.packet);
      assert.equal(parsedAck.legacy, legacy);
      const sa = deriveSecrets({
        initiator: true,
        ephemeralPrivateKey: auth.ephemeralPrivateKey,
        remoteEphemeralPublicKey: parsedAck.recipientEphemeralPublicKey,
        initiatorNonce: auth.nonce,
        recipientNonce: parsedAck.recipientNonce,
        authPacket: auth.packet,
        ackPacket: ack.packet,
      });
      const sb = deriveSecrets({
        initiator: false,
        ephemeralPrivateKey: ack.ephemeralPrivateKey,
        remoteEphemeralPublicKey: parsedAuth.initiatorEphemeralPublicKey,
        initiatorNonce: parsedAuth.initiatorNonce,
        recipientNonce: ack.nonce,
        authPacket: auth.packet,
        ackPacket: ack.packet,
      });
      assert.deepEqual(sa.aesSecret, sb.aesSecret);
      assert.deepEqual(sa.macSecret, sb.macSecret);
      assert.deepEqual(sa.egressMac.digest(), sb.ingressMac.digest());
      assert.deepEqual(sa.ingressMac.digest(), sb.egressMac.digest());
    }
  });

  it('accept EIP-8 extras: unknown version, extra list elements, trailing data', () => {
    const a = keyPair();
    const b = keyPair();
    const real = encodeAuth({ privateKey: a.privateKey, remotePublicKey: b.publicKey, padding: new Uint8Array(100) });
    const items = rlpDecodePrefix(eciesDecrypt(b.privateKey, real.packet.subarray(2), real.packet.subarray(0, 2)))
      .value as Uint8Array[];
    const body = rlpEncode([items[0]!, items[1]!, items[2]!, 99, [1, 2], 'extra']);
    const plaintext = new Uint8Array(body.length + 17);
    plaintext.set(body);
    const size = plaintext.length + ECIES_OVERHEAD;
    const prefix = new Uint8Array([size >> 8, size & 0xff]);
    const packet = new Uint8Array([...prefix, ...eciesEncrypt(b.publicKey, plaintext, { sharedMacData: prefix })]);
    const msg = decodeAuth(b.privateKey, packet);
    assert.equal(msg.version, 99);
    assert.deepEqual(msg.initiatorPublicKey, a.publicKey);
  });

  it('the reader leaves bytes after the message for the frame decoder', () => {
    const a = keyPair();
    const ack = encodeAck({ remotePublicKey: a.publicKey });
    const extra = seededBytes(xorshift(3), 77);
    const read = createAckReader(a.privateKey).push(new Uint8Array([...ack.packet, ...extra]));
    assert.ok(read);
    assert.deepEqual(read.rest, extra);
    assert.deepEqual(read.packet, ack.packet);
  });
});

describe('handshake limits', () => {
  it(`an EIP-8 size prefix above ${HANDSHAKE_MAX_SIZE} is TooLargeError as soon as the prefix arrives`, () => {
    const { privateKey } = keyPair();
    const reader = createAuthReader(privateKey, { remoteAddress: '10.0.0.1:30303' });
    const declared = HANDSHAKE_MAX_SIZE + 1;
    assert.throws(
      () => reader.push(new Uint8Array([declared >> 8, declared & 0xff])),
      (err: unknown) =>
        err instanceof TooLargeError && err.limit === HANDSHAKE_MAX_SIZE && err.remoteAddress === '10.0.0.1:30303',
    );
  });

  it(`a message of exactly ${HANDSHAKE_MAX_SIZE} bytes is accepted`, () => {
    const a = keyPair();
    const b = keyPair();
    const padding = new Uint8Array(HANDSHAKE_MAX_SIZE - ECIES_OVERHEAD - 169);
    const auth = encodeAuth({ privateKey: a.privateKey, remotePublicKey: b.publicKey, padding });
    assert.equal(auth.packet.length, HANDSHAKE_MAX_SIZE + 2);
    const read = feed(createAuthReader(b.privateKey), auth.packet, xorshift(5), 700);
    assert.deepEqual(read.message.initiatorPublicKey, a.publicKey);
    assert.throws(() =>
      encodeAuth({
        privateKey: a.privateKey,
        remotePublicKey: b.publicKey,
        padding: new Uint8Array(padding.length + 1),
      }),
    );
  });

  it('a prefix smaller than the ECIES overhead is a handshake error', () => {
    const { privateKey } = keyPair();
    assert.throws(
      () => createAckReader(privateKey).push(new Uint8Array([0, 50])),
      (err: unknown) => err instanceof ProtocolError && err.code === ERR_HANDSHAKE,
    );
  });

  it('307 bytes starting with 0x04 that are not a legacy auth are read on as EIP-8 (no stall, no error yet)', () => {
    const { privateKey } = keyPair();
    const bytes = seededBytes(xorshift(11), LEGACY_AUTH_SIZE);
    bytes[0] = 0x04;
    bytes[1] = 0x10; // declares 0x0410 = 1040 bytes
    assert.equal(createAuthReader(privateKey).push(bytes), undefined);
  });
});

describe('handshake decoders under fuzzing', () => {
  it('random input: only undefined (need more) or typed errors, never more than the declared size buffered', () => {
    const { privateKey } = keyPair();
    const next = xorshift(0xdecaf);
    for (let round = 0; round < 300; round++) {
      const length = below(next, 2600);
      const bytes = seededBytes(next, length);
      if (round % 3 === 0 && length > 0) bytes[0] = 0x04;
      if (round % 3 === 1 && length > 1) bytes[0] = below(next, 9);
      const reader = round % 2 ? createAuthReader(privateKey) : createAckReader(privateKey);
      try {
        let offset = 0;
        while (offset < bytes.length) {
          const n = 1 + below(next, 400);
          const read = reader.push(bytes.subarray(offset, offset + n)) as HandshakeRead<unknown> | undefined;
          offset += n;
          assert.equal(read, undefined, 'random bytes never form a valid message');
        }
      } catch (err) {
        assertTyped(err);
      }
    }
  });

  it('every single-byte change of a real auth or ack (EIP-8 and legacy) is rejected with a typed error', () => {
    const a = keyPair();
    const b = keyPair();
    const next = xorshift(99);
    const packets = [
      {
        key: b.privateKey,
        kind: 'auth',
        packet: encodeAuth({ privateKey: a.privateKey, remotePublicKey: b.publicKey }).packet,
      },
      {
        key: b.privateKey,
        kind: 'auth',
        packet: encodeAuth({ privateKey: a.privateKey, remotePublicKey: b.publicKey, legacy: true }).packet,
      },
      { key: a.privateKey, kind: 'ack', packet: encodeAck({ remotePublicKey: a.publicKey }).packet },
      { key: a.privateKey, kind: 'ack', packet: encodeAck({ remotePublicKey: a.publicKey, legacy: true }).packet },
    ];
    for (const { key, kind, packet } of packets) {
      for (let i = 0; i < packet.length; i++) {
        const mutated = packet.slice();
        mutated[i] = mutated[i]! ^ (1 + below(next, 255));
        const decode = kind === 'auth' ? decodeAuth : decodeAck;
        assert.throws(() => decode(key, mutated), assertTyped, `${kind} byte ${i}`);
      }
      const decode = kind === 'auth' ? decodeAuth : decodeAck;
      assert.throws(() => decode(key, packet.subarray(0, packet.length - 1)), assertTyped);
      assert.throws(() => decode(key, new Uint8Array([...packet, 0])), assertTyped);
    }
  });

  it('well-encrypted but malformed bodies: a typed error or a parsed message, nothing else', () => {
    const a = keyPair();
    const b = keyPair();
    const next = xorshift(1234);
    const real = encodeAuth({ privateKey: a.privateKey, remotePublicKey: b.publicKey, padding: new Uint8Array(0) });
    const body = eciesDecrypt(b.privateKey, real.packet.subarray(2), real.packet.subarray(0, 2));
    let parsed = 0;
    for (let round = 0; round < 200; round++) {
      const plaintext =
        round % 4 === 0
          ? seededBytes(next, below(next, 300))
          : body.map((x, i) => (below(next, body.length) === i ? x ^ (1 + below(next, 255)) : x));
      const size = plaintext.length + ECIES_OVERHEAD;
      const prefix = new Uint8Array([size >> 8, size & 0xff]);
      const packet = new Uint8Array([...prefix, ...eciesEncrypt(b.publicKey, plaintext, { sharedMacData: prefix })]);
      try {
        const msg: AuthMessage = decodeAuth(b.privateKey, packet);
        assert.equal(msg.initiatorPublicKey.length, 64);
        parsed++;
      } catch (err) {
        assertTyped(err);
      }
    }
    assert.ok(parsed > 0, 'some mutations (e.g. in the nonce) still parse');
  });
});
