import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import {
  AbortError,
  type ByteStream,
  Devp2pError,
  type DialOptions,
  ERR_DIAL,
  ERR_LISTEN,
  formatHostPort,
  type StreamListener,
  TimeoutError,
  type Transport,
} from '@devp2p/core';
import { checkLoopbackOnly } from './loopback.ts';
import { nodeSocketStream } from './socket.ts';

/** Dial deadline when the caller gives none: geth's `defaultDialTimeout`. */
export const DEFAULT_DIAL_TIMEOUT_MS = 15_000;

/**
 * TCP on `node:net`, the same on Node, Bun and Deno.
 * @example
 * const listener = await tcpTransport.listen({ host: '127.0.0.1', port: 0 }, (stream) => accept(stream))
 * const stream = await tcpTransport.dial('127.0.0.1', listener.address.port, { timeoutMs: 5_000 })
 */
export const tcpTransport: Transport = {
  listen(options: { host: string; port: number }, onStream: (stream: ByteStream) => void): Promise<StreamListener> {
    return new Promise((resolve, reject) => {
      const server: Server = createServer({ pauseOnConnect: false, noDelay: true }, (socket: Socket) => {
        onStream(nodeSocketStream(socket));
      });
      const onError = (error: Error): void => {
        server.close();
        reject(
          new Devp2pError(
            ERR_LISTEN,
            `cannot listen on ${formatHostPort(options.host, options.port)}: ${error.message}`,
            {
              cause: error,
            },
          ),
        );
      };
      server.once('error', onError);
      server.listen(options.port, options.host, () => {
        server.off('error', onError);
        // Errors after listening (rare: e.g. EMFILE on accept) must not crash the process.
        server.on('error', () => undefined);
        const bound = server.address();
        const port = typeof bound === 'object' && bound ? bound.port : options.port;
        resolve({
          address: { host: options.host, port },
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
    });
  },

  dial(host: string, port: number, options: DialOptions = {}): Promise<ByteStream> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new AbortError('dial aborted', { cause: signal.reason }));
        return;
      }
      try {
        checkLoopbackOnly('TCP dial to', host);
      } catch (error) {
        reject(error);
        return;
      }
      const socket = netConnect({ host, port, noDelay: true });
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('connect', onConnect);
      };
      const fail = (error: Devp2pError): void => {
        cleanup();
        socket.on('error', () => undefined);
        socket.destroy();
        reject(error);
      };
      const onError = (error: Error): void =>
        fail(
          new Devp2pError(ERR_DIAL, `dial ${formatHostPort(host, port)} failed: ${error.message}`, { cause: error }),
        );
      const onAbort = (): void => fail(new AbortError('dial aborted', { cause: signal?.reason }));
      const onConnect = (): void => {
        cleanup();
        resolve(nodeSocketStream(socket));
      };
      const timer = setTimeout(
        () =>
          fail(
            new TimeoutError(`dial ${formatHostPort(host, port)}`, timeoutMs, {
              remoteAddress: formatHostPort(host, port),
            }),
          ),
        timeoutMs,
      );
      socket.once('error', onError);
      socket.once('connect', onConnect);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
