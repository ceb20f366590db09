import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, type RlpInput, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, keccak256, publicKeyFromPrivate, sign } from '@devp2p/crypto';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { ENR_MAX_SIZE, Enr, EnrError, Node, NodeId } from '../src/index.ts';

interface Eip778Vectors {
  source_values: { text: string; private_key: string; node_id: string; seq: number; rlp_hex_from_geth_test: string };
  computed_by_helper: {
    rlp_hex: string;
    signature: string;
    signed_hash: string;
    signed_content_rlp: string;
    pairs_hex: Record<string, string>;
    decoded: { id: string; ip: string; udp: number; secp256k1: string };
    public_key_uncompressed_xy: string;
  };
  related: {
    geth_urlv4_test_record: {
      text: string;
      private_key: string;
      expected: { seq: number; ip: string; udp: number; id_scheme: string };
      computed_node_id: string;
    };
    geth_invalid_signature_record: { text: string; expected_error: string };
  };
  decode_incomplete_cases: { cases: { input: string; error: string | null }[] };
}

const vectors = (): Eip778Vectors => readVectorJson<Eip778Vectors>('enr/eip778-example.json');

/** An RLP record built by hand (for malformed ones the encoder would refuse to produce). */
function rawRecord(items: RlpInput[]): Uint8Array {
  return rlpEncode(items);
}

