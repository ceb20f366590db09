/**
 * The discv5 decoders under random and mutated input: every datagram and plaintext either decodes or throws a
 * Discv5PacketError / Discv5MessageError, promptly. Mutations are applied to the packets as sent, to their
 * unmasked form (re-masked, so they reach the checks behind the mask), and to message plaintexts (re-encrypted,
 * so they reach the message decoder through a packet that authenticates).
 */
import { describe, it } from 'node:test';
import { concatBytes } from '@devp2p/core';
import { aes128GcmEncrypt, aesCtr, publicKeyFromPrivate } from '@devp2p/crypto';
import { Enr, NodeId } from '@devp2p/enode';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import {
  type Discv5Message,
  Discv5MessageError,
  Discv5PacketError,
  decodeDiscv5Message,
  decodeDiscv5Packet,
  decryptDiscv5Message,
  encodeDiscv5HandshakePacket,
  encodeDiscv5Message,
  encodeDiscv5MessagePacket,
  encodeDiscv5WhoareyouPacket,
  openDiscv5Handshake,
} from '../src/index.ts';

interface Vectors {
  keys: { 'node-a-key': string; 'node-b-key': string };
  packets: {
    name: string;
    packet: string;
    inputs: Record<string, string>;
    decoded_by_helper: { record_rlp?: string };
  }[];
}

const vectors = readVectorJson<Vectors>('discv5/wire-test-vectors.json');
const keyA = hex(vectors.keys['node-a-key']);
const keyB = hex(vectors.keys['node-b-key']);
const idA = NodeId.fromPublicKey(publicKeyFromPrivate(keyA));
const idB = NodeId.fromPublicKey(publicKeyFromPrivate(keyB));
const recordA = Enr.decode(
  hex(vectors.packets.find((p) => p.name === 'ping_handshake_enr')!.decoded_by_helper.record_rlp!),
);
/** The read key of the ping message vector (all zeros); our own samples use it too. */
const messageKey = new Uint8Array(16);

const MESSAGES: Discv5Message[] = [
  { type: 'ping', requestId: Uint8Array.of(0, 0, 0, 1), enrSeq: 2n },
  { type: 'pong', requestId: Uint8Array.of(1), enrSeq: 5n, ip: '2001:db8::1', port: 30303 },
  { type: 'findnode', requestId: Uint8Array.of(7), distances: [256, 255, 0] },
  { type: 'nodes', requestId: Uint8Array.of(3), total: 2, records: [recordA] },
  { type: 'talkreq', requestId: Uint8Array.of(4), protocol: Uint8Array.of(0x70), request: Uint8Array.of(1, 2, 3) },
  { type: 'talkresp', requestId: Uint8Array.of(4), response: Uint8Array.of(9, 9) },
];

/** The challenge each handshake vector answers: with a record it is the enr-seq 0 one. */
const challengeWithRecord = hex(
  vectors.packets.find((p) => p.name === 'ping_handshake_enr')!.inputs['whoareyou.challenge-data']!,
);
const challengeWithoutRecord = hex(
  vectors.packets.find((p) => p.name === 'ping_handshake')!.inputs['whoareyou.challenge-data']!,
);

const samples: Uint8Array[] = [
  ...vectors.packets.map((p) => hex(p.packet)),
  ...MESSAGES.map((message) => encodeDiscv5MessagePacket({ srcId: idA, destId: idB, key: messageKey, message }).bytes),
  encodeDiscv5WhoareyouPacket({ destId: idB, nonce: new Uint8Array(12), enrSeq: 77n }).bytes,
  encodeDiscv5HandshakePacket({
    srcId: idA,
    destId: idB,
    privateKey: keyA,
    destPublicKey: publicKeyFromPrivate(keyB),
    challengeData: challengeWithRecord,
    record: recordA,
    message: MESSAGES[3]!,
  }).bytes,
];

/** Everything node B would do with a datagram: decode, then decrypt or open it with the right keys. */
function receive(bytes: Uint8Array): unknown {
  const packet = decodeDiscv5Packet(bytes, idB);
  if (packet.kind === 'message') return decryptDiscv5Message(packet, messageKey);
  if (packet.kind === 'handshake') {
    return openDiscv5Handshake(packet, {
      privateKey: keyB,
      localId: idB,
      challengeData: packet.record ? challengeWithRecord : challengeWithoutRecord,
      knownRecord: packet.srcId.equals(idA) ? recordA : undefined,
    });
  }
  return packet;
}

/** Masks an unmasked packet (`masking-iv ‖ header ‖ authdata ‖ message`) as its declared authdata-size says. */
function remask(plain: Uint8Array): Uint8Array {
  if (plain.length < 39) return plain;
  const size = (plain[16 + 21]! << 8) | plain[16 + 22]!;
  const end = Math.min(plain.length, 39 + size);
  const iv = plain.subarray(0, 16);
  return concatBytes(iv, aesCtr(idB.bytes.subarray(0, 16), iv, plain.subarray(16, end)), plain.subarray(end));
}

/** The unmasked form of a sample: its header data followed by its message bytes. */
function unmask(bytes: Uint8Array): Uint8Array {
  const packet = decodeDiscv5Packet(bytes, idB);
  return concatBytes(packet.headerData, bytes.subarray(packet.headerData.length));
}

const typed = (error: unknown): boolean => error instanceof Discv5PacketError || error instanceof Discv5MessageError;

describe('discv5 decoders under random and mutated input', () => {
  it('datagrams as sent: decode, decrypt and open, or throw a typed error', () => {
    fuzzDecoder(fuzzInputs(samples, 1_400), receive, typed);
  });

  it('unmasked datagrams, mutated and re-masked, reach the header and authdata checks', () => {
    const plain = samples.map(unmask);
    fuzzDecoder(fuzzInputs(plain, 1_400).map(remask), receive, typed);
  });

  it('message plaintexts, mutated (and re-encrypted into a packet that authenticates), reach the message decoder', () => {
    const plaintexts = MESSAGES.map(encodeDiscv5Message);
    fuzzDecoder(fuzzInputs(plaintexts, 1_100), (plaintext) => decodeDiscv5Message(plaintext), typed);
    const base = encodeDiscv5MessagePacket({ srcId: idA, destId: idB, key: messageKey, message: MESSAGES[0]! });
    const headerSize = base.headerData.length;
    const datagrams = fuzzInputs(plaintexts, 1_100).map((plaintext) =>
      concatBytes(
        base.bytes.subarray(0, headerSize),
        aes128GcmEncrypt(messageKey, base.nonce, plaintext, base.headerData),
      ),
    );
    fuzzDecoder(datagrams, receive, typed);
  });
});
