import {
  AbortError,
  type Clock,
  defaultLogger,
  type LogFields,
  type Logger,
  systemClock,
  TimeoutError,
  TypedEventTarget,
} from '@devp2p/core';
import { Node } from '@devp2p/enode';
import { lookupHost } from './adapters/node-dns.ts';
import {
  CANDIDATE_DISCARD_LIMIT,
  CANDIDATE_PAUSE_MS,
  DIAL_HISTORY_EXPIRATION_MS,
  DIAL_STATS_LOG_INTERVAL_MS,
  DIAL_STATS_PEER_LIMIT,
  DIAL_TIMEOUT_MS,
  INITIAL_RESOLVE_DELAY_MS,
  MAX_RESOLVE_DELAY_MS,
} from './constants.ts';
import type {
  DialHost,
  DialOutcome,
  DialScheduler,
  HostResolver,
  NodeResolver,
  NodeSource,
  ResolveOptions,
} from './types.ts';

/**
 * Options of a {@link Dialer}; every one has a default.
 * @example new Dialer({ nodeSources: [(signal) => discovery.randomNodes({ signal })], resolve: (n, o) => discovery.resolve(n, o) })
 */
export interface DialerOptions {
  /** Where dynamic dial candidates come from, mixed fairly (default: none, static nodes only). */
  readonly nodeSources?: readonly NodeSource[];
  /** Finds a static node's current address by id through discovery (default: none, never resolved). */
  readonly resolve?: NodeResolver;
  /** Resolves the DNS names of static nodes before each dial (default `lookupHost` on `node:dns`). */
  readonly resolveHost?: HostResolver;
  /** Time and timers (default {@link systemClock}; tests pass a {@link ManualClock}). */
  readonly clock?: Clock;
  /** Random numbers in [0, 1) picking the next static node (default `Math.random`). */
  readonly random?: () => number;
  readonly logger?: Logger;
  /** More fields for the "looking for peers" line (the node adds its discovery table size). */
  readonly statusFields?: () => LogFields;
  /** Deadline of one dial attempt (default {@link DIAL_TIMEOUT_MS}). */
  readonly dialTimeoutMs?: number;
  /** Time before a node is dialed again (default {@link DIAL_HISTORY_EXPIRATION_MS}). */
  readonly historyExpirationMs?: number;
  /** First backoff between resolutions of a static node (default {@link INITIAL_RESOLVE_DELAY_MS}). */
  readonly initialResolveDelayMs?: number;
  /** Longest backoff between resolutions of a static node (default {@link MAX_RESOLVE_DELAY_MS}). */
  readonly maxResolveDelayMs?: number;
}

/**
 * Events of a {@link Dialer}.
 * @example dialer.on('resolve', ({ id, node, nextResolveInMs }) => log.debug('resolve', { id, found: !!node, nextResolveInMs }))
 */
export interface DialerEvents {
  /** One dial attempt ended (or a static node could not be resolved: `unresolved`). */
  dial: { readonly node: Node; readonly static: boolean; readonly outcome: DialOutcome };
  /** A static node was looked up through discovery; `node` is undefined when it was not found. */
  resolve: { readonly id: string; readonly node: Node | undefined; readonly nextResolveInMs: number };
}

/**
 * A snapshot of the scheduler's state, for metrics, `admin` APIs and tests.
 * @example const { dialing, dialedPeers } = dialer.status()
 */
export interface DialerStatus {
  readonly running: boolean;
  /** Dials in flight. */
  readonly dialing: number;
  /** Connected peers we dialed (they fill the outbound slots). */
  readonly dialedPeers: number;
  /** Connected peers, both directions. */
  readonly peers: number;
  readonly staticNodes: number;
  /** Nodes dialed recently, not to be dialed again before their entry expires. */
  readonly history: number;
}

/**
 * The reasons a node is not dialed (geth's `checkDial` errors).
 * @example if (dialer.checkDial(node) === 'recently dialed') log.trace('dialed in the last 35 s')
 */
export type DialSkipReason =
  | 'self'
  | 'no TCP endpoint'
  | 'already dialing'
  | 'already connected'
  | 'pending inbound handshake'
  | 'not in netrestrict list'
  | 'recently dialed';

interface StaticEntry {
  readonly id: string;
  node: Node;
  inPool: boolean;
  /** No resolution through discovery before this time. */
  nextResolveAt: number | undefined;
  /** The wait after the next failed resolution. */
  resolveDelay: number;
}

