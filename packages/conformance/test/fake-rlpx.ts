/**
 * A small RLPx node for the tests: the handshake (EIP-8 and legacy), frames, Hello, Ping/Pong, Disconnect, snappy
 * and the eth/68–69 Status with empty answers to requests. Correct by default (it passes every RLPx case, which the
 * tests check), and able to break exactly one rule at a time, so each case is shown to fail against a node that
 * breaks the rule it checks.
 */
import { type ByteStream, type Cap, concatBytes, rlpDecode, rlpList, type StreamListener } from '@devp2p/core';
import { type AesCtrStream, createAesCtr, generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Node } from '@devp2p/enode';
import { eth68Messages, eth69Messages, forkId, type Status68, type Status69, sepolia } from '@devp2p/plugin-eth';
import {
  type AuthMessage,
  createAuthReader,
  createFrameCodec,
  deriveSecrets,
  encodeAck,
  type FrameDecoder,
  type FrameEncoder,
  type Secrets,
  snappyCompress,
  snappyUncompress,
} from '@devp2p/rlpx';
import { tcpTransport } from '@devp2p/transport-node';
import {
  BaseCode,
  decodeHello,
  EMPTY_LIST,
  encodeDisconnect,
  encodeHello,
  FIRST_CAP_CODE,
  Reason,
} from '../src/rlpx/wire.ts';

/** The rules the node can break, one per RLPx case. */
export type RlpxBreak =
  /** An EIP-8 auth is refused (the connection closed). */
  | 'reject-eip8'
  /** A legacy auth is refused. */
  | 'reject-legacy'
  /** An auth that does not decrypt leaves the connection open. */
  | 'hang-on-bad-auth'
  /** Frame MACs are not checked. */
  | 'skip-mac-check'
  /** The first eth version of the remote's list that both speak is run, not the highest. */
  | 'first-cap-version'
  /** Any p2p version is accepted. */
  | 'accept-any-version'
  /** A Hello with another version than 5 or extra elements is refused (breach of protocol). */
  | 'strict-hello'
  /** The Hello id is not compared with the handshake key. */
  | 'no-identity-check'
  /** Pings are not answered. */
  | 'no-pong'
  /** A Disconnect received is ignored. */
  | 'ignore-disconnect'
  /** Snappy payloads are inflated whatever their declared size. */
  | 'no-size-limit'
  /** Nothing is ever compressed. */
  | 'never-snappy'
  /** Everything after the Hello is compressed, whatever the remote's version. */
  | 'always-snappy'
  /** Every Status is refused. */
  | 'reject-status'
  /** The fork id of the remote's Status is not checked. */
  | 'ignore-fork-id'
  /** Requests for unknown blocks are not answered. */
  | 'ignore-unknown-request';

const HOST = '127.0.0.1';
const OUR_CAPS: readonly Cap[] = [
  { name: 'eth', version: 68 },
  { name: 'eth', version: 69 },
];
/** Inflation bound of the broken node that has none. */
const NO_LIMIT = 64 * 1024 * 1024;
/** p2p versions. */
const P2P_VERSION = 5;
const MIN_VERSION = 4;
const SNAPPY_VERSION = 5;
const HELLO_FIELDS = 5;

/** What a frame decoder gives: a code and its data. */
interface Frame {
  readonly code: number;
  readonly data: Uint8Array;
}

/** Frames without MAC checks (the `skip-mac-check` break): decrypts headers and bodies and trusts them. */
class UncheckedDecoder {
  readonly #cipher: AesCtrStream;
  #buffer: Uint8Array = new Uint8Array(0);
  #size = -1;

  constructor(secrets: Secrets) {
    this.#cipher = createAesCtr(secrets.aesSecret, new Uint8Array(16));
  }

  push(chunk: Uint8Array): void {
    this.#buffer = concatBytes(this.#buffer, chunk);
  }

