import { type ByteStream, DisconnectError, type Transport } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { NodeId } from '@devp2p/enode';
import { ping } from '@devp2p/plugin-ping';
import { RLPxConnection } from '@devp2p/rlpx';
import { tcpTransport } from '@devp2p/transport-node';
import { exchangeHello } from '../src/handshake.ts';
import { BaseMessageCode, decodeDisconnect, type Hello, P2P_VERSION } from '../src/hello.ts';
import { createServer, type Server, type ServerConfig } from '../src/server.ts';

/** Starts a server on 127.0.0.1 with an OS-assigned port, the ping plugin, and nothing else. */
export async function startServer(config: Partial<ServerConfig> = {}): Promise<Server> {
  const server = createServer({
    privateKey: generatePrivateKey(),
    listenAddr: '127.0.0.1:0',
    protocols: [ping],
    ...config,
  });
  await server.start();
  return server;
}

export function enodeOf(server: Server): string {
  return server.self.toEnodeUrl();
}

export interface RawClient {
  readonly conn: RLPxConnection;
  readonly hello: Hello;
  readonly key: Uint8Array;
}

/**
 * A bare client: dials `server` through RLPx and the Hello exchange without being a server itself. Rejects with
 * the DisconnectError the server sent when it refuses us.
 */
export async function rawClient(
  server: Server,
  options: { key?: Uint8Array; caps?: Hello['caps']; helloKey?: Uint8Array } = {},
): Promise<RawClient> {
  const key = options.key ?? generatePrivateKey();
  const { port } = server.listenAddress!;
  const stream = await tcpTransport.dial('127.0.0.1', port, { timeoutMs: 5_000 });
  const conn = new RLPxConnection(stream, { privateKey: key, remotePublicKey: server.self.publicKey! });
  await conn.handshake();
  const hello = await exchangeHello(conn, {
    version: P2P_VERSION,
    clientName: 'raw-client',
    caps: options.caps ?? [ping.cap],
    listenPort: 0,
    nodeId: publicKeyFromPrivate(options.helloKey ?? key),
  });
  conn.setSnappy(true);
  return { conn, hello, key };
}

/**
 * Connects a raw client and reports whether the server took it as a peer, or the reason it refused it with: a
 * Disconnect instead of its Hello (checks before the Hello) or right after it (checks on the Hello).
 */
export async function connectOrRefusal(
  server: Server,
  options: Parameters<typeof rawClient>[1] = {},
): Promise<{ client: RawClient; reason?: undefined } | { client?: undefined; reason: number }> {
  let client: RawClient;
  try {
    client = await rawClient(server, options);
  } catch (error) {
    if (error instanceof DisconnectError) return { reason: error.reason };
    throw error;
  }
  const id = NodeId.fromPublicKey(publicKeyFromPrivate(client.key)).hex;
  // The server adds the peer after reading our Hello, or sends Disconnect: whichever comes first.
  const next = client.conn.readMessage().then(
    (m) => (m.code === BaseMessageCode.Disconnect ? decodeDisconnect(m.payload) : -1),
    () => -1,
  );
  for (;;) {
    if (server.peers().some((p) => p.id === id)) return { client };
    const reason = await Promise.race([next, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 10))]);
    if (reason !== 'wait') {
      client.conn.close();
      if (reason < 0) throw new Error('connection ended without a Disconnect');
      return { reason };
    }
  }
}

/** The reason the server refuses a raw client with; undefined (and the client closed) when it was accepted. */
export async function refusalReason(
  server: Server,
  options: Parameters<typeof rawClient>[1] = {},
): Promise<number | undefined> {
  const result = await connectOrRefusal(server, options);
  result.client?.conn.close();
  return result.reason;
}

/** Wraps a transport to record every stream it creates and whether it was released (end or destroy). */
export function recordingTransport(
  inner: Transport,
): Transport & { streams: { stream: ByteStream; released: boolean }[] } {
  const streams: { stream: ByteStream; released: boolean }[] = [];
  const wrap = (stream: ByteStream): ByteStream => {
    const entry = { stream, released: false };
    streams.push(entry);
    return {
      get remoteAddress() {
        return stream.remoteAddress;
      },
      get localAddress() {
        return stream.localAddress;
      },
      read: () => stream.read(),
      write: (data) => stream.write(data),
      end: () => {
        entry.released = true;
        stream.end();
      },
      destroy: () => {
        entry.released = true;
        stream.destroy();
      },
    };
  };
  return {
    streams,
    listen: (options, onStream) => inner.listen(options, (stream) => onStream(wrap(stream))),
    dial: async (host, port, options) => wrap(await inner.dial(host, port, options)),
  };
}
