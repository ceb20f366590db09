/**
 * An RLPx connection over any {@link ByteStream}: the encryption handshake in either role, then framed, MAC'd,
 * optionally snappy-compressed messages, with geth's deadlines and limits.
 */
import {
  AbortError,
  type ByteStream,
  type Clock,
  ConnectionClosedError,
  Devp2pError,
  type Logger,
  ProtocolError,
  type RemoteContext,
  silentLogger,
  systemClock,
  TimeoutError,
  TooLargeError,
} from '@devp2p/core';
import { isValidPrivateKey, isValidPublicKey, PUBLIC_KEY_LENGTH } from '@devp2p/crypto';
import { createFrameCodec, type DecodedFrame, type FrameDecoder, type FrameEncoder, frameLength } from './frame.ts';
import {
  createAckReader,
  createAuthReader,
  deriveSecrets,
  encodeAck,
  encodeAuth,
  type HandshakeRead,
  type HandshakeReader,
  type Secrets,
} from './handshake.ts';
import {
  ERR_BAD_MESSAGE,
  ERR_HANDSHAKE,
  ERR_WRITE_QUEUE_FULL,
  FRAME_READ_TIMEOUT_MS,
  FRAME_WRITE_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  MAX_MESSAGE_SIZE,
  MAX_WRITE_QUEUE_BYTES,
  QUEUED_FRAME_OVERHEAD,
  WRITE_BATCH_BYTES,
} from './limits.ts';
import { sharedScratch } from './scratch.ts';
import { snappyCompressInto, snappyMaxCompressedLength, snappyUncompress } from './snappy.ts';

/** Options of {@link RLPxConnection}. */
export interface RLPxConnectionOptions {
  /** Our static private key (32 bytes): our node identity. */
  readonly privateKey: Uint8Array;
  /**
   * The static public key (64 bytes) of the node we dial. Set on the dialing side (we send the auth), unset on
   * the listening side (we answer with an ack).
   */
  readonly remotePublicKey?: Uint8Array;
  /** Deadline for the whole handshake; {@link HANDSHAKE_TIMEOUT_MS} (5 s) by default. */
  readonly handshakeTimeoutMs?: number;
  /**
   * Deadline for the bytes of each message `readMessage()` waits for (a message already received needs none);
   * {@link FRAME_READ_TIMEOUT_MS} (30 s) by default.
   */
  readonly readTimeoutMs?: number;
  /**
   * Deadline for each write of queued frames to be taken by the stream; {@link FRAME_WRITE_TIMEOUT_MS} (20 s) by
   * default.
   */
  readonly writeTimeoutMs?: number;
  /** Most bytes of frames queued for a slow reader; {@link MAX_WRITE_QUEUE_BYTES} (1 MiB) by default. */
  readonly maxWriteQueueBytes?: number;
  /** Clock for deadlines and timers (tests inject counting ones); {@link systemClock} by default. */
  readonly clock?: Clock;
  /** Where connection events are logged (debug level); silent by default. */
  readonly logger?: Logger;
}

/**
 * The base protocol's Disconnect code. Some clients send their Disconnect uncompressed although snappy is on, so a
 * Disconnect whose payload is not valid snappy is delivered as it came (the base protocol decodes either form).
 */
const DISCONNECT_CODE = 0x01;

/** Options of {@link RLPxConnection.handshake}. */
export interface HandshakeOptions {
  /** Aborting closes the connection and rejects the handshake with AbortError. */
  readonly signal?: AbortSignal;
}

/** One message: its code and its payload (decompressed when snappy is on). */
export interface RLPxMessage {
  readonly code: number;
  readonly payload: Uint8Array;
}

/**
 * Frames waiting for the stream: one frame from `writeMessage`, or a batch of frames that `sendMessage` encoded one
 * after another into one buffer (the first `length` bytes of `bytes`).
 */
interface PendingWrite {
  bytes: Uint8Array;
  length: number;
  /** What these frames count against the write-queue bound: their bytes plus the per-frame overhead. */
  accounted: number;
  resolve(): void;
  /** Called with the error when the write fails; a batch calls each of its senders' handlers once. */
  reject(reason: unknown): void;
}

/**
 * The most a buffer `sendMessage` encodes a turn's frames into grows to, one frame after another, so that a burst of
 * replies (a read loop answering a chunk of Pings) or of sends holds one buffer and one queue entry, not an array, a
 * promise and an entry per frame: WRITE_BATCH_BYTES, so that a full batch is one stream write, uncopied. A frame that
 * does not fit goes to a new batch; one larger than this, in parts of its own (#enqueueInParts). A batch starts as
 * large as the connection's last one ended (at least its first frame), and doubles when that is too small: an idle
 * peer's lone Pong costs 64 bytes (which V8 keeps on its heap), a bulk sender's turn one array with no copy. Starting
 * at the last size wastes at most that size, once: a lone Pong after a full batch holds a 64 KiB array until it is
 * written, and the batch after it starts at 64 bytes again. A queue that is not drained thus holds at most about
 * twice its frames' bytes.
 */