  next(): Frame | undefined {
    if (this.#size < 0) {
      if (this.#buffer.length < 32) return undefined;
      const header = this.#cipher.update(this.#buffer.subarray(0, 16));
      this.#size = (header[0]! << 16) | (header[1]! << 8) | header[2]!;
      this.#buffer = this.#buffer.subarray(32);
    }
    const padded = (this.#size + 15) & ~15;
    if (this.#buffer.length < padded + 16) return undefined;
    const content = this.#cipher.update(this.#buffer.subarray(0, padded)).subarray(0, this.#size);
    this.#buffer = this.#buffer.subarray(padded + 16);
    this.#size = -1;
    const first = content[0]!;
    if (first < 0x80) return { code: first, data: content.subarray(1) };
    const length = first - 0x80;
    let code = 0;
    for (let i = 1; i <= length; i++) code = code * 256 + content[i]!;
    return { code, data: content.subarray(1 + length) };
  }
}

/** One connection's state. */
class Session {
  readonly #fake: FakeRlpx;
  readonly #stream: ByteStream;
  readonly #encoder: FrameEncoder;
  readonly #decoder: FrameDecoder | UncheckedDecoder;
  readonly #auth: AuthMessage;
  #hello = false;
  #snappy = false;
  #ethVersion: 68 | 69 | undefined;
  #statusAccepted = false;
  #closed = false;

  constructor(fake: FakeRlpx, stream: ByteStream, auth: AuthMessage, secrets: Secrets, rest: Uint8Array) {
    this.#fake = fake;
    this.#stream = stream;
    this.#auth = auth;
    const { encoder, decoder } = createFrameCodec(secrets);
    this.#encoder = encoder;
    this.#decoder = fake.has('skip-mac-check') ? new UncheckedDecoder(secrets) : decoder;
    this.#decoder.push(rest);
  }

  #has(b: RlpxBreak): boolean {
    return this.#fake.has(b);
  }

  #send(code: number, payload: Uint8Array): void {
    const data = this.#snappy && code !== BaseCode.Hello ? snappyCompress(payload) : payload;
    this.#stream.write(this.#encoder.encodeFrame(code, data)).catch(() => undefined);
  }

  #close(): void {
    this.#closed = true;
    this.#stream.end();
  }

