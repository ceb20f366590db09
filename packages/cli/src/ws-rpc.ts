/**
 * JSON-RPC over WebSocket (`--ws`), on the `ws` library (kept; it runs on Node, Bun and Deno over `node:http`): the
 * admin methods and `admin_subscribe("peerEvents")`. As geth, browser `Origin`s must be listed in `--ws.origins`;
 * clients that send none (scripts, `devp2p attach`) are answered.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '@devp2p/core';
import { type WebSocket, WebSocketServer } from 'ws';
import { type AdminBackend, HTTP_BODY_LIMIT, originAllowed } from './admin-rpc.ts';
import { type RunningHttpServer, reply, startHttpServer } from './http-server.ts';
import { type PeerEventSource, RpcSession } from './rpc-session.ts';

/** geth's `--ws.port` default. */
export const DEFAULT_WS_PORT = 8546;

/** Options of {@link startWsRpc}. */
export interface WsRpcOptions {
  readonly host: string;
  /** Port 0: a free one. */
  readonly port: number;
  readonly logger: Logger;
  /** Browser origins answered (`--ws.origins`; none by default, `*` for any). */
  readonly origins?: readonly string[];
}

/**
 * Serves JSON-RPC over WebSocket on `host:port`. Each message is one request or batch, at most
 * {@link HTTP_BODY_LIMIT} bytes; each connection has its own subscriptions, ended when it closes.
 * @example const ws = await startWsRpc(backend, node.server, { host: '127.0.0.1', port: 8546, logger })
 */
export async function startWsRpc(
  backend: AdminBackend,
  events: PeerEventSource,
  options: WsRpcOptions,
): Promise<RunningHttpServer> {
  const log = options.logger.child('cli:ws');
  const origins = (options.origins ?? []).map((o) => o.toLowerCase());
  const wss = new WebSocketServer({ noServer: true, maxPayload: HTTP_BODY_LIMIT });
  const serve = (ws: WebSocket): void => {
    const session = new RpcSession(backend, events, {
      send: (text) => ws.send(text),
      pendingBytes: () => ws.bufferedAmount,
      close: (reason) => {
        log.debug('WebSocket closed', { reason });
        ws.terminate();
      },
    });
    ws.on('message', (data) => void session.handle(String(data)));
    ws.on('close', () => session.close());
    ws.on('error', () => session.close());
  };
  const server = await startHttpServer(
    {
      host: options.host,
      port: options.port,
      logger: log,
      upgrade: (req: IncomingMessage, socket, head) => {
        const origin = req.headers.origin;
        if (origin !== undefined && !originAllowed(origin, origins)) {
          log.debug('WebSocket refused', { origin });
          socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
          return;
        }
        wss.handleUpgrade(req, socket, head, serve);
      },
    },
    (_req, res) => reply(res, 400, 'WebSocket only: connect with a WebSocket client\n', 'text/plain'),
  );
  return {
    address: server.address,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await server.close();
    },
  };
}
