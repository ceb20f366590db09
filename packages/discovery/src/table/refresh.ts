/**
 * Table refresh (geth p2p/discover/table.go `doRefresh` and its loop): seed the table from the node database and
 * the bootnodes, look up our own id, then random targets, now and every refresh interval. Protocol-neutral: the
 * caller supplies the lookups.
 */
import type { Logger } from '@devp2p/core';
import type { Node } from '@devp2p/enode';
import { SEED_COUNT, SEED_MAX_AGE_MS } from '../constants.ts';
import type { TableContext } from './lookup.ts';

/**
 * Options of {@link Refresh}.
 * @example new Refresh({ ctx, bootnodes, intervalMs, randomLookups: 3, log, lookupSelf, lookupRandom })
 */
export interface RefreshOptions {
  readonly ctx: TableContext;
  /** Added to the table on every refresh. */
  readonly bootnodes: readonly Node[];
  /** Period of the refresh. */
  readonly intervalMs: number;
  /** Random lookups after the self lookup. */
  readonly randomLookups: number;
  readonly log: Logger;
  /** A lookup for our own id. */
  readonly lookupSelf: (signal: AbortSignal) => Promise<unknown>;
  /** A lookup for a random target. */
  readonly lookupRandom: (signal: AbortSignal) => Promise<unknown>;
}

/**
 * The refresh loop of one discovery service.
 * @example const refresh = new Refresh(options); refresh.start(); await refresh.refresh()
 */
export class Refresh {
  readonly #options: RefreshOptions;
  #initDone = false;
  #running: Promise<void> | undefined;

  constructor(options: RefreshOptions) {
    this.#options = options;
  }

  /** Whether the first refresh is over (geth `isInitDone`). */
  get initDone(): boolean {
    return this.#initDone;
  }

  /** The refresh under way, if any. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Refreshes now and then every interval, until the lifecycle closes. */
  start(): void {
    const { lifecycle } = this.#options.ctx;
    const run = (): void => {
      if (lifecycle.closed) return;
      this.refresh().then(
        () => undefined,
        () => undefined,
      );
      lifecycle.setTimeout(run, this.#options.intervalMs);
    };
    run();
  }

  /** Seeds the table, then runs a self lookup and the random lookups; returns the running refresh if one is on. */
  refresh(): Promise<void> {
    this.#running ??= (async () => {
      const { ctx, bootnodes, randomLookups, log, lookupSelf, lookupRandom } = this.#options;
      try {
        for (const seed of ctx.db.seeds(SEED_COUNT, SEED_MAX_AGE_MS)) ctx.table.addFoundNode(seed);
        for (const boot of bootnodes) ctx.table.addFoundNode(boot);
        await lookupSelf(ctx.lifecycle.signal);
        this.#initDone = true;
        for (let i = 0; i < randomLookups; i++) await lookupRandom(ctx.lifecycle.signal);
      } catch (err) {
        if (!ctx.lifecycle.closed) log.debug('refresh failed', { error: String(err) });
      } finally {
        this.#initDone = true;
        this.#running = undefined;
      }
    })();
    return this.#running;
  }
}
