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
    super('ERR_RLP', message, options);
  }
}

/** A key, point, signature or ciphertext that fails a cryptographic check (wrong MAC, off-curve point, ...). */
export class CryptoError extends Devp2pError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CRYPTO', message, options);
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
    super('ERR_TOO_LARGE', `${what} of ${size} bytes exceeds the limit of ${limit}`, context);
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
      'ERR_TIMEOUT',
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
    super('ERR_CLOSED', context.remoteAddress ? `${message} (remote ${context.remoteAddress})` : message, {
      cause: context.cause,
    });
    this.remoteAddress = context.remoteAddress;
  }
}

/** The operation was aborted through its AbortSignal. */
export class AbortError extends Devp2pError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
  }
}

/** Throws an AbortError (with the signal's reason as cause) when the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('operation aborted', { cause: signal.reason });
}
