import { systemTimers, type Timers } from '@devp2p/core';

/**
 * Time as the scheduler sees it: the current time in milliseconds and timers. Injected so tests run the scheduler
 * on a {@link ManualClock} with no real waiting.
 * @example const clock: Clock = { now: Date.now, ...systemTimers }
 */
export interface Clock extends Timers {
  /** Milliseconds; only differences matter. */
  now(): number;
}

/**
 * The runtime's clock: `Date.now` and its timers.
 * @example new Dialer({ clock: systemClock })
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: systemTimers.setTimeout,
  clearTimeout: systemTimers.clearTimeout,
};

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

  setTimeout(callback: () => void, ms: number): unknown {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + Math.max(0, ms), seq, callback });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
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