const SEND_BATCH_BYTES = WRITE_BATCH_BYTES;

/**
 * The worst case of a 2 MiB message (geth's soft limit on a response), rounded up: messages up to it are compressed
 * into an array shared by every connection (see sharedScratch): the compressed bytes are encrypted (copied into
 * their frame, or read by the cipher for a frame sent in parts) before any other message is compressed (encoding is
 * synchronous), so a message costs no array for them. It holds any message up to about 56 KiB at first and grows to
 * the worst case of the largest message compressed, up to this size; a larger message gets an array of its own. A
 * new array per large message cost zeroing and, on Bun and Deno, fresh pages (1 MiB messages over one connection,
 * snappy on: 1.05× on Bun, 1.07× on Deno, no change on Node).
 */
const COMPRESS_SHARED_MAX_BYTES = 2.5 * 1024 * 1024;
const compressTarget = sharedScratch(64 * 1024, COMPRESS_SHARED_MAX_BYTES);

/** Runs `callback` after `ms` unless cleared; every timer a connection starts is cleared on every path. */
interface Deadline {
  clear(): void;
}

/**
 * A deadline that moves far more often than it expires: the wait for each message read, each write. It keeps one
 * timer, which on firing before the current deadline sleeps for the rest of it, instead of setting and clearing a
 * timer (a timer object and two closures) for every message: an idle peer's Pings and Pongs then allocate no timer.
 */
class MovingDeadline {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #onExpire: () => void;
  /** When the running wait expires (clock time), or undefined while nothing waits. */
  #at: number | undefined;
  #timer: unknown;

  constructor(clock: Clock, ms: number, onExpire: () => void) {
    this.#clock = clock;
    this.#ms = ms;
    this.#onExpire = onExpire;
  }

  /** A wait starts: it expires `ms` from now unless stopped first. */
  start(): void {
    this.#at = this.#clock.now() + this.#ms;
    this.#timer ??= this.#clock.setTimeout(this.#fire, this.#ms);
  }

  /** The wait is over; the timer, if any, finds nothing waiting when it fires (or a later wait to sleep for). */
  stop(): void {
    this.#at = undefined;
  }

  /** Stops and clears the timer: the connection is closed. */
  dispose(): void {
    this.#at = undefined;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    if (this.#at === undefined) return;
    const left = this.#at - this.#clock.now();
    if (left > 0) {
      this.#timer = this.#clock.setTimeout(this.#fire, left);
      return;
    }
    this.#at = undefined;
    this.#onExpire();
  };
}

/** The settle callbacks of a frame sent without a promise (`sendMessage`). */
function ignore(): void {}

function timeout(value: number | undefined, fallback: number, label: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`RLPxConnection: ${label} must be positive`);
  return value;
}

/**
 * An RLPx connection. The role follows from the options: with `remotePublicKey` we dial (initiator), without
 * it we were dialed (recipient). Every failure (bad MAC, bad handshake, too large, timeout, closed) closes the
 * connection and rejects the pending and later calls with a typed error carrying the remote address.
 *
 * @example
 * const conn = new RLPxConnection(nodeSocketStream(net.connect(port, host)), { privateKey, remotePublicKey });
 * await conn.handshake({ signal: AbortSignal.timeout(10_000) });
 * await conn.writeMessage(0x00, helloPayload);
 * const { code, payload } = await conn.readMessage();
 * conn.setSnappy(true); // once both Hellos announce p2p version 5 or later
 * for await (const message of conn) handle(message);
 */
