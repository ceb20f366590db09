import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, concatBytes, ProtocolError, TooLargeError } from '@devp2p/core';
import { eciesDecrypt, type Keccak256Hasher } from '@devp2p/crypto';
import { hex, readVectorJson } from '@devp2p/test-utils';
import {
  createFrameCodec,
  type DecodedFrame,
  decodeAck,
  decodeAuth,
  deriveSecrets,
  ERR_BAD_MAC,
  ERR_BAD_MESSAGE,
  FrameDecoder,
  FrameEncoder,
  frameLength,
  MAX_FRAME_SIZE,
} from '../src/index.ts';
import {
  below,
  type DirectionSecrets,
  fixedDirection,
  referenceFrameWriter,
  seededBytes,
  xorshift,
} from './helpers.ts';

interface LegacyVectors {
  values: Record<string, string>;
  computed_by_helper: Record<string, string> & Record<string, { frame_plain: string; msg_id: number }>;
}

interface GoldenVector {
  aes_secret: string;
  mac_secret: string;
  fake_mac_sum: string;
  msg_code: number;
  msg_payload: string;
  golden: string;
  want_frame_content: string;
}

/** Both sides' secrets from the legacy vector's handshake, derived by our own handshake code. */
function legacySecrets(v: LegacyVectors) {
  const x = v.values;
  const auth = decodeAuth(hex(x.receiver_private_key!), hex(x.auth_ciphertext!));
  const ack = decodeAck(hex(x.initiator_private_key!), hex(x.authresp_ciphertext!));
  const packets = { authPacket: hex(x.auth_ciphertext!), ackPacket: hex(x.authresp_ciphertext!) };
  const initiator = deriveSecrets({
    initiator: true,
    ephemeralPrivateKey: hex(x.initiator_ephemeral_private_key!),
    remoteEphemeralPublicKey: ack.recipientEphemeralPublicKey,
    initiatorNonce: hex(x.initiator_nonce!),
    recipientNonce: ack.recipientNonce,
    ...packets,
  });
  const receiver = deriveSecrets({
    initiator: false,
    ephemeralPrivateKey: hex(x.receiver_ephemeral_private_key!),
    remoteEphemeralPublicKey: auth.initiatorEphemeralPublicKey,
    initiatorNonce: auth.initiatorNonce,
    recipientNonce: hex(x.receiver_nonce!),
    ...packets,
  });
  return { auth, ack, initiator, receiver };
}

/** Stand-in for geth's fake MAC hash in TestFrameReadWrite: Write does nothing, Sum is always the same. */
function fakeHash(sum: Uint8Array): Keccak256Hasher {
  const hash: Keccak256Hasher = { update: () => hash, digest: () => sum.slice(), copy: () => hash };
  return hash;
}

function decodeAll(decoder: FrameDecoder): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  for (let f = decoder.next(); f; f = decoder.next()) out.push(f);
  return out;
}

function encoderFor(d: DirectionSecrets): FrameEncoder {
  return new FrameEncoder(d.aesSecret, d.macSecret, d.mac.copy());
}

function decoderFor(d: DirectionSecrets, maxFrameSize?: number): FrameDecoder {
  return new FrameDecoder(d.aesSecret, d.macSecret, d.mac.copy(), {
    remoteAddress: '192.0.2.1:30303',
    ...(maxFrameSize === undefined ? {} : { maxFrameSize }),
  });
}

