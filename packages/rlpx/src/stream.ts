/**
 * The duplex byte stream an RLPx connection runs over, with two implementations: an adapter for a `node:net`
 * socket (which Node, Bun and Deno all provide) and an in-memory pair for tests.
 */
import type { Socket } from 'node:net';
import { ConnectionClosedError } from '@devp2p/core';
import { CLOSE_FLUSH_TIMEOUT_MS } from './limits.ts';

/**
 * A reliable, ordered duplex byte stream. Contract (what {@link RLPxConnection} relies on):
 * - at most one `read()` is pending at a time; `end()` and `destroy()` settle a pending read (null) and reject
 *   pending writes with ConnectionClosedError; a read fails with ConnectionClosedError (the cause being the
 *   transport's error) when the stream breaks;
 * - `write()` resolves once the stream can take more bytes (backpressure), in the order called;
 * - nothing is thrown synchronously and every failure is a rejected promise of a typed error.
 */
export interface ByteStream {
  /** `host:port` of the remote end when known, for errors and logs. */
  readonly remoteAddress: string | undefined;
  /** The next received chunk (the stream keeps no reference to it), or null once the stream has ended or closed. */
  read(): Promise<Uint8Array | null>;
  /** Queues `data` (kept by reference until written); resolves when the stream can take more. */
  write(data: Uint8Array): Promise<void>;
  /** Flushes queued bytes and closes, within a deadline; idempotent. */
  end(): void;
  /** Closes at once, discarding queued bytes; idempotent. */
  destroy(): void;
}

/** The timer functions a connection uses: injectable so tests can count live timers. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The runtime's own timers.
 * @example new RLPxConnection(stream, { privateKey, timers: systemTimers })
 */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

/** Options of {@link nodeSocketStream}. */
export interface NodeSocketStreamOptions {
  /** How long `end()` waits for queued bytes to flush before destroying the socket; {@link CLOSE_FLUSH_TIMEOUT_MS}. */
  readonly closeFlushTimeoutMs?: number;
  readonly timers?: Timers;
}

/**
 * Received bytes the adapter queues before it pauses the socket, when nobody is reading: bounds what a peer can
 * make us hold beyond the frame being decoded (the socket's own buffer adds its high-water mark).
 */
const READ_QUEUE_HIGH_WATER = 64 * 1024;

interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function formatAddress(host: string | undefined, port: number | undefined): string | undefined {
  if (host === undefined) return undefined;
  const h = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

class NodeSocketStream implements ByteStream {
  #remoteAddress: string | undefined;
  readonly #socket: Socket;
  readonly #timers: Timers;
  readonly #flushTimeoutMs: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #reader: Waiter<Uint8Array | null> | undefined;
  #drainWaiters: Waiter<void>[] = [];
  #ended = false;
  #closed = false;
  #closing = false;
  #error: unknown;
  #flushTimer: unknown;

  constructor(socket: Socket, options: NodeSocketStreamOptions) {
    this.#socket = socket;
    this.#timers = options.timers ?? systemTimers;
    this.#flushTimeoutMs = options.closeFlushTimeoutMs ?? CLOSE_FLUSH_TIMEOUT_MS;
    this.#remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    // A dialed socket learns its remote address on connect; keep it, since it is gone again after close.
    socket.once('connect', () => {
      this.#remoteAddress ??= formatAddress(socket.remoteAddress, socket.remotePort);
    });
    socket.on('data', (chunk: Uint8Array) => this.#onData(chunk));
    socket.on('end', () => {
      this.#ended = true;
      this.#wakeReader();
    });
    socket.on('error', (err: unknown) => {
      this.#error ??= err;
    });
    socket.on('drain', () => {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w.resolve();
    });
    socket.on('close', () => this.#onClose());
    if (socket.destroyed) queueMicrotask(() => this.#onClose());
  }

  get remoteAddress(): string | undefined {
    return this.#remoteAddress;
  }

  #closedError(): ConnectionClosedError {
    return new ConnectionClosedError('connection closed', { remoteAddress: this.#remoteAddress, cause: this.#error });
  }

  #onData(chunk: Uint8Array): void {
    // A plain view: Buffer's slice() shares memory where Uint8Array's copies, and callers expect the latter.
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#closing) return;
    const reader = this.#reader;
    if (reader) {
      this.#reader = undefined;
      reader.resolve(bytes);
      return;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (this.#queued >= READ_QUEUE_HIGH_WATER) this.#socket.pause();
  }

  /** Settles a pending read once no more data will come: null at a clean end, the socket's error otherwise. */
  #wakeReader(): void {
    const reader = this.#reader;
    if (reader && this.#queue.length === 0) {
      this.#reader = undefined;
      if (this.#error !== undefined && !this.#closing) reader.reject(this.#closedError());
      else reader.resolve(null);
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    if (this.#flushTimer !== undefined) this.#timers.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#wakeReader();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(this.#closedError());
  }

  read(): Promise<Uint8Array | null> {
    const next = this.#queue.shift();
    if (next) {
      this.#queued -= next.length;
      if (this.#queued < READ_QUEUE_HIGH_WATER && !this.#ended) this.#socket.resume();
      return Promise.resolve(next);
    }
    if (this.#ended || this.#closing) {
      return this.#error !== undefined && !this.#closing ? Promise.reject(this.#closedError()) : Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject };
      this.#socket.resume();
    });
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed || this.#closing || this.#socket.destroyed) return Promise.reject(this.#closedError());
    // Errors surface through the 'error' and 'close' events, which reject the drain waiters.
    if (this.#socket.write(data)) return Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  end(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#queue = [];
    this.#queued = 0;
    this.#wakeReader();
    // FIN after the queued bytes, then close; a peer that does not take them costs at most the flush timeout.
    this.#flushTimer = this.#timers.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#socket.destroy();
    }, this.#flushTimeoutMs);
    this.#socket.end(() => this.#socket.destroy());
    this.#socket.resume();
  }

  destroy(): void {
    this.#closing = true;
    this.#queue = [];
    this.#queued = 0;
    this.#wakeReader();
    this.#socket.destroy();
  }
}

/**
 * Wraps a connected `node:net` socket (from `net.connect` or a server's `connection` event). The adapter owns the
 * socket from then on: it always listens for `error`, pauses reading while nobody reads, and destroys the socket
 * on `end()` (after flushing, within {@link CLOSE_FLUSH_TIMEOUT_MS}) or `destroy()`.
 * @example const conn = new RLPxConnection(nodeSocketStream(net.connect(30303, host)), { privateKey, remotePublicKey });
 */
export function nodeSocketStream(socket: Socket, options: NodeSocketStreamOptions = {}): ByteStream {
  return new NodeSocketStream(socket, options);
}

/** Options of {@link createMemoryStreamPair}. */
export interface MemoryStreamOptions {
  /** Bytes one side may have unread before the other side's writes wait (backpressure); 64 KiB by default. */
  readonly highWaterMark?: number;
  /** `remoteAddress` of the two ends, as each sees the other. */
  readonly addresses?: readonly [string, string];
}

class MemoryStream implements ByteStream {
  readonly remoteAddress: string | undefined;
  peer: MemoryStream | undefined;
  readonly #highWaterMark: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #reader: Waiter<Uint8Array | null> | undefined;
  #writers: Waiter<void>[] = [];
  #ended = false;
  #closed = false;

  constructor(remoteAddress: string | undefined, highWaterMark: number) {
    this.remoteAddress = remoteAddress;
    this.#highWaterMark = highWaterMark;
  }

  /** Bytes from the peer. */
  deliver(data: Uint8Array): void {
    if (this.#closed) return;
    const reader = this.#reader;
    if (reader) {
      this.#reader = undefined;
      reader.resolve(data);
      return;
    }
    this.#queue.push(data);
    this.#queued += data.length;
  }

  /** Whether the peer should wait before writing more to us. */
  get full(): boolean {
    return this.#queued >= this.#highWaterMark;
  }

  /** The peer ended or closed: no more data after what is queued. */
  hangUp(): void {
    this.#ended = true;
    const reader = this.#reader;
    if (reader && this.#queue.length === 0) {
      this.#reader = undefined;
      reader.resolve(null);
    }
  }

  /** Wakes our writers waiting for the peer to drain. */
  release(): void {
    const writers = this.#writers;
    this.#writers = [];
    for (const w of writers) {
      if (this.#closed) w.reject(new ConnectionClosedError('connection closed', { remoteAddress: this.remoteAddress }));
      else w.resolve();
    }
  }

  read(): Promise<Uint8Array | null> {
    const next = this.#queue.shift();
    if (next) {
      this.#queued -= next.length;
      if (!this.full) this.peer?.release();
      return Promise.resolve(next);
    }
    if (this.#ended || this.#closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject };
    });
  }

  write(data: Uint8Array): Promise<void> {
    const peer = this.peer;
    if (this.#closed || !peer || peer.#closed) {
      return Promise.reject(new ConnectionClosedError('connection closed', { remoteAddress: this.remoteAddress }));
    }
    if (data.length > 0) peer.deliver(data.slice());
    if (!peer.full) return Promise.resolve();
    return new Promise((resolve, reject) => this.#writers.push({ resolve, reject }));
  }

  end(): void {
    this.destroy();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    this.hangUp();
    this.release();
    const peer = this.peer;
    if (peer) {
      peer.hangUp();
      peer.#closed = true;
      peer.release();
    }
  }
}

/**
 * Two connected in-memory streams (what one writes, the other reads), with backpressure: a writer waits while
 * its peer has more than `highWaterMark` bytes unread. Closing either end closes both, like a TCP reset.
 * @example const [a, b] = createMemoryStreamPair(); const dialer = new RLPxConnection(a, { privateKey, remotePublicKey });
 */
export function createMemoryStreamPair(options: MemoryStreamOptions = {}): [ByteStream, ByteStream] {
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  const [addressA, addressB] = options.addresses ?? ['memory:b', 'memory:a'];
  const a = new MemoryStream(addressA, highWaterMark);
  const b = new MemoryStream(addressB, highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