interface DialInFlight {
  readonly controller: AbortController;
  readonly static: boolean;
  done: Promise<void>;
}

interface SourceState {
  readonly iterator: AsyncIterator<Node> | undefined;
  ready: Node | undefined;
  pending: boolean;
  done: boolean;
}

function positive(value: number | undefined, fallback: number, label: string): number {
  const v = value ?? fallback;
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) {
    throw new RangeError(`${label} must be a positive number of ms, got ${value}`);
  }
  return v;
}

/** Resolves with `promise`, or with `onAbort()` as soon as `signal` aborts, whichever comes first. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => resolve(onAbort());
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sameEndpoint(a: Node, b: Node): boolean {
  const x = a.tcpEndpoint();
  const y = b.tcpEndpoint();
  return x !== undefined && y !== undefined && x.ip === y.ip && x.port === y.port;
}

/**
 * The dial scheduler, after geth's `p2p/dial.go`: keeps the static nodes connected (redialed after a failure or a
 * disconnect, resolved through discovery with backoff when their address is missing or fails, DNS names resolved
 * before each dial), fills the outbound slots from node sources mixed fairly, and never dials ourselves, a node
 * connected, being dialed, in an inbound handshake, without a TCP port, outside NetRestrict, or dialed within the
 * last {@link DIAL_HISTORY_EXPIRATION_MS}.
 *
 * It is driven by events (start, static nodes added and removed, peers added and removed, dials ending, history
 * entries expiring) and does all its waiting on the injected {@link Clock}, so its tests need no sockets or time.
 *
 * @example
 * const dialer = new Dialer({ nodeSources: [(signal) => discovery.randomNodes({ signal })] })
 * const server = createServer({ privateKey, dialer })
 * dialer.on('dial', ({ node, outcome }) => console.log(node.id.short(), outcome.kind))
 * await server.start()
 */
export class Dialer extends TypedEventTarget<DialerEvents> implements DialScheduler {
  readonly #clock: Clock;
  readonly #statusFields: (() => LogFields) | undefined;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #resolve: NodeResolver | undefined;
  readonly #resolveHost: HostResolver;
  readonly #sourceInputs: readonly NodeSource[];
  readonly #dialTimeoutMs: number;
  readonly #historyExpirationMs: number;
  readonly #initialResolveDelayMs: number;
  readonly #maxResolveDelayMs: number;

  #host: DialHost | undefined;
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #stopped: Promise<void> | undefined;
  readonly #stopController = new AbortController();
  readonly #static = new Map<string, StaticEntry>();
  /** Static nodes ready to be dialed (not connected, not dialing, not recently dialed). */
  readonly #staticPool: StaticEntry[] = [];
  readonly #dialing = new Map<string, DialInFlight>();
  /** Connected peers: id → whether we dialed it. */
  readonly #peers = new Map<string, boolean>();
  #dialedPeers = 0;
  /** id → time until which it is not dialed; in insertion order, which is expiry order (constant expiration). */
  readonly #history = new Map<string, number>();
  #historyTimer: unknown;
  #historyTimerAt: number | undefined;
  #sources: SourceState[] = [];
  #rotation = 0;
  #discards = 0;
  #pauseTimer: unknown;
  #scheduling = false;
  #rerun = false;
  #lastStatsLog = 0;
  #doneSinceLog = 0;

