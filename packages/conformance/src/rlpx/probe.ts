/**
 * The RLPx side of the cases: a TCP connection to the target that we drive byte by byte, built from the pure
 * functions of `@devp2p/rlpx` (auth, ack, secrets, frames, snappy) rather than `RLPxConnection`, so a case can send
 * a legacy auth, an auth for the wrong key, a frame with a corrupt MAC, or a message whose snappy header declares
 * more than the limit, and see exactly what the node sends back and when it closes.
 */
import type { ByteStream } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import {
  createAckReader,
  createFrameCodec,
  deriveSecrets,
  encodeAuth,
  type FrameDecoder,
  type FrameEncoder,
  snappyCompress,
  snappyUncompress,
} from '@devp2p/rlpx';
import { type CaseContext, Inbox } from '../case.ts';
import { CLIENT_NAME, CLOSE_TIMEOUT_MS, P2P_VERSION, REPLY_TIMEOUT_MS, SNAPPY_MIN_VERSION } from '../constants.ts';
import {
  BaseCode,
  decodeDisconnect,
  decodeHello,
  EMPTY_LIST,
  encodeHello,
  type Hello,
  type HelloFields,
  reasonText,
} from './wire.ts';

/** What arrives on a probe: a frame, or the end of the connection. */
type Arrival =
  | { readonly kind: 'frame'; readonly code: number; readonly data: Uint8Array }
  | { readonly kind: 'closed'; readonly error?: string };

/** A message from the node: its code, its frame data, and its payload (decompressed when snappy is on). */
export interface Message {
  readonly code: number;
  /** The frame data as it came (compressed when snappy is on). */
  readonly data: Uint8Array;
  /** The payload; undefined when snappy is on and `data` is not valid snappy (then `snappyError` says why). */
  readonly payload: Uint8Array | undefined;
  readonly snappyError?: string;
}

/** What a read returns: a message, the end of the connection, or nothing within the wait. */
export type ReadResult =
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'closed'; readonly error?: string }
  | { readonly kind: 'timeout' };

/** How a probe's handshake goes. */
export interface ProbeOptions {
  /** Send the pre-EIP-8 (legacy) auth. */
  readonly legacy?: boolean;
  /** Encrypt the auth to this public key instead of the target's (the wrong-key case). */
  readonly encryptTo?: Uint8Array;
  /** Our static key (a fresh one by default). */
  readonly key?: Uint8Array;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Opens a TCP connection to the target, closed when the case ends. */
export async function connect(ctx: CaseContext): Promise<ByteStream> {
  const endpoint = ctx.target.tcpEndpoint();
  if (!endpoint) ctx.fail('the target has no IP address and TCP port');
  ctx.step = `connecting to ${endpoint.ip}:${endpoint.port}`;
  let stream: ByteStream;
  try {
    stream = await ctx.tcp.dial(endpoint.ip, endpoint.port, { signal: ctx.signal, timeoutMs: REPLY_TIMEOUT_MS });
  } catch (error) {
    ctx.checkOpen();
    ctx.fail(`cannot connect to ${endpoint.ip}:${endpoint.port}: ${message(error)}`);
  }
  ctx.defer(() => stream.destroy());
  return stream;
}

/**
 * One RLPx connection to the target, after the encryption handshake. Every frame is read as it comes, in the
 * background; the case reads them with a wait.
 */
export class Probe {
  readonly ctx: CaseContext;
  readonly key: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly stream: ByteStream;
  /** True when the node answered with a legacy (pre-EIP-8) ack. */
  readonly legacyAck: boolean;
  /** Whether payloads are snappy-compressed, both ways (set once both Hellos announce version 5 or later). */
  snappy = false;
  readonly #encoder: FrameEncoder;
  readonly #inbox: Inbox<Arrival>;
  #closed = false;

  private constructor(
    ctx: CaseContext,
    key: Uint8Array,
    stream: ByteStream,
    legacyAck: boolean,
    encoder: FrameEncoder,
    inbox: Inbox<Arrival>,
  ) {
    this.ctx = ctx;
    this.key = key;
    this.publicKey = publicKeyFromPrivate(key);
    this.stream = stream;
    this.legacyAck = legacyAck;
    this.#encoder = encoder;
    this.#inbox = inbox;
  }

