// What the sockets bench measures, the same way for every socket API it drives: one-way TCP throughput, small
// request/response round trips, connection setup and UDP datagrams, all on 127.0.0.1 in this one process.
import process from 'node:process';
import type { ByteStream, Transport } from '@devp2p/core';
import { deferred, HOST } from './loopback.ts';

export { type Deferred, deferred, HOST } from './loopback.ts';

/**
 * Stream sockets through one API. Each method opens what it needs on an OS-assigned port, runs until its callback
 * returns false, closes everything it opened and resolves; it rejects if a socket fails first.
 */
export interface StreamSide {
  /**
   * One connection: the dialer writes `chunk` back to back, within the API's backpressure; the listener reads and
   * calls `onReceived` with each received chunk's length.
   */
  oneWay(chunk: Uint8Array, onReceived: (bytes: number) => boolean): Promise<void>;
  /**
   * One connection: the dialer writes `message`, the listener writes back every byte it receives, and once the
   * dialer has read `message.length` bytes back it calls `onRoundTrip` and writes again.
   */
  pingPong(message: Uint8Array, onRoundTrip: () => boolean): Promise<void>;
  /**
   * Connections one after another: dial, wait until the dialer is connected and the listener has accepted, close
   * both ends (abruptly: no bytes are pending), call `onCycle`.
   */
  connections(onCycle: () => boolean): Promise<void>;
}

/** Two bound UDP sockets: `send()` sends one datagram from the first to the second. */
export interface DatagramPair {
  send(): void;
  close(): Promise<void>;
}

/** Datagram sockets through one API. */
export interface DatagramSide {
  /**
   * Binds two sockets on 127.0.0.1 port 0; `send()` sends `datagram` from the first to the second, which calls
   * `onReceived` with each datagram's length.
   */
  pair(datagram: Uint8Array, onReceived: (bytes: number) => void): Promise<DatagramPair>;
}

/** Events per second over a window, and per second of this process's CPU time over the same window. */
export interface Rate {
  readonly perSecond: number;
  readonly perCpuSecond: number;
}

/**
 * Runs `run` and counts the units its events report in the window: it opens at the first event after `warmupMs`
 * and closes at the first event `windowMs` later, so whole events are counted between two arrivals. CPU time is
 * `process.cpuUsage()` (user + system, every thread) between the same two events.
 * @example await measureRate((onEvent) => side.oneWay(chunk, onEvent), 500, 1500)
 */
export async function measureRate(
  run: (onEvent: (units: number) => boolean) => Promise<void>,
  warmupMs: number,
  windowMs: number,
): Promise<Rate> {
  const warmupEnd = performance.now() + warmupMs;
  let windowStart = -1;
  let cpuStart: NodeJS.CpuUsage | undefined;
  let units = 0;
  let result: Rate | undefined;
  await run((count) => {
    const now = performance.now();
    if (windowStart < 0) {
      if (now >= warmupEnd) {
        windowStart = now;
        cpuStart = process.cpuUsage();
      }
      return true;
    }
    units += count;
    if (now - windowStart < windowMs) return true;
    const cpu = process.cpuUsage(cpuStart);
    result = {
      perSecond: units / ((now - windowStart) / 1000),
      perCpuSecond: units / ((cpu.user + cpu.system) / 1e6),
    };
    return false;
  });
  if (!result) throw new Error('stopped before the window closed');
  return result;
}

/** Datagrams sent and not yet received (or written off as lost) at any time. */
const DATAGRAM_WINDOW = 32;
/** A window with no datagram received for this long is written off as lost and refilled. */
const DATAGRAM_STALL_MS = 100;

/** How a datagram run went: besides its events, how many datagrams were written off as lost. */
export interface DatagramRun {
  lost: number;
}

/**
 * Sends datagrams through `side` with at most {@link DATAGRAM_WINDOW} in flight, topping the window up as each one
 * arrives, and calls `onEvent(1)` per datagram received until it returns false. Datagrams the kernel drops would
 * stall the window: after one to two {@link DATAGRAM_STALL_MS} without an arrival, those in flight count as lost.
 * @example await measureRate((onEvent) => runDatagrams(side, datagram, onEvent, stats), 150, 400)
 */
