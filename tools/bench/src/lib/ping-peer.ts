// A peer of the benches that measure a whole node (soak, idle-peers, alloc): a new key, the RLPx handshake and the
// Hello exchange with png/1 only, snappy as the Hellos agree.
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { ping } from '@devp2p/plugin-ping';
import { RLPxConnection } from '@devp2p/rlpx';
import { exchangeHello, P2P_VERSION, SNAPPY_MIN_VERSION } from '@devp2p/server';
import { tcpTransport } from '@devp2p/transport-node';
import { HOST } from './loopback.ts';

/** Options of {@link dialPingPeer}. */
export interface PingPeerOptions {
  /** The Hello's client name, which the node logs. */
  readonly clientName: string;
  /** Deadline for the dial, the RLPx handshake and the Hello exchange, each. */
  readonly timeoutMs: number;
  /** The connection's write deadline (RLPxConnection's default when unset). */
  readonly writeTimeoutMs?: number;
  /** Holds the connection from before its handshake until it fails here, so that a stop can close it. */
  readonly live?: Set<RLPxConnection>;
  /** Aborting stops the dial, or closes the connection during its handshake. */
  readonly signal?: AbortSignal;
}

/**
 * Dials the node on 127.0.0.1:`port` and returns the connection once both Hellos are exchanged; on a failure the
 * connection is closed (and left out of `live`) and the error thrown.
 * @example const conn = await dialPingPeer(node.p2pPort, node.publicKey, { clientName: 'idle-peer', timeoutMs: 15_000 });
 */
export async function dialPingPeer(
  port: number,
  remotePublicKey: Uint8Array,
  options: PingPeerOptions,
): Promise<RLPxConnection> {
  const key = generatePrivateKey();
  const stream = await tcpTransport.dial(HOST, port, { timeoutMs: options.timeoutMs, signal: options.signal });
  const conn = new RLPxConnection(stream, {
    privateKey: key,
    remotePublicKey,
    handshakeTimeoutMs: options.timeoutMs,
    writeTimeoutMs: options.writeTimeoutMs,
  });
  options.live?.add(conn);
  try {
    await conn.handshake({ signal: options.signal });
    const hello = await exchangeHello(
      conn,
      {
        version: P2P_VERSION,
        clientName: options.clientName,
        caps: [ping.cap],
        listenPort: 0,
        nodeId: publicKeyFromPrivate(key),
      },
      { timeoutMs: options.timeoutMs },
    );
    conn.setSnappy(hello.version >= SNAPPY_MIN_VERSION);
    return conn;
  } catch (error) {
    conn.close();
    options.live?.delete(conn);
    throw error;
  }
}
