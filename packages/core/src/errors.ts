// Error codes: the stable `code` of each error, for callers that branch on it.
/** Bytes that are not canonical RLP, or not the shape a decoder expects. */
export const ERR_RLP = 'ERR_RLP';
/** A cryptographic operation refused its input (invalid key, signature or ciphertext). */
export const ERR_CRYPTO = 'ERR_CRYPTO';
/** Something from the network is larger than its limit ({@link TooLargeError}). */
export const ERR_TOO_LARGE = 'ERR_TOO_LARGE';
/** A deadline passed ({@link TimeoutError}). */
export const ERR_TIMEOUT = 'ERR_TIMEOUT';
/** The connection or component was closed ({@link ConnectionClosedError}). */
export const ERR_CLOSED = 'ERR_CLOSED';
/** The caller's `AbortSignal` aborted ({@link AbortError}). */
export const ERR_ABORTED = 'ERR_ABORTED';
/** The peer was disconnected, by either side, with a devp2p reason ({@link DisconnectError}). */
export const ERR_DISCONNECTED = 'ERR_DISCONNECTED';
/** More requests outstanding than a {@link RequestTracker} allows. */
export const ERR_TOO_MANY_REQUESTS = 'ERR_TOO_MANY_REQUESTS';
/** A subprotocol message whose payload its codec refuses. */
export const ERR_MESSAGE_DECODE = 'ERR_MESSAGE_DECODE';
/** A subprotocol's own handshake (eth's Status) failed. */
export const ERR_PROTOCOL_HANDSHAKE = 'ERR_PROTOCOL_HANDSHAKE';
/** A message code no shared protocol (or the base protocol) defines. */
export const ERR_UNKNOWN_MESSAGE = 'ERR_UNKNOWN_MESSAGE';
/** A known message at the wrong time (a second Hello). */
export const ERR_UNEXPECTED_MESSAGE = 'ERR_UNEXPECTED_MESSAGE';
/** A transport could not listen or bind (address in use, permission). */
export const ERR_LISTEN = 'ERR_LISTEN';
/** A transport could not connect. */
export const ERR_DIAL = 'ERR_DIAL';

/**
 * Typed errors shared by every package. Callers branch on `err.code` (stable strings) or `instanceof`.
 *
 * @example
 * try { decodeRlp(bytes) } catch (err) { if (err instanceof RlpError) log.debug('bad rlp', { reason: err.message }) }
 */
export class Devp2pError extends Error {
  /** Stable, machine-readable identifier, e.g. `ERR_RLP`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Malformed or non-canonical RLP input. */
export class RlpError extends Devp2pError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERR_RLP, message, options);
  }
}

/** A key, point, signature or ciphertext that fails a cryptographic check (wrong MAC, off-curve point, ...). */
export class CryptoError extends Devp2pError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERR_CRYPTO, message, options);
  }
}

/** Where a network error came from: the remote's address as `host:port`, when known. */
export interface RemoteContext {
  readonly remoteAddress?: string | undefined;
}

/** Bytes from the network that break the protocol: bad handshake, bad MAC, bad message, unknown code. */
export class ProtocolError extends Devp2pError {
  readonly remoteAddress: string | undefined;
  constructor(code: string, message: string, context: RemoteContext & { cause?: unknown } = {}) {
    super(code, context.remoteAddress ? `${message} (remote ${context.remoteAddress})` : message, {
      cause: context.cause,
    });
    this.remoteAddress = context.remoteAddress;
  }
}

/** A size limit was exceeded (frame, message, packet, list length). */
export class TooLargeError extends ProtocolError {
  readonly limit: number;
  readonly size: number;
  constructor(what: string, size: number, limit: number, context: RemoteContext = {}) {
    super(ERR_TOO_LARGE, `${what} of ${size} bytes exceeds the limit of ${limit}`, context);
    this.limit = limit;
    this.size = size;
  }
}

/** A deadline passed: handshake, read, write, request/response. */
export class TimeoutError extends Devp2pError {
  readonly remoteAddress: string | undefined;
  /** What timed out, e.g. `RLPx frame write`. */
  readonly what: string;
  constructor(what: string, timeoutMs: number, context: RemoteContext = {}) {
    super(
      ERR_TIMEOUT,
      `${what} timed out after ${timeoutMs} ms${context.remoteAddress ? ` (remote ${context.remoteAddress})` : ''}`,
    );
    this.remoteAddress = context.remoteAddress;
    this.what = what;
  }
}

/** The connection closed (by either side) before the operation completed. */
export class ConnectionClosedError extends Devp2pError {
  readonly remoteAddress: string | undefined;
  constructor(message = 'connection closed', context: RemoteContext & { cause?: unknown } = {}) {
    super(ERR_CLOSED, context.remoteAddress ? `${message} (remote ${context.remoteAddress})` : message, {
      cause: context.cause,
    });
    this.remoteAddress = context.remoteAddress;
  }
}

/** The operation was aborted through its AbortSignal. */
export class AbortError extends Devp2pError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super(ERR_ABORTED, message, options);
  }
}

/** Throws an AbortError (with the signal's reason as cause) when the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('operation aborted', { cause: signal.reason });
}
