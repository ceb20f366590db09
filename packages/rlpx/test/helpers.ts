/** Shared by the rlpx tests: a seeded generator, counting clock, fixed secrets and a reference frame writer. */
import assert from 'node:assert/strict';
import type { ByteStream } from '@devp2p/core';
import {
  createAes256Ecb,
  createAesCtr,
  createKeccak256,
  generatePrivateKey,
  type Keccak256Hasher,
  publicKeyFromPrivate,
} from '@devp2p/crypto';
import {
  createAckReader,
  createFrameCodec,
  type DecodedFrame,
  deriveSecrets,
  encodeAuth,
  type FrameDecoder,
  type FrameEncoder,
} from '../src/index.ts';

/** xorshift32: a small seeded generator, so every run (and runtime) sees the same inputs. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** An integer in [0, n). */
export function below(next: () => number, n: number): number {
  return Math.floor((next() / 0x100000000) * n);
}

export function seededBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = next();
    out[i] = v;
    out[i + 1] = v >>> 8;
    out[i + 2] = v >>> 16;
    out[i + 3] = v >>> 24;
  }
  for (; i < n; i++) out[i] = next();
  return out;
}

export { countingClock } from '@devp2p/test-utils';

export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function keyPair(): KeyPair {
  const privateKey = generatePrivateKey();
  return { privateKey, publicKey: publicKeyFromPrivate(privateKey) };
}

/** Fixed frame secrets: one direction's AES and MAC secrets and an initial MAC state. */
export interface DirectionSecrets {
  readonly aesSecret: Uint8Array;
  readonly macSecret: Uint8Array;
  readonly mac: Keccak256Hasher;
}

export function fixedDirection(seed: number): DirectionSecrets {
  const next = xorshift(seed);
  return {
    aesSecret: seededBytes(next, 32),
    macSecret: seededBytes(next, 32),
    mac: createKeccak256().update(seededBytes(next, 64)),
  };
}

/**
 * An independent frame writer, written from the spec the way geth's WriteMsg is (not from src/frame.ts): it takes
 * raw frame content, so tests can send content the real encoder never produces (bad message codes, empty frames).
 */
export function referenceFrameWriter(secrets: DirectionSecrets): (content: Uint8Array) => Uint8Array {
  const ctr = createAesCtr(secrets.aesSecret, new Uint8Array(16));
  const ecb = createAes256Ecb(secrets.macSecret);
  const mac = secrets.mac.copy();
  const updateMac = (seed: Uint8Array): Uint8Array => {
    const block = ecb.encryptBlock(mac.digest().slice(0, 16));
    const mixed = block.map((b, i) => b ^ seed[i]!);
    mac.update(mixed);
    return mac.digest().slice(0, 16);
  };
  return (content) => {
    const header = new Uint8Array(16);
    header.set([content.length >> 16, (content.length >> 8) & 0xff, content.length & 0xff, 0xc2, 0x80, 0x80]);
    const headerCt = ctr.update(header);
    const headerMac = updateMac(headerCt);
    const padded = new Uint8Array(Math.ceil(content.length / 16) * 16);
    padded.set(content);
    const bodyCt = ctr.update(padded);
    mac.update(bodyCt);
    const frameMac = updateMac(mac.digest().slice(0, 16));
    const out = new Uint8Array(32 + bodyCt.length + 16);
    out.set(headerCt, 0);
    out.set(headerMac, 16);
    out.set(bodyCt, 32);
    out.set(frameMac, 32 + bodyCt.length);
    return out;
  };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The dialing side of a handshake done by hand with the pure functions: a peer that can then misbehave. */
export interface RawPeer {
  readonly encoder: FrameEncoder;
  readonly decoder: FrameDecoder;
  /** The next frame from the stream (null when it ends). */
  readFrame(): Promise<DecodedFrame | null>;
}

export async function rawDial(
  stream: ByteStream,
  privateKey: Uint8Array,
  remotePublicKey: Uint8Array,
  legacy = false,
): Promise<RawPeer> {
  const auth = encodeAuth({ privateKey, remotePublicKey, legacy });
  await stream.write(auth.packet);
  const reader = createAckReader(privateKey);
  for (;;) {
    const chunk = await stream.read();
    if (chunk === null) throw new Error('closed during the handshake');
    const read = reader.push(chunk);
    if (!read) continue;
    assert.equal(read.message.legacy, legacy, 'the ack has the format of the auth');
    const { encoder, decoder } = createFrameCodec(
      deriveSecrets({
        initiator: true,
        ephemeralPrivateKey: auth.ephemeralPrivateKey,
        remoteEphemeralPublicKey: read.message.recipientEphemeralPublicKey,
        initiatorNonce: auth.nonce,
        recipientNonce: read.message.recipientNonce,
        authPacket: auth.packet,
        ackPacket: read.packet,
      }),
    );
    decoder.push(read.rest);
    return {
      encoder,
      decoder,
      async readFrame() {
        for (;;) {
          const frame = decoder.next();
          if (frame) return frame;
          const more = await stream.read();
          if (more === null) return null;
          decoder.push(more);
        }
      },
    };
  }
}

/** The first `n` bytes of a valid auth: a peer that stops in the middle of its handshake. */
export function encodeAuthPrefix(privateKey: Uint8Array, remotePublicKey: Uint8Array, n: number): Uint8Array {
  return encodeAuth({ privateKey, remotePublicKey }).packet.slice(0, n);
}