  /** Dials the target and runs the encryption handshake as initiator; fails the case when it does not complete. */
  static async dial(ctx: CaseContext, options: ProbeOptions = {}): Promise<Probe> {
    const remote = ctx.target.publicKey;
    if (!remote) ctx.fail('the target has no public key');
    const stream = await connect(ctx);
    const key = options.key ?? generatePrivateKey();
    const auth = encodeAuth({ privateKey: key, remotePublicKey: options.encryptTo ?? remote, legacy: options.legacy });
    ctx.step = `sending the ${options.legacy ? 'legacy' : 'EIP-8'} auth and waiting for the ack`;
    stream.write(auth.packet).catch(() => undefined);
    const reader = createAckReader(key);
    const deadline = ctx.clock.now() + REPLY_TIMEOUT_MS;
    let read: ReturnType<typeof reader.push>;
    while (!read) {
      const chunk = await readChunk(ctx, stream, deadline - ctx.clock.now());
      if (chunk === 'timeout') ctx.fail(`no ack within ${REPLY_TIMEOUT_MS} ms of the auth`);
      if (chunk === null) ctx.fail('the node closed the connection instead of answering the auth');
      try {
        read = reader.push(chunk);
      } catch (error) {
        ctx.fail(`the node's ack does not decode: ${message(error)}`);
      }
    }
    const secrets = deriveSecrets({
      initiator: true,
      ephemeralPrivateKey: auth.ephemeralPrivateKey,
      remoteEphemeralPublicKey: read.message.recipientEphemeralPublicKey,
      initiatorNonce: auth.nonce,
      recipientNonce: read.message.recipientNonce,
      authPacket: auth.packet,
      ackPacket: read.packet,
    });
    const { encoder, decoder } = createFrameCodec(secrets);
    const probe = new Probe(ctx, key, stream, read.message.legacy, encoder, new Inbox<Arrival>(ctx));
    probe.#readLoop(decoder, read.rest.slice()).catch(() => undefined);
    return probe;
  }

  async #readLoop(decoder: FrameDecoder, first: Uint8Array): Promise<void> {
    decoder.push(first);
    try {
      for (;;) {
        for (let frame = decoder.next(); frame; frame = decoder.next()) {
          this.#inbox.push({ kind: 'frame', code: frame.code, data: frame.data });
        }
        const chunk = await this.stream.read();
        if (chunk === null) break;
        decoder.push(chunk);
      }
      this.#inbox.push({ kind: 'closed' });
    } catch (error) {
      this.#inbox.push({ kind: 'closed', error: message(error) });
    }
  }

  /** Encodes one frame holding `code ‖ data` as it is (no compression), advancing the egress state. */
  frame(code: number, data: Uint8Array): Uint8Array {
    return this.#encoder.encodeFrame(code, data);
  }

