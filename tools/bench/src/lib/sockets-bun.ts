// The sockets bench on Bun's own socket API: Bun.listen / Bun.connect (one set of handlers per listener or
// connection, write() returning how many bytes the kernel took) and Bun.udpSocket. Only called on Bun.
import { type ByteStream, ConnectionClosedError, type StreamListener, type Transport } from '@devp2p/core';
import { type DatagramSide, deferred, HOST, type StreamSide } from './sockets.ts';

/** The part of Bun's TCP socket the bench uses (bun-types is not a dependency). */
interface BunSocket {
  /** Bytes the kernel took, fewer than given when its buffer is full (the rest is not kept: write it on drain). */
  write(data: Uint8Array): number;
  /** Closes the socket (FIN, as node:net's destroy() does). */
  end(): void;
  /** Half-close: sends FIN, keeps reading. */
  shutdown(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay: boolean): boolean;
  /** Whatever the handlers attach to this socket. */
  data: unknown;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

interface BunSocketHandler {
  open?(socket: BunSocket): void;
  data?(socket: BunSocket, data: Uint8Array): void;
  drain?(socket: BunSocket): void;
  /** The remote sent FIN. */
  end?(socket: BunSocket): void;
  close?(socket: BunSocket, error?: Error): void;
  error?(socket: BunSocket, error: Error): void;
}

interface BunUdpSocket {
  readonly port: number;
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}

interface BunApi {
  listen(options: { hostname: string; port: number; socket: BunSocketHandler }): {
    readonly port: number;
    stop(closeActiveConnections?: boolean): void;
  };
  connect(options: { hostname: string; port: number; socket: BunSocketHandler }): Promise<BunSocket>;
  udpSocket(options: {
    hostname: string;
    port: number;
    socket: { data(socket: BunUdpSocket, data: Uint8Array, port: number, address: string): void };
  }): Promise<BunUdpSocket>;
}

const ignore = (): void => undefined;

function bun(): BunApi {
  const api = (globalThis as { Bun?: BunApi }).Bun;
  if (!api) throw new Error('not running on Bun');
  return api;
}

/** A listener on 127.0.0.1 at an OS-assigned port with `handlers` for every accepted socket (Nagle off). */
function listen(handlers: BunSocketHandler): { port: number; close(): void } {
  const listener = bun().listen({
    hostname: HOST,
    port: 0,
    socket: {
      ...handlers,
      open(socket) {
        socket.setNoDelay(true);
        handlers.open?.(socket);
      },
    },
  });
  return { port: listener.port, close: () => listener.stop(true) };
}

async function connect(port: number, handlers: BunSocketHandler): Promise<BunSocket> {
  const socket = await bun().connect({ hostname: HOST, port, socket: handlers });
  socket.setNoDelay(true);
  return socket;
}

/**
 * Bun.listen / Bun.connect as they are: `data` handlers, `write()` until the kernel takes less than given, the
 * rest on `drain`.
 * @example await bunNative.oneWay(chunk, (bytes) => more())
 */
export const bunNative: StreamSide = {
  async oneWay(chunk, onReceived) {
    const done = deferred<void>();
    let stopped = false;
    const listener = listen({
      data(_socket, data) {
        if (!stopped && !onReceived(data.length)) done.resolve();
      },
      error: (_socket, error) => done.reject(error),
    });
    let rest: Uint8Array | undefined;
    const pump = (socket: BunSocket): void => {
      if (rest) {
        const written = Math.max(0, socket.write(rest));
        if (written < rest.length) {
          rest = rest.subarray(written);
          return;
        }
        rest = undefined;
      }
      while (!stopped) {
        const written = Math.max(0, socket.write(chunk));
        if (written < chunk.length) {
          rest = chunk.subarray(written);
          return;
        }
      }
    };
    const dialer = await connect(listener.port, { drain: pump, error: (_socket, error) => done.reject(error) });
    try {
      pump(dialer);
      await done.promise;
    } finally {
      stopped = true;
      dialer.end();
      listener.close();
    }
  },

  async pingPong(message, onRoundTrip) {
    const done = deferred<void>();
    // 64-byte writes on an idle connection: the kernel always takes them whole.
    const listener = listen({
      data: (socket, data) => socket.write(data),
      error: (_socket, error) => done.reject(error),
    });
    let received = 0;
    const dialer = await connect(listener.port, {
      data(socket, data) {
        received += data.length;
        if (received < message.length) return;
        received -= message.length;
        if (onRoundTrip()) socket.write(message);
        else done.resolve();
      },
      error: (_socket, error) => done.reject(error),
    });
    try {
      dialer.write(message);
      await done.promise;
    } finally {
      dialer.end();
      listener.close();
    }
  },

  async connections(onCycle) {
    let accepted = deferred<BunSocket>();
    const listener = listen({ open: (socket) => accepted.resolve(socket), data: ignore });
    try {
      for (;;) {
        accepted = deferred<BunSocket>();
        const [dialer, socket] = await Promise.all([connect(listener.port, { data: ignore }), accepted.promise]);
        dialer.end();
        socket.end();
        if (!onCycle()) break;
      }
    } finally {
      listener.close();
    }
  },
};

/**
 * Bun.udpSocket as it is: a `data` handler, `send()`.
 * @example await runDatagrams(bunUdp, datagram, onEvent, stats)
 */
export const bunUdp: DatagramSide = {
  async pair(datagram, onReceived) {
    const receiver = await bun().udpSocket({
      hostname: HOST,
      port: 0,
      socket: { data: (_socket, data) => onReceived(data.length) },
    });
    const sender = await bun().udpSocket({ hostname: HOST, port: 0, socket: { data: () => undefined } });
    const port = receiver.port;
    return {
      send: () => {
        sender.send(datagram, port, HOST);
      },
      close: async () => {
        sender.close();
        receiver.close();
      },
    };
  },
};

/** Received bytes queued before the socket is paused, as nodeSocketStream bounds its queue. */
const READ_QUEUE_HIGH_WATER = 64 * 1024;
/** How long end() waits for queued bytes to flush, as nodeSocketStream (CLOSE_FLUSH_TIMEOUT_MS). */
const CLOSE_FLUSH_TIMEOUT_MS = 1_000;

interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * A ByteStream on a Bun socket, a sketch of what a native adapter would do on the hot path: the same read queue
 * bounded at 64 KiB (pause/resume), bytes the kernel did not take kept in order and written on drain, write()
 * resolving at once when the kernel took everything, end() flushing then half-closing within a deadline.
 */
class BunByteStream implements ByteStream {
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;
  readonly #socket: BunSocket;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #reader: Waiter<Uint8Array | null> | undefined;
  /** Bytes given to write() that the kernel has not taken yet, oldest first. */
  #unsent: Uint8Array[] = [];
  #drainWaiters: Waiter<void>[] = [];
  #ended = false;
  #closed = false;
  #closing = false;
  #error: unknown;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: BunSocket) {
    this.#socket = socket;
    socket.data = this;
    socket.setNoDelay(true);
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.localAddress = `${socket.localAddress}:${socket.localPort}`;
  }