  #disconnect(reason: number): void {
    this.#send(BaseCode.Disconnect, encodeDisconnect(reason));
    this.#close();
  }

  async run(): Promise<void> {
    this.#send(
      BaseCode.Hello,
      encodeHello({
        version: P2P_VERSION,
        clientName: 'fake-rlpx',
        caps: OUR_CAPS,
        listenPort: 0,
        nodeId: this.#fake.publicKey,
      }),
    );
    try {
      while (!this.#closed) {
        for (let frame = this.#decoder.next(); frame && !this.#closed; frame = this.#decoder.next()) {
          this.#handle(frame.code, frame.data);
        }
        if (this.#closed) break;
        const chunk = await this.#stream.read();
        if (chunk === null) break;
        this.#decoder.push(chunk);
      }
    } catch {
      // Bad MAC or bad frame: drop the connection.
    }
    this.#stream.destroy();
  }

  #payload(data: Uint8Array): Uint8Array | undefined {
    if (!this.#snappy) return data;
    try {
      return snappyUncompress(data, this.#has('no-size-limit') ? NO_LIMIT : undefined);
    } catch {
      return this.#has('always-snappy') ? data : undefined;
    }
  }

  #handle(code: number, data: Uint8Array): void {
    if (!this.#hello) {
      if (code !== BaseCode.Hello) {
        this.#close();
        return;
      }
      this.#onHello(data);
      return;
    }
    const payload = this.#payload(data);
    if (payload === undefined) {
      this.#close();
      return;
    }
    switch (code) {
      case BaseCode.Disconnect:
        if (!this.#has('ignore-disconnect')) this.#close();
        return;
      case BaseCode.Ping:
        if (!this.#has('no-pong')) this.#send(BaseCode.Pong, EMPTY_LIST);
        return;
      case BaseCode.Pong:
        return;
    }
    this.#onEth(code - FIRST_CAP_CODE, payload);
  }

  #onHello(data: Uint8Array): void {
    const hello = decodeHello(data);
    this.#hello = true;
    const fields = rlpList(rlpDecode(data), 'Hello').length;
    if (this.#has('strict-hello') && (hello.version !== P2P_VERSION || fields > HELLO_FIELDS)) {
      this.#disconnect(Reason.ProtocolError);
      return;
    }
    if (hello.version < MIN_VERSION && !this.#has('accept-any-version')) {
      this.#disconnect(Reason.IncompatibleVersion);
      return;
    }
    const same = hello.nodeId.every((b, i) => b === this.#auth.initiatorPublicKey[i]);
    if (!same && !this.#has('no-identity-check')) {
      this.#disconnect(Reason.UnexpectedIdentity);
      return;
    }
    this.#snappy = this.#has('always-snappy') || (!this.#has('never-snappy') && hello.version >= SNAPPY_VERSION);
    const shared = hello.caps.filter((c) => OUR_CAPS.some((o) => o.name === c.name && o.version === c.version));
    if (shared.length === 0) return;
    const versions = shared.map((c) => c.version as 68 | 69);
    this.#ethVersion = this.#has('first-cap-version') ? versions[0] : versions.includes(69) ? 69 : 68;
    this.#send(FIRST_CAP_CODE + eth69Messages.Status.code, this.#status(this.#ethVersion!));
  }

  #status(version: 68 | 69): Uint8Array {
    const id = forkId(sepolia, { number: 0n, time: sepolia.genesisTime });
    if (version === 68) {
      const status: Status68 = {
        version,
        networkId: sepolia.networkId,
        td: sepolia.genesisDifficulty,
        head: sepolia.genesisHash,
        genesis: sepolia.genesisHash,
        forkId: id,
      };
      return eth68Messages.Status.codec.encode(status);
    }
    const status: Status69 = {
      version,
      networkId: sepolia.networkId,
      genesis: sepolia.genesisHash,
      forkId: id,
      earliestBlock: 0n,
      latestBlock: 0n,
      latestBlockHash: sepolia.genesisHash,
    };
    return eth69Messages.Status.codec.encode(status);
  }

  #onEth(code: number, payload: Uint8Array): void {
    const version = this.#ethVersion;
    if (version === undefined) {
      this.#disconnect(Reason.ProtocolError);
      return;
    }
    const messages = version === 68 ? eth68Messages : eth69Messages;
    if (code === messages.Status.code) {
      const theirs = messages.Status.codec.decode(payload);
      const ours = forkId(sepolia, { number: 0n, time: sepolia.genesisTime });
      if (this.#has('reject-status')) {
        this.#disconnect(Reason.SubprotocolError);
        return;
      }
      if (theirs.networkId !== sepolia.networkId) {
        this.#disconnect(Reason.SubprotocolError);
        return;
      }
      if (theirs.forkId.hash !== ours.hash && !this.#has('ignore-fork-id')) {
        this.#disconnect(Reason.SubprotocolError);
        return;
      }
      this.#statusAccepted = true;
      return;
    }
    if (!this.#statusAccepted) return;
    if (code === messages.GetBlockHeaders.code) {
      const request = messages.GetBlockHeaders.codec.decode(payload);
      if ('hash' in request.origin && this.#has('ignore-unknown-request')) return;
      const reply = messages.BlockHeaders.codec.encode({ requestId: request.requestId, headers: [] });
      this.#send(FIRST_CAP_CODE + messages.BlockHeaders.code, reply);
    } else if (code === messages.GetBlockBodies.code) {
      const request = messages.GetBlockBodies.codec.decode(payload);
      if (this.#has('ignore-unknown-request')) return;
      this.#send(
        FIRST_CAP_CODE + messages.BlockBodies.code,
        messages.BlockBodies.codec.encode({ requestId: request.requestId, bodies: [] }),
      );
    }
  }
}

export class FakeRlpx {
  readonly key: Uint8Array = generatePrivateKey();
  readonly publicKey: Uint8Array = publicKeyFromPrivate(this.key);
  readonly breaks: ReadonlySet<RlpxBreak>;
  #listener!: StreamListener;
  readonly #streams = new Set<ByteStream>();

  private constructor(breaks: readonly RlpxBreak[]) {
    this.breaks = new Set(breaks);
  }

  static async start(breaks: readonly RlpxBreak[] = []): Promise<FakeRlpx> {
    const fake = new FakeRlpx(breaks);
    fake.#listener = await tcpTransport.listen({ host: HOST, port: 0 }, (stream) => {
      fake.#streams.add(stream);
      fake.#accept(stream).finally(() => fake.#streams.delete(stream));
    });
    return fake;
  }

  has(b: RlpxBreak): boolean {
    return this.breaks.has(b);
  }

  /** The node as a target. */
  get node(): Node {
    return Node.fromPublicKey(this.publicKey, { ip: HOST, tcp: this.#listener.address.port, udp: 0 });
  }

  async #accept(stream: ByteStream): Promise<void> {
    const reader = createAuthReader(this.key);
    let read: ReturnType<typeof reader.push>;
    try {
      while (!read) {
        const chunk = await stream.read();
        if (chunk === null) return stream.destroy();
        read = reader.push(chunk);
      }
    } catch {
      if (this.has('hang-on-bad-auth')) return;
      return stream.destroy();
    }
    const auth = read.message;
    if ((auth.legacy && this.has('reject-legacy')) || (!auth.legacy && this.has('reject-eip8'))) {
      return stream.destroy();
    }
    const ack = encodeAck({ remotePublicKey: auth.initiatorPublicKey, legacy: auth.legacy });
    const secrets = deriveSecrets({
      initiator: false,
      ephemeralPrivateKey: ack.ephemeralPrivateKey,
      remoteEphemeralPublicKey: auth.initiatorEphemeralPublicKey,
      initiatorNonce: auth.initiatorNonce,
      recipientNonce: ack.nonce,
      authPacket: read.packet,
      ackPacket: ack.packet,
    });
    await stream.write(ack.packet).catch(() => undefined);
    await new Session(this, stream, auth, secrets, read.rest.slice()).run();
  }

  async close(): Promise<void> {
    await this.#listener.close();
    for (const stream of this.#streams) stream.destroy();
  }
}