export async function runDatagrams(
  side: DatagramSide,
  datagram: Uint8Array,
  onEvent: (units: number) => boolean,
  stats: DatagramRun,
): Promise<void> {
  let sent = 0;
  let received = 0;
  let lost = 0;
  let stopped = false;
  let pair: DatagramPair | undefined;
  const done = deferred<void>();
  const topUp = (): void => {
    while (!stopped && pair && sent - received - lost < DATAGRAM_WINDOW) {
      sent++;
      pair.send();
    }
  };
  pair = await side.pair(datagram, () => {
    if (stopped) return;
    received++;
    if (onEvent(1)) topUp();
    else {
      stopped = true;
      done.resolve();
    }
  });
  let lastReceived = -1;
  const watchdog = setInterval(() => {
    if (received === lastReceived) {
      lost = Math.max(lost, sent - received);
      topUp();
    }
    lastReceived = received;
  }, DATAGRAM_STALL_MS);
  try {
    topUp();
    await done.promise;
  } finally {
    clearInterval(watchdog);
    stats.lost = lost;
    await pair.close();
  }
}

const ignore = (): void => undefined;

/** A listener of `transport` on 127.0.0.1 at an OS-assigned port, handing its streams to `onStream`. */
async function listenOn(
  transport: Transport,
  onStream: (stream: ByteStream) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const listener = await transport.listen({ host: HOST, port: 0 }, onStream);
  return { port: listener.address.port, close: () => listener.close() };
}

/** A dialed stream of `transport` and the stream its listener accepted for it. */
async function streamPair(
  transport: Transport,
): Promise<{ dialer: ByteStream; accepted: ByteStream; close(): Promise<void> }> {
  const accepted = deferred<ByteStream>();
  const listener = await listenOn(transport, (stream) => accepted.resolve(stream));
  const dialer = await transport.dial(HOST, listener.port);
  const stream = await accepted.promise;
  return {
    dialer,
    accepted: stream,
    close: async () => {
      dialer.destroy();
      stream.destroy();
      await listener.close();
    },
  };
}

/**
 * A `Transport`'s streams as RLPx drives them: each `write()` awaited before the next, `read()` in a loop.
 * @example transportSide(tcpTransport)
 */
export function transportSide(transport: Transport): StreamSide {
  return {
    async oneWay(chunk, onReceived) {
      const { dialer, accepted, close } = await streamPair(transport);
      let stopped = false;
      const writing = (async () => {
        while (!stopped) await dialer.write(chunk);
      })();
      writing.catch(ignore);
      try {
        for (;;) {
          const data = await accepted.read();
          if (data === null) throw new Error('the stream ended');
          if (!onReceived(data.length)) break;
        }
      } finally {
        stopped = true;
        await close();
        await writing.catch(ignore);
      }
    },

    async pingPong(message, onRoundTrip) {
      const { dialer, accepted, close } = await streamPair(transport);
      const echoing = (async () => {
        for (let data = await accepted.read(); data !== null; data = await accepted.read()) await accepted.write(data);
      })();
      echoing.catch(ignore);
      try {
        do {
          await dialer.write(message);
          for (let received = 0; received < message.length; ) {
            const data = await dialer.read();
            if (data === null) throw new Error('the stream ended');
            received += data.length;
          }
        } while (onRoundTrip());
      } finally {
        await close();
        await echoing.catch(ignore);
      }
    },

    async connections(onCycle) {
      let accepted = deferred<ByteStream>();
      const listener = await listenOn(transport, (stream) => accepted.resolve(stream));
      try {
        for (;;) {
          accepted = deferred<ByteStream>();
          const [dialer, stream] = await Promise.all([transport.dial(HOST, listener.port), accepted.promise]);
          dialer.destroy();
          stream.destroy();
          if (!onCycle()) break;
        }
      } finally {
        await listener.close();
      }
    },
  };
}
