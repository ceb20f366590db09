import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, concatBytes, type RlpValue, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, keccak256, publicKeyFromPrivate } from '@devp2p/crypto';
import { Enr, normalizeIp } from '@devp2p/enode';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { Discv4PacketError, decodePacket, encodePacket, MAX_PACKET_SIZE, type Packet } from '../src/index.ts';

interface Endpoint {
  ip: string;
  udp: number;
  tcp: number;
}
interface Vectors {
  signer_node_id_computed: string;
  eip8_packets: {
    name: string;
    hex: string;
    decoded_by_helper: {
      type_name: string;
      hash: string;
      fields: Record<string, unknown> & { remaining_list_elements_rlp: string[]; expiration: number };
    };
  }[];
  geth_packets: {
    name: string;
    hex: string;
    hash: string;
    expected: Record<string, unknown> & { rest: string[]; enr_seq?: number | null };
  }[];
}

const rlpHex = (values: readonly RlpValue[] | undefined): string[] =>
  (values ?? []).map((v) => bytesToHex(rlpEncode(v)));

function checkEndpoint(got: { ip: string | undefined; udp: number; tcp: number }, want: Endpoint): void {
  assert.equal(got.udp, want.udp);
  assert.equal(got.tcp, want.tcp);
  assert.equal(got.ip, normalizeIp(want.ip));
}

describe('discv4 wire: EIP-8 vectors', () => {
  const vectors = readVectorJson<Vectors>('discv4/eip8-packets.json');
  for (const v of vectors?.eip8_packets ?? []) {
    it(v.name, () => {
      const d = decodePacket(hex(v.hex));
      const want = v.decoded_by_helper;
      assert.equal(bytesToHex(d.hash), want.hash);
      assert.equal(d.id.hex, vectors!.signer_node_id_computed);
      assert.equal(d.packet.expiration, want.fields.expiration);
      const p = d.packet;
      // The helper lists everything after the known fields; EIP-868's enr-seq is one of them when it is an integer.
      const rest = [
        ...('enrSeq' in p && p.enrSeq !== undefined ? [bytesToHex(rlpEncode(p.enrSeq))] : []),
        ...rlpHex(p.rest),
      ];
      assert.deepEqual(rest, want.fields.remaining_list_elements_rlp);
      switch (p.type) {
        case 'ping':
          assert.equal(want.type_name, 'ping');
          assert.equal(p.version, want.fields.version);
          checkEndpoint(p.from, want.fields.from as Endpoint);
          checkEndpoint(p.to, want.fields.to as Endpoint);
          break;
        case 'pong':
          checkEndpoint(p.to, want.fields.to as Endpoint);
          assert.equal(bytesToHex(p.replyToken), want.fields.ping_hash);
          break;
        case 'findnode':
          assert.equal(bytesToHex(p.target), want.fields.target);
          break;
        case 'neighbors': {
          const nodes = want.fields.nodes as (Endpoint & { id: string })[];
          assert.equal(p.nodes.length, nodes.length);
          p.nodes.forEach((n, i) => {
            checkEndpoint(n, nodes[i]!);
            assert.equal(bytesToHex(n.publicKey), nodes[i]!.id);
          });
          break;
        }
        default:
          assert.fail(`unexpected ${p.type}`);
      }
    });
  }
  for (const v of vectors?.geth_packets ?? []) {
    it(v.name, () => {
      const d = decodePacket(hex(v.hex));
      assert.equal(bytesToHex(d.hash), v.hash);
      const p = d.packet;
      assert.equal(p.type, v.expected.type);
      assert.deepEqual(rlpHex(p.rest), v.expected.rest);
      if (p.type === 'ping') {
        assert.equal(p.enrSeq, v.expected.enr_seq == null ? undefined : BigInt(v.expected.enr_seq));
        checkEndpoint(p.to, v.expected.to as Endpoint);
      }
      if (p.type === 'neighbors') {
        const nodes = v.expected.nodes as (Endpoint & { id: string })[];
        for (const [i, n] of p.nodes.entries()) checkEndpoint(n, nodes[i]!);
      }
    });
  }
});

