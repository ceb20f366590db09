// The sockets bench on Deno's own socket API: Deno.listen / Deno.connect (promise-based read() into a caller's
// buffer, write() returning how many bytes were taken) and Deno.listenDatagram, which Deno only defines under
// --unstable-net. Only called on Deno.
import { type ByteStream, ConnectionClosedError, type StreamListener, type Transport } from '@devp2p/core';
import { type DatagramSide, deferred, HOST, type StreamSide } from './sockets.ts';

/** The part of a Deno TCP connection the bench uses (Deno's types are not a dependency). */
interface DenoConn {
  /** Bytes read into `buffer`, or null at the end of the stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Bytes written, possibly fewer than given. */
  write(data: Uint8Array): Promise<number>;
  setNoDelay(noDelay?: boolean): void;
  /** Half-close: sends FIN, keeps reading. */
  closeWrite(): Promise<void>;
  close(): void;
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
  readonly localAddr: { readonly hostname: string; readonly port: number };
}

interface DenoListener {
  readonly addr: { readonly port: number };
  accept(): Promise<DenoConn>;
  close(): void;
}

interface UdpAddr {
  readonly transport: 'udp';
  readonly hostname: string;
  readonly port: number;
}

interface DenoDatagramConn {
  readonly addr: UdpAddr;
  send(data: Uint8Array, to: UdpAddr): Promise<number>;
  receive(buffer?: Uint8Array): Promise<[Uint8Array, UdpAddr]>;
  close(): void;
}

interface DenoApi {
  listen(options: { hostname: string; port: number; transport: 'tcp' }): DenoListener;
  connect(options: { hostname: string; port: number; transport: 'tcp' }): Promise<DenoConn>;
  /** Only under --unstable-net (Deno 2.9). */
  listenDatagram?(options: { hostname: string; port: number; transport: 'udp' }): DenoDatagramConn;
}

function deno(): DenoApi {
  const api = (globalThis as { Deno?: DenoApi }).Deno;
  if (!api) throw new Error('not running on Deno');
  return api;
}

const ignore = (): void => undefined;

/** Deno's read buffer: one per connection, reused, of Node's read size (64 KiB). */
const READ_BUFFER = 64 * 1024;

/** A listener on 127.0.0.1 at an OS-assigned port. */
function listen(): DenoListener {
  return deno().listen({ hostname: HOST, port: 0, transport: 'tcp' });
}

/** Dials `listener` and accepts the connection, Nagle off at both ends (as tcpTransport sets it). */
async function connectPair(listener: DenoListener): Promise<[DenoConn, DenoConn]> {
  const [dialer, accepted] = await Promise.all([
    deno().connect({ hostname: HOST, port: listener.addr.port, transport: 'tcp' }),
    listener.accept(),
  ]);
  dialer.setNoDelay(true);
  accepted.setNoDelay(true);
  return [dialer, accepted];
}

async function writeAll(conn: DenoConn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length; ) {
    offset += await conn.write(offset === 0 ? data : data.subarray(offset));
  }
}

/**
 * Deno.listen / Deno.connect as they are: `read()` into one reused buffer per connection, `write()` awaited
 * (again for the rest when it took less).
 * @example await denoNative.pingPong(message, () => more())
 */
export const denoNative: StreamSide = {
  async oneWay(chunk, onReceived) {
    const listener = listen();
    const [dialer, accepted] = await connectPair(listener);
    let stopped = false;
    const writing = (async () => {
      while (!stopped) await writeAll(dialer, chunk);
    })();
    writing.catch(ignore);
    try {
      const buffer = new Uint8Array(READ_BUFFER);
      for (;;) {
        const read = await accepted.read(buffer);
        if (read === null) throw new Error('the connection ended');
        if (!onReceived(read)) break;
      }
    } finally {
      stopped = true;
      dialer.close();
      accepted.close();
      listener.close();
      await writing.catch(ignore);
    }
  },

  async pingPong(message, onRoundTrip) {
    const listener = listen();
    const [dialer, accepted] = await connectPair(listener);
    const echoing = (async () => {
      const buffer = new Uint8Array(READ_BUFFER);
      for (let read = await accepted.read(buffer); read !== null; read = await accepted.read(buffer)) {
        await writeAll(accepted, buffer.subarray(0, read));
      }
    })();
    echoing.catch(ignore);
    try {
      const buffer = new Uint8Array(READ_BUFFER);
      do {
        await writeAll(dialer, message);
        for (let received = 0; received < message.length; ) {
          const read = await dialer.read(buffer);
          if (read === null) throw new Error('the connection ended');
          received += read;
        }
      } while (onRoundTrip());
    } finally {
      dialer.close();
      accepted.close();
      listener.close();
      await echoing.catch(ignore);
    }
  },

  async connections(onCycle) {
    const listener = listen();
    try {
      for (;;) {
        const [dialer, accepted] = await connectPair(listener);
        dialer.close();
        accepted.close();
        if (!onCycle()) break;
      }
    } finally {
      listener.close();
    }
  },
};

