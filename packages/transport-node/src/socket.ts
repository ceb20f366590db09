/**
 * The `node:net` socket adapter (Node, Bun and Deno all provide `node:net`): a {@link ByteStream} with
 * backpressure both ways and a bounded read queue.
 */
import type { Socket } from 'node:net';
import { type ByteStream, type Clock, ConnectionClosedError, formatHostPort, systemClock } from '@devp2p/core';

/**
 * How long a graceful `end()` waits for queued bytes (typically a Disconnect message) to be flushed before the
 * socket is destroyed anyway, geth's `discWriteTimeout`.
 */
export const CLOSE_FLUSH_TIMEOUT_MS: number = 1_000;

/** Options of {@link nodeSocketStream}. */
export interface NodeSocketStreamOptions {
  /** How long `end()` waits for queued bytes to flush before destroying the socket; {@link CLOSE_FLUSH_TIMEOUT_MS}. */
  readonly closeFlushTimeoutMs?: number;
  readonly clock?: Clock;
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
  return port === undefined ? host : formatHostPort(host, port);
}

class NodeSocketStream implements ByteStream {
  #remoteAddress: string | undefined;
  #localAddress: string | undefined;
  readonly #socket: Socket;
  readonly #clock: Clock;
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
    this.#clock = options.clock ?? systemClock;
    this.#flushTimeoutMs = options.closeFlushTimeoutMs ?? CLOSE_FLUSH_TIMEOUT_MS;
    this.#remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.#localAddress = formatAddress(socket.localAddress, socket.localPort);
    // A dialed socket learns its remote address on connect; keep it, since it is gone again after close.
    socket.once('connect', () => {
      this.#remoteAddress ??= formatAddress(socket.remoteAddress, socket.remotePort);
      this.#localAddress ??= formatAddress(socket.localAddress, socket.localPort);
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

  get localAddress(): string | undefined {
    return this.#localAddress;
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
    if (this.#flushTimer !== undefined) this.#clock.clearTimeout(this.#flushTimer);
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
    // FIN after the queued bytes, then keep reading (and discarding) until the remote closes too: closing with
    // unread bytes would send a reset, which can make the remote's kernel drop our last bytes (the Disconnect)
    // before it reads them. A peer that neither takes our bytes nor closes costs at most the flush timeout.
    this.#flushTimer = this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#socket.destroy();
    }, this.#flushTimeoutMs);
    this.#socket.end();
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