  #closedError(): ConnectionClosedError {
    return new ConnectionClosedError('connection closed', { remoteAddress: this.remoteAddress, cause: this.#error });
  }

  onData(bytes: Uint8Array): void {
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

  onDrain(): void {
    if (!this.#flush()) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
    if (this.#closing) this.#sendFin();
  }

  #finSent = false;

  #sendFin(): void {
    if (this.#finSent || this.#closed) return;
    this.#finSent = true;
    this.#socket.shutdown();
  }

  onEnd(): void {
    this.#ended = true;
    this.#wakeReader();
    if (this.#closing) this.#socket.end();
  }

  onError(error: unknown): void {
    this.#error ??= error;
  }

  onClose(error?: unknown): void {
    if (this.#closed) return;
    if (error !== undefined) this.#error ??= error;
    this.#closed = true;
    this.#ended = true;
    clearTimeout(this.#flushTimer);
    this.#wakeReader();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(this.#closedError());
  }

  /** Writes what the kernel will take of the unsent bytes; true once none is left. */
  #flush(): boolean {
    while (this.#unsent.length > 0) {
      const head = this.#unsent[0]!;
      const written = Math.max(0, this.#socket.write(head));
      if (written < head.length) {
        this.#unsent[0] = head.subarray(written);
        return false;
      }
      this.#unsent.shift();
    }
    return true;
  }

  #wakeReader(): void {
    const reader = this.#reader;
    if (reader && this.#queue.length === 0) {
      this.#reader = undefined;
      if (this.#error !== undefined && !this.#closing) reader.reject(this.#closedError());
      else reader.resolve(null);
    }
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
    if (this.#closed || this.#closing) return Promise.reject(this.#closedError());
    if (this.#unsent.length === 0) {
      const written = this.#socket.write(data);
      if (written === data.length) return Promise.resolve();
      if (written < 0) return Promise.reject(this.#closedError());
      this.#unsent.push(data.subarray(written));
    } else {
      this.#unsent.push(data);
    }
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  end(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#queue = [];
    this.#queued = 0;
    this.#wakeReader();
    this.#flushTimer = setTimeout(() => this.#socket.end(), CLOSE_FLUSH_TIMEOUT_MS);
    // FIN once every byte is with the kernel, then read (and drop) until the remote closes too.
    if (this.#unsent.length === 0) this.#sendFin();
    this.#socket.resume();
  }

  destroy(): void {
    this.#closing = true;
    this.#queue = [];
    this.#queued = 0;
    this.#unsent = [];
    this.#wakeReader();
    // end(), not terminate(): terminate() closes with a reset (no TIME_WAIT), which node:net's destroy() does not.
    if (!this.#closed) this.#socket.end();
  }
}

const streamOf = (socket: BunSocket): BunByteStream => socket.data as BunByteStream;

/** Handlers shared by every socket of the sketch: each forwards to the socket's BunByteStream. */
const streamHandlers: BunSocketHandler = {
  data: (socket, data) => streamOf(socket).onData(data),
  drain: (socket) => streamOf(socket).onDrain(),
  end: (socket) => streamOf(socket).onEnd(),
  error: (socket, error) => streamOf(socket)?.onError(error),
  close: (socket, error) => streamOf(socket)?.onClose(error),
};

/**
 * A Transport on Bun.listen / Bun.connect through {@link BunByteStream}: what a native adapter would cost, to set
 * beside tcpTransport (nodeSocketStream). A bench sketch: no dial deadline, abort or typed dial errors.
 * @example transportSide(bunTransport)
 */
export const bunTransport: Transport = {
  async listen(options, onStream): Promise<StreamListener> {
    const listener = bun().listen({
      hostname: options.host,
      port: options.port,
      socket: { ...streamHandlers, open: (socket) => onStream(new BunByteStream(socket)) },
    });
    return {
      address: { host: options.host, port: listener.port },
      close: async () => listener.stop(false),
    };
  },
  async dial(host, port) {
    let stream: BunByteStream | undefined;
    await bun().connect({
      hostname: host,
      port,
      socket: {
        ...streamHandlers,
        open: (socket) => {
          stream = new BunByteStream(socket);
        },
      },
    });
    return stream!;
  },
};
