import {
  type Clock,
  DisconnectError,
  DisconnectReason,
  equalBytes,
  ProtocolError,
  systemClock,
  TimeoutError,
  throwIfAborted,
} from '@devp2p/core';
import { MAX_FRAME_SIZE, type RLPxConnection } from '@devp2p/rlpx';
import {
  BaseMessageCode,
  decodeDisconnect,
  decodeHello,
  ERR_HELLO,
  encodeHello,
  type Hello,
  MIN_P2P_VERSION,
} from './hello.ts';
import { MAX_HELLO_FRAME_SIZE, PROTOCOL_HANDSHAKE_TIMEOUT_MS } from './limits.ts';

/** Options of {@link exchangeHello}. */
export interface HelloExchangeOptions {
  /** Deadline for the remote's Hello; {@link PROTOCOL_HANDSHAKE_TIMEOUT_MS} by default. */
  timeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * Sends our Hello (without waiting for theirs, as geth does) and reads the remote's. The remote's first message
 * must be Hello or Disconnect: a Disconnect rejects with a DisconnectError carrying its reason (initiator
 * `remote`), anything else with a ProtocolError. Until the remote's Hello is read, a frame declaring more than a
 * Hello can hold fails the connection with TooLargeError before its body is read. Check the result with {@link checkHello} once snappy is set up
 * (so that a refusal reaches the remote in the form it expects).
 *
 * @example const remoteHello = await exchangeHello(conn, ourHello)
 */
export async function exchangeHello(
  conn: RLPxConnection,
  ours: Hello,
  options: HelloExchangeOptions = {},
): Promise<Hello> {
  const timeoutMs = options.timeoutMs ?? PROTOCOL_HANDSHAKE_TIMEOUT_MS;
  throwIfAborted(options.signal);
  let timedOut = false;
  const onAbort = (): void => conn.close(options.signal?.reason);
  const clock = options.clock ?? systemClock;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    conn.close(new TimeoutError('Hello exchange', timeoutMs, { remoteAddress: conn.remoteAddress }));
  }, timeoutMs);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const sent = conn.writeMessage(BaseMessageCode.Hello, encodeHello(ours));
  try {
    conn.setMaxFrameSize(MAX_HELLO_FRAME_SIZE);
    const first = await conn.readMessage();
    conn.setMaxFrameSize(MAX_FRAME_SIZE);
    await sent;
    if (first.code === BaseMessageCode.Disconnect) {
      throw new DisconnectError(decodeDisconnect(first.payload), 'remote');
    }
    if (first.code !== BaseMessageCode.Hello) {
      throw new ProtocolError(ERR_HELLO, `expected Hello, got message code ${first.code}`, {
        remoteAddress: conn.remoteAddress,
      });
    }
    return decodeHello(first.payload);
  } catch (error) {
    sent.catch(() => undefined);
    if (timedOut) throw new TimeoutError('Hello exchange', timeoutMs, { remoteAddress: conn.remoteAddress });
    throw error;
  } finally {
    clock.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Geth's checks on a remote Hello: a 64-byte, non-zero id ("invalid identity"), equal to the key the RLPx
 * handshake proved ("unexpected identity"), and a p2p version we speak ("incompatible version"). Returns the
 * reason to refuse with, or undefined.
 * @example const refusal = checkHello(hello, conn.remotePublicKey!)
 */
export function checkHello(hello: Hello, provenKey: Uint8Array): DisconnectReason | undefined {
  if (hello.nodeId.length !== 64 || hello.nodeId.every((b) => b === 0)) return DisconnectReason.InvalidIdentity;
  if (!equalBytes(hello.nodeId, provenKey)) return DisconnectReason.UnexpectedIdentity;
  if (hello.version < MIN_P2P_VERSION) return DisconnectReason.IncompatibleVersion;
  return undefined;
}