  /** Writes bytes as they are. A write the closed connection refuses is dropped: reads report the close. */
  async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.stream.write(bytes);
    } catch {
      // The read loop sees the connection end.
    }
  }

  /** Sends one message, compressing the payload when snappy is on (the Hello never is). */
  send(code: number, payload: Uint8Array): Promise<void> {
    const data = this.snappy && code !== BaseCode.Hello ? snappyCompress(payload) : payload;
    return this.write(this.frame(code, data));
  }

  /** Sends a Hello: ours (version 5, the given caps, our key) with any field replaced. */
  sendHello(fields: Partial<HelloFields> = {}): Promise<void> {
    return this.send(
      BaseCode.Hello,
      encodeHello({
        version: P2P_VERSION,
        clientName: CLIENT_NAME,
        caps: [],
        listenPort: 0,
        nodeId: this.publicKey,
        ...fields,
      }),
    );
  }

  /** The payload of a frame under the current snappy setting. */
  #message(code: number, data: Uint8Array): Message {
    if (!this.snappy) return { code, data, payload: data };
    try {
      return { code, data, payload: snappyUncompress(data) };
    } catch (error) {
      return { code, data, payload: undefined, snappyError: message(error) };
    }
  }

  /** The next message, the close, or a timeout after `ms`. */
  async read(ms: number): Promise<ReadResult> {
    if (this.#closed) return { kind: 'closed' };
    const arrival = await this.#inbox.next(ms);
    if (!arrival) return { kind: 'timeout' };
    if (arrival.kind === 'closed') {
      this.#closed = true;
      return arrival.error === undefined ? { kind: 'closed' } : { kind: 'closed', error: arrival.error };
    }
    return { kind: 'message', message: this.#message(arrival.code, arrival.data) };
  }

  /** A Disconnect's reason, reading the payload compressed or not (some clients send it uncompressed). */
  disconnectReason(m: Message): number | undefined {
    const candidates = [m.payload, m.data, inflate(m.data)];
    for (const payload of candidates) {
      const reason = payload === undefined ? undefined : decodeDisconnect(payload);
      if (reason !== undefined) return reason;
    }
    return undefined;
  }

  /**
   * Reads the node's Hello (its first message must be Hello), switching snappy on when both sides announce version
   * 5 or later. A Disconnect, the close or silence fails the case.
   */
  async readHello(ourVersion: number = P2P_VERSION): Promise<Hello> {
    this.ctx.step = "waiting for the node's Hello";
    const result = await this.read(REPLY_TIMEOUT_MS);
    if (result.kind === 'timeout') this.ctx.fail(`no Hello within ${REPLY_TIMEOUT_MS} ms`);
    if (result.kind === 'closed')
      this.ctx.fail(`the node closed the connection instead of sending its Hello${why(result.error)}`);
    const m = result.message;
    if (m.code === BaseCode.Disconnect) {
      this.ctx.fail(`the node disconnected instead of sending its Hello: ${reasonText(this.disconnectReason(m))}`);
    }
    if (m.code !== BaseCode.Hello) this.ctx.fail(`the node's first message has code ${m.code}, not Hello`);
    let hello: Hello;
    try {
      hello = decodeHello(m.data);
    } catch (error) {
      this.ctx.fail(`the node's Hello does not decode: ${message(error)}`);
    }
    this.snappy = hello.version >= SNAPPY_MIN_VERSION && ourVersion >= SNAPPY_MIN_VERSION;
    return hello;
  }

  /**
   * Waits for a message with `code` (within `ms`, default {@link REPLY_TIMEOUT_MS}), answering the node's Pings and
   * skipping other messages. A Disconnect or the close fails the case.
   */
  async expect(code: number, what: string, ms: number = REPLY_TIMEOUT_MS): Promise<Message> {
    const deadline = this.ctx.clock.now() + ms;
    this.ctx.step = `waiting for ${what}`;
    for (;;) {
      const result = await this.read(Math.max(0, deadline - this.ctx.clock.now()));
      if (result.kind === 'timeout') this.ctx.fail(`nothing within ${ms} ms: expected ${what}`);
      if (result.kind === 'closed') this.ctx.fail(`the node closed the connection before ${what}${why(result.error)}`);
      const m = result.message;
      if (m.code === code) return m;
      if (m.code === BaseCode.Disconnect) {
        this.ctx.fail(`the node disconnected before ${what}: ${reasonText(this.disconnectReason(m))}`);
      }
      if (m.code === BaseCode.Ping) await this.send(BaseCode.Pong, EMPTY_LIST);
    }
  }

  /**
   * Waits for the node to close the connection (within `ms`, default {@link CLOSE_TIMEOUT_MS}); a Disconnect before
   * the close is allowed and its reason returned. A message with a code in `forbidden` fails the case at once.
   */
  async expectClose(
    what: string,
    options: { forbidden?: readonly number[]; ms?: number } = {},
  ): Promise<{ reason: number | undefined; disconnected: boolean }> {
    const ms = options.ms ?? CLOSE_TIMEOUT_MS;
    const deadline = this.ctx.clock.now() + ms;
    this.ctx.step = `waiting for the node to close the connection (${what})`;
    let reason: number | undefined;
    let disconnected = false;
    for (;;) {
      const result = await this.read(Math.max(0, deadline - this.ctx.clock.now()));
      if (result.kind === 'timeout') this.ctx.fail(`the connection is still open ${ms} ms after ${what}`);
      if (result.kind === 'closed') return { reason, disconnected };
      const m = result.message;
      if (m.code === BaseCode.Disconnect) {
        disconnected = true;
        reason = this.disconnectReason(m);
      } else if (options.forbidden?.includes(m.code)) {
        this.ctx.fail(`the node answered ${what} (message code ${m.code}) instead of closing the connection`);
      }
    }
  }

  /** Sends a Ping and waits for the Pong: proof the session is up. */
  async pingPong(what = 'a Pong'): Promise<Message> {
    await this.send(BaseCode.Ping, EMPTY_LIST);
    return this.expect(BaseCode.Pong, what);
  }
}

/** `data` decompressed, or undefined when it is not valid snappy. */
function inflate(data: Uint8Array): Uint8Array | undefined {
  try {
    return snappyUncompress(data);
  } catch {
    return undefined;
  }
}

function why(error: string | undefined): string {
  return error === undefined ? '' : ` (${error})`;
}

/** The next chunk from `stream`, null at its end, or 'timeout' after `ms`. */
export async function readChunk(
  ctx: CaseContext,
  stream: ByteStream,
  ms: number,
): Promise<Uint8Array | null | 'timeout'> {
  let settled: Uint8Array | null | 'failed' | undefined;
  let wake: (() => void) | undefined;
  stream.read().then(
    (chunk) => {
      settled = chunk;
      wake?.();
    },
    () => {
      settled = 'failed';
      wake?.();
    },
  );
  if (settled === undefined && ms > 0) {
    await ctx.nap(ms, (w) => {
      wake = w;
      return () => {
        wake = undefined;
      };
    });
  }
  if (settled === undefined) return 'timeout';
  return settled === 'failed' ? null : settled;
}
