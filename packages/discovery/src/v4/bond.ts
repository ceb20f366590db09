/**
 * Endpoint proofs (geth v4_udp.go `ensureBond` and the node database's pong times): we answer FindNode and
 * ENRRequest only from a node whose pong to our ping is recent, and before asking a node anything we make sure
 * it holds a recent pong of ours.
 */
import { AbortError } from '@devp2p/core';
import type { Endpoint, Node, NodeDatabase, NodeId } from '@devp2p/enode';
import { BoundedMap } from '../bounded-map.ts';
import { BOND_EXPIRATION_MS, MAX_FINDNODE_FAILURES, MAX_PENDING_REPLIES, MAX_PING_RECORDS } from '../constants.ts';
import type { Lifecycle } from '../lifecycle.ts';

/**
 * Options of {@link Bonds}.
 * @example new Bonds({ db, now, lifecycle, respTimeout, ping: (id, to, signal) => service.ping(id, to, signal) })
 */
export interface BondsOptions {
  readonly db: NodeDatabase;
  readonly now: () => number;
  readonly lifecycle: Lifecycle;
  readonly respTimeout: number;
  /** Sends a Ping and resolves when the matching Pong came. */
  readonly ping: (id: NodeId, to: Endpoint, signal?: AbortSignal) => Promise<unknown>;
  /** Told when an endpoint proof fails (for the stats). */
  readonly onFailure?: () => void;
}

/**
 * The endpoint-proof state of one discv4 service.
 * @example if (!bonds.bonded(id, ip)) return 'unbonded'
 */
export class Bonds {
  readonly #db: NodeDatabase;
  readonly #now: () => number;
  readonly #lifecycle: Lifecycle;
  readonly #respTimeout: number;
  readonly #ping: (id: NodeId, to: Endpoint, signal?: AbortSignal) => Promise<unknown>;
  readonly #onFailure: (() => void) | undefined;
  readonly #lastPing = new BoundedMap<number>(MAX_PING_RECORDS);
  readonly #pingWaiters = new Map<string, Set<() => void>>();

  constructor(options: BondsOptions) {
    this.#db = options.db;
    this.#now = options.now;
    this.#onFailure = options.onFailure;
    this.#lifecycle = options.lifecycle;
    this.#respTimeout = options.respTimeout;
    this.#ping = options.ping;
  }

  /** True when `id` at `ip` answered a ping of ours within {@link BOND_EXPIRATION_MS}. */
  bonded(id: NodeId, ip: string): boolean {
    return this.#now() - this.#db.lastPongReceived(id, ip) < BOND_EXPIRATION_MS;
  }

  /** Records a Ping from `id` at `ip` (it gets our pong), waking {@link Bonds.ensureBond} waiting for it. */
  pingReceived(id: NodeId, ip: string): void {
    const key = `${id.hex}|${ip}`;
    this.#lastPing.set(key, this.#now());
    const waiters = this.#pingWaiters.get(key);
    if (waiters) for (const wake of [...waiters]) wake();
  }

  /** Makes sure the remote has a recent pong from us before we ask it anything (geth `ensureBond`). */
  async ensureBond(node: Node, to: Endpoint, signal?: AbortSignal): Promise<void> {
    const key = `${node.id.hex}|${to.ip}`;
    const lastPing = this.#lastPing.get(key) ?? 0;
    const tooOld = this.#now() - lastPing > BOND_EXPIRATION_MS;
    if (!tooOld && this.#db.findFails(node.id, to.ip) <= MAX_FINDNODE_FAILURES) return;
    try {
      await this.#ping(node.id, to, signal);
    } catch (err) {
      if (err instanceof AbortError || this.#lifecycle.closed) throw err;
      this.#onFailure?.();
      return;
    }
    // Wait (at most a reply timeout) for them to ping us back, and so to get our pong.
    if (this.#now() - (this.#lastPing.get(key) ?? 0) <= BOND_EXPIRATION_MS && lastPing !== this.#lastPing.get(key)) {
      return;
    }
    await this.#waitForPing(key, signal);
    // No ping back: they hold a recent pong from us already (or never will). Either way, do not wait again
    // for this endpoint until the bond would expire or FindNode starts failing.
    if (!this.#lastPing.has(key) || this.#lastPing.get(key) === lastPing) this.#lastPing.set(key, this.#now());
  }

  #waitForPing(key: string, signal?: AbortSignal): Promise<void> {
    if (!this.#pingWaiters.has(key) && this.#pingWaiters.size >= MAX_PENDING_REPLIES) return Promise.resolve();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let waiters = this.#pingWaiters.get(key);
    if (!waiters) {
      waiters = new Set();
      this.#pingWaiters.set(key, waiters);
    }
    const wake = (): void => controller.abort();
    waiters.add(wake);
    return this.#lifecycle
      .sleep(this.#respTimeout, controller.signal)
      .catch((err: unknown) => {
        if (signal?.aborted || this.#lifecycle.closed) throw err;
      })
      .finally(() => {
        signal?.removeEventListener('abort', onAbort);
        waiters.delete(wake);
        if (waiters.size === 0) this.#pingWaiters.delete(key);
      });
  }

  /** Forgets the waits for pings (on close). */
  clear(): void {
    this.#pingWaiters.clear();
  }
}
