/** An in-memory {@link ByteStream} pair with backpressure, for tests and simulations. */
import {
  AbortError,
  type ByteStream,
  ConnectionClosedError,
  Devp2pError,
  ERR_DIAL,
  ERR_LISTEN,
  type Transport,
} from '@devp2p/core';

interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
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
  readonly localAddress: string | undefined;
  peer: MemoryStream | undefined;
  readonly #highWaterMark: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #reader: Waiter<Uint8Array | null> | undefined;
  #writers: Waiter<void>[] = [];
  #ended = false;
  #closed = false;

  constructor(remoteAddress: string | undefined, localAddress: string | undefined, highWaterMark: number) {
    this.remoteAddress = remoteAddress;
    this.localAddress = localAddress;
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
  const a = new MemoryStream(addressA, addressB, highWaterMark);
  const b = new MemoryStream(addressB, addressA, highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * An in-memory network of hosts: each `transport(host)` listens and dials like TCP, through stream pairs. For fast
 * tests and simulations that need many nodes and no sockets.
 * @example
 * const net = new MemoryNetwork()
 * const a = net.transport('10.0.0.1'), b = net.transport('10.0.0.2')
 */
export class MemoryNetwork {
  readonly #listeners = new Map<string, (stream: ByteStream) => void>();
  #nextPort = 30_000;

  /** A transport whose listeners and dials originate from `host`. */
  transport(host: string): Transport {
    return {
      listen: async (options, onStream) => {
        if (options.host !== host && options.host !== '0.0.0.0') {
          throw new Devp2pError(ERR_LISTEN, `memory host ${host} cannot listen on ${options.host}`);
        }
        const port = options.port === 0 ? this.#nextPort++ : options.port;
        const key = `${host}:${port}`;
        if (this.#listeners.has(key)) throw new Devp2pError(ERR_LISTEN, `address ${key} in use`);
        this.#listeners.set(key, onStream);
        return {
          address: { host, port },
          close: async () => {
            this.#listeners.delete(key);
          },
        };
      },
      dial: async (remoteHost, port, options = {}) => {
        if (options.signal?.aborted) throw new AbortError('dial aborted', { cause: options.signal.reason });
        const accept = this.#listeners.get(`${remoteHost}:${port}`);
        if (!accept) throw new Devp2pError(ERR_DIAL, `dial ${remoteHost}:${port} failed: connection refused`);
        const [local, remote] = createMemoryStreamPair({
          addresses: [`${remoteHost}:${port}`, `${host}:${this.#nextPort++}`],
        });
        accept(remote);
        return local;
      },
    };
  }
}
