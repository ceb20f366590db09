import { type Clock, systemClock } from './clock.ts';
import { Devp2pError, ERR_TOO_MANY_REQUESTS, TimeoutError } from './errors.ts';
import { randomRequestIdSeed } from './random-id.ts';

/** Options for a {@link RequestTracker}. */
export interface RequestTrackerOptions {
  /** How long a request waits for its response. */
  timeoutMs: number;
  /** Most requests outstanding at once; `start` beyond it throws (a peer must not make us queue unboundedly). */
  maxPending: number;
  /** What the request is, for error messages (`GetBlockHeaders`). */
  what?: string;
  /** Clock for the deadlines (default {@link systemClock}). */
  clock?: Clock;
}

/** A started request: the id to put on the wire and the promise of its response. */
export interface PendingRequest<T> {
  readonly id: bigint;
  readonly response: Promise<T>;
}

interface Entry<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  timer: unknown;
  cleanup(): void;
}

/**
 * Request/response matching by 64-bit request id (eth/66 and later): one tracker per peer and request
 * kind. Every request ends exactly once: answered, timed out, aborted or closed; its timer is always cleared.
 *
 * @example
 * const { id, response } = headers.start(ctx.signal)
 * await ctx.send('GetBlockHeaders', { requestId: id, ...query })
 * const result = await response
 * // in the BlockHeaders handler:
 * if (!headers.deliver(msg.requestId, msg.headers)) ctx.disconnect(DisconnectReason.ProtocolError)
 */
export class RequestTracker<T> {
  readonly #options: RequestTrackerOptions;
  /** Made at the first request: a peer holds a tracker per request kind, most of which never see one. */
  #pending: Map<bigint, Entry<T>> | undefined;
  #nextId: bigint = randomRequestIdSeed();
  #closed: Error | undefined;

  constructor(options: RequestTrackerOptions) {
    if (!(options.timeoutMs > 0)) throw new RangeError('RequestTracker: timeoutMs must be positive');
    if (!(options.maxPending > 0)) throw new RangeError('RequestTracker: maxPending must be positive');
    this.#options = options;
  }

  /** Requests waiting for a response. */
  get pending(): number {
    return this.#pending?.size ?? 0;
  }

  /** Allocates an id and a promise for its response; throws when closed or when `maxPending` are outstanding. */
  start(signal?: AbortSignal): PendingRequest<T> {
    if (this.#closed) throw this.#closed;
    this.#pending ??= new Map();
    const pending = this.#pending;
    if (pending.size >= this.#options.maxPending) {
      throw new Devp2pError(ERR_TOO_MANY_REQUESTS, `more than ${this.#options.maxPending} requests outstanding`);
    }
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1n) & 0xffffffffffffffffn;
    const what = this.#options.what ?? 'request';
    const response = new Promise<T>((resolve, reject) => {
      const onAbort = (): void => this.#finish(id)?.reject(signal?.reason);
      const clock = this.#options.clock ?? systemClock;
      const timer = clock.setTimeout(
        () => this.#finish(id)?.reject(new TimeoutError(`${what} ${id}`, this.#options.timeoutMs)),
        this.#options.timeoutMs,
      );
      const cleanup = (): void => {
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      pending.set(id, { resolve, reject, timer, cleanup });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { id, response };
  }

  /** Delivers the response for `id`; false when no such request is pending (unsolicited or late). */
  deliver(id: bigint, value: T): boolean {
    const entry = this.#finish(id);
    if (!entry) return false;
    entry.resolve(value);
    return true;
  }

  /** Rejects every pending request with `error` and refuses new ones (the peer is gone). */
  close(error: Error): void {
    this.#closed ??= error;
    for (const id of [...(this.#pending?.keys() ?? [])]) this.#finish(id)?.reject(error);
  }

  #finish(id: bigint): Entry<T> | undefined {
    const pending = this.#pending;
    const entry = pending?.get(id);
    if (!pending || !entry) return undefined;
    pending.delete(id);
    entry.cleanup();
    return entry;
  }
}
