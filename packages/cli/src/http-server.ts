/**
 * The HTTP servers of the CLI (admin JSON-RPC, metrics) on `node:http`, so they run on Node, Bun and Deno, with
 * geth's deadlines and a cap on connections: a slow or flooding client is disconnected, not held.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatHostPort, type Logger } from '@devp2p/core';

/**
 * The HTTP deadlines, geth's `rpc.DefaultHTTPTimeouts`: a request's headers and body must arrive within 30 s
 * (read header, read), its response must be taken within 30 s (write), and a kept-alive connection may wait 120 s
 * for its next request (idle). A slow client is disconnected, not held.
 */
export interface HttpTimeouts {
  readonly readHeaderMs: number;
  readonly readMs: number;
  readonly writeMs: number;
  readonly idleMs: number;
}

/** geth's HTTP deadlines (`rpc.DefaultHTTPTimeouts`). */
export const HTTP_TIMEOUTS: HttpTimeouts = { readHeaderMs: 30_000, readMs: 30_000, writeMs: 30_000, idleMs: 120_000 };

/**
 * How often the header and request deadlines are checked: 1 s. `node:http` enforces them on a periodic sweep whose
 * default of 30 s would let a 30 s deadline run to nearly 60 s; at 1 s a slow client goes within about 2 s of it.
 */
export const HTTP_DEADLINE_CHECK_MS = 1_000;

/**
 * Most HTTP connections open at once; more are closed as they arrive. An admin or metrics endpoint has a few local clients
 * (a console, a script, a dashboard); the cap keeps a flood of connections from holding sockets and memory.
 * Geth has no such cap.
 */
export const MAX_HTTP_CONNECTIONS = 64;

/** A running HTTP server. */
export interface RunningHttpServer {
  /** The bound address, with the real port. */
  readonly address: { readonly host: string; readonly port: number };
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  readonly host: string;
  /** Port 0: a free one. */
  readonly port: number;
  readonly logger: Logger;
  /** HTTP deadlines ({@link HTTP_TIMEOUTS} by default). */
  readonly timeouts?: Partial<HttpTimeouts>;
  /** Most connections at once ({@link MAX_HTTP_CONNECTIONS} by default). */
  readonly maxConnections?: number;
  /** Takes `Upgrade` requests (WebSocket); without it they are refused. */
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** Sends a whole response, unless one was already sent (or the client is gone). */
export function reply(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The write deadline, which `node:http` lacks: the response must be taken within `writeMs` of the request's
 * headers (geth's WriteTimeout), or the connection is closed, so a client that stops reading is not held.
 */
function armWriteDeadline(req: IncomingMessage, res: ServerResponse, writeMs: number): void {
  const timer = setTimeout(() => req.socket.destroy(), writeMs);
  const clear = (): void => clearTimeout(timer);
  res.once('finish', clear);
  res.once('close', clear);
}

/**
 * Listens on `host:port` and hands each request to `handle` (a throw is answered with HTTP 500), with the
 * deadlines and connection cap above. Logs `HTTP server started endpoint=host:port`, as geth.
 * @example const server = await startHttpServer({ host: '127.0.0.1', port: 0, logger }, (req, res) => reply(res, 200, 'ok'))
 */
export async function startHttpServer(
  options: HttpServerOptions,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<RunningHttpServer> {
  const log = options.logger;
  const timeouts: HttpTimeouts = { ...HTTP_TIMEOUTS, ...options.timeouts };
  const maxConnections = options.maxConnections ?? MAX_HTTP_CONNECTIONS;
  const open = new Set<Socket>();
  // Node, Bun and Deno all honour these, on every request of a kept-alive connection and on silent connections
  // too (test/admin-rpc.test.ts fails on each runtime when one is left out).
  const deadlines = {
    // Node refuses a header deadline longer than the request deadline.
    headersTimeout: Math.min(timeouts.readHeaderMs, timeouts.readMs),
    requestTimeout: timeouts.readMs,
    // Without it the runtimes' 5 s default, not geth's idle deadline, closes a kept-alive connection.
    keepAliveTimeout: timeouts.idleMs,
    // The sweep is what enforces the header and request deadlines, so it is no coarser than the shorter one.
    connectionsCheckingInterval: Math.min(HTTP_DEADLINE_CHECK_MS, timeouts.readHeaderMs, timeouts.readMs),
  };
  const http = createHttpServer(deadlines, (req, res) => {
    armWriteDeadline(req, res, timeouts.writeMs);
    try {
      handle(req, res);
    } catch (error) {
      log.debug('HTTP request failed', { error: error instanceof Error ? error.message : String(error) });
      reply(res, 500, 'internal error\n', 'text/plain');
    }
  });
  http.on('connection', (socket: Socket) => {
    if (open.size >= maxConnections) {
      log.debug('HTTP connection refused', { reason: 'too many connections', limit: maxConnections });
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  http.on('clientError', (_error, socket) => socket.destroy());
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.upgrade) options.upgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.on('error', (error) => log.warn('HTTP server error', { error: error.message }));
  const bound = http.address() as AddressInfo;
  const address = { host: options.host, port: bound.port };
  const endpoint = formatHostPort(address.host, address.port);
  log.info('HTTP server started', { endpoint });
  let closing: Promise<void> | undefined;
  return {
    address,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections?.();
        for (const socket of open) socket.destroy();
        log.info('HTTP server stopped', { endpoint });
      });
      return closing;
    },
  };
}
