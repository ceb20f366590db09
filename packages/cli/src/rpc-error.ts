/** JSON-RPC 2.0 error codes and the error the methods throw, shared by the admin and discv5 methods. */

/** JSON-RPC 2.0 error codes, as geth uses them. */
export const RPC_ERROR = {
  /** The body is not JSON. */
  parseError: -32700,
  /** JSON, but not a request object (or an empty or oversized batch). */
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  /** The method failed unexpectedly. */
  internalError: -32603,
  /** The method ran and could not do what was asked (geth's generic application error). */
  serverError: -32000,
  /** Too many requests of a kind at once: try again later (EIP-1474's "limit exceeded"). */
  limitExceeded: -32005,
} as const;

/**
 * A method's failure with its JSON-RPC error code: answered as `{ error: { code, message } }`.
 * @example throw new RpcError(RPC_ERROR.invalidParams, 'missing value for required argument 0')
 */
export class RpcError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
