/**
 * The discv5 wire codec beyond the public vectors: round trips of every message and packet kind, a whole
 * handshake between two nodes, and a typed rejection for each malformed case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concatBytes, Devp2pError, rlpEncode, utf8ToBytes } from '@devp2p/core';
import {
  aes128GcmEncrypt,
  aesCtr,
  compressPublicKey,
  generatePrivateKey,
  publicKeyFromPrivate,
  randomBytes,
} from '@devp2p/crypto';
import { Enr, NodeId } from '@devp2p/enode';
import {
  DISCV5_MAX_PACKET_SIZE,
  DISCV5_MESSAGE_TYPE,
  DISCV5_MIN_PACKET_SIZE,
  type Discv5HandshakePacket,
  type Discv5Message,
  Discv5MessageError,
  type Discv5Packet,
  Discv5PacketError,
  decodeDiscv5Message,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  encodeDiscv5HandshakePacket,
  encodeDiscv5Message,
  encodeDiscv5MessagePacket,
  encodeDiscv5RandomPacket,
  encodeDiscv5WhoareyouPacket,
  MAX_REQUEST_ID_SIZE,
  openDiscv5Handshake,
} from '../src/index.ts';

interface TestNode {
  readonly key: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly id: NodeId;
  readonly record: Enr;
}

function makeNode(seq = 1n, entries: { ip?: string; udp?: number } = { ip: '127.0.0.1', udp: 30303 }): TestNode {
  const key = generatePrivateKey();
  const publicKey = publicKeyFromPrivate(key);
  return { key, publicKey, id: NodeId.fromPublicKey(publicKey), record: Enr.create(entries, seq).sign(key) };
}

const a = makeNode(3n);
const b = makeNode(7n);
const c = makeNode(1n);

const rid = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

const MESSAGES: Discv5Message[] = [
  { type: 'ping', requestId: rid(0, 0, 0, 1), enrSeq: 2n },
  { type: 'ping', requestId: rid(), enrSeq: 0n },
  { type: 'ping', requestId: new Uint8Array(MAX_REQUEST_ID_SIZE).fill(0xff), enrSeq: (1n << 64n) - 1n },
  { type: 'pong', requestId: rid(1), enrSeq: 5n, ip: '203.0.113.7', port: 30303 },
  { type: 'pong', requestId: rid(1, 2), enrSeq: 0n, ip: '2001:db8::1', port: 0 },
  { type: 'pong', requestId: rid(9), enrSeq: 1n, ip: '::1', port: 65535 },
  { type: 'findnode', requestId: rid(7), distances: [256, 255, 254] },
  { type: 'findnode', requestId: rid(7), distances: [0] },
  { type: 'findnode', requestId: rid(7), distances: [] },
  { type: 'nodes', requestId: rid(3), total: 1, records: [] },
  { type: 'nodes', requestId: rid(3), total: 255, records: [a.record, b.record, c.record] },
  { type: 'talkreq', requestId: rid(4), protocol: utf8ToBytes('portal'), request: rid(1, 2, 3) },
  { type: 'talkreq', requestId: rid(4), protocol: rid(), request: rid() },
  { type: 'talkresp', requestId: rid(4), response: new Uint8Array(200).fill(9) },
  { type: 'talkresp', requestId: rid(), response: rid() },
];

/** Compares messages, records by their encoding. */
function assertSameMessage(got: Discv5Message, want: Discv5Message): void {
  if (got.type === 'nodes' && want.type === 'nodes') {
    assert.deepEqual({ ...got, records: [] }, { ...want, records: [] });
    assert.deepEqual(
      got.records.map((r) => r.encode()),
      want.records.map((r) => r.encode()),
    );
  } else {
    assert.deepEqual(got, want);
  }
}