describe('discv4 wire: encode and reject', () => {
  const key = generatePrivateKey();
  const pub = publicKeyFromPrivate(key);
  const packets: Packet[] = [
    {
      type: 'ping',
      version: 4,
      from: { ip: '10.0.0.1', udp: 30303, tcp: 30303 },
      to: { ip: '::1', udp: 1, tcp: 0 },
      expiration: 1_900_000_000,
      enrSeq: 7n,
    },
    {
      type: 'pong',
      to: { ip: '127.0.0.1', udp: 30303, tcp: 0 },
      replyToken: new Uint8Array(32).fill(1),
      expiration: 5,
      enrSeq: 0n,
    },
    { type: 'findnode', target: pub, expiration: 2 ** 40 },
    {
      type: 'neighbors',
      nodes: Array.from({ length: 12 }, (_, i) => ({ ip: '2001:db8::1', udp: 30303 + i, tcp: 1, publicKey: pub })),
      expiration: 9,
    },
    { type: 'enrRequest', expiration: 3 },
    {
      type: 'enrResponse',
      replyToken: new Uint8Array(32).fill(2),
      record: Enr.create({ ip: '127.0.0.1', udp: 30303 }, 3n).sign(key),
      expiration: 0,
    },
  ];
  for (const packet of packets) {
    it(`round-trips ${packet.type} and recovers the signer`, () => {
      const { bytes, hash } = encodePacket(packet, key);
      assert.ok(bytes.length <= MAX_PACKET_SIZE, `${bytes.length} bytes`);
      const d = decodePacket(bytes);
      assert.deepEqual(d.hash, hash);
      assert.deepEqual(d.publicKey, pub);
      assert.equal(d.packet.type, packet.type);
      if (packet.type === 'enrResponse' && d.packet.type === 'enrResponse') {
        assert.ok(d.packet.record.equals(packet.record));
      } else {
        assert.deepEqual({ ...d.packet, rest: undefined }, { ...packet, rest: undefined });
      }
    });
  }

  const reason = (bytes: Uint8Array): string => {
    try {
      decodePacket(bytes);
    } catch (err) {
      assert.ok(err instanceof Discv4PacketError, String(err));
      assert.equal(err.code, 'ERR_DISCV4_PACKET');
      return err.reason;
    }
    return 'accepted';
  };
  const good = encodePacket({ type: 'enrRequest', expiration: 3 }, key).bytes;

  it('rejects a bad hash, a bad signature, an unknown type, and size limits', () => {
    const badHash = good.slice();
    badHash[0]! ^= 1;
    assert.equal(reason(badHash), 'bad-hash');
    const badSig = good.slice();
    badSig[32 + 64] = 7; // recovery id out of range
    badSig.set(keccak256(badSig.subarray(32)), 0);
    assert.equal(reason(badSig), 'bad-signature');
    const body = concatBytes(Uint8Array.of(0x09), rlpEncode([3]));
    const sig = encodePacket({ type: 'enrRequest', expiration: 3 }, key).bytes.subarray(32, 97);
    const unknown = concatBytes(keccak256(concatBytes(sig, body)), sig, body);
    assert.equal(reason(unknown), 'unknown-type');
    assert.equal(reason(new Uint8Array(MAX_PACKET_SIZE + 1)), 'too-large');
    assert.equal(reason(new Uint8Array(50)), 'too-small');
    assert.equal(reason(new Uint8Array(0)), 'too-small');
  });

  it('rejects malformed data with a typed error, never anything else', () => {
    const sign = (type: number, data: Uint8Array): Uint8Array => {
      const { bytes } = encodePacket({ type: 'enrRequest', expiration: 3 }, key);
      // Replace the body, keeping a consistent hash; the signature then recovers some other key or fails.
      const b = concatBytes(bytes.subarray(32, 97), Uint8Array.of(type), data);
      return concatBytes(keccak256(b), b);
    };
    for (const [type, data] of [
      [1, rlpEncode([4, [1, 2], [1, 2, 3], 5])],
      [1, rlpEncode([4, [new Uint8Array(4), 70000, 1], [new Uint8Array(4), 1, 1], 5])],
      [2, rlpEncode([[new Uint8Array(4), 1, 1], new Uint8Array(31), 5])],
      [3, rlpEncode([new Uint8Array(63), 5])],
      [4, rlpEncode([[[new Uint8Array(4), 1, 1]], 5])],
      [6, rlpEncode([new Uint8Array(32), 1])],
      [6, rlpEncode([new Uint8Array(32), [new Uint8Array(65), 1, 'id', 'v4', 'id', 'v4']])],
      [5, Uint8Array.of(0xc5, 1)],
      [5, rlpEncode([new Uint8Array(9).fill(1)])],
    ] as const) {
      const r = reason(sign(type, data));
      assert.ok(r === 'malformed' || r === 'bad-signature', `type ${type}: ${r}`);
    }
    for (let i = 0; i < 300; i++) {
      const junk = concatBytes(
        new Uint8Array(97),
        Uint8Array.of(1 + (i % 6)),
        new Uint8Array(i).map(() => i * 7),
      );
      junk.set(keccak256(junk.subarray(32)), 0);
      assert.notEqual(reason(junk), 'accepted');
    }
  });
});
