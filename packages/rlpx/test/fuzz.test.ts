import { describe, it } from 'node:test';
import { Devp2pError, ProtocolError, utf8ToBytes } from '@devp2p/core';
import { createKeccak256, eciesEncrypt, generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { readVectorBytes } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import fc from 'fast-check';
import {
  createAckReader,
  createAuthReader,
  encodeAck,
  encodeAuth,
  FrameDecoder,
  FrameEncoder,
  snappyCompress,
  snappyUncompress,
} from '../src/index.ts';

const typed = (error: unknown): boolean => error instanceof Devp2pError;

describe('RLPx decoders under random and mutated input', () => {
  it('snappy: decompresses or throws ProtocolError (ERR_SNAPPY / TooLargeError), promptly', () => {
    const opticks = readVectorBytes('snappy/Isaac.Newton-Opticks.txt').subarray(0, 4_096);
    const valid = [
      snappyCompress(opticks),
      snappyCompress(new Uint8Array(1_000)),
      snappyCompress(utf8ToBytes('devp2p')),
    ];
    fuzzDecoder(
      fuzzInputs(valid, 4_096),
      (bytes) => snappyUncompress(bytes, 1 << 20),
      (e) => e instanceof ProtocolError,
    );
  });

  it('auth and ack readers: read a message or throw a typed error, from raw and re-encrypted mutations', () => {
    const recipient = generatePrivateKey();
    const initiator = generatePrivateKey();
    const remotePublicKey = publicKeyFromPrivate(recipient);
    const auths = [
      encodeAuth({ privateKey: initiator, remotePublicKey }).packet,
      encodeAuth({ privateKey: initiator, remotePublicKey, legacy: true }).packet,
    ];
    const acks = [
      encodeAck({ remotePublicKey: publicKeyFromPrivate(initiator) }).packet,
      encodeAck({ remotePublicKey: publicKeyFromPrivate(initiator), legacy: true }).packet,
    ];
    const read = (reader: { push(chunk: Uint8Array): unknown }) => (bytes: Uint8Array) => reader.push(bytes);
    fuzzDecoder(fuzzInputs(auths, 800), (bytes) => read(createAuthReader(recipient))(bytes), typed);
    fuzzDecoder(fuzzInputs(acks, 800), (bytes) => read(createAckReader(initiator))(bytes), typed);
    // Mutated plaintexts sealed properly, so the checks past decryption run too (RLP, keys, signature).
    const sealed = fc.uint8Array({ maxLength: 400 }).map((body) => {
      const prefix = Uint8Array.of((body.length + 113) >> 8, (body.length + 113) & 0xff);
      return Uint8Array.from([...prefix, ...eciesEncrypt(remotePublicKey, body, { sharedMacData: prefix })]);
    });
    fuzzDecoder(sealed, (bytes) => read(createAuthReader(recipient))(bytes), typed);
  });

  it('frame decoder: frames or typed errors (bad MAC, too large, bad code) for any bytes after valid frames', () => {
    const aes = new Uint8Array(32).fill(7);
    const mac = new Uint8Array(32).fill(9);
    const seed = () => createKeccak256().update(new Uint8Array(64).fill(3));
    const encoder = new FrameEncoder(aes, mac, seed());
    const frames = [encoder.encodeFrame(0x10, utf8ToBytes('hello')), encoder.encodeFrame(0x00, new Uint8Array(600))];
    const stream = Uint8Array.from([...frames[0]!, ...frames[1]!]);
    fuzzDecoder(
      fuzzInputs([stream], 2_048),
      (bytes) => {
        const decoder = new FrameDecoder(aes, mac, seed(), { maxFrameSize: 1 << 16 });
        decoder.push(bytes);
        while (decoder.next());
      },
      typed,
    );
  });
});
