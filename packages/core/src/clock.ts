/**
 * Time as every component sees it: the current time and one-shot timers. Each package takes an optional `clock`
 * (default {@link systemClock}) so tests can count live timers or run on a {@link ManualClock} without waiting.
 * Components that only read the time accept `Pick<Clock, 'now'>`.
 * @example const clock: Clock = { now: Date.now, setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout }
 */
export interface Clock {
  /** Milliseconds; only differences matter, except where a component says so (the ENR sequence number). */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer; nothing when it already fired or was cleared. */
  clearTimeout(handle: unknown): void;
}

/**
 * The runtime's clock: `Date.now` and its timers.
 * @example new RLPxConnection(stream, { privateKey, clock: systemClock })
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

/**
 * Stops a timer handle from keeping the process alive where the runtime supports it (Node, Bun and Deno's Node
 * timers); nothing for other handles, such as a {@link ManualClock}'s.
 * @example unrefTimer(clock.setTimeout(flush, 1_000))
 */
export function unrefTimer(handle: unknown): void {
  if (typeof handle === 'number') deno?.unrefTimer?.(handle);
  else if (typeof handle === 'object' && handle !== null && 'unref' in handle && typeof handle.unref === 'function') {
    handle.unref();
  }
}

/** Deno's global timers are numbers, unref'd through `Deno.unrefTimer`; Node's and Bun's are objects. */
const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** Lets every promise chain queued so far settle: one macrotask turn of the real event loop. */
function settle(): Promise<void> {
  return new Promise((resolve) => globalThis.setTimeout(resolve, 0));
}

/**
 * A clock that moves only when told to: timers fire in order of their due time (then of creation) as
 * {@link ManualClock.advance} passes it, with promise chains settling between two timers. For deterministic tests.
 * @example
 * const clock = new ManualClock()
 * clock.setTimeout(() => console.log('fired at', clock.now()), 1_000)
 * await clock.advance(1_000) // fired at 1000
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Returns an object handle, never a number, so it cannot be taken for one of Deno's timer ids. */
  setTimeout(callback: () => void, ms: number): unknown {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + Math.max(0, ms), seq, callback });
    return { manualTimer: seq };
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'object' && handle !== null && 'manualTimer' in handle) {
      this.#timers.delete(handle.manualTimer as number);
    }
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Due time of the next timer, or undefined when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.#next()?.at;
  }

  /** Lets pending promise chains settle without moving time. */
  flush(): Promise<void> {
    return settle();
  }

  /**
   * Moves time forward by `ms`, firing each timer due on the way at its due time; timers set by those callbacks
   * fire too when due within the window.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#next();
      if (!next || next.at > until) break;
      this.#timers.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
      await settle();
    }
    this.#now = until;
    await settle();
  }

  #next(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    return best;
  }
}