describe('frame vectors', () => {
  it('legacy handshake: secrets and initial MAC digests as published', () => {
    const v = readVectorJson<LegacyVectors>('rlpx/legacy-handshake-and-frames.json');
    const x = v.values;
    const { auth, ack, initiator, receiver } = legacySecrets(v);
    assert.ok(auth.legacy && ack.legacy);
    assert.equal(bytesToHex(eciesDecrypt(hex(x.receiver_private_key!), hex(x.auth_ciphertext!))), x.auth_plaintext);
    assert.equal(bytesToHex(auth.initiatorNonce), x.initiator_nonce);
    assert.equal(bytesToHex(ack.recipientNonce), x.receiver_nonce);
    for (const s of [initiator, receiver]) {
      assert.equal(bytesToHex(s.aesSecret), x.aes_secret);
      assert.equal(bytesToHex(s.macSecret), x.mac_secret);
    }
    assert.equal(bytesToHex(initiator.egressMac.digest()), x.initial_egress_MAC);
    assert.equal(bytesToHex(initiator.ingressMac.digest()), x.initial_ingress_MAC);
    assert.equal(bytesToHex(receiver.ingressMac.digest()), x.initial_egress_MAC);
    assert.equal(bytesToHex(receiver.egressMac.digest()), x.initial_ingress_MAC);
  });

  it('legacy handshake: both Hello frames (real MACs) decode, and re-encode byte for byte', () => {
    const v = readVectorJson<LegacyVectors>('rlpx/legacy-handshake-and-frames.json');
    const x = v.values;
    const directions = [
      { packet: x.initiator_hello_packet!, plain: v.computed_by_helper.initiator_hello_packet_decrypted! },
      { packet: x.receiver_hello_packet!, plain: v.computed_by_helper.receiver_hello_packet_decrypted! },
    ];
    // Decode: the receiver reads the initiator's Hello, and the other way round.
    const decoding = legacySecrets(v);
    const decoders = [createFrameCodec(decoding.receiver).decoder, createFrameCodec(decoding.initiator).decoder];
    const encoding = legacySecrets(v);
    const encoders = [createFrameCodec(encoding.initiator).encoder, createFrameCodec(encoding.receiver).encoder];
    for (let i = 0; i < 2; i++) {
      const { packet, plain } = directions[i]!;
      const decoder = decoders[i]!;
      decoder.push(hex(packet));
      const frame = decoder.next();
      assert.ok(frame);
      assert.equal(frame.code, 0);
      assert.equal(bytesToHex(frame.data), plain.frame_plain.slice(2), 'message code 0 is 0x80, then the payload');
      assert.equal(decoder.next(), undefined);
      assert.equal(decoder.bufferedBytes, 0);
      assert.equal(bytesToHex(encoders[i]!.encodeFrame(0, frame.data)), packet);
    }
  });

  it("geth's TestFrameReadWrite golden frame (fake MAC hashes): layout, padding and AES-256-CTR", () => {
    const g = readVectorJson<GoldenVector>('rlpx/geth-frame-golden.json');
    const sum = hex(g.fake_mac_sum);
    const encoder = new FrameEncoder(hex(g.aes_secret), hex(g.mac_secret), fakeHash(sum));
    assert.equal(bytesToHex(encoder.encodeFrame(g.msg_code, hex(g.msg_payload))), g.golden);
    const decoder = new FrameDecoder(hex(g.aes_secret), hex(g.mac_secret), fakeHash(sum));
    decoder.push(hex(g.golden));
    const frame = decoder.next();
    assert.ok(frame);
    assert.equal(frame.code, g.msg_code);
    assert.equal(bytesToHex(frame.data), g.want_frame_content.slice(2));
  });
});

