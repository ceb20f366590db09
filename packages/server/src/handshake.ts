import {
  bytesToHex,
  DisconnectError,
  DisconnectReason,
  equalBytes,
  ProtocolError,
  TimeoutError,
  throwIfAborted,
} from '@devp2p/core';
import type { RLPxConnection } from '@devp2p/rlpx';
import { BaseMessageCode, decodeDisconnect, decodeHello, encodeHello, type Hello, MIN_P2P_VERSION } from './hello.ts';
import { PROTOCOL_HANDSHAKE_TIMEOUT_MS } from './limits.ts';

/** Options of {@link exchangeHello}. */
export interface HelloExchangeOptions {
  /** Deadline for the remote's Hello; {@link PROTOCOL_HANDSHAKE_TIMEOUT_MS} by default. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Sends our Hello (without waiting for theirs, as geth does) and reads the remote's. The remote's first message
 * must be Hello or Disconnect: a Disconnect rejects with a DisconnectError carrying its reason (initiator
 * `remote`), anything else with a ProtocolError. Then the Hello is checked: a 64-byte, non-zero id (else
 * "invalid identity"), equal to the key the RLPx handshake proved (else "unexpected identity"), and a p2p
 * version we speak (else "incompatible version"); those failures are DisconnectErrors with the reason to send.
 *
 * @example const remoteHello = await exchangeHello(conn, ourHello, conn.remotePublicKey!)
 */
export async function exchangeHello(
  conn: RLPxConnection,
  ours: Hello,
  provenKey: Uint8Array,
  options: HelloExchangeOptions = {},
): Promise<Hello> {
  const timeoutMs = options.timeoutMs ?? PROTOCOL_HANDSHAKE_TIMEOUT_MS;
  throwIfAborted(options.signal);
  let timedOut = false;
  const onAbort = (): void => conn.close(options.signal?.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close(new TimeoutError('Hello exchange', timeoutMs, { remoteAddress: conn.remoteAddress }));
  }, timeoutMs);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const sent = conn.writeMessage(BaseMessageCode.Hello, encodeHello(ours));
  try {
    const first = await conn.readMessage();
    await sent;
    if (first.code === BaseMessageCode.Disconnect) {
      throw new DisconnectError(decodeDisconnect(first.payload), 'remote');
    }
    if (first.code !== BaseMessageCode.Hello) {
      throw new ProtocolError('ERR_HELLO', `expected Hello, got message code ${first.code}`, {
        remoteAddress: conn.remoteAddress,
      });
    }
    const hello = decodeHello(first.payload);
    if (hello.nodeId.length !== 64 || hello.nodeId.every((b) => b === 0)) {
      throw new DisconnectError(DisconnectReason.InvalidIdentity, 'local', {
        cause: new ProtocolError('ERR_HELLO', `invalid node id ${bytesToHex(hello.nodeId)}`),
      });
    }
    if (!equalBytes(hello.nodeId, provenKey)) {
      throw new DisconnectError(DisconnectReason.UnexpectedIdentity, 'local');
    }
    if (hello.version < MIN_P2P_VERSION) {
      throw new DisconnectError(DisconnectReason.IncompatibleVersion, 'local', {
        cause: new ProtocolError('ERR_HELLO', `p2p version ${hello.version} is older than ${MIN_P2P_VERSION}`),
      });
    }
    return hello;
  } catch (error) {
    sent.catch(() => undefined);
    if (timedOut) throw new TimeoutError('Hello exchange', timeoutMs, { remoteAddress: conn.remoteAddress });
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
