/**
 * JSON-RPC over a Unix domain socket (geth's IPC endpoint, `<datadir>/devp2p.ipc`): a stream of JSON values each
 * way, as `geth attach` speaks it. Only the socket file's owner can connect (mode 0600), so IPC needs no origin or
 * host checks.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from '@devp2p/core';
import { type AdminBackend, HTTP_BODY_LIMIT } from './admin-rpc.ts';
import { MAX_HTTP_CONNECTIONS } from './http-server.ts';
import { type PeerEventSource, RpcSession } from './rpc-session.ts';

/** The IPC socket's name in the data directory (geth's is `geth.ipc`). */
export const IPC_FILE_NAME = 'devp2p.ipc';

/**
 * Longest socket path, in bytes: a Unix socket address holds 104 bytes on macOS and 108 on Linux, the terminating
 * zero included; past it some runtimes silently bind a truncated path.
 */
export const MAX_IPC_PATH_BYTES = 103;

/**
 * Splits a byte stream into top-level JSON values (objects or arrays), as geth's IPC reads them: values may be
 * separated by whitespace or nothing. A value longer than `limit` characters, or anything but objects and arrays at
 * top level, is an error: the connection ends.
 * @example const split = new JsonValueSplitter(1 << 20); for (const text of split.push(chunk)) handle(text)
 */
export class JsonValueSplitter {
  readonly #limit: number;
  #buffer = '';
  #depth = 0;
  #inString = false;
  #escaped = false;
  #scanned = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * Adds text; returns the values it completed. Throws a RangeError when a value exceeds the limit or the stream
   * has something other than an object or array at top level.
   */
  push(text: string): string[] {
    this.#buffer += text;
    const out: string[] = [];
    let start = 0;
    for (let i = this.#scanned; i < this.#buffer.length; i++) {
      const c = this.#buffer[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === '\\') this.#escaped = true;
        else if (c === '"') this.#inString = false;
        continue;
      }
      if (this.#depth === 0 && /\s/.test(c)) {
        start = i + 1;
        continue;
      }
      if (c === '"') this.#inString = true;
      else if (c === '{' || c === '[') this.#depth++;
      else if (c === '}' || c === ']') {
        this.#depth--;
        if (this.#depth === 0) {
          out.push(this.#buffer.slice(start, i + 1));
          start = i + 1;
        }
      } else if (this.#depth === 0) {
        throw new RangeError(`not a JSON-RPC stream: ${JSON.stringify(c)} outside any object or array`);
      }
    }
    this.#buffer = this.#buffer.slice(start);
    this.#scanned = this.#buffer.length;
    if (this.#buffer.length > this.#limit) throw new RangeError(`a JSON value longer than ${this.#limit} characters`);
    return out;
  }
}

/** A running IPC endpoint. */
export interface RunningIpcServer {
  readonly path: string;
  /** Stops accepting, closes every connection and removes the socket file. */
  close(): Promise<void>;
}

/** Options of {@link startIpcRpc}. */
export interface IpcRpcOptions {
  readonly path: string;
  readonly logger: Logger;
}

/**
 * Serves JSON-RPC on the Unix socket `path`; a file left there by a node that is gone is replaced (as geth).
 * @example const ipc = await startIpcRpc(backend, node.server, { path: join(datadir, IPC_FILE_NAME), logger })
 */
export async function startIpcRpc(
  backend: AdminBackend,
  events: PeerEventSource,
  options: IpcRpcOptions,
): Promise<RunningIpcServer> {
  const log = options.logger.child('cli:ipc');
  const { path } = options;
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_IPC_PATH_BYTES) {
    throw new RangeError(`IPC path of ${bytes} bytes is longer than a Unix socket allows (${MAX_IPC_PATH_BYTES})`);
  }
  if (existsSync(path)) rmSync(path, { force: true });
  const open = new Set<Socket>();
  const server: NetServer = createServer((socket) => {
    if (open.size >= MAX_HTTP_CONNECTIONS) {
      socket.destroy();
      return;
    }
    open.add(socket);
    const session = new RpcSession(backend, events, {
      send: (text) => void socket.write(`${text}\n`),
      pendingBytes: () => socket.writableLength,
      close: (reason) => {
        log.debug('IPC connection closed', { reason });
        socket.destroy();
      },
    });
    const splitter = new JsonValueSplitter(HTTP_BODY_LIMIT);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      let values: string[];
      try {
        values = splitter.push(chunk);
      } catch (error) {
        log.debug('IPC connection closed', { reason: (error as Error).message });
        socket.destroy();
        return;
      }
      for (const text of values) void session.handle(text);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      session.close();
      open.delete(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  log.info('IPC endpoint opened', { url: path });
  let closing: Promise<void> | undefined;
  return {
    path,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          log.info('IPC endpoint closed', { url: path });
          resolve();
        });
        for (const socket of open) socket.destroy();
      });
      return closing;
    },
  };
}