function assertEnrError(fn: () => unknown, includes: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EnrError, `expected EnrError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_ENR');
    assert.ok(err.message.includes(includes), `"${err.message}" should include "${includes}"`);
    return true;
  });
}

const key = generatePrivateKey();

describe('ENR: EIP-778 example record', () => {
  it('decodes to its listed fields and node id', () => {
    const v = vectors();
    const record = Enr.decodeText(v.source_values.text);
    assert.equal(record.seq, BigInt(v.source_values.seq));
    assert.equal(record.id, v.computed_by_helper.decoded.id);
    assert.equal(record.ip, v.computed_by_helper.decoded.ip);
    assert.equal(record.udp, v.computed_by_helper.decoded.udp);
    assert.equal(bytesToHex(record.secp256k1!), v.computed_by_helper.decoded.secp256k1);
    assert.equal(bytesToHex(record.publicKey!), v.computed_by_helper.public_key_uncompressed_xy);
    assert.equal(record.nodeId!.hex, v.source_values.node_id);
    assert.equal(bytesToHex(record.signature), v.computed_by_helper.signature);
    assert.deepEqual(record.keys(), Object.keys(v.computed_by_helper.pairs_hex));
    for (const [k, value] of Object.entries(v.computed_by_helper.pairs_hex)) {
      assert.deepEqual(record.getValue(k), hex(value), k);
    }
    assert.equal(record.tcp, undefined);
    assert.equal(record.ip6, undefined);
    assert.ok(record.verify());
  });

  it('encodes back to the same bytes and text', () => {
    const v = vectors();
    const record = Enr.decodeText(v.source_values.text);
    assert.equal(bytesToHex(record.encode()), v.computed_by_helper.rlp_hex);
    assert.equal(v.computed_by_helper.rlp_hex, v.source_values.rlp_hex_from_geth_test);
    assert.equal(record.toText(), v.source_values.text);
    assert.equal(record.size, v.computed_by_helper.rlp_hex.length / 2);
    assert.ok(Enr.decode(hex(v.computed_by_helper.rlp_hex)).equals(record));
  });

  it('signs to the same record from the same key, entries and seq (RFC 6979 nonces)', () => {
    const v = vectors();
    const record = Enr.create({ ip: '127.0.0.1', udp: 30303 }, 1n).sign(hex(v.source_values.private_key));
    assert.equal(record.toText(), v.source_values.text);
    // What was signed: keccak-256 of rlp([seq, k, v, ...]).
    assert.equal(bytesToHex(keccak256(hex(v.computed_by_helper.signed_content_rlp))), v.computed_by_helper.signed_hash);
  });

  it("decodes geth's urlv4_test record", () => {
    const r = vectors().related.geth_urlv4_test_record;
    const record = Enr.decodeText(r.text);
    assert.equal(record.seq, BigInt(r.expected.seq));
    assert.equal(record.ip, r.expected.ip);
    assert.equal(record.udp, r.expected.udp);
    assert.equal(record.id, r.expected.id_scheme);
    assert.equal(record.nodeId!.hex, r.computed_node_id);
    assert.equal(NodeId.fromPublicKey(publicKeyFromPrivate(hex(r.private_key))).hex, r.computed_node_id);
  });

  it("rejects geth's record with an invalid signature, and accepts its structure unverified", () => {
    const r = vectors().related.geth_invalid_signature_record;
    assertEnrError(() => Enr.decodeText(r.text), 'invalid signature on node record');
    const unverified = Enr.decodeText(r.text, { verify: false });
    assert.equal(unverified.verify(), false);
    assertEnrError(() => unverified.verifyOrThrow(), 'invalid signature');
    assertEnrError(() => Node.fromRecord(unverified), 'invalid signature');
  });

  it("structural decoding matches geth's TestDecodeIncomplete", () => {
    for (const c of vectors().decode_incomplete_cases.cases) {
      if (c.error === null) {
        const record = Enr.decode(hex(c.input), { verify: false });
        assert.equal(bytesToHex(record.encode()), c.input);
        assertEnrError(() => Enr.decode(hex(c.input)), 'invalid signature');
      } else {
        assertEnrError(() => Enr.decode(hex(c.input), { verify: false }), c.error);
      }
    }
  });
});

describe('ENR: rejecting invalid records', () => {
  const signature = new Uint8Array(64);

  it('rejects records over 300 bytes', () => {
    const big = rawRecord([signature, 1, 'id', 'v4', 'z', new Uint8Array(240)]);
    assert.ok(big.length > ENR_MAX_SIZE);
    assertEnrError(() => Enr.decode(big, { verify: false }), `record bigger than ${ENR_MAX_SIZE} bytes`);
    assertEnrError(() => Enr.create({ z: new Uint8Array(200) }).sign(key), `bigger than ${ENR_MAX_SIZE} bytes`);
    assertEnrError(() => Enr.create({ z: new Uint8Array(300) }).encode(), `bigger than ${ENR_MAX_SIZE} bytes`);
  });

  it('rejects unsorted and duplicate keys', () => {
    assertEnrError(
      () => Enr.decode(rawRecord([signature, 1, 'udp', 1, 'ip', new Uint8Array(4)]), { verify: false }),
      'not sorted by key',
    );
    assertEnrError(
      () => Enr.decode(rawRecord([signature, 1, 'ip', new Uint8Array(4), 'ip', new Uint8Array(4)]), { verify: false }),
      'duplicate key "ip"',
    );
  });

  it('rejects structural problems with a reason', () => {
    assertEnrError(() => Enr.decode(new Uint8Array(0)), 'EOF');
    assertEnrError(() => Enr.decode(rlpEncode(new Uint8Array(5))), 'not an RLP list');
    assertEnrError(() => Enr.decode(rawRecord([[], 1])), 'signature is not a byte string');
    assertEnrError(() => Enr.decode(rawRecord([signature, [1]])), 'seq is not an integer');
    assertEnrError(() => Enr.decode(rawRecord([signature, new Uint8Array(9).fill(1)])), 'seq exceeds 64 bits');
    assertEnrError(() => Enr.decode(rawRecord([signature, Uint8Array.of(0, 1)])), 'leading zero');
    assertEnrError(() => Enr.decode(rawRecord([signature, 1, ['k'], 1])), 'is a list');
    assertEnrError(() => Enr.decode(Uint8Array.of(0xc3, 0x80, 0x01)), 'not valid RLP');
    assertEnrError(() => Enr.decode(Uint8Array.of(0xc2, 0x80, 0x01, 0x00)), 'trailing');
  });

  it('rejects unsigned, unknown-scheme, keyless and tampered records when verifying', () => {
    const good = Enr.create({ udp: 1 }, 3n).sign(key);
    const unsigned = Enr.create({ udp: 1 });
    assertEnrError(() => Enr.decode(unsigned.encode()), 'invalid signature');
    assertEnrError(() => Node.fromRecord(unsigned), 'not signed');
    const v5 = rawRecord([good.signature, 3, 'id', 'v5', 'secp256k1', good.secp256k1!, 'udp', 1]);
    assertEnrError(() => Enr.decode(v5), 'unknown identity scheme "v5"');
    assertEnrError(() => Enr.decode(rawRecord([good.signature, 3, 'id', 'v4', 'udp', 1])), '"secp256k1"');
    assertEnrError(() => Enr.decode(rawRecord([good.signature, 3, 'udp', 1])), 'no identity scheme');
    const tampered = rawRecord([good.signature, 3, 'id', 'v4', 'secp256k1', good.secp256k1!, 'udp', 2]);
    assertEnrError(() => Enr.decode(tampered), 'invalid signature on node record');
    const replayed = rawRecord([good.signature, 4, 'id', 'v4', 'secp256k1', good.secp256k1!, 'udp', 1]);
    assertEnrError(() => Enr.decode(replayed), 'invalid signature on node record');
    assert.ok(Enr.decode(good.encode()).verify());
  });

  it('rejects malformed text', () => {
    const text = Enr.create({ udp: 1 }).sign(key).toText();
    assertEnrError(() => Enr.decodeText(text.slice(4)), "missing 'enr:' prefix");
    assertEnrError(() => Enr.decodeText(`${text}=`), 'illegal base64 data at input byte');
    assertEnrError(() => Enr.decodeText('enr:ab+/'), 'illegal base64 data at input byte 2');
    assertEnrError(() => Enr.decodeText('enr:abcde'), 'illegal base64 data at input byte 4');
  });
});

describe('ENR: entries', () => {
  it('has typed getters for the predefined keys', () => {
    const record = Enr.create({
      ip: '10.1.2.3',
      ip6: '2001:db8::7',
      tcp: 30303,
      udp: 30301,
      tcp6: 30304,
      udp6: 30305,
      quic: 9000,
      quic6: 9001,
    }).sign(key);
    const back = Enr.decode(record.encode());
    assert.equal(back.ip, '10.1.2.3');
    assert.equal(back.ip6, '2001:db8::7');
    assert.deepEqual(
      [back.tcp, back.udp, back.tcp6, back.udp6, back.quic, back.quic6],
      [30303, 30301, 30304, 30305, 9000, 9001],
    );
    assert.equal(back.id, 'v4');
    assert.equal(back.nodeId!.hex, NodeId.fromPublicKey(publicKeyFromPrivate(key)).hex);
    assert.deepEqual(back.keys(), ['id', 'ip', 'ip6', 'quic', 'quic6', 'secp256k1', 'tcp', 'tcp6', 'udp', 'udp6']);
  });

  it('throws a typed error naming the key for a malformed value', () => {
    const record = Enr.decode(rawRecord([new Uint8Array(0), 1, 'ip', Uint8Array.of(1, 2, 3), 'tcp', 70000]), {
      verify: false,
    });
    assertEnrError(() => record.ip, 'ENR key "ip": expected 4 bytes, got 3');
    assertEnrError(() => record.tcp, 'ENR key "tcp"');
    assert.equal(record.udp, undefined);
    assert.equal(record.nodeId, undefined);
  });

  it('validates typed values when setting', () => {
    assert.throws(() => Enr.create({ ip: '::1' }), TypeError);
    assert.throws(() => Enr.create({ ip6: '1.2.3.4' }), TypeError);
    assert.throws(() => Enr.create({ ip: 'localhost' }), TypeError);
    assert.throws(() => Enr.create({ tcp: 65536 }), RangeError);
    assert.throws(() => Enr.create({ udp: -1 }), RangeError);
    assert.throws(() => Enr.create({ secp256k1: new Uint8Array(64) }), TypeError);
    assert.throws(() => Enr.create({}, -1n), RangeError);
    assert.throws(() => Enr.create({}, 1n << 64n), RangeError);
    assert.equal(Enr.create({ ip: Uint8Array.of(192, 168, 0, 1) }).ip, '192.168.0.1');
  });

  it('keeps unknown keys and their values byte for byte', () => {
    // A record built and signed by hand, not by the library: its bytes must come back unchanged.
    const compressed = Enr.create().sign(key).secp256k1!;
    const odd: RlpInput = [[Uint8Array.of(1, 2), []], 'text', new Uint8Array(0), [[[7]]]];
    const content: RlpInput[] = [7, 'aaa', odd, 'id', 'v4', 'secp256k1', compressed, 'udp', 1, 'zz', 0];
    const signature = sign(keccak256(rlpEncode(content)), key).subarray(0, 64);
    const raw = rlpEncode([signature, ...content]);
    const back = Enr.decode(raw);
    assert.deepEqual(back.encode(), raw);
    assert.deepEqual(back.get('aaa'), rlpEncode(odd));
    assert.deepEqual(back.get('zz'), Uint8Array.of(0x80));
    assert.deepEqual(back.keys(), ['aaa', 'id', 'secp256k1', 'udp', 'zz']);
    // Built through the API, the same content gives the same bytes.
    assert.deepEqual(Enr.create({ aaa: odd, zz: 0, udp: 1 }, 7n).sign(key).encode(), raw);
    // Changing another key keeps the unknown values' bytes.
    const changed = back.with({ udp: 2 }).sign(key);
    assert.deepEqual(Enr.decode(changed.encode()).get('aaa'), rlpEncode(odd));
  });

  it('reads the eth fork id entry', () => {
    const record = Enr.create({ eth: [[Uint8Array.of(0xfc, 0x64, 0xec, 0x04), 1150000n], 'future'] }).sign(key);
    assert.deepEqual(Enr.decode(record.encode()).eth, { hash: 0xfc64ec04, next: 1150000n });
    assert.deepEqual(Enr.create({ eth: [[Uint8Array.of(1, 2, 3, 4), 0]] }).eth, { hash: 0x01020304, next: 0n });
    assertEnrError(() => Enr.create({ eth: [Uint8Array.of(1, 2, 3, 4)] }).eth, 'ENR key "eth"');
  });

  it('follows geth on sequence numbers: changing a signed record bumps seq, signing keeps it', () => {
    const first = Enr.create({ tcp: 1 }, 5n);
    assert.equal(first.signed, false);
    assert.equal(first.with({ tcp: 2 }).seq, 5n);
    const signed = first.sign(key);
    assert.equal(signed.seq, 5n);
    assert.ok(signed.signed);
    const changed = signed.with({ tcp: 3, udp: 4 });
    assert.equal(changed.seq, 6n);
    assert.equal(changed.signed, false);
    assert.equal(changed.sign(key).seq, 6n);
    assert.equal(signed.with({ tcp: null }).has('tcp'), false);
    assert.equal(signed.withSeq(100n).seq, 100n);
    const max = Enr.create({}, (1n << 64n) - 1n).sign(key);
    assert.equal(Enr.decode(max.encode()).seq, (1n << 64n) - 1n);
    assert.throws(() => max.with({ tcp: 1 }), RangeError);
  });

  it('returns copies, so callers cannot change a record', () => {
    const record = Enr.create({ z: Uint8Array.of(1) }).sign(key);
    record.signature.fill(0);
    record.get('z')!.fill(0);
    record.publicKey!.fill(0);
    assert.ok(record.verify());
    assert.deepEqual(record.getValue('z'), Uint8Array.of(1));
    assert.ok(Enr.decode(record.encode()).verify());
  });
});
