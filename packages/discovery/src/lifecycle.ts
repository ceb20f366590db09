/**
 * A discovery service's lifetime, shared by its parts (packet service, pending replies, lookups, iterator,
 * revalidation): the timers it clears at once on close, the sleeps close cuts short, and the closed state every
 * request checks. Protocol-neutral.
 */
import { AbortError, type Clock, ConnectionClosedError } from '@devp2p/core';

/** The error of requests cut short by closing the service (`Discv4.close`). */
export function closedError(): ConnectionClosedError {
  return new ConnectionClosedError('discovery closed');
}

/**
 * Timers and cancellation of one discovery service, until {@link Lifecycle.close}.
 * @example const timer = lifecycle.setTimeout(tick, 1_000)
 */
export class Lifecycle {
  readonly #timers: Clock;
  readonly #liveTimers = new Set<unknown>();
  readonly #cancelers = new Set<() => void>();
  readonly #closing = new AbortController();
  #closed = false;

  constructor(timers: Clock) {
    this.#timers = timers;
  }

  /** True once {@link Lifecycle.close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Aborts on {@link Lifecycle.close}. */
  get signal(): AbortSignal {
    return this.#closing.signal;
  }

  /** Timers currently scheduled. */
  get activeTimers(): number {
    return this.#liveTimers.size;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#timers.setTimeout(() => {
      this.#liveTimers.delete(handle);
      callback();
    }, ms);
    this.#liveTimers.add(handle);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    if (handle === undefined) return;
    this.#liveTimers.delete(handle);
    this.#timers.clearTimeout(handle);
  }

  /** Resolves after `ms`; rejects with AbortError on `signal`, or ConnectionClosedError on close. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#closed) return reject(closedError());
      if (signal?.aborted) return reject(new AbortError('aborted', { cause: signal.reason }));
      const done = (error?: Error): void => {
        this.clearTimeout(timer);
        this.#cancelers.delete(cancel);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const cancel = (): void => done(closedError());
      const onAbort = (): void => done(new AbortError('aborted', { cause: signal?.reason }));
      const timer = this.setTimeout(() => done(), ms);
      this.#cancelers.add(cancel);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  checkOpen(signal?: AbortSignal): void {
    if (this.#closed) throw closedError();
    if (signal?.aborted) throw new AbortError('aborted', { cause: signal.reason });
  }

  /** Marks the service closed and aborts {@link Lifecycle.signal}. */
  close(): void {
    this.#closed = true;
    this.#closing.abort();
  }

  /** Cuts every sleep short (ConnectionClosedError), then clears every timer. */
  cancelAll(): void {
    for (const cancel of [...this.#cancelers]) cancel();
    this.clearTimers();
  }

  clearTimers(): void {
    for (const handle of [...this.#liveTimers]) this.clearTimeout(handle);
  }
}