/** Why {@link denoUdp} is missing, or undefined when `Deno.listenDatagram` exists in this process. */
export function denoUdpUnavailable(): string | undefined {
  return deno().listenDatagram
    ? undefined
    : 'Deno.listenDatagram is undefined without --unstable-net (the runner uses plain `deno run -A`)';
}

/**
 * Deno.listenDatagram as it is: `receive()` in a loop, `send()` not awaited (the window bounds what is in flight).
 * @example await runDatagrams(denoUdp, datagram, onEvent, stats)
 */
export const denoUdp: DatagramSide = {
  async pair(datagram, onReceived) {
    const listenDatagram = deno().listenDatagram!;
    const receiver = listenDatagram({ hostname: HOST, port: 0, transport: 'udp' });
    const sender = listenDatagram({ hostname: HOST, port: 0, transport: 'udp' });
    const to: UdpAddr = { transport: 'udp', hostname: HOST, port: receiver.addr.port };
    const closed = deferred<void>();
    const receiving = (async () => {
      const buffer = new Uint8Array(READ_BUFFER);
      for (;;) {
        const [data] = await receiver.receive(buffer);
        onReceived(data.length);
      }
    })();
    receiving.catch(() => closed.resolve());
    return {
      send: () => {
        sender.send(datagram, to).catch(ignore);
      },
      close: async () => {
        sender.close();
        receiver.close();
        await closed.promise;
      },
    };
  },
};

/** How long end() waits for queued bytes to flush, as nodeSocketStream (CLOSE_FLUSH_TIMEOUT_MS). */
const CLOSE_FLUSH_TIMEOUT_MS = 1_000;

/**
 * A ByteStream on a Deno connection, a sketch of what a native adapter would do on the hot path: read() pulls one
 * conn.read() into a reused 64 KiB buffer and hands out a copy of what came (the stream keeps no reference; nothing
 * is read ahead, so the read queue is bounded by the buffer), write() chains conn.write() calls in order and
 * resolves once the kernel took the bytes, end() flushes, half-closes and drains within a deadline.
 */
class DenoByteStream implements ByteStream {
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;
  readonly #conn: DenoConn;
  readonly #buffer = new Uint8Array(READ_BUFFER);
  #writes: Promise<void> = Promise.resolve();
  /** Writes given and not yet settled. */
  #writing = 0;
  #ended = false;
  #closing = false;
  #closed = false;

  constructor(conn: DenoConn) {
    this.#conn = conn;
    conn.setNoDelay(true);
    this.remoteAddress = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    this.localAddress = `${conn.localAddr.hostname}:${conn.localAddr.port}`;
  }

  #closedError(cause?: unknown): ConnectionClosedError {
    return new ConnectionClosedError('connection closed', { remoteAddress: this.remoteAddress, cause });
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#ended || this.#closing) return null;
    let read: number | null;
    try {
      read = await this.#conn.read(this.#buffer);
    } catch (err) {
      if (this.#closing) return null;
      this.#ended = true;
      throw this.#closedError(err);
    }
    if (read === null || this.#closing) {
      this.#ended = true;
      return null;
    }
    return this.#buffer.slice(0, read);
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closing) return Promise.reject(this.#closedError());
    // Straight to conn.write() when no write is in flight (the usual case: callers await each write); behind the
    // last one otherwise, so that bytes go out in the order written.
    const written =
      this.#writing === 0 ? writeAll(this.#conn, data) : this.#writes.then(() => writeAll(this.#conn, data));
    this.#writing++;
    const settled = written.then(
      () => {
        this.#writing--;
      },
      (err: unknown) => {
        this.#writing--;
        throw this.#closedError(err);
      },
    );
    this.#writes = settled.catch(ignore);
    return settled;
  }

  end(): void {
    if (this.#closing) return;
    this.#closing = true;
    const timer = setTimeout(() => this.#close(), CLOSE_FLUSH_TIMEOUT_MS);
    // FIN after the queued writes, then read (and drop) until the remote closes too.
    this.#writes
      .then(() => this.#conn.closeWrite())
      .then(async () => {
        while ((await this.#conn.read(this.#buffer)) !== null);
      })
      .catch(ignore)
      .finally(() => {
        clearTimeout(timer);
        this.#close();
      });
  }

  destroy(): void {
    this.#closing = true;
    this.#close();
  }
}

/**
 * A Transport on Deno.listen / Deno.connect through {@link DenoByteStream}: what a native adapter would cost, to
 * set beside tcpTransport (nodeSocketStream). A bench sketch: no dial deadline, abort or typed dial errors.
 * @example transportSide(denoTransport)
 */
export const denoTransport: Transport = {
  async listen(options, onStream): Promise<StreamListener> {
    const listener = deno().listen({ hostname: options.host, port: options.port, transport: 'tcp' });
    const accepting = (async () => {
      for (;;) onStream(new DenoByteStream(await listener.accept()));
    })();
    accepting.catch(ignore);
    return {
      address: { host: options.host, port: listener.addr.port },
      close: async () => {
        listener.close();
        await accepting.catch(ignore);
      },
    };
  },
  async dial(host, port) {
    return new DenoByteStream(await deno().connect({ hostname: host, port, transport: 'tcp' }));
  },
};
