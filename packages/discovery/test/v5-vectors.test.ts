/**
 * The public discv5 v5.1 wire test vectors (test/vectors/discv5/wire-test-vectors.json, from ethereum/devp2p
 * discv5-wire-test-vectors.md): every packet decodes as node B and encodes back byte for byte from the inputs,
 * and the crypto vectors (ECDH, key derivation, id signature, AES-GCM) match in both directions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex } from '@devp2p/core';
import { aes128GcmDecrypt, aes128GcmEncrypt, ecdhCompressed, publicKeyFromPrivate } from '@devp2p/crypto';
import { Enr, NodeId } from '@devp2p/enode';
import { hex, readVectorJson } from '@devp2p/test-utils';
import {
  type Discv5Message,
  decodeDiscv5Message,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  deriveDiscv5SessionKeys,
  encodeDiscv5HandshakePacket,
  encodeDiscv5Message,
  encodeDiscv5MessagePacket,
  encodeDiscv5WhoareyouPacket,
  makeDiscv5IdSignature,
  openDiscv5Handshake,
  verifyDiscv5IdSignature,
} from '../src/index.ts';

interface PacketVector {
  name: string;
  inputs: Record<string, string>;
  packet: string;
  decoded_by_helper: {
    masking_iv: string;
    version: number;
    flag: number;
    nonce: string;
    authdata_size: number;
    authdata: string;
    challenge_data?: string;
    message_plaintext?: string;
    src_id?: string;
    id_signature?: string;
    ephemeral_pubkey?: string;
    initiator_key?: string;
    recipient_key?: string;
    record_rlp?: string;
    record_seq?: number;
  };
}

interface Vectors {
  keys: { 'node-a-key': string; 'node-b-key': string };
  computed_by_helper: { node_id_a: string; node_id_b: string };
  packets: PacketVector[];
  crypto: {
    ecdh: { inputs: Record<string, string>; expected: Record<string, string> };
    key_derivation: { inputs: Record<string, string>; expected: Record<string, string> };
    id_signature: { inputs: Record<string, string>; expected: Record<string, string> };
    aes_gcm: { inputs: Record<string, string>; expected: Record<string, string> };
  };
}

const vectors = readVectorJson<Vectors>('discv5/wire-test-vectors.json');
const keyA = hex(vectors.keys['node-a-key']);
const keyB = hex(vectors.keys['node-b-key']);
const idA = NodeId.fromHex(vectors.computed_by_helper.node_id_a);
const idB = NodeId.fromHex(vectors.computed_by_helper.node_id_b);
/** Node A's record, the one the "with ENR" handshake carries (seq 1, signed by node-a-key). */
const recordA = Enr.decode(
  hex(vectors.packets.find((p) => p.name === 'ping_handshake_enr')!.decoded_by_helper.record_rlp!),
);
const vector = (name: string): PacketVector => {
  const v = vectors.packets.find((p) => p.name === name);
  assert.ok(v, `vector ${name}`);
  return v;
};
const ping = (v: PacketVector): Discv5Message => ({
  type: 'ping',
  requestId: hex(v.inputs['ping.req-id']!),
  enrSeq: BigInt(v.inputs['ping.enr-seq']!),
});
const ZERO_IV = new Uint8Array(16);

describe('discv5 wire vectors: node ids and record', () => {
  it('node ids come from the keys, and node A signed its record', () => {
    assert.ok(NodeId.fromPublicKey(publicKeyFromPrivate(keyA)).equals(idA));
    assert.ok(NodeId.fromPublicKey(publicKeyFromPrivate(keyB)).equals(idB));
    assert.equal(bytesToHex(idA.bytes), vectors.packets[0]!.inputs['src-node-id']!.slice(2));
    assert.equal(bytesToHex(idB.bytes), vectors.packets[0]!.inputs['dest-node-id']!.slice(2));
    assert.ok(recordA.verify());
    assert.ok(recordA.nodeId?.equals(idA));
    assert.equal(recordA.seq, 1n);
  });
});

describe('discv5 wire vectors: ping message packet (flag 0)', () => {
  const v = vector('ping_message');
  const key = hex(v.inputs['read-key']!);

  it('decodes and decrypts as node B', () => {
    const packet = decodeDiscv5Packet(hex(v.packet), idB);
    assert.equal(packet.kind, 'message');
    if (packet.kind !== 'message') return;
    assert.equal(bytesToHex(packet.maskingIv), v.decoded_by_helper.masking_iv);
    assert.equal(bytesToHex(packet.nonce), v.decoded_by_helper.nonce);
    assert.equal(bytesToHex(packet.nonce), v.inputs.nonce!.slice(2));
    assert.ok(packet.srcId.equals(idA));
    assert.equal(bytesToHex(packet.headerData.subarray(39)), v.decoded_by_helper.authdata);
    assert.equal(packet.headerData.length, 16 + 23 + v.decoded_by_helper.authdata_size);
    assert.deepEqual(decryptDiscv5Message(packet, key), ping(v));
  });

  it('encodes byte for byte from the nonce, masking-iv and key', () => {
    const message = ping(v);
    assert.equal(bytesToHex(encodeDiscv5Message(message)), v.decoded_by_helper.message_plaintext);
    assert.deepEqual(decodeDiscv5Message(hex(v.decoded_by_helper.message_plaintext!)), message);
    const { bytes, nonce } = encodeDiscv5MessagePacket({
      srcId: idA,
      destId: idB,
      key,
      message,
      nonce: hex(v.inputs.nonce!),
      maskingIv: ZERO_IV,
    });
    assert.equal(bytesToHex(bytes), v.packet);
    assert.equal(bytesToHex(nonce), v.decoded_by_helper.nonce);
  });
});