export class RLPxConnection {
  readonly #stream: ByteStream;
  readonly #privateKey: Uint8Array;
  readonly #dialed: Uint8Array | undefined;
  readonly #handshakeTimeoutMs: number;
  /** The wait for the bytes of a message (`readMessage`), and for the stream to take a write. */
  readonly #readDeadline: MovingDeadline;
  readonly #writeDeadline: MovingDeadline;
  readonly #clock: Clock;
  readonly #log: Logger;
  #remotePublicKey: Uint8Array | undefined;
  #encoder: FrameEncoder | undefined;
  #decoder: FrameDecoder | undefined;
  #snappy = false;
  #handshakeStarted = false;
  /** Set once the connection is closed: what every pending and later operation rejects with. */
  #failure: Devp2pError | undefined;
  /** Rejects the in-flight stream read (settled by the stream too, but we do not depend on it). */
  #abortRead: ((reason: unknown) => void) | undefined;
  /** The latest `readMessage()`: a call made while it is pending waits for it. */
  #readTail: Promise<unknown> | undefined;
  /** `readMessage()` calls not yet settled: while any is, `readBufferedMessage()` leaves the buffer to them. */
  #readsPending = 0;
  #writeQueue: PendingWrite[] = [];
  /** The frames handed to the stream in one write and not yet taken by it. */
  #writing: PendingWrite[] | undefined;
  /** A write of the queued frames is scheduled for the end of the current turn (see `writeMessage`). */
  #pumpScheduled = false;
  /** The queued batch `sendMessage` adds its frames to, until it is full or handed to the stream. */
  #sendBatch: PendingWrite | undefined;
  /** Bytes the last send batch held when it took its last frame: the size the next one starts at. */
  #lastSendBatchBytes = 0;
  /** Bytes (with per-frame overhead) of the frames in #writeQueue and #writing. */
  #queuedBytes = 0;
  readonly #maxQueuedBytes: number;
  /** Waiting in `writable()` for the queue to fall below their threshold (the bound, or lower). */
  #roomWaiters: { below: number; resolve(): void; reject(reason: unknown): void }[] = [];