describe('frame codec', () => {
  it('agrees with an independent reference writer, for every message-code width', () => {
    const d = fixedDirection(1);
    const write = referenceFrameWriter(d);
    const encoder = encoderFor(d);
    const decoder = decoderFor(d);
    const next = xorshift(2);
    const codes = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32, Number.MAX_SAFE_INTEGER];
    for (const code of codes) {
      const data = seededBytes(next, below(next, 100));
      const frame = encoder.encodeFrame(code, data);
      // rlp(code): 0 is 0x80, below 0x80 one byte, else a length byte and big-endian bytes.
      const codeBytes: number[] = [];
      for (let c = code; c > 0; c = Math.floor(c / 256)) codeBytes.unshift(c % 256);
      const rlpCode = code === 0 ? [0x80] : code < 0x80 ? [code] : [0x80 + codeBytes.length, ...codeBytes];
      assert.deepEqual(frame, write(new Uint8Array([...rlpCode, ...data])), `code ${code}`);
      decoder.push(frame);
      const got = decoder.next();
      assert.equal(got?.code, code);
      assert.deepEqual(got?.data, data);
    }
  });

  it('decodes any chunking of a frame sequence and never holds more than one frame plus one chunk', () => {
    const d = fixedDirection(3);
    const encoder = encoderFor(d);
    const next = xorshift(4);
    const messages = Array.from({ length: 60 }, (_, i) => ({
      code: below(next, 40),
      data: seededBytes(next, i % 10 === 0 ? below(next, 70_000) : below(next, 300)),
    }));
    const wire = concatBytes(...messages.map((m) => encoder.encodeFrame(m.code, m.data)));
    const largestFrame = Math.max(...messages.map((m) => 32 + Math.ceil((m.data.length + 1) / 16) * 16 + 16));
    for (const maxChunk of [1, 17, 1000, 65536, wire.length]) {
      const decoder = decoderFor(d);
      const got: DecodedFrame[] = [];
      let offset = 0;
      while (offset < wire.length) {
        const n = 1 + below(next, maxChunk);
        decoder.push(wire.subarray(offset, offset + n));
        offset += n;
        got.push(...decodeAll(decoder));
        assert.ok(decoder.bufferedBytes <= largestFrame + maxChunk, 'bounded buffering');
        assert.ok(decoder.bytesNeeded > 0 || offset >= wire.length);
      }
      assert.equal(got.length, messages.length, `chunks up to ${maxChunk}`);
      // Compared after all are decoded: a body copied out of its chunks goes through one array shared by every
      // decoder, so a frame's data must never be a view of it.
      got.forEach((f, i) => {
        assert.equal(f.code, messages[i]!.code);
        assert.deepEqual(f.data, messages[i]!.data);
      });
      assert.equal(decoder.bufferedBytes, 0);
    }
  });

  it('detects every single-byte corruption of a frame (all 255 changes at every position)', () => {
    const d = fixedDirection(5);
    const frame = encoderFor(d).encodeFrame(0x10, seededBytes(xorshift(6), 37)); // 32 + 48 + 16 bytes
    assert.equal(frame.length, 96);
    let detected = 0;
    for (let position = 0; position < frame.length; position++) {
      for (let change = 1; change < 256; change++) {
        const corrupt = frame.slice();
        corrupt[position] = corrupt[position]! ^ change;
        const decoder = decoderFor(d);
        decoder.push(corrupt);
        assert.throws(
          () => decoder.next(),
          (err: unknown) => err instanceof ProtocolError && err.code === ERR_BAD_MAC,
          `byte ${position} ^ ${change}`,
        );
        detected++;
      }
    }
    assert.equal(detected, 96 * 255);
  });

  it('rejects a declared size above the limit as soon as the header arrives (nothing allocated for it)', () => {
    const d = fixedDirection(7);
    const frame = encoderFor(d).encodeFrame(1, new Uint8Array(5000));
    const decoder = decoderFor(d, 4096);
    decoder.push(frame.subarray(0, 32));
    assert.throws(
      () => decoder.next(),
      (err: unknown) => err instanceof TooLargeError && err.limit === 4096 && err.remoteAddress === '192.0.2.1:30303',
    );
    assert.equal(decoder.bufferedBytes, 0);
    assert.throws(() => decoder.next(), TooLargeError, 'stays failed');
  });

  it('reads its MAC digests with digestInto(), allocating no array per digest, and falls back to digest()', () => {
    const next = xorshift(91);
    const secrets = fixedDirection(91);
    const counting = (hash: Keccak256Hasher): Keccak256Hasher & { digests: number; into: number } => {
      const counted = {
        digests: 0,
        into: 0,
        update: (data: Uint8Array) => {
          hash.update(data);
          return counted;
        },
        digest: () => {
          counted.digests++;
          return hash.digest();
        },
        digestInto: (out: Uint8Array) => {
          counted.into++;
          hash.digestInto?.(out);
        },
        copy: () => hash.copy(),
      };
      return counted;
    };
    const egress = counting(secrets.mac.copy());
    const ingress = counting(secrets.mac.copy());
    const encoder = new FrameEncoder(secrets.aesSecret, secrets.macSecret, egress);
    const decoder = new FrameDecoder(secrets.aesSecret, secrets.macSecret, ingress);
    for (let i = 0; i < 10; i++) decoder.push(encoder.encodeFrame(0x10 + i, seededBytes(next, i * 37)));
    assert.equal(decodeAll(decoder).length, 10);
    // Two MACs a frame, in both directions, none through digest(): the first frame takes four digests, each later
    // one three, because its header MAC starts from the digest the previous frame MAC ended with.
    assert.deepEqual([egress.into, egress.digests, ingress.into, ingress.digests], [31, 0, 31, 0]);
    // A hasher without digestInto (a stand-in such as fakeHash) still works, through digest().
    const plain = secrets.mac.copy();
    const withoutInto: Keccak256Hasher = {
      update: (data) => {
        plain.update(data);
        return withoutInto;
      },
      digest: () => plain.digest(),
      copy: () => plain.copy(),
    };
    const reference = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.mac.copy());
    const fallback = new FrameEncoder(secrets.aesSecret, secrets.macSecret, withoutInto);
    assert.equal(
      bytesToHex(fallback.encodeFrame(0x10, Uint8Array.of(1))),
      bytesToHex(reference.encodeFrame(0x10, Uint8Array.of(1))),
    );
  });

  it('encodeFrameInto() writes the bytes encodeFrame() returns, at any offset, and frameLength() says how many', () => {
    const next = xorshift(92);
    const secrets = fixedDirection(92);
    const reference = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.mac.copy());
    const into = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.mac.copy());
    const buffer = new Uint8Array(5_000);
    let offset = 3;
    for (const [code, size] of [
      [0x03, 1],
      [0x10, 0],
      [0x80, 100],
      [0x1234, 3_000],
      [0x02, 15],
    ] as const) {
      const data = seededBytes(next, size);
      const expected = reference.encodeFrame(code, data);
      assert.equal(frameLength(code, size), expected.length);
      const written = into.encodeFrameInto(code, data, buffer, offset);
      assert.equal(written, expected.length);
      assert.equal(bytesToHex(buffer.subarray(offset, offset + written)), bytesToHex(expected));
      offset += written;
    }
    // No room: nothing is consumed (the next frame still matches the reference's).
    assert.throws(() => into.encodeFrameInto(0x10, new Uint8Array(100), buffer, buffer.length - 10), RangeError);
    const data = seededBytes(next, 20);
    assert.equal(bytesToHex(into.encodeFrame(0x11, data)), bytesToHex(reference.encodeFrame(0x11, data)));
    assert.throws(() => frameLength(0x10, MAX_FRAME_SIZE), TooLargeError);
  });

  it('stageFrameInto() then sealStagedFrames() gives the bytes encodeFrame() does, for one frame or many', () => {
    const next = xorshift(94);
    const secrets = fixedDirection(94);
    const reference = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.mac.copy());
    const staged = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.mac.copy());
    const codes = [0x03, 0x10, 0x80, 0x1234];
    // A Pong alone (sealed in JavaScript), a few around the block size, many (one native call for all).
    for (const sizes of [[1], [0, 15, 16, 17], Array.from({ length: 40 }, () => below(next, 1500))]) {
      const room = sizes.reduce((sum, size, i) => sum + frameLength(codes[i % codes.length]!, size), 0);
      const buffer = new Uint8Array(3 + room + 5);
      const expected: string[] = [];
      let end = 3;
      sizes.forEach((size, i) => {
        const code = codes[i % codes.length]!;
        const data = seededBytes(next, size);
        expected.push(bytesToHex(reference.encodeFrame(code, data)));
        end += staged.stageFrameInto(code, data, buffer, end);
        data.fill(0xee); // staged frames hold their own copy
      });
      // Nothing else is encoded while frames are staged, and a seal must cover exactly their bytes.
      assert.throws(() => staged.encodeFrame(0x10, new Uint8Array(1)), /sealed first/);
      assert.throws(() => staged.encodeFrameParts(0x10, new Uint8Array(1)), /sealed first/);
      assert.throws(() => staged.sealStagedFrames(buffer, 3, end - 16), RangeError);
      staged.sealStagedFrames(buffer, 3, end);
      assert.equal(bytesToHex(buffer.subarray(3, end)), expected.join(''), `${sizes.length} frames`);
      assert.deepEqual([...buffer.subarray(0, 3), ...buffer.subarray(end)], new Array(8).fill(0), 'nothing outside');
    }
    // Sealed: the next frame follows on from the staged ones' keystream and MAC state.
    const data = seededBytes(next, 100);
    assert.equal(bytesToHex(staged.encodeFrame(0x11, data)), bytesToHex(reference.encodeFrame(0x11, data)));
  });

  it('decodes the frames received together in one batch; those before a bad one come out before its error', () => {
    const d = fixedDirection(95);
    const next = xorshift(95);
    const messages = Array.from({ length: 12 }, (_, i) => seededBytes(next, [1, 100, 2_000][i % 3]!));
    // [the bad frame, what is wrong with it, the error code]
    for (const [bad, fault, code] of [
      [0, 'header MAC', ERR_BAD_MAC],
      [5, 'header MAC', ERR_BAD_MAC],
      [5, 'frame MAC', ERR_BAD_MAC],
      [11, 'frame MAC', ERR_BAD_MAC],
      [7, 'message code', ERR_BAD_MESSAGE],
      [12, 'none', ''],
    ] as const) {
      const write = referenceFrameWriter(d);
      const frames = messages.map((m, i) =>
        write(i === bad && fault === 'message code' ? Uint8Array.of(0x81, 0x05) : concatBytes(Uint8Array.of(0x10), m)),
      );
      if (fault === 'header MAC') frames[bad]![20]! ^= 1;
      if (fault === 'frame MAC') frames[bad]![frames[bad]!.length - 1]! ^= 1;
      const decoder = decoderFor(d);
      decoder.push(concatBytes(...frames));
      const got: DecodedFrame[] = [];
      let error: unknown;
      try {
        for (let f = decoder.next(); f; f = decoder.next()) got.push(f);
      } catch (err) {
        error = err;
      }
      assert.equal(got.length, bad, `${fault} of frame ${bad}`);
      for (const [i, f] of got.entries()) assert.deepEqual(f.data, messages[i]);
      if (bad === messages.length) {
        assert.equal(error, undefined);
        // One array for what one batch decrypted: the 100- and 2,000-byte messages' data are views of it.
        assert.equal(new Set(got.filter((f) => f.data.length > 64).map((f) => f.data.buffer)).size, 1);
        continue;
      }
      assert.ok(error instanceof ProtocolError && error.code === code, String(error));
      assert.throws(
        () => decoder.next(),
        (again: unknown) => again === error,
        'and the same error again',
      );
    }
  });

  it('checks a header read ahead with a batch against the frame limit when its frame comes up', () => {
    const d = fixedDirection(96);
    const next = xorshift(96);
    const encoder = encoderFor(d);
    const hello = seededBytes(next, 50);
    const large = seededBytes(next, 3_000);
    const wire = concatBytes(encoder.encodeFrame(0x00, hello), encoder.encodeFrame(0x10, large));
    // The limit raised after the first frame (as after a Hello): the second decodes.
    const raised = decoderFor(d, 100);
    raised.push(wire);
    assert.deepEqual(raised.next()?.data, hello);
    raised.maxFrameSize = 5_000;
    assert.deepEqual(raised.next()?.data, large);
    // Left as it was: the second fails.
    const kept = decoderFor(d, 100);
    kept.push(wire);
    assert.deepEqual(kept.next()?.data, hello);
    assert.throws(() => kept.next(), TooLargeError);
  });

  it('encodeFrameParts() returns the bytes encodeFrame() does, in three parts, with the data encrypted where it is', () => {
    const next = xorshift(93);
    const secrets = fixedDirection(93);
    const reference = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.mac.copy());
    const parts = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.mac.copy());
    // Frames in parts and whole, one after another on one encoder: the keystream and the MAC state run on across them.
    // [code, rlp(code) length, data length, in parts]
    for (const [code, codeLength, size, inParts] of [
      [0x10, 1, 70_000, true],
      [0x03, 1, 1, false],
      [0x80, 2, 100_001, true],
      [0x1234, 3, 0, true],
      [0x02, 1, 15, true],
      [2 ** 40, 7, 16, true],
      [0x11, 1, 3_000, false],
      [0x00, 1, 200_014, true],
    ] as const) {
      const data = seededBytes(next, size);
      const before = bytesToHex(data);
      const expected = reference.encodeFrame(code, data);
      if (!inParts) {
        assert.equal(bytesToHex(parts.encodeFrame(code, data)), bytesToHex(expected));
        continue;
      }
      const [head, body, tail] = parts.encodeFrameParts(code, data);
      assert.equal(head.length, 32 + codeLength, `code ${code}`);
      assert.equal(body.length, size, 'the data, encrypted');
      assert.equal(tail.length, expected.length - head.length - body.length, 'padding and frame MAC');
      assert.ok(tail.length >= 16 && tail.length < 32);
      assert.equal(bytesToHex(concatBytes(head, body, tail)), bytesToHex(expected), `code ${code}, ${size} bytes`);
      assert.equal(bytesToHex(data), before, 'the data is left as it was');
    }
    // A frame too large: nothing is consumed (the next frame still matches the reference's).
    assert.throws(() => parts.encodeFrameParts(1, new Uint8Array(MAX_FRAME_SIZE)), TooLargeError);
    assert.throws(() => parts.encodeFrameParts(-1, new Uint8Array(0)), RangeError);
    const data = seededBytes(next, 80_000);
    assert.equal(
      bytesToHex(concatBytes(...parts.encodeFrameParts(0x11, data))),
      bytesToHex(reference.encodeFrame(0x11, data)),
    );
  });

  it('refuses to encode a frame above 16 MiB - 1, and bad codes', () => {
    const encoder = encoderFor(fixedDirection(8));
    assert.throws(() => encoder.encodeFrame(1, new Uint8Array(MAX_FRAME_SIZE)), TooLargeError);
    assert.throws(() => encoder.encodeFrame(-1, new Uint8Array(0)), RangeError);
    assert.throws(() => encoder.encodeFrame(1.5, new Uint8Array(0)), RangeError);
    assert.equal(encoder.encodeFrame(0, new Uint8Array(MAX_FRAME_SIZE - 1)).length, 32 + 2 ** 24 + 16);
  });

  it('rejects authentic frames without a valid message code with ERR_BAD_MESSAGE', () => {
    const cases = [
      [],
      [0x81, 0x05], // non-canonical: a single byte below 0x80 must not have a header
      [0x82, 0x00, 0x80], // leading zero
      [0x88, 1, 2, 3, 4, 5, 6, 7, 8], // wider than 7 bytes
      [0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // above 2^53
      [0x83, 0x01], // runs past the frame
      [0xc2, 0x01, 0x02], // a list
    ];
    for (const content of cases) {
      const d = fixedDirection(9);
      const decoder = decoderFor(d);
      decoder.push(referenceFrameWriter(d)(new Uint8Array(content)));
      assert.throws(
        () => decoder.next(),
        (err: unknown) => err instanceof ProtocolError && err.code === ERR_BAD_MESSAGE,
        bytesToHex(new Uint8Array(content)),
      );
    }
  });
});