describe('discv5 wire vectors: WHOAREYOU packet (flag 1)', () => {
  const v = vector('whoareyou');

  it('decodes as node B, its header data being the challenge-data', () => {
    const packet = decodeDiscv5Packet(hex(v.packet), idB);
    assert.equal(packet.kind, 'whoareyou');
    if (packet.kind !== 'whoareyou') return;
    assert.equal(bytesToHex(packet.maskingIv), v.decoded_by_helper.masking_iv);
    assert.equal(bytesToHex(packet.nonce), v.inputs['whoareyou.request-nonce']!.slice(2));
    assert.equal(bytesToHex(packet.idNonce), v.inputs['whoareyou.id-nonce']!.slice(2));
    assert.equal(packet.enrSeq, BigInt(v.inputs['whoareyou.enr-seq']!));
    assert.equal(bytesToHex(packet.headerData), v.inputs['whoareyou.challenge-data']!.slice(2));
    assert.equal(bytesToHex(packet.headerData), v.decoded_by_helper.challenge_data);
  });

  it('encodes byte for byte from the request nonce, id-nonce and enr-seq', () => {
    const { bytes, headerData, idNonce } = encodeDiscv5WhoareyouPacket({
      destId: idB,
      nonce: hex(v.inputs['whoareyou.request-nonce']!),
      idNonce: hex(v.inputs['whoareyou.id-nonce']!),
      enrSeq: BigInt(v.inputs['whoareyou.enr-seq']!),
      maskingIv: ZERO_IV,
    });
    assert.equal(bytesToHex(bytes), v.packet);
    assert.equal(bytesToHex(headerData), v.inputs['whoareyou.challenge-data']!.slice(2));
    assert.equal(bytesToHex(idNonce), v.inputs['whoareyou.id-nonce']!.slice(2));
  });
});

for (const name of ['ping_handshake', 'ping_handshake_enr']) {
  describe(`discv5 wire vectors: ${name} (flag 2)`, () => {
    const v = vector(name);
    const d = v.decoded_by_helper;
    const challengeData = hex(v.inputs['whoareyou.challenge-data']!);
    const withRecord = (d.record_rlp ?? '') !== '';

    it('decodes the handshake authdata as node B', () => {
      const packet = decodeDiscv5Packet(hex(v.packet), idB);
      assert.equal(packet.kind, 'handshake');
      if (packet.kind !== 'handshake') return;
      assert.equal(bytesToHex(packet.maskingIv), d.masking_iv);
      assert.equal(bytesToHex(packet.nonce), d.nonce);
      assert.ok(packet.srcId.equals(idA));
      assert.equal(bytesToHex(packet.srcId.bytes), d.src_id);
      assert.equal(bytesToHex(packet.idSignature), d.id_signature);
      assert.equal(bytesToHex(packet.ephemeralPublicKey), d.ephemeral_pubkey);
      assert.equal(bytesToHex(packet.ephemeralPublicKey), v.inputs['ephemeral-pubkey']!.slice(2));
      assert.equal(bytesToHex(packet.headerData.subarray(39)), d.authdata);
      assert.equal(packet.headerData.length - 39, d.authdata_size);
      if (withRecord) assert.equal(bytesToHex(packet.record!.encode()), d.record_rlp);
      else assert.equal(packet.record, undefined);
    });

    it('verifies the id-signature, derives the keys and decrypts the message as node B', () => {
      const packet = decodeDiscv5Packet(hex(v.packet), idB);
      assert.equal(packet.kind, 'handshake');
      if (packet.kind !== 'handshake') return;
      // Without a record in the packet node B must know A's; with one, B may know nothing.
      const opened = openDiscv5Handshake(packet, {
        privateKey: keyB,
        localId: idB,
        challengeData,
        knownRecord: withRecord ? undefined : recordA,
      });
      assert.equal(bytesToHex(opened.keys.initiatorKey), v.inputs['read-key']!.slice(2));
      assert.equal(bytesToHex(opened.keys.initiatorKey), d.initiator_key);
      assert.equal(bytesToHex(opened.keys.recipientKey), d.recipient_key);
      assert.ok(opened.record.equals(recordA));
      assert.deepEqual(opened.message, ping(v));
      assert.equal(bytesToHex(encodeDiscv5Message(opened.message)), d.message_plaintext);
      assert.ok(
        verifyDiscv5IdSignature(
          publicKeyFromPrivate(keyA),
          packet.idSignature,
          challengeData,
          packet.ephemeralPublicKey,
          idB,
        ),
      );
    });

    it('encodes byte for byte from the ephemeral key, nonce and masking-iv', () => {
      const encoded = encodeDiscv5HandshakePacket({
        srcId: idA,
        destId: idB,
        privateKey: keyA,
        destPublicKey: publicKeyFromPrivate(keyB),
        challengeData,
        record: recordA,
        message: ping(v),
        ephemeralKey: hex(v.inputs['ephemeral-key']!),
        nonce: hex(v.inputs.nonce!),
        maskingIv: ZERO_IV,
      });
      assert.equal(bytesToHex(encoded.bytes), v.packet);
      assert.equal(encoded.recordSent, withRecord);
      assert.equal(bytesToHex(encoded.ephemeralPublicKey), v.inputs['ephemeral-pubkey']!.slice(2));
      assert.equal(bytesToHex(encoded.keys.initiatorKey), d.initiator_key);
      assert.equal(bytesToHex(encoded.keys.recipientKey), d.recipient_key);
    });
  });
}