  constructor(options: DialerOptions = {}) {
    super();
    this.#clock = options.clock ?? systemClock;
    this.#statusFields = options.statusFields;
    this.#random = options.random ?? Math.random;
    this.#log = (options.logger ?? defaultLogger()).child('dial');
    this.#resolve = options.resolve;
    this.#resolveHost = options.resolveHost ?? lookupHost;
    this.#sourceInputs = [...(options.nodeSources ?? [])];
    this.#dialTimeoutMs = positive(options.dialTimeoutMs, DIAL_TIMEOUT_MS, 'dialTimeoutMs');
    this.#historyExpirationMs = positive(
      options.historyExpirationMs,
      DIAL_HISTORY_EXPIRATION_MS,
      'historyExpirationMs',
    );
    this.#initialResolveDelayMs = positive(
      options.initialResolveDelayMs,
      INITIAL_RESOLVE_DELAY_MS,
      'initialResolveDelayMs',
    );
    this.#maxResolveDelayMs = positive(options.maxResolveDelayMs, MAX_RESOLVE_DELAY_MS, 'maxResolveDelayMs');
  }

  /** Starts dialing for `host`. A stopped dialer cannot be started again. */
  start(host: DialHost): void {
    if (this.#state !== 'idle') throw new Error(`dialer already ${this.#state}`);
    this.#host = host;
    this.#state = 'running';
    this.#lastStatsLog = this.#clock.now();
    const signal = this.#stopController.signal;
    this.#sources = this.#sourceInputs.map((input) => {
      let iterator: AsyncIterator<Node> | undefined;
      try {
        const iterable = typeof input === 'function' ? input(signal) : input;
        iterator = iterable[Symbol.asyncIterator]();
      } catch (error) {
        this.#log.warn('node source failed to start', { error: errorMessage(error) });
      }
      return { iterator, ready: undefined, pending: false, done: iterator === undefined };
    });
    for (const entry of this.#static.values()) this.#updateStaticPool(entry.id);
    this.#schedule();
  }

  addStatic(node: Node): void {
    const id = node.id.hex;
    const existing = this.#static.get(id);
    if (existing) {
      existing.node = node;
      return;
    }
    this.#log.trace('adding static node', { id: id.slice(0, 16) });
    this.#static.set(id, {
      id,
      node,
      inPool: false,
      nextResolveAt: undefined,
      resolveDelay: this.#initialResolveDelayMs,
    });
    if (this.#state !== 'running') return;
    this.#updateStaticPool(id);
    this.#schedule();
  }

  removeStatic(id: string): void {
    const entry = this.#static.get(id);
    if (!entry) return;
    this.#log.trace('removing static node', { id: id.slice(0, 16) });
    this.#static.delete(id);
    if (entry.inPool) this.#removeFromPool(entry);
    const dial = this.#dialing.get(id);
    if (dial?.static) dial.controller.abort(new AbortError('static node removed'));
  }

  peerAdded(id: string, inbound: boolean): void {
    if (this.#peers.has(id)) return;
    this.#peers.set(id, !inbound);
    if (!inbound) this.#dialedPeers++;
    const entry = this.#static.get(id);
    if (entry?.inPool) this.#removeFromPool(entry);
    this.#schedule();
  }

  peerRemoved(id: string): void {
    const dialed = this.#peers.get(id);
    if (dialed === undefined) return;
    this.#peers.delete(id);
    if (dialed) this.#dialedPeers--;
    this.#updateStaticPool(id);
    this.#schedule();
  }

  /** Aborts the dials in flight, closes the node sources and clears every timer; idempotent. */
  close(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopped';
    if (!wasRunning) return;
    this.#stopController.abort(new AbortError('dialer stopping'));
    if (this.#historyTimer !== undefined) this.#clock.clearTimeout(this.#historyTimer);
    if (this.#pauseTimer !== undefined) this.#clock.clearTimeout(this.#pauseTimer);
    this.#historyTimer = this.#pauseTimer = this.#historyTimerAt = undefined;
    for (const source of this.#sources) {
      source.ready = undefined;
      // return() of an async generator waits for a pending next(); it is not awaited, its result is ignored.
      source.iterator?.return?.().catch(() => undefined);
    }
    const dials = [...this.#dialing.values()];
    for (const dial of dials) dial.controller.abort(this.#stopController.signal.reason);
    await Promise.all(dials.map((d) => d.done));
    this.#staticPool.length = 0;
    this.#host = undefined;
  }

  /** The scheduler's state now. */
  status(): DialerStatus {
    return {
      running: this.#state === 'running',
      dialing: this.#dialing.size,
      dialedPeers: this.#dialedPeers,
      peers: this.#peers.size,
      staticNodes: this.#static.size,
      history: this.#history.size,
    };
  }

  /**
   * Why `node` would not be dialed now, or undefined when it would (geth's `checkDial`). A static node without an
   * address passes: it is resolved when its dial starts.
   */
  checkDial(node: Node, isStatic = false): DialSkipReason | undefined {
    const id = node.id.hex;
    const host = this.#host;
    if (host && id === host.selfId) return 'self';
    const endpoint = node.tcpEndpoint();
    if (!endpoint && !(isStatic && node.ip === undefined)) return 'no TCP endpoint';
    if (this.#dialing.has(id)) return 'already dialing';
    if (this.#peers.has(id)) return 'already connected';
    if (host?.isPendingInbound(id)) return 'pending inbound handshake';
    if (endpoint && host?.allowsIp && !host.allowsIp(endpoint.ip)) return 'not in netrestrict list';
    if (this.#history.has(id)) return 'recently dialed';
    return undefined;
  }

  /**
   * Dials may be started while this is positive (geth's `freeDialSlots`); negative when peers connected while their
   * dials were still running.
   */
  #freeDialSlots(host: DialHost): number {
    // Geth's formula, over-dialing on purpose: twice the free outbound slots are dialed at once, because many dials
    // fail (the node is gone, full, on another network, ...) and waiting for each before trying the next would fill
    // the slots slowly. The surplus that does connect is refused by the server's outbound limit. Capped by
    // maxPendingPeers (geth's maxActiveDials): each dial holds a handshake slot.
    const slots = Math.min((host.maxDialedConns - this.#dialedPeers) * 2, host.maxPendingPeers);
    return slots - this.#dialing.size;
  }

  #schedule(): void {
    if (this.#state !== 'running') return;
    if (this.#scheduling) {
      this.#rerun = true;
      return;
    }
    this.#scheduling = true;
    try {
      do {
        this.#rerun = false;
        this.#step(this.#host!);
      } while (this.#rerun && this.#state === 'running');
    } finally {
      this.#scheduling = false;
    }
  }

  #step(host: DialHost): void {
    this.#expireHistory();
    let slots = this.#freeDialSlots(host);
    slots -= this.#startStaticDials(slots);
    if (slots > 0) slots -= this.#startDynamicDials(slots);
    if (slots > 0 && this.#discards < CANDIDATE_DISCARD_LIMIT) this.#pull();
    this.#rearmHistoryTimer();
    this.#logStats(host);
  }

  #startStaticDials(slots: number): number {
    let started = 0;
    while (started < slots && this.#staticPool.length > 0) {
      const index = Math.min(Math.floor(this.#random() * this.#staticPool.length), this.#staticPool.length - 1);
      const entry = this.#staticPool[index]!;
      this.#removeFromPool(entry);
      if (this.#checkStatic(entry) !== undefined) continue;
      this.#startDial(entry.node, true);
      started++;
    }
    return started;
  }

  /** Takes candidates from the sources in turn, one per source per round, so no source starves the others. */
  #startDynamicDials(slots: number): number {
    let started = 0;
    const count = this.#sources.length;
    while (started < slots && this.#discards < CANDIDATE_DISCARD_LIMIT) {
      let node: Node | undefined;
      for (let k = 0; k < count && !node; k++) {
        const index = (this.#rotation + k) % count;
        const source = this.#sources[index]!;
        if (source.ready) {
          node = source.ready;
          source.ready = undefined;
          this.#rotation = (index + 1) % count;
        }
      }
      if (!node) break;
      const skip = this.checkDial(node, false);
      if (skip !== undefined) {
        this.#log.trace('discarding dial candidate', { id: node.id.hex.slice(0, 16), reason: skip });
        if (++this.#discards >= CANDIDATE_DISCARD_LIMIT) this.#pause();
        continue;
      }
      this.#discards = 0;
      this.#startDial(node, false);
      started++;
    }
    return started;
  }

  #pause(): void {
    if (this.#pauseTimer !== undefined) return;
    this.#pauseTimer = this.#clock.setTimeout(() => {
      this.#pauseTimer = undefined;
      this.#discards = 0;
      this.#schedule();
    }, CANDIDATE_PAUSE_MS);
  }

  /** Asks each source without a buffered candidate for its next node. */
  #pull(): void {
    for (const source of this.#sources) {
      if (source.ready || source.pending || source.done || !source.iterator) continue;
      source.pending = true;
      let next: Promise<IteratorResult<Node>>;
      try {
        next = Promise.resolve(source.iterator.next());
      } catch (error) {
        next = Promise.reject(error);
      }
      next.then(
        (result) => {
          source.pending = false;
          if (this.#state !== 'running') return;
          if (result.done) {
            source.done = true;
            this.#log.debug('node source ended');
          } else if (result.value instanceof Node) source.ready = result.value;
          this.#schedule();
        },
        (error: unknown) => {
          source.pending = false;
          source.done = true;
          if (this.#state !== 'running') return;
          this.#log.warn('node source failed', { error: errorMessage(error) });
          this.#schedule();
        },
      );
    }
  }

  #startDial(node: Node, isStatic: boolean): void {
    const id = node.id.hex;
    this.#log.trace('starting dial', { id: id.slice(0, 16), ip: node.ip, tcp: node.tcp, static: isStatic });
    this.#addHistory(id);
    const dial: DialInFlight = { controller: new AbortController(), static: isStatic, done: Promise.resolve() };
    this.#dialing.set(id, dial);
    dial.done = this.#run(node, isStatic, dial.controller.signal)
      .catch((error: unknown) =>
        this.#log.warn('dial task failed', { id: id.slice(0, 16), error: errorMessage(error) }),
      )
      .then(() => {
        this.#dialing.delete(id);
        this.#doneSinceLog++;
        this.#updateStaticPool(id);
        this.#schedule();
      });
  }

  /** One dial task (geth's `dialTask.run`). */
  async #run(node: Node, isStatic: boolean, signal: AbortSignal): Promise<void> {
    if (!isStatic) {
      await this.#attempt(node, false, signal);
      return;
    }
    const entry = this.#static.get(node.id.hex);
    let target = node;
    if (target.hostname !== undefined) target = await this.#lookupHost(entry, target, signal);
    if (signal.aborted) {
      this.#report(target, true, { kind: 'aborted' });
      return;
    }
    if (!target.tcpEndpoint()) {
      const resolved = await this.#resolveById(entry, target, signal);
      if (!resolved) {
        this.#report(target, true, signal.aborted ? { kind: 'aborted' } : { kind: 'unresolved' });
        return;
      }
      target = resolved;
    }
    const outcome = await this.#attempt(target, true, signal);
    // As geth: when a static node's address fails, look it up once more and dial the new address, if any.
    if ((outcome.kind === 'refused' || outcome.kind === 'timeout') && !signal.aborted) {
      const resolved = await this.#resolveById(entry, target, signal);
      if (resolved && !sameEndpoint(resolved, target)) await this.#attempt(resolved, true, signal);
    }
  }

  /** One connection attempt through the host, bounded by the dial timeout. */
  async #attempt(node: Node, isStatic: boolean, signal: AbortSignal): Promise<DialOutcome> {
    const host = this.#host;
    const endpoint = node.tcpEndpoint();
    if (!host || signal.aborted) return this.#report(node, isStatic, { kind: 'aborted' });
    if (!endpoint) {
      return this.#report(node, isStatic, {
        kind: 'refused',
        error: new TypeError(`node ${node.id.short()} has no TCP endpoint`),
      });
    }
    if (host.allowsIp && !host.allowsIp(endpoint.ip)) {
      return this.#report(node, isStatic, {
        kind: 'refused',
        error: new Error(`${endpoint.ip} is not in the netrestrict list`),
      });
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timeout = new TimeoutError('dial', this.#dialTimeoutMs, {
      remoteAddress: `${endpoint.ip}:${endpoint.port}`,
    });
    const timer = this.#clock.setTimeout(() => controller.abort(timeout), this.#dialTimeoutMs);
    let outcome: DialOutcome;
    try {
      const options = { signal: controller.signal, static: isStatic, timeoutMs: this.#dialTimeoutMs };
      outcome = await raceAbort(host.dial(node, options), controller.signal, () => ({ kind: 'aborted' }));
    } catch (error) {
      outcome = { kind: 'refused', error: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      this.#clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    if (outcome.kind === 'aborted' && controller.signal.reason === timeout)
      outcome = { kind: 'timeout', error: timeout };
    return this.#report(node, isStatic, outcome);
  }

  #report(node: Node, isStatic: boolean, outcome: DialOutcome): DialOutcome {
    this.#log.debug('dial ended', {
      id: node.id.hex.slice(0, 16),
      static: isStatic,
      outcome: outcome.kind,
      error: 'error' in outcome ? outcome.error.message : undefined,
    });
    this.emit('dial', { node, static: isStatic, outcome });
    return outcome;
  }

  /** Resolves a static node's DNS name; on failure keeps the address it had, as geth does. */
  async #lookupHost(entry: StaticEntry | undefined, node: Node, signal: AbortSignal): Promise<Node> {
    const hostname = node.hostname!;
    const options: ResolveOptions = { signal };
    try {
      const ip = await raceAbort(this.#resolveHost(hostname, options), signal, () => undefined);
      if (ip === undefined) return node;
      const resolved = node.withIp(ip);
      if (entry && this.#static.get(entry.id) === entry) entry.node = resolved;
      return resolved;
    } catch (error) {
      this.#log.warn('DNS lookup of static node failed', {
        id: node.id.hex.slice(0, 16),
        name: hostname,
        error: errorMessage(error),
      });
      return node;
    }
  }

  /**
   * Looks a static node up through discovery, at most once per backoff period (geth's `dialTask.resolve`): the wait
   * starts at the initial resolve delay, doubles after each failure up to the maximum, and is reset by a success.
   */
  async #resolveById(entry: StaticEntry | undefined, node: Node, signal: AbortSignal): Promise<Node | undefined> {
    const resolve = this.#resolve;
    if (!resolve || !entry) return undefined;
    if (entry.nextResolveAt !== undefined && this.#clock.now() < entry.nextResolveAt) return undefined;
    let found: Node | undefined;
    try {
      found = await raceAbort(resolve(node, { signal }), signal, () => undefined);
    } catch (error) {
      this.#log.debug('resolving node failed', { id: entry.id.slice(0, 16), error: errorMessage(error) });
    }
    if (signal.aborted) return undefined;
    if (found && (!(found instanceof Node) || found.id.hex !== entry.id || !found.tcpEndpoint())) found = undefined;
    const now = this.#clock.now();
    if (found) {
      entry.resolveDelay = this.#initialResolveDelayMs;
      entry.nextResolveAt = now + this.#initialResolveDelayMs;
      if (this.#static.get(entry.id) === entry) entry.node = found;
      this.#log.debug('resolved node', { id: entry.id.slice(0, 16), ip: found.ip, tcp: found.tcp });
    } else {
      entry.nextResolveAt = now + entry.resolveDelay;
      this.#log.debug('resolving node failed', { id: entry.id.slice(0, 16), retryInMs: entry.resolveDelay });
      entry.resolveDelay = Math.min(entry.resolveDelay * 2, this.#maxResolveDelayMs);
    }
    this.emit('resolve', { id: entry.id, node: found, nextResolveInMs: entry.nextResolveAt - now });
    return found;
  }

  /** A static node's reason not to be dialed now; one in an inbound handshake is paced like a dial. */
  #checkStatic(entry: StaticEntry): DialSkipReason | undefined {
    const skip = this.checkDial(entry.node, true);
    // Nothing tells the scheduler when an inbound handshake fails, so the node gets a history entry: if it does not
    // become a peer, it is dialed when the entry expires, as after a failed dial.
    if (skip === 'pending inbound handshake') this.#addHistory(entry.id);
    return skip;
  }

  /** Puts a static node back in the pool when it may be dialed (geth's `updateStaticPool`). */
  #updateStaticPool(id: string): void {
    const entry = this.#static.get(id);
    if (!entry || entry.inPool || this.#state !== 'running') return;
    if (this.#checkStatic(entry) !== undefined) return;
    entry.inPool = true;
    this.#staticPool.push(entry);
  }

  #removeFromPool(entry: StaticEntry): void {
    const index = this.#staticPool.indexOf(entry);
    if (index >= 0) {
      this.#staticPool[index] = this.#staticPool[this.#staticPool.length - 1]!;
      this.#staticPool.pop();
    }
    entry.inPool = false;
  }

  #addHistory(id: string): void {
    this.#history.delete(id);
    this.#history.set(id, this.#clock.now() + this.#historyExpirationMs);
  }

  #expireHistory(): void {
    const now = this.#clock.now();
    for (const [id, until] of this.#history) {
      if (until > now) break;
      this.#history.delete(id);
      this.#updateStaticPool(id);
    }
  }

  #rearmHistoryTimer(): void {
    const first = this.#history.values().next();
    const at = first.done ? undefined : first.value;
    if (at === this.#historyTimerAt) return;
    if (this.#historyTimer !== undefined) this.#clock.clearTimeout(this.#historyTimer);
    this.#historyTimer = undefined;
    this.#historyTimerAt = at;
    if (at === undefined) return;
    this.#historyTimer = this.#clock.setTimeout(
      () => {
        this.#historyTimer = undefined;
        this.#historyTimerAt = undefined;
        this.#schedule();
      },
      Math.max(0, at - this.#clock.now()),
    );
  }

  /** Geth's "Looking for peers" line: while few peers were dialed, at most every {@link DIAL_STATS_LOG_INTERVAL_MS}. */
  #logStats(host: DialHost): void {
    const now = this.#clock.now();
    if (now - this.#lastStatsLog < DIAL_STATS_LOG_INTERVAL_MS) return;
    if (this.#dialedPeers < DIAL_STATS_PEER_LIMIT && this.#dialedPeers < host.maxDialedConns) {
      this.#log.info('looking for peers', {
        peers: this.#peers.size,
        tried: this.#doneSinceLog,
        static: this.#static.size,
        ...this.#statusFields?.(),
      });
    }
    this.#doneSinceLog = 0;
    this.#lastStatsLog = now;
  }
}
