// What the rlpx bench measures, the same way for every RLPx implementation it drives: handshakes per second and
// one connection's payload throughput, over real TCP sockets on 127.0.0.1 in this one process.
import { createServer, type Socket } from 'node:net';
import process from 'node:process';

/** Where every bench socket listens and dials: the loopback address, never anything else. */
export const HOST = '127.0.0.1';

/** The message code the bench sends: the first code after the base protocol's 16, as a subprotocol's would be. */
export const BENCH_CODE = 0x10;

/** A loopback server answering RLPx handshakes. */
export interface HandshakeServer {
  /** One complete handshake: TCP connect, auth and ack, secrets derived on both ends, then both ends closed. */
  handshake(): Promise<void>;
  close(): Promise<void>;
}

/** Two RLPx connections in this process, one dialed to the other, past their handshake. */
export interface ConnectionPair {
  /**
   * Sends `payload` as message {@link BENCH_CODE} from the dialer to the listener, back to back and within the
   * socket's backpressure, calling `onMessage` with each payload the listener receives (decompressed), until
   * `onMessage` returns false; rejects if either end fails.
   */
  run(payload: Uint8Array, onMessage: (length: number) => boolean): Promise<void>;
  close(): Promise<void>;
}

/** One RLPx implementation under test. */
export interface RlpxSide {
  /** A server answering handshakes on a loopback port. */
  handshakeServer(): Promise<HandshakeServer>;
  /** A handshaken connection pair over loopback TCP, with snappy on or off on both ends. */
  connect(snappy: boolean): Promise<ConnectionPair>;
}

/** A listening loopback server: its port, and close() that also destroys the sockets it accepted. */
export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 at a free port and hands every accepted socket to `onSocket`.
 * @example const listener = await listen((socket) => socket.end()); connect(listener.port, HOST);
 */
export async function listen(onSocket: (socket: Socket) => void): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A promise and the functions that settle it (Promise.withResolvers, which Node 20 lacks). */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * A new {@link Deferred}.
 * @example const ready = deferred<void>(); socket.once('connect', () => ready.resolve()); await ready.promise;
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * `promise`, or a rejection once `ms` have passed: no figure may hang the bench.
 * @example await withTimeout(pair.run(payload, onMessage), 20_000, '1 MiB throughput')
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Time handshakes run before the counted window, so the JIT and the TCP stack have settled. */
const HANDSHAKE_WARMUP_MS = 500;
/** The counted window of a handshake figure. */
const HANDSHAKE_WINDOW_MS = 1500;

/**
 * Handshakes per second with `concurrency` dialers in flight, each dialing again as soon as its last handshake
 * is done: completions inside the window, divided by the window.
 * @example await handshakesPerSecond(await ours.handshakeServer(), 16)
 */
export async function handshakesPerSecond(server: HandshakeServer, concurrency: number): Promise<number> {
  const windowStart = performance.now() + HANDSHAKE_WARMUP_MS;
  const windowEnd = windowStart + HANDSHAKE_WINDOW_MS;
  let completed = 0;
  const dialer = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      await server.handshake();
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) completed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, dialer));
  return completed / (HANDSHAKE_WINDOW_MS / 1000);
}

/** Time messages flow before the counted window (JIT, socket buffers, snappy tables). */
const THROUGHPUT_WARMUP_MS = 400;
/** The counted window of a throughput figure. */
const THROUGHPUT_WINDOW_MS = 1500;

/** One connection's throughput: payload bytes the listener received per second and per CPU-second. */
export interface Throughput {
  /** MB (10^6 bytes) of payload per wall-clock second. */
  readonly megabytesPerSecond: number;
  /** MB of payload per second of this process's CPU time (user + system, all its threads). */
  readonly megabytesPerCpuSecond: number;
}

/**
 * Runs `pair` and measures the messages received in the window: it opens at the first message after the warm-up
 * and closes at the first message after THROUGHPUT_WINDOW_MS more, so whole messages are counted between two
 * message arrivals. The CPU time is `process.cpuUsage()` between the same two arrivals.
 * @example await measureThroughput(await ours.connect(false), mebibytePayload)
 */
export async function measureThroughput(pair: ConnectionPair, payload: Uint8Array): Promise<Throughput> {
  const warmupEnd = performance.now() + THROUGHPUT_WARMUP_MS;
  let windowStart = -1;
  let cpuStart: NodeJS.CpuUsage | undefined;
  let bytes = 0;
  let result: Throughput | undefined;
  await pair.run(payload, (length) => {
    const now = performance.now();
    if (windowStart < 0) {
      if (now >= warmupEnd) {
        windowStart = now;
        cpuStart = process.cpuUsage();
      }
      return true;
    }
    bytes += length;
    if (now - windowStart < THROUGHPUT_WINDOW_MS) return true;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    result = {
      megabytesPerSecond: bytes / 1e6 / ((now - windowStart) / 1000),
      megabytesPerCpuSecond: bytes / 1e6 / cpuSeconds,
    };
    return false;
  });
  if (!result) throw new Error('the connection stopped before the window closed');
  return result;
}