function expectPacketError(f: () => unknown, reason: string): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof Discv5PacketError, `want Discv5PacketError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_DISCV5_PACKET');
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

function expectMessageError(plaintext: Uint8Array, reason: string): void {
  assert.throws(
    () => decodeDiscv5Message(plaintext),
    (err: unknown) => {
      assert.ok(err instanceof Discv5MessageError, `want Discv5MessageError, got ${String(err)}`);
      assert.equal(err.code, 'ERR_DISCV5_MESSAGE');
      assert.equal(err.reason, reason, err.message);
      return true;
    },
  );
}

interface RawPacket {
  readonly destId?: NodeId;
  readonly protocolId?: string;
  readonly version?: number;
  readonly flag: number;
  readonly nonce?: Uint8Array;
  /** Defaults to authdata.length. */
  readonly authdataSize?: number;
  readonly authdata: Uint8Array;
  readonly message?: Uint8Array;
}

/** Masks an arbitrary header the way a sender would, so malformed fields reach the decoder's checks. */
function rawPacket(p: RawPacket): Uint8Array {
  const iv = randomBytes(16);
  const size = p.authdataSize ?? p.authdata.length;
  const version = p.version ?? 1;
  const header = concatBytes(
    utf8ToBytes(p.protocolId ?? 'discv5'),
    Uint8Array.of(version >> 8, version & 0xff, p.flag),
    p.nonce ?? new Uint8Array(12),
    Uint8Array.of(size >> 8, size & 0xff),
    p.authdata,
  );
  const destId = p.destId ?? b.id;
  return concatBytes(iv, aesCtr(destId.bytes.subarray(0, 16), iv, header), p.message ?? new Uint8Array(0));
}

/** Handshake authdata with the given sizes and contents. */
function handshakeAuthdata(
  o: { sigSize?: number; keySize?: number; sig?: Uint8Array; key?: Uint8Array; record?: Uint8Array } = {},
): Uint8Array {
  const sig = o.sig ?? new Uint8Array(64).fill(1);
  const key = o.key ?? compressPublicKey(publicKeyFromPrivate(generatePrivateKey()));
  return concatBytes(
    a.id.bytes,
    Uint8Array.of(o.sigSize ?? sig.length, o.keySize ?? key.length),
    sig,
    key,
    o.record ?? new Uint8Array(0),
  );
}

/** A's challenge from B (B holds no record of A), and A's answer to it. */
function handshake(
  message: Discv5Message,
  options: { record?: Enr; enrSeq?: bigint; from?: TestNode } = {},
): { challengeData: Uint8Array; packet: Discv5HandshakePacket; bytes: Uint8Array } {
  const from = options.from ?? a;
  const whoareyou = encodeDiscv5WhoareyouPacket({
    destId: from.id,
    nonce: randomBytes(12),
    enrSeq: options.enrSeq ?? 0n,
  });
  const encoded = encodeDiscv5HandshakePacket({
    srcId: from.id,
    destId: b.id,
    privateKey: from.key,
    destPublicKey: b.publicKey,
    challengeData: whoareyou.headerData,
    record: options.record ?? from.record,
    message,
  });
  const packet = decodeDiscv5Packet(encoded.bytes, b.id);
  assert.equal(packet.kind, 'handshake');
  return { challengeData: whoareyou.headerData, packet: packet as Discv5HandshakePacket, bytes: encoded.bytes };
}

describe('discv5 messages: round trips', () => {
  for (const message of MESSAGES) {
    it(`${message.type} (${encodeDiscv5Message(message).length} bytes)`, () => {
      const plaintext = encodeDiscv5Message(message);
      assert.equal(plaintext[0], DISCV5_MESSAGE_TYPE[message.type]);
      assertSameMessage(decodeDiscv5Message(plaintext), message);
    });
  }

  it('sends an IPv4-mapped IPv6 recipient as its 4 IPv4 bytes', () => {
    const plaintext = encodeDiscv5Message({
      type: 'pong',
      requestId: rid(1),
      enrSeq: 1n,
      ip: '::ffff:10.0.0.1',
      port: 1,
    });
    assert.deepEqual(
      plaintext,
      encodeDiscv5Message({ type: 'pong', requestId: rid(1), enrSeq: 1n, ip: '10.0.0.1', port: 1 }),
    );
    const decoded = decodeDiscv5Message(plaintext);
    assert.equal(decoded.type === 'pong' && decoded.ip, '10.0.0.1');
  });

  it('leaves NODES record signatures to the caller (decoded, not verified)', () => {
    const unsigned = Enr.create({ ip: '10.0.0.2', udp: 1 }, 1n);
    const decoded = decodeDiscv5Message(
      encodeDiscv5Message({ type: 'nodes', requestId: rid(), total: 1, records: [unsigned] }),
    );
    assert.ok(decoded.type === 'nodes' && decoded.records.length === 1 && !decoded.records[0]!.verify());
  });
});

describe('discv5 packets: round trips', () => {
  it('an ordinary message packet decrypts with the key to every message', () => {
    const key = randomBytes(16);
    for (const message of MESSAGES) {
      const { bytes, nonce } = encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message });
      assert.ok(bytes.length <= DISCV5_MAX_PACKET_SIZE);
      const packet = decodeDiscv5Packet(bytes, b.id);
      assert.ok(packet.kind === 'message');
      assert.ok(packet.srcId.equals(a.id));
      assert.deepEqual(packet.nonce, nonce);
      assertSameMessage(decryptDiscv5Message(packet, key), message);
    }
  });

  it('draws fresh masking-iv and nonce for every packet by default', () => {
    const key = randomBytes(16);
    const message = MESSAGES[0]!;
    const one = encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message });
    const two = encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message });
    assert.notDeepEqual(one.bytes.subarray(0, 16), two.bytes.subarray(0, 16));
    assert.notDeepEqual(one.nonce, two.nonce);
    const w1 = encodeDiscv5WhoareyouPacket({ destId: a.id, nonce: one.nonce, enrSeq: 0n });
    const w2 = encodeDiscv5WhoareyouPacket({ destId: a.id, nonce: one.nonce, enrSeq: 0n });
    assert.notDeepEqual(w1.idNonce, w2.idNonce);
  });

  it('a whole handshake: random packet, WHOAREYOU, handshake, then messages both ways', () => {
    // A has no session with B: it sends random data.
    const random = encodeDiscv5RandomPacket({ srcId: a.id, destId: b.id });
    const first = decodeDiscv5Packet(random.bytes, b.id);
    assert.ok(first.kind === 'message' && first.srcId.equals(a.id));
    expectPacketError(() => decryptDiscv5Message(first, randomBytes(16)), 'decrypt-failed');
    // B cannot decrypt it and challenges A, knowing no record of A.
    const whoareyou = encodeDiscv5WhoareyouPacket({ destId: a.id, nonce: first.nonce, enrSeq: 0n });
    const challenge = decodeDiscv5Packet(whoareyou.bytes, a.id);
    assert.ok(challenge.kind === 'whoareyou');
    assert.deepEqual(challenge.nonce, random.nonce);
    assert.deepEqual(challenge.idNonce, whoareyou.idNonce);
    assert.equal(challenge.enrSeq, 0n);
    assert.deepEqual(challenge.headerData, whoareyou.headerData);
    // A answers with a handshake carrying its record (B's enr-seq 0 is older) and the real request.
    const findnode: Discv5Message = { type: 'findnode', requestId: rid(1, 2, 3), distances: [256] };
    const hs = encodeDiscv5HandshakePacket({
      srcId: a.id,
      destId: b.id,
      privateKey: a.key,
      destPublicKey: b.record.secp256k1!,
      challengeData: challenge.headerData,
      record: a.record,
      message: findnode,
    });
    assert.ok(hs.recordSent);
    const received = decodeDiscv5Packet(hs.bytes, b.id);
    assert.ok(received.kind === 'handshake');
    assert.ok(received.record?.equals(a.record));
    const opened = openDiscv5Handshake(received, {
      privateKey: b.key,
      localId: b.id,
      challengeData: whoareyou.headerData,
    });
    assert.deepEqual(opened.keys, hs.keys);
    assert.deepEqual(opened.message, findnode);
    assert.ok(opened.record.equals(a.record));
    // B answers with the recipient key, A writes on with the initiator key.
    const nodes: Discv5Message = { type: 'nodes', requestId: rid(1, 2, 3), total: 1, records: [b.record] };
    const reply = encodeDiscv5MessagePacket({
      srcId: b.id,
      destId: a.id,
      key: opened.keys.recipientKey,
      message: nodes,
    });
    const atA = decodeDiscv5Packet(reply.bytes, a.id);
    assert.ok(atA.kind === 'message' && atA.srcId.equals(b.id));
    assertSameMessage(decryptDiscv5Message(atA, hs.keys.recipientKey), nodes);
    const next = encodeDiscv5MessagePacket({
      srcId: a.id,
      destId: b.id,
      key: hs.keys.initiatorKey,
      message: MESSAGES[0]!,
    });
    const atB = decodeDiscv5Packet(next.bytes, b.id);
    assert.ok(atB.kind === 'message');
    assert.deepEqual(decryptDiscv5Message(atB, opened.keys.initiatorKey), MESSAGES[0]);
    // The wrong direction's key does not open it.
    expectPacketError(() => decryptDiscv5Message(atB, opened.keys.recipientKey), 'decrypt-failed');
  });

  it('sends the record only when the challenger holds an older one', () => {
    for (const [enrSeq, sent] of [
      [0n, true],
      [2n, true],
      [3n, false],
      [9n, false],
    ] as const) {
      const { packet } = handshake(MESSAGES[0]!, { enrSeq });
      assert.equal(packet.record !== undefined, sent, `enr-seq ${enrSeq}`);
    }
  });

  it('opens with the newer of the known and the sent record', () => {
    const newer = Enr.create({ ip: '10.0.0.3', udp: 30303 }, 10n).sign(a.key);
    const { packet, challengeData } = handshake(MESSAGES[0]!, { record: newer });
    const opts = { privateKey: b.key, localId: b.id, challengeData };
    assert.equal(openDiscv5Handshake(packet, { ...opts, knownRecord: a.record }).record.seq, 10n);
    const newest = Enr.create({ ip: '10.0.0.4', udp: 30303 }, 11n).sign(a.key);
    assert.equal(openDiscv5Handshake(packet, { ...opts, knownRecord: newest }).record.seq, 11n);
    // A record older than the known one is ignored, as geth does, even when its signature is bad.
    const stale = handshake(MESSAGES[0]!, { record: Enr.create({ udp: 1 }, 5n) });
    assert.equal(
      openDiscv5Handshake(stale.packet, { ...opts, challengeData: stale.challengeData, knownRecord: newest }).record
        .seq,
      11n,
    );
  });

  it('fills a packet to exactly 1280 bytes and refuses one byte more', () => {
    const key = randomBytes(16);
    // 16 + 23 + 32 + 16 (tag) + 1 (type) = 88 bytes around the RLP, and talkresp [rid, response] adds 7 bytes of
    // RLP headers to the response (3 list, 1 empty request id, 3 string).
    const fits = (n: number): Discv5Message => ({ type: 'talkresp', requestId: rid(), response: new Uint8Array(n) });
    const full = encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message: fits(1280 - 88 - 7) });
    assert.equal(full.bytes.length, DISCV5_MAX_PACKET_SIZE);
    const packet = decodeDiscv5Packet(full.bytes, b.id);
    assert.ok(packet.kind === 'message');
    assert.equal(decryptDiscv5Message(packet, key).type, 'talkresp');
    assert.throws(
      () => encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message: fits(1280 - 88 - 6) }),
      RangeError,
    );
  });
});

describe('discv5 packets: rejected with a typed reason', () => {
  const key = randomBytes(16);
  const good = encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message: MESSAGES[0]! }).bytes;
  const whoareyou = encodeDiscv5WhoareyouPacket({ destId: b.id, nonce: randomBytes(12), enrSeq: 1n }).bytes;
  const decode = (bytes: Uint8Array) => (): Discv5Packet => decodeDiscv5Packet(bytes, b.id);

  it('sizes outside 63..1280 bytes, before anything is unmasked', () => {
    assert.equal(whoareyou.length, DISCV5_MIN_PACKET_SIZE);
    assert.equal(decodeDiscv5Packet(whoareyou, b.id).kind, 'whoareyou');
    expectPacketError(decode(whoareyou.subarray(0, DISCV5_MIN_PACKET_SIZE - 1)), 'too-small');
    expectPacketError(decode(new Uint8Array(0)), 'too-small');
    expectPacketError(decode(concatBytes(good, new Uint8Array(DISCV5_MAX_PACKET_SIZE + 1 - good.length))), 'too-large');
    expectPacketError(decode(new Uint8Array(65_536)), 'too-large');
  });

  it('a wrong protocol id, or a packet masked for another node', () => {
    expectPacketError(
      decode(rawPacket({ protocolId: 'discv4', flag: 0, authdata: a.id.bytes, message: new Uint8Array(20) })),
      'bad-protocol-id',
    );
    expectPacketError(() => decodeDiscv5Packet(good, c.id), 'bad-protocol-id');
  });

  it('a version other than 1', () => {
    for (const version of [0, 2, 0x0100, 0xffff]) {
      expectPacketError(
        decode(rawPacket({ version, flag: 0, authdata: a.id.bytes, message: new Uint8Array(20) })),
        'bad-version',
      );
    }
  });

  it('an unknown flag', () => {
    for (const flag of [3, 4, 0x80, 0xff]) {
      expectPacketError(decode(rawPacket({ flag, authdata: a.id.bytes, message: new Uint8Array(20) })), 'unknown-flag');
    }
  });

  it('an authdata-size beyond the packet or wrong for the flag', () => {
    const msg = new Uint8Array(20);
    expectPacketError(
      decode(rawPacket({ flag: 0, authdata: a.id.bytes, authdataSize: 32 + 21, message: msg })),
      'bad-authdata-size',
    );
    expectPacketError(
      decode(rawPacket({ flag: 1, authdata: new Uint8Array(24), authdataSize: 0xffff })),
      'bad-authdata-size',
    );
    for (const size of [0, 31, 33]) {
      const authdata = new Uint8Array(size);
      expectPacketError(decode(rawPacket({ flag: 0, authdata, message: new Uint8Array(40) })), 'bad-authdata-size');
    }
    for (const size of [0, 23, 25, 32]) {
      const authdata = new Uint8Array(size);
      expectPacketError(
        decode(rawPacket({ flag: 1, authdata, message: new Uint8Array(40 - size) })),
        'bad-authdata-size',
      );
    }
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: new Uint8Array(33), message: new Uint8Array(40) })),
      'bad-authdata-size',
    );
    // sig-size 64 and eph-key-size 33 declared, but one byte of the key missing.
    const short = handshakeAuthdata().subarray(0, 34 + 64 + 32);
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: short, message: new Uint8Array(20) })),
      'bad-authdata-size',
    );
  });

  it('a handshake sig-size or eph-key-size other than 64 and 33 ("v4")', () => {
    const msg = new Uint8Array(20);
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: handshakeAuthdata({ sig: new Uint8Array(65) }), message: msg })),
      'bad-signature-size',
    );
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: handshakeAuthdata({ sig: new Uint8Array(0) }), message: msg })),
      'bad-signature-size',
    );
    const uncompressed = concatBytes(Uint8Array.of(4), publicKeyFromPrivate(generatePrivateKey()));
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: handshakeAuthdata({ key: uncompressed }), message: msg })),
      'bad-key-size',
    );
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: handshakeAuthdata({ key: new Uint8Array(32) }), message: msg })),
      'bad-key-size',
    );
    // A size byte that disagrees with the bytes that follow.
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: handshakeAuthdata({ sigSize: 63 }), message: msg })),
      'bad-signature-size',
    );
  });

  it('a handshake record that is not an ENR', () => {
    const msg = new Uint8Array(20);
    for (const record of [
      Uint8Array.of(0x01),
      Uint8Array.of(0xc0),
      rlpEncode([new Uint8Array(64), 1, 'id']),
      concatBytes(a.record.encode(), Uint8Array.of(0)),
    ]) {
      expectPacketError(
        decode(rawPacket({ flag: 2, authdata: handshakeAuthdata({ record }), message: msg })),
        'bad-record',
      );
    }
    // A well-formed record decodes (its signature is checked when the handshake is opened).
    const ok = decodeDiscv5Packet(
      rawPacket({ flag: 2, authdata: handshakeAuthdata({ record: a.record.encode() }), message: msg }),
      b.id,
    );
    assert.ok(ok.kind === 'handshake' && ok.record?.equals(a.record));
  });

  it('a message part too short to hold a message, and bytes after a WHOAREYOU', () => {
    expectPacketError(
      decode(rawPacket({ flag: 0, authdata: a.id.bytes, message: new Uint8Array(16) })),
      'message-too-short',
    );
    expectPacketError(
      decode(rawPacket({ flag: 2, authdata: handshakeAuthdata(), message: new Uint8Array(0) })),
      'message-too-short',
    );
    assert.equal(
      decodeDiscv5Packet(rawPacket({ flag: 0, authdata: a.id.bytes, message: new Uint8Array(17) }), b.id).kind,
      'message',
    );
    expectPacketError(decode(concatBytes(whoareyou, Uint8Array.of(0))), 'trailing-bytes');
  });

  it('a message that does not authenticate: wrong key, changed ciphertext, changed header', () => {
    const packet = decodeDiscv5Packet(good, b.id);
    assert.ok(packet.kind === 'message');
    expectPacketError(() => decryptDiscv5Message(packet, randomBytes(16)), 'decrypt-failed');
    const ct = good.slice();
    ct[ct.length - 1]! ^= 1;
    const changed = decodeDiscv5Packet(ct, b.id);
    assert.ok(changed.kind === 'message');
    expectPacketError(() => decryptDiscv5Message(changed, key), 'decrypt-failed');
    // A flipped nonce bit (masked header byte 16 + 9) changes the unmasked header, the AES-GCM associated data.
    const hd = good.slice();
    hd[16 + 9]! ^= 1;
    const other = decodeDiscv5Packet(hd, b.id);
    assert.ok(other.kind === 'message');
    expectPacketError(() => decryptDiscv5Message(other, key), 'decrypt-failed');
  });

  it('a message that authenticates but does not decode', () => {
    const packet = decodeDiscv5Packet(good, b.id);
    assert.ok(packet.kind === 'message');
    const ciphertext = aes128GcmEncrypt(key, packet.nonce, Uint8Array.of(7, 0xc0), packet.headerData);
    assert.throws(
      () => decryptDiscv5Message({ ...packet, ciphertext }, key),
      (err: unknown) => err instanceof Discv5MessageError && err.reason === 'unknown-type',
    );
  });
});

describe('discv5 handshakes: rejected when opened', () => {
  it('no record sent and none known', () => {
    const { packet, challengeData } = handshake(MESSAGES[0]!, { enrSeq: 3n });
    assert.equal(packet.record, undefined);
    expectPacketError(
      () => openDiscv5Handshake(packet, { privateKey: b.key, localId: b.id, challengeData }),
      'missing-record',
    );
  });

  it("a record that is not the sender's, or not signed", () => {
    const foreign = handshake(MESSAGES[0]!, { record: c.record });
    expectPacketError(
      () =>
        openDiscv5Handshake(foreign.packet, { privateKey: b.key, localId: b.id, challengeData: foreign.challengeData }),
      'bad-record',
    );
    const unsigned = handshake(MESSAGES[0]!, { record: Enr.create({ udp: 1 }, 9n) });
    expectPacketError(
      () =>
        openDiscv5Handshake(unsigned.packet, {
          privateKey: b.key,
          localId: b.id,
          challengeData: unsigned.challengeData,
        }),
      'bad-record',
    );
    const { packet, challengeData } = handshake(MESSAGES[0]!);
    assert.throws(
      () => openDiscv5Handshake(packet, { privateKey: b.key, localId: b.id, challengeData, knownRecord: c.record }),
      RangeError,
    );
  });

  it('an ephemeral key off the curve', () => {
    const bad = concatBytes(Uint8Array.of(2), new Uint8Array(32).fill(0xff));
    const bytes = rawPacket({
      flag: 2,
      authdata: handshakeAuthdata({ key: bad, record: a.record.encode() }),
      message: new Uint8Array(20),
    });
    const packet = decodeDiscv5Packet(bytes, b.id);
    assert.ok(packet.kind === 'handshake');
    const challengeData = encodeDiscv5WhoareyouPacket({ destId: a.id, nonce: randomBytes(12), enrSeq: 0n }).headerData;
    expectPacketError(
      () => openDiscv5Handshake(packet, { privateKey: b.key, localId: b.id, challengeData }),
      'bad-ephemeral-key',
    );
  });

  it('an id-signature over another challenge, or by another key', () => {
    const { packet } = handshake(MESSAGES[0]!);
    const otherChallenge = encodeDiscv5WhoareyouPacket({ destId: a.id, nonce: randomBytes(12), enrSeq: 0n }).headerData;
    expectPacketError(
      () => openDiscv5Handshake(packet, { privateKey: b.key, localId: b.id, challengeData: otherChallenge }),
      'bad-id-signature',
    );
    const { packet: p2, challengeData } = handshake(MESSAGES[0]!);
    const forged: Discv5HandshakePacket = { ...p2, idSignature: p2.idSignature.map((x, i) => (i === 5 ? x ^ 1 : x)) };
    expectPacketError(
      () => openDiscv5Handshake(forged, { privateKey: b.key, localId: b.id, challengeData }),
      'bad-id-signature',
    );
  });

  it('a message that does not authenticate under the derived keys', () => {
    const { packet, challengeData } = handshake(MESSAGES[0]!);
    const ciphertext = packet.ciphertext.slice();
    ciphertext[0]! ^= 1;
    expectPacketError(
      () => openDiscv5Handshake({ ...packet, ciphertext }, { privateKey: b.key, localId: b.id, challengeData }),
      'decrypt-failed',
    );
    // Opened by the wrong node: the keys differ.
    expectPacketError(
      () => openDiscv5Handshake(packet, { privateKey: c.key, localId: b.id, challengeData }),
      'decrypt-failed',
    );
  });
});

describe('discv5 messages: rejected with a typed reason', () => {
  const t = DISCV5_MESSAGE_TYPE;
  const msg = (type: number, data: Parameters<typeof rlpEncode>[0]): Uint8Array =>
    concatBytes(Uint8Array.of(type), rlpEncode(data));

  it('empty plaintext and unknown types', () => {
    expectMessageError(new Uint8Array(0), 'empty');
    for (const type of [0, 7, 8, 0x80, 0xff]) expectMessageError(msg(type, [rid(1), 1]), 'unknown-type');
  });

  it('request ids over 8 bytes, or not a byte string', () => {
    expectMessageError(msg(t.ping, [new Uint8Array(9), 1]), 'bad-request-id');
    expectMessageError(msg(t.talkresp, [new Uint8Array(32), rid()]), 'bad-request-id');
    expectMessageError(msg(t.ping, [[rid(1)], 1]), 'bad-request-id');
    assert.equal(decodeDiscv5Message(msg(t.ping, [new Uint8Array(8), 1])).type, 'ping');
  });

  it('wrong element counts, trailing bytes, bad RLP', () => {
    expectMessageError(msg(t.ping, [rid(1)]), 'malformed');
    expectMessageError(msg(t.ping, [rid(1), 1, 2]), 'malformed');
    expectMessageError(msg(t.ping, rid(1)), 'malformed');
    expectMessageError(concatBytes(msg(t.ping, [rid(1), 1]), Uint8Array.of(0)), 'malformed');
    expectMessageError(Uint8Array.of(t.ping, 0xc5, 0x01), 'malformed');
    expectMessageError(Uint8Array.of(t.ping), 'malformed');
    expectMessageError(msg(t.pong, [rid(1), 1, rid(1, 2, 3, 4)]), 'malformed');
    expectMessageError(msg(t.findnode, [rid(1), [1], []]), 'malformed');
    expectMessageError(msg(t.nodes, [rid(1), 1]), 'malformed');
    expectMessageError(msg(t.talkreq, [rid(1), rid()]), 'malformed');
    expectMessageError(msg(t.talkresp, [rid(1)]), 'malformed');
  });

  it('integers that are not canonical or out of range', () => {
    expectMessageError(msg(t.ping, [rid(1), new Uint8Array(9).fill(1)]), 'malformed');
    expectMessageError(msg(t.ping, [rid(1), rid(0, 1)]), 'malformed');
    expectMessageError(msg(t.ping, [rid(1), [1]]), 'malformed');
    expectMessageError(msg(t.pong, [rid(1), 1, rid(1, 2, 3, 4), 65536]), 'malformed');
    expectMessageError(msg(t.findnode, [rid(1), [257]]), 'malformed');
    expectMessageError(msg(t.findnode, [rid(1), [1, 2 ** 40]]), 'malformed');
    expectMessageError(msg(t.findnode, [rid(1), 5]), 'malformed');
    expectMessageError(msg(t.findnode, [rid(1), [[1]]]), 'malformed');
    expectMessageError(msg(t.nodes, [rid(1), 256, []]), 'malformed');
  });

  it('PONG addresses of other than 4 or 16 bytes', () => {
    for (const n of [0, 3, 5, 15, 17]) expectMessageError(msg(t.pong, [rid(1), 1, new Uint8Array(n), 1]), 'malformed');
  });

  it('TALKREQ / TALKRESP fields that are lists', () => {
    expectMessageError(msg(t.talkreq, [rid(1), [], rid()]), 'malformed');
    expectMessageError(msg(t.talkresp, [rid(1), []]), 'malformed');
  });

  it('NODES records that are not ENRs', () => {
    expectMessageError(msg(t.nodes, [rid(1), 1, rid(1, 2)]), 'malformed');
    expectMessageError(msg(t.nodes, [rid(1), 1, [rid(1, 2)]]), 'bad-record');
    expectMessageError(msg(t.nodes, [rid(1), 1, [[rid(1)]]]), 'bad-record');
    expectMessageError(msg(t.nodes, [rid(1), 1, [[new Uint8Array(64), 1, 'b', 1, 'a', 2]]]), 'bad-record');
  });
});

describe('discv5 encoders: refuse what the wire cannot carry', () => {
  const key = randomBytes(16);
  const send = (message: Discv5Message) => (): unknown =>
    encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message });

  it('message fields out of range', () => {
    assert.throws(send({ type: 'ping', requestId: new Uint8Array(9), enrSeq: 1n }), RangeError);
    assert.throws(send({ type: 'ping', requestId: rid(), enrSeq: -1n }), RangeError);
    assert.throws(send({ type: 'ping', requestId: rid(), enrSeq: 1n << 64n }), RangeError);
    assert.throws(send({ type: 'pong', requestId: rid(), enrSeq: 1n, ip: 'nope', port: 1 }), RangeError);
    assert.throws(send({ type: 'pong', requestId: rid(), enrSeq: 1n, ip: '1.2.3.4', port: 65536 }), RangeError);
    assert.throws(send({ type: 'findnode', requestId: rid(), distances: [257] }), RangeError);
    assert.throws(send({ type: 'findnode', requestId: rid(), distances: [1.5] }), RangeError);
    assert.throws(send({ type: 'nodes', requestId: rid(), total: 256, records: [] }), RangeError);
    // 16 records of ~100 bytes: the spec splits these over several NODES messages.
    const records = Array.from({ length: 16 }, () => makeNode().record);
    assert.throws(send({ type: 'nodes', requestId: rid(), total: 1, records }), RangeError);
  });

  it('nonces, masking-ivs, keys and challenge data of the wrong size', () => {
    const message = MESSAGES[0]!;
    assert.throws(
      () => encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key: new Uint8Array(15), message }),
      RangeError,
    );
    assert.throws(
      () => encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message, nonce: new Uint8Array(11) }),
      RangeError,
    );
    assert.throws(
      () => encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message, maskingIv: new Uint8Array(15) }),
      RangeError,
    );
    assert.throws(
      () => encodeDiscv5WhoareyouPacket({ destId: a.id, nonce: new Uint8Array(13), enrSeq: 0n }),
      RangeError,
    );
    assert.throws(
      () =>
        encodeDiscv5WhoareyouPacket({
          destId: a.id,
          nonce: new Uint8Array(12),
          idNonce: new Uint8Array(8),
          enrSeq: 0n,
        }),
      RangeError,
    );
    assert.throws(
      () => encodeDiscv5WhoareyouPacket({ destId: a.id, nonce: new Uint8Array(12), enrSeq: -1n }),
      RangeError,
    );
    assert.throws(
      () => encodeDiscv5RandomPacket({ srcId: a.id, destId: b.id, message: new Uint8Array(16) }),
      RangeError,
    );
    const ordinary = encodeDiscv5MessagePacket({ srcId: a.id, destId: b.id, key, message });
    for (const challengeData of [new Uint8Array(63), ordinary.headerData, ordinary.headerData.subarray(0, 63)]) {
      assert.throws(
        () =>
          encodeDiscv5HandshakePacket({
            srcId: a.id,
            destId: b.id,
            privateKey: a.key,
            destPublicKey: b.publicKey,
            challengeData,
            record: a.record,
            message,
          }),
        RangeError,
      );
    }
  });

  it('all errors the decoders throw are Devp2pErrors with stable codes', () => {
    const err = new Discv5PacketError('too-small', 'x', { remoteAddress: '10.0.0.1:30303' });
    assert.ok(err instanceof Devp2pError);
    assert.equal(err.name, 'Discv5PacketError');
    assert.match(err.message, /discv5 packet: x \(remote 10\.0\.0\.1:30303\)/);
    assert.equal(new Discv5MessageError('empty', 'y').code, 'ERR_DISCV5_MESSAGE');
  });
});