describe('frame decoder under fuzzing', () => {
  it('random bytes: undefined below a header, then ERR_BAD_MAC; never anything untyped', () => {
    const next = xorshift(10);
    for (let round = 0; round < 500; round++) {
      const decoder = decoderFor(fixedDirection(11));
      const bytes = seededBytes(next, below(next, 400));
      decoder.push(bytes);
      if (bytes.length < 32) assert.equal(decoder.next(), undefined);
      else
        assert.throws(
          () => decoder.next(),
          (err: unknown) => err instanceof ProtocolError && err.code === ERR_BAD_MAC,
        );
    }
  });

  it('mutated frame streams: frames before the mutation decode intact, then a typed error (or a wait)', () => {
    const d = fixedDirection(12);
    const next = xorshift(13);
    const encoder = encoderFor(d);
    const messages = Array.from({ length: 20 }, () => ({
      code: below(next, 20),
      data: seededBytes(next, below(next, 200)),
    }));
    const frames = messages.map((m) => encoder.encodeFrame(m.code, m.data));
    const wire = concatBytes(...frames);
    const ends: number[] = [];
    for (const f of frames) ends.push((ends.at(-1) ?? 0) + f.length);
    for (let round = 0; round < 300; round++) {
      const mutated = wire.slice();
      const kind = round % 3;
      const at = below(next, wire.length);
      let input: Uint8Array = mutated;
      if (kind === 0) mutated[at] = mutated[at]! ^ (1 + below(next, 255));
      else if (kind === 1)
        input = concatBytes(wire.subarray(0, at), seededBytes(next, 1 + below(next, 40)), wire.subarray(at));
      else input = concatBytes(wire.subarray(0, at), wire.subarray(at + 1 + below(next, 40)));
      const intact = ends.filter((end) => end <= at).length;
      const decoder = decoderFor(d);
      const got: DecodedFrame[] = [];
      let error: unknown;
      try {
        for (let offset = 0; offset < input.length; ) {
          const n = 1 + below(next, 300);
          decoder.push(input.subarray(offset, offset + n));
          offset += n;
          for (let f = decoder.next(); f; f = decoder.next()) got.push(f);
        }
      } catch (err) {
        error = err;
      }
      if (error !== undefined) assert.ok(error instanceof ProtocolError, String(error));
      else assert.ok(kind === 2 && got.length < messages.length, 'only a deletion can leave the decoder waiting');
      assert.ok(got.length >= intact && got.length <= messages.length, `kind ${kind} at ${at}`);
      for (let i = 0; i < intact; i++) assert.deepEqual(got[i]!.data, messages[i]!.data);
    }
  });
});