  constructor(stream: ByteStream, options: RLPxConnectionOptions) {
    if (!isValidPrivateKey(options.privateKey)) throw new TypeError('RLPxConnection: privateKey is not a valid key');
    const remote = options.remotePublicKey;
    if (remote !== undefined && (remote.length !== PUBLIC_KEY_LENGTH || !isValidPublicKey(remote))) {
      throw new TypeError('RLPxConnection: remotePublicKey must be a valid 64-byte public key');
    }
    this.#stream = stream;
    this.#privateKey = options.privateKey;
    this.#dialed = remote;
    this.#handshakeTimeoutMs = timeout(options.handshakeTimeoutMs, HANDSHAKE_TIMEOUT_MS, 'handshakeTimeoutMs');
    const readTimeoutMs = timeout(options.readTimeoutMs, FRAME_READ_TIMEOUT_MS, 'readTimeoutMs');
    const writeTimeoutMs = timeout(options.writeTimeoutMs, FRAME_WRITE_TIMEOUT_MS, 'writeTimeoutMs');
    this.#maxQueuedBytes = timeout(options.maxWriteQueueBytes, MAX_WRITE_QUEUE_BYTES, 'maxWriteQueueBytes');
    this.#clock = options.clock ?? systemClock;
    this.#readDeadline = new MovingDeadline(this.#clock, readTimeoutMs, () =>
      this.#fail(new TimeoutError('RLPx frame read', readTimeoutMs, this.#context())),
    );
    this.#writeDeadline = new MovingDeadline(this.#clock, writeTimeoutMs, () =>
      this.#fail(new TimeoutError('RLPx frame write', writeTimeoutMs, this.#context())),
    );
    this.#log = (options.logger ?? silentLogger).child('rlpx');
  }

  /** `host:port` of the remote end, when the stream knows it. */
  get remoteAddress(): string | undefined {
    return this.#stream.remoteAddress;
  }

  /** True on the dialing side. */
  get initiator(): boolean {
    return this.#dialed !== undefined;
  }

  /** The remote node's static public key (64 bytes), once the handshake has completed. */
  get remotePublicKey(): Uint8Array | undefined {
    return this.#remotePublicKey;
  }

  /** Whether message payloads are snappy-compressed (both directions). */
  get snappy(): boolean {
    return this.#snappy;
  }

  /** True once the connection is closed, by either side or by a failure. */
  get closed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Bytes queued for the remote and not yet taken by the stream, each frame counted with
   * {@link QUEUED_FRAME_OVERHEAD}: at most the write-queue bound plus one message.
   */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** True while the write queue is at its bound: a write now would fail the connection; wait for `writable()`. */
  get writeQueueFull(): boolean {
    return this.#queuedBytes >= this.#maxQueuedBytes;
  }

  /**
   * Resolves once the write queue is below its bound (at once when it is): await it before sending what the remote
   * did not ask to be paced, e.g. a reply generated while reading. With `below`, waits until fewer than that many
   * bytes are queued instead (at most the bound): a read loop waits for a nearly empty queue, so that a remote that
   * does not read stops being read long before its replies fill the queue. Rejects when the connection closes.
   * @example if (conn.queuedBytes >= 64 * 1024) await conn.writable(64 * 1024);
   */
  writable(below: number = this.#maxQueuedBytes): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const threshold = Math.min(below, this.#maxQueuedBytes);
    if (this.#queuedBytes < threshold) return Promise.resolve();
    return new Promise((resolve, reject) => this.#roomWaiters.push({ below: threshold, resolve, reject }));
  }

  /**
   * Caps the content size of frames from the next one on (at most 16 MiB - 1); a larger
   * declared size fails the connection with TooLargeError before its body is read. Use it to refuse big frames
   * before the Hello exchange, where nothing larger than a Hello is valid.
   */
  setMaxFrameSize(size: number): void {
    if (!this.#decoder) throw new Error('RLPxConnection: setMaxFrameSize() before the handshake completed');
    this.#decoder.maxFrameSize = size;
  }

  /**
   * Switches snappy compression of payloads on or off, for both directions, from the next message on. Turn it on
   * once both Hello messages announce p2p version 5 or later; the Hello itself is never compressed.
   */
  setSnappy(enabled: boolean): void {
    this.#snappy = enabled;
  }

  #context(): RemoteContext {
    return { remoteAddress: this.#stream.remoteAddress };
  }

  #deadline(ms: number, onExpire: () => void): Deadline {
    let handle: unknown = this.#clock.setTimeout(() => {
      handle = undefined;
      onExpire();
    }, ms);
    return {
      clear: () => {
        if (handle !== undefined) this.#clock.clearTimeout(handle);
        handle = undefined;
      },
    };
  }

  /** Closes the stream at once and makes `error` the outcome of everything pending and later. First call wins. */
  #fail(error: Devp2pError): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#log.debug('connection failed', { remote: this.remoteAddress, code: error.code, reason: error.message });
    this.#stream.destroy();
    this.#settleAll(error);
  }

  #settleAll(error: Devp2pError): void {
    this.#readDeadline.dispose();
    this.#writeDeadline.dispose();
    const abortRead = this.#abortRead;
    this.#abortRead = undefined;
    abortRead?.(error);
    const writing = this.#writing;
    this.#writing = undefined;
    if (writing) for (const w of writing) w.reject(error);
    const queue = this.#writeQueue;
    this.#writeQueue = [];
    this.#sendBatch = undefined;
    this.#queuedBytes = 0;
    for (const w of queue) w.reject(error);
    this.#releaseRoomWaiters(error);
  }

  /** Settles `writable()` waiters: resolved when the queue is below their threshold, rejected with `error` when closed. */
  #releaseRoomWaiters(error?: Devp2pError): void {
    if (this.#roomWaiters.length === 0) return;
    const waiters = this.#roomWaiters;
    if (error) {
      this.#roomWaiters = [];
      for (const w of waiters) w.reject(error);
      return;
    }
    const queued = this.#queuedBytes;
    if (waiters.every((w) => queued >= w.below)) return;
    this.#roomWaiters = waiters.filter((w) => queued >= w.below);
    for (const w of waiters) if (queued < w.below) w.resolve();
  }

  /** Any error as a typed one: Devp2pError subclasses as they are, anything else as `fallback`. */
  #typed(err: unknown, fallback: (cause: unknown) => Devp2pError): Devp2pError {
    return err instanceof Devp2pError ? err : fallback(err);
  }

  /**
   * Runs the encryption handshake (sending the auth when dialing, answering it when dialed) within the
   * handshake deadline, and resolves with the remote node's static public key. On failure the connection is
   * closed and the promise rejects with ProtocolError (ERR_HANDSHAKE), TooLargeError, TimeoutError, AbortError or
   * ConnectionClosedError. A dialed peer that does not hold the key we dialed cannot decrypt our auth, so the
   * handshake fails.
   */
  async handshake(options: HandshakeOptions = {}): Promise<Uint8Array> {
    if (this.#handshakeStarted) throw new Error('RLPxConnection: handshake() may only be called once');
    this.#handshakeStarted = true;
    const { signal } = options;
    const onAbort = (): void => this.#fail(new AbortError('RLPx handshake aborted', { cause: signal?.reason }));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = this.#deadline(this.#handshakeTimeoutMs, () =>
      this.#fail(new TimeoutError('RLPx handshake', this.#handshakeTimeoutMs, this.#context())),
    );
    try {
      if (this.#failure) throw this.#failure;
      const remote = this.#dialed ? await this.#dial(this.#dialed) : await this.#accept();
      if (this.#failure) throw this.#failure;
      this.#remotePublicKey = remote;
      this.#log.debug('handshake done', { remote: this.remoteAddress, initiator: this.initiator });
      return remote;
    } catch (err) {
      // Network outcomes stay as they are; anything else (a key the crypto layer rejects) is a bad handshake.
      const error =
        err instanceof ProtocolError ||
        err instanceof TimeoutError ||
        err instanceof ConnectionClosedError ||
        err instanceof AbortError
          ? err
          : new ProtocolError(ERR_HANDSHAKE, 'RLPx handshake failed', { ...this.#context(), cause: err });
      this.#fail(error);
      throw this.#failure ?? error;
    } finally {
      deadline.clear();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async #dial(remotePublicKey: Uint8Array): Promise<Uint8Array> {
    const auth = encodeAuth({ privateKey: this.#privateKey, remotePublicKey });
    const reader = createAckReader(this.#privateKey, this.#context());
    // The ack can only come after the auth, so the write and the read may overlap.
    const sent = this.#stream.write(auth.packet);
    const [, { message: ack, packet, rest }] = await Promise.all([sent, this.#readHandshake(reader)]);
    this.#start(
      deriveSecrets({
        initiator: true,
        ephemeralPrivateKey: auth.ephemeralPrivateKey,
        remoteEphemeralPublicKey: ack.recipientEphemeralPublicKey,
        initiatorNonce: auth.nonce,
        recipientNonce: ack.recipientNonce,
        authPacket: auth.packet,
        ackPacket: packet,
      }),
      rest,
    );
    return remotePublicKey;
  }

  async #accept(): Promise<Uint8Array> {
    const reader = createAuthReader(this.#privateKey, this.#context());
    const { message: auth, packet, rest } = await this.#readHandshake(reader);
    const ack = encodeAck({ remotePublicKey: auth.initiatorPublicKey, legacy: auth.legacy });
    this.#start(
      deriveSecrets({
        initiator: false,
        ephemeralPrivateKey: ack.ephemeralPrivateKey,
        remoteEphemeralPublicKey: auth.initiatorEphemeralPublicKey,
        initiatorNonce: auth.initiatorNonce,
        recipientNonce: ack.nonce,
        authPacket: packet,
        ackPacket: ack.packet,
      }),
      rest,
    );
    await this.#stream.write(ack.packet);
    return auth.initiatorPublicKey;
  }

  #start(secrets: Secrets, rest: Uint8Array): void {
    const { encoder, decoder } = createFrameCodec(secrets, this.#context());
    this.#encoder = encoder;
    this.#decoder = decoder;
    // Bytes after the handshake message (the peer's first frame may share a segment with its ack).
    decoder.push(rest.slice());
  }

  async #readHandshake<T>(reader: HandshakeReader<T>): Promise<HandshakeRead<T>> {
    for (;;) {
      const read = reader.push(await this.#readChunk('during the handshake'));
      if (read) return read;
    }
  }

  /** The next chunk from the stream; rejects with the connection's failure, or ConnectionClosedError at its end. */
  #readChunk(when: string): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#abortRead = reject;
      this.#stream.read().then(
        (chunk) => {
          this.#abortRead = undefined;
          if (this.#failure) reject(this.#failure);
          else if (chunk !== null) resolve(chunk);
          else {
            this.#fail(new ConnectionClosedError(`connection closed by the remote ${when}`, this.#context()));
            reject(this.#failure);
          }
        },
        (err: unknown) => {
          this.#abortRead = undefined;
          this.#fail(
            this.#typed(err, (cause) => new ConnectionClosedError('stream failed', { ...this.#context(), cause })),
          );
          reject(this.#failure);
        },
      );
    });
  }

  /**
   * The next message. Waits at most the read deadline (30 s by default) for it; concurrent calls are served in
   * order. Rejects (and closes the connection) with ProtocolError ERR_BAD_MAC, ERR_BAD_MESSAGE or ERR_SNAPPY,
   * TooLargeError, TimeoutError or ConnectionClosedError.
   */
  readMessage(): Promise<RLPxMessage> {
    // Alone, it starts at once (no promise chained per message); otherwise after the pending ones, settled or not.
    const result = ++this.#readsPending === 1 ? this.#readOne() : this.#readTail!.then(this.#readNext, this.#readNext);
    this.#readTail = result;
    return result;
  }

  readonly #readNext = (): Promise<RLPxMessage> => this.#readOne();

  /**
   * The next message when it is already complete in what has been received, without waiting: undefined when more
   * bytes are needed, or while a `readMessage()` is pending (it comes first); then call `readMessage()`. A read loop
   * that takes what is buffered this way handles a burst of messages without a promise or a timer for each.
   * Throws (and closes the connection) as `readMessage()` rejects.
   * @example const message = conn.readBufferedMessage() ?? (await conn.readMessage());
   */
  readBufferedMessage(): RLPxMessage | undefined {
    if (this.#readsPending > 0) return undefined;
    if (this.#failure) throw this.#failure;
    const decoder = this.#decoder;
    if (!decoder) throw new Error('RLPxConnection: readBufferedMessage() before the handshake completed');
    if (decoder.bytesNeeded > 0) return undefined;
    const frame = this.#nextFrame(decoder);
    return frame && this.#toMessage(frame);
  }

  /** One `readMessage()`: counted in #readsPending until it settles. */
  async #readOne(): Promise<RLPxMessage> {
    try {
      if (this.#failure) throw this.#failure;
      const decoder = this.#decoder;
      if (!decoder) throw new Error('RLPxConnection: readMessage() before the handshake completed');
      let frame = this.#nextFrame(decoder);
      if (frame) return this.#toMessage(frame);
      // The deadline covers the wait for bytes; a message already buffered needs none.
      this.#readDeadline.start();
      try {
        while (!frame) {
          decoder.push(await this.#readChunk('in the middle of a frame'));
          frame = this.#nextFrame(decoder);
        }
        return this.#toMessage(frame);
      } finally {
        this.#readDeadline.stop();
      }
    } finally {
      this.#readsPending--;
    }
  }

  #nextFrame(decoder: FrameDecoder): DecodedFrame | undefined {
    try {
      return decoder.next();
    } catch (err) {
      this.#fail(
        this.#typed(err, (cause) => new ProtocolError(ERR_BAD_MESSAGE, 'bad frame', { ...this.#context(), cause })),
      );
      throw this.#failure;
    }
  }

  #toMessage(frame: DecodedFrame): RLPxMessage {
    if (!this.#snappy) return { code: frame.code, payload: frame.data };
    try {
      return { code: frame.code, payload: snappyUncompress(frame.data, MAX_MESSAGE_SIZE) };
    } catch (err) {
      if (frame.code === DISCONNECT_CODE) return { code: frame.code, payload: frame.data };
      // The snappy decoder does not know the remote address: re-create its error with it.
      const context = this.#context();
      const error =
        err instanceof TooLargeError
          ? new TooLargeError('decompressed message', err.size, err.limit, context)
          : err instanceof ProtocolError
            ? new ProtocolError(err.code, err.message, { ...context, cause: err })
            : new ProtocolError(ERR_BAD_MESSAGE, 'undecodable snappy payload', { ...context, cause: err });
      this.#fail(error);
      throw error;
    }
  }

  /**
   * Sends one message: rlp(code) ‖ payload (snappy-compressed when on) in one frame. The frame is encoded at once, so
   * messages go out in call order and never interleave; frames written in the same turn reach the stream together, in
   * one write of up to {@link WRITE_BATCH_BYTES} (a larger frame in writes of its own), at the end of the turn. The
   * promise resolves when the stream has taken the frame and can take more (backpressure), within the write deadline
   * (20 s by default). Rejects with TooLargeError (the connection stays open: nothing was sent) when the payload or
   * frame exceeds 16 MiB - 1, and with TimeoutError or ConnectionClosedError (the connection is closed). A write that
   * finds the queue at its bound (the remote does not read and the sender did not wait for `writable()`) fails the
   * connection with ProtocolError ERR_WRITE_QUEUE_FULL.
   */
  writeMessage(code: number, payload: Uint8Array): Promise<void> {
    let data: Uint8Array;
    let length: number;
    try {
      data = this.#prepare(payload, 'writeMessage');
      length = frameLength(code, data.length);
    } catch (error) {
      return Promise.reject(this.#withContext(error));
    }
    // The executor runs at once: `data` (possibly a view of the shared array) is encoded before anything else.
    return new Promise<void>((resolve, reject) => {
      if (length > SEND_BATCH_BYTES) {
        this.#enqueueInParts(code, data, resolve, reject);
        return;
      }
      this.#sealSendBatch();
      const frame = this.#encoder!.encodeFrame(code, data);
      this.#enqueue({ bytes: frame, length, accounted: length + QUEUED_FRAME_OVERHEAD, resolve, reject });
    });
  }

  /**
   * Sends one message as `writeMessage` does, without a promise for its outcome: for a reply nobody waits on, such
   * as a Pong. The frames sent this way in one turn are laid out one after another in one buffer and encrypted together
   * when it is queued or written, so that a burst of replies (a flood of Pings answered) costs neither a promise, an
   * array nor a cipher call per message. `onFailure`, when given, is called with the error if the write fails (one
   * function can serve every message: nothing is allocated per call).
   * Throws at once what `writeMessage` would reject with at once: TooLargeError (nothing was queued, the connection
   * stays open), the connection's failure once it is closed, ERR_WRITE_QUEUE_FULL (which closes it).
   * @example conn.sendMessage(0x03, Uint8Array.of(0xc0), onWriteFailure) // a Pong
   */
  sendMessage(code: number, payload: Uint8Array, onFailure: (error: unknown) => void = ignore): void {
    let data: Uint8Array;
    let length: number;
    try {
      data = this.#prepare(payload, 'sendMessage');
      length = frameLength(code, data.length);
    } catch (error) {
      throw this.#withContext(error);
    }
    if (length > SEND_BATCH_BYTES) {
      this.#enqueueInParts(code, data, ignore, onFailure);
      return;
    }
    const encoder = this.#encoder!;
    const accounted = length + QUEUED_FRAME_OVERHEAD;
    let batch = this.#sendBatch;
    if (!batch || batch.length + length > SEND_BATCH_BYTES) {
      const size = Math.max(length, Math.min(this.#lastSendBatchBytes, SEND_BATCH_BYTES));
      batch = { bytes: new Uint8Array(size), length: 0, accounted: 0, resolve: ignore, reject: onFailure };
      this.#enqueue(batch);
      this.#sendBatch = batch;
    } else {
      if (batch.length + length > batch.bytes.length) {
        const grown = new Uint8Array(
          Math.min(SEND_BATCH_BYTES, Math.max(batch.length + length, 2 * batch.bytes.length)),
        );
        grown.set(batch.bytes.subarray(0, batch.length));
        batch.bytes = grown;
      }
      if (batch.reject !== onFailure) {
        const first = batch.reject;
        batch.reject =
          first === ignore
            ? onFailure
            : (error) => {
                first(error);
                onFailure(error);
              };
      }
    }
    batch.length += encoder.stageFrameInto(code, data, batch.bytes, batch.length);
    this.#lastSendBatchBytes = batch.length;
    batch.accounted += accounted;
    this.#queuedBytes += accounted;
  }

  /**
   * Queues the frame of a message too large for a send batch as the encoder's three parts (FrameEncoder
   * `encodeFrameParts`), one entry each, so that its data goes to the stream as the cipher returned it: no array of
   * the frame's size is zeroed and filled twice (1 MiB messages: 1.05× on Node, 1.03× on Bun, 1.02× on Deno). The
   * last part settles the message, once; the first counts the per-frame overhead against the write-queue bound.
   */
  #enqueueInParts(code: number, data: Uint8Array, resolve: () => void, reject: (reason: unknown) => void): void {
    this.#sealSendBatch();
    const [head, body, tail] = this.#encoder!.encodeFrameParts(code, data);
    const part = (bytes: Uint8Array, overhead: number): PendingWrite => ({
      bytes,
      length: bytes.length,
      accounted: bytes.length + overhead,
      resolve: ignore,
      reject: ignore,
    });
    this.#enqueue(part(head, QUEUED_FRAME_OVERHEAD));
    this.#enqueue(part(body, 0));
    this.#enqueue({ ...part(tail, 0), resolve, reject });
  }

  /**
   * The checks both write methods make (then #encoder is set), and the payload as it goes into the frame
   * (snappy-compressed when on: then possibly a view of the shared array, to be encoded before the next call).
   * Throws what they reject with.
   */
  #prepare(payload: Uint8Array, caller: string): Uint8Array {
    if (this.#failure) throw this.#failure;
    if (!this.#encoder) throw new Error(`RLPxConnection: ${caller}() before the handshake completed`);
    if (this.#queuedBytes >= this.#maxQueuedBytes) {
      this.#fail(
        new ProtocolError(
          ERR_WRITE_QUEUE_FULL,
          `write queue full (${this.#queuedBytes} bytes queued, limit ${this.#maxQueuedBytes}): the remote does not read`,
          this.#context(),
        ),
      );
      throw this.#failure;
    }
    if (!this.#snappy) return payload;
    if (payload.length > MAX_MESSAGE_SIZE) {
      throw new TooLargeError('message', payload.length, MAX_MESSAGE_SIZE, this.#context());
    }
    const room = snappyMaxCompressedLength(payload.length);
    const out = compressTarget(room);
    return out.subarray(0, snappyCompressInto(payload, out, 0));
  }

  /** A TooLargeError from the codec (which does not know the remote) with the remote address in it. */
  #withContext(error: unknown): unknown {
    if (error instanceof TooLargeError && error.remoteAddress === undefined) {
      return new TooLargeError('frame', error.size, error.limit, this.#context());
    }
    return error;
  }

  /**
   * Encrypts the send batch's frames, staged by `sendMessage` (FrameEncoder `stageFrameInto`), all in one keystream
   * call, and closes the batch to more frames: before another frame is encoded or queued after it, and before it goes
   * to the stream. Every queued entry but the open send batch is sealed.
   */
  #sealSendBatch(): void {
    const batch = this.#sendBatch;
    if (!batch) return;
    this.#sendBatch = undefined;
    this.#encoder!.sealStagedFrames(batch.bytes, 0, batch.length);
  }

  #enqueue(item: PendingWrite): void {
    // Whatever is queued after a send batch goes out after it: the batch takes no more frames.
    this.#sealSendBatch();
    this.#writeQueue.push(item);
    this.#queuedBytes += item.accounted;
    // Written at the end of the current turn rather than at once, so that the frames queued in one turn (a burst of
    // replies) go to the stream in one write: one system call and one write request instead of one per frame.
    if (!this.#writing && !this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => {
        this.#pumpScheduled = false;
        this.#pumpWrites();
      });
    }
  }

  /**
   * Hands the queued frames to the stream, up to {@link WRITE_BATCH_BYTES} in one write (a larger frame alone), each
   * write under the write deadline; the frames queued meanwhile go in the next one.
   */
  #pumpWrites(): void {
    if (this.#writing || this.#failure || this.#writeQueue.length === 0) return;
    const queue = this.#writeQueue;
    let count = 1;
    let size = queue[0]!.length;
    while (count < queue.length && size + queue[count]!.length <= WRITE_BATCH_BYTES) {
      size += queue[count]!.length;
      count++;
    }
    const batch = count === queue.length ? queue : queue.slice(0, count);
    this.#writeQueue = count === queue.length ? [] : queue.slice(count);
    // A send batch that is being written takes no more frames.
    if (this.#sendBatch && batch.includes(this.#sendBatch)) this.#sealSendBatch();
    let data: Uint8Array;
    if (count === 1) {
      const only = batch[0]!;
      data = only.length === only.bytes.length ? only.bytes : only.bytes.subarray(0, only.length);
    } else {
      data = new Uint8Array(size);
      let offset = 0;
      for (const item of batch) {
        data.set(item.length === item.bytes.length ? item.bytes : item.bytes.subarray(0, item.length), offset);
        offset += item.length;
      }
    }
    let accounted = 0;
    for (const item of batch) accounted += item.accounted;
    this.#writing = batch;
    this.#writeDeadline.start();
    const finish = (error: Devp2pError | undefined): void => {
      if (this.#writing !== batch) return; // already rejected by #fail
      this.#writeDeadline.stop();
      this.#writing = undefined;
      this.#queuedBytes -= accounted;
      if (error) {
        for (const item of batch) item.reject(error);
        return;
      }
      for (const item of batch) item.resolve();
      this.#releaseRoomWaiters();
      this.#pumpWrites();
    };
    this.#stream.write(data).then(
      () => finish(this.#failure),
      (err: unknown) => {
        this.#fail(
          this.#typed(err, (cause) => new ConnectionClosedError('stream write failed', { ...this.#context(), cause })),
        );
        finish(this.#failure);
      },
    );
  }

  /**
   * Closes the connection: frames already queued by `writeMessage` are handed to the stream, which flushes them
   * (within the stream's flush deadline) and closes; pending and later reads and writes reject with
   * ConnectionClosedError whose cause is `reason`. Idempotent; does nothing after a failure.
   */
  close(reason?: unknown): void {
    if (this.#failure) return;
    this.#failure = new ConnectionClosedError('connection closed locally', { ...this.#context(), cause: reason });
    this.#log.debug('closing', { remote: this.remoteAddress });
    this.#sealSendBatch();
    const queue = this.#writeQueue;
    this.#writeQueue = [];
    for (const item of queue) {
      // Best effort, like geth writing its Disconnect: the stream flushes these before closing.
      this.#stream.write(item.bytes.subarray(0, item.length)).catch(() => undefined);
      item.resolve();
    }
    const writing = this.#writing;
    this.#writing = undefined;
    if (writing) for (const item of writing) item.resolve();
    this.#queuedBytes = 0;
    this.#stream.end();
    this.#settleAll(this.#failure);
  }

  /**
   * Messages until the connection closes: iteration ends quietly on ConnectionClosedError (either side closed)
   * and throws any other failure. Breaking out of the loop leaves the connection open.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<RLPxMessage, void, undefined> {
    for (;;) {
      let message: RLPxMessage;
      try {
        message = await this.readMessage();
      } catch (err) {
        if (err instanceof ConnectionClosedError) return;
        throw err;
      }
      yield message;
    }
  }
}
