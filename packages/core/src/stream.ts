/**
 * The byte-stream contract transports provide and RLPx runs over, and injectable timers. Implementations live in
 * `@devp2p/transport-node` (a `node:net` socket adapter, an in-memory pair).
 */
/**
 * A reliable, ordered duplex byte stream. Contract (what RLPx relies on):
 * - at most one `read()` is pending at a time; `end()` and `destroy()` settle a pending read (null) and reject
 *   pending writes with ConnectionClosedError; a read fails with ConnectionClosedError (the cause being the
 *   transport's error) when the stream breaks;
 * - `write()` resolves once the stream can take more bytes (backpressure), in the order called;
 * - nothing is thrown synchronously and every failure is a rejected promise of a typed error.
 */
export interface ByteStream {
  /** `host:port` of the remote end when known, for errors and logs. */
  readonly remoteAddress: string | undefined;
  /** `host:port` of our end when known. */
  readonly localAddress: string | undefined;
  /** The next received chunk (the stream keeps no reference to it), or null once the stream has ended or closed. */
  read(): Promise<Uint8Array | null>;
  /** Queues `data` (kept by reference until written); resolves when the stream can take more. */
  write(data: Uint8Array): Promise<void>;
  /** Flushes queued bytes and closes, within a deadline; idempotent. */
  end(): void;
  /** Closes at once, discarding queued bytes; idempotent. */
  destroy(): void;
}

/** A bound listener: where it listens, and how to stop accepting. */
export interface StreamListener {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: { readonly host: string; readonly port: number };
  /** Stops accepting; resolves once the listening socket is closed. Accepted streams are not touched. */
  close(): Promise<void>;
}

/** Options of {@link Transport.dial}. */
export interface DialOptions {
  readonly signal?: AbortSignal;
  /** Deadline for the connection to be established. */
  readonly timeoutMs?: number;
}

/**
 * Reliable byte-stream connections: what a server listens and dials with. `@devp2p/transport-node` provides TCP
 * (on Node, Bun and Deno) and an in-memory network for tests.
 */
export interface Transport {
  /** Listens on `host:port` (port 0: any free port) and hands each accepted connection to `onStream`. */
  listen(options: { host: string; port: number }, onStream: (stream: ByteStream) => void): Promise<StreamListener>;
  /**
   * Connects to `host:port`. Rejects with a Devp2pError `ERR_DIAL` (refused, unreachable), TimeoutError or AbortError.
   */
  dial(host: string, port: number, options?: DialOptions): Promise<ByteStream>;
}

/** Where a datagram came from or goes to: an IP address (canonical text) and a UDP port. */
export interface DatagramAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * A bound, unreliable datagram socket: what discovery sends and receives packets with. Contract:
 * - `send()` never throws and never rejects: a datagram that cannot be sent is dropped (UDP is lossy anyway);
 * - the `onMessage` callback given to {@link DatagramTransport.bind} gets each received datagram (the socket
 *   keeps no reference to it) with its source address;
 * - `close()` is idempotent and resolves once the socket is released; nothing is delivered after it.
 */
export interface DatagramSocket {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: DatagramAddress;
  /** Sends one datagram to `host:port`. */
  send(data: Uint8Array, host: string, port: number): void;
  /** Releases the socket. */
  close(): Promise<void>;
}

/**
 * Binds datagram sockets. `@devp2p/transport-node` provides UDP on `node:dgram` (Node, Bun and Deno).
 * @example
 * const socket = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, (data, from) => handle(data, from))
 * socket.send(packet, '127.0.0.1', 30303)
 */
export interface DatagramTransport {
  /** Binds `host:port` (port 0: any free port); rejects with a Devp2pError `ERR_LISTEN` when it cannot. */
  bind(
    options: { host: string; port: number },
    onMessage: (data: Uint8Array, from: DatagramAddress) => void,
  ): Promise<DatagramSocket>;
}