describe('discv5 wire vectors: cryptographic primitives', () => {
  const c = vectors.crypto;

  it('ECDH gives the compressed shared point', () => {
    const shared = ecdhCompressed(hex(c.ecdh.inputs['secret-key']!), hex(c.ecdh.inputs['public-key']!));
    assert.equal(bytesToHex(shared), c.ecdh.expected['shared-secret']!.slice(2));
  });

  it('key derivation gives initiator-key and recipient-key, from either side', () => {
    const i = c.key_derivation.inputs;
    const ephemeralKey = hex(i['ephemeral-key']!);
    const a = NodeId.fromHex(i['node-id-a']!);
    const b = NodeId.fromHex(i['node-id-b']!);
    const challengeData = hex(i['challenge-data']!);
    const keys = deriveDiscv5SessionKeys(ephemeralKey, hex(i['dest-pubkey']!), a, b, challengeData);
    assert.equal(bytesToHex(keys.initiatorKey), c.key_derivation.expected['initiator-key']!.slice(2));
    assert.equal(bytesToHex(keys.recipientKey), c.key_derivation.expected['recipient-key']!.slice(2));
    // dest-pubkey is node B's: B derives the same keys from its static key and the ephemeral public key.
    assert.equal(bytesToHex(publicKeyFromPrivate(keyB)).slice(0, 64), i['dest-pubkey']!.slice(4));
    const recipientSide = deriveDiscv5SessionKeys(keyB, publicKeyFromPrivate(ephemeralKey), a, b, challengeData);
    assert.deepEqual(recipientSide, keys);
  });

  it('id-nonce signing gives the id-signature, which verifies (and fails for other inputs)', () => {
    const i = c.id_signature.inputs;
    const staticKey = hex(i['static-key']!);
    const challengeData = hex(i['challenge-data']!);
    const ephemeralPublicKey = hex(i['ephemeral-pubkey']!);
    const destId = NodeId.fromHex(i['node-id-B']!);
    const signature = makeDiscv5IdSignature(staticKey, challengeData, ephemeralPublicKey, destId);
    assert.equal(bytesToHex(signature), c.id_signature.expected['id-signature']!.slice(2));
    const expected = hex(c.id_signature.expected['id-signature']!);
    const publicKey = publicKeyFromPrivate(staticKey);
    assert.ok(verifyDiscv5IdSignature(publicKey, expected, challengeData, ephemeralPublicKey, destId));
    assert.ok(!verifyDiscv5IdSignature(publicKey, expected, challengeData, ephemeralPublicKey, idA));
    assert.ok(
      !verifyDiscv5IdSignature(publicKeyFromPrivate(keyA), expected, challengeData, ephemeralPublicKey, destId),
    );
    const flipped = expected.slice();
    flipped[10]! ^= 1;
    assert.ok(!verifyDiscv5IdSignature(publicKey, flipped, challengeData, ephemeralPublicKey, destId));
    assert.ok(!verifyDiscv5IdSignature(publicKey, expected.subarray(0, 63), challengeData, ephemeralPublicKey, destId));
  });

  it('AES-GCM seals and opens the message', () => {
    const i = c.aes_gcm.inputs;
    const key = hex(i['encryption-key']!);
    const nonce = hex(i.nonce!);
    const ad = hex(i.ad!);
    const sealed = aes128GcmEncrypt(key, nonce, hex(i.pt!), ad);
    assert.equal(bytesToHex(sealed), c.aes_gcm.expected['message-ciphertext']!.slice(2));
    assert.equal(bytesToHex(aes128GcmDecrypt(key, nonce, sealed, ad)), i.pt!.slice(2));
  });
});
