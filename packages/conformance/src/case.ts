/**
 * What a conformance case is, and the machinery every case runs in: a deadline, an abort signal, the transports,
 * the local addresses to send from, and the resources to release whatever the outcome.
 */
import {
  type Clock,
  type DatagramTransport,
  type Logger,
  silentLogger,
  systemClock,
  type Transport,
} from '@devp2p/core';
import { isLoopback } from '@devp2p/discovery';
import type { Node } from '@devp2p/enode';
import type { ChainConfig } from '@devp2p/plugin-eth';
import { defaultTcp, defaultUdp } from './adapters/node-transports.ts';

/** The protocol a case checks: the node's discv4 or discv5 service (UDP) or its RLPx listener (TCP). */
export type SuiteName = 'discv4' | 'discv5' | 'rlpx';

/**
 * The outcome of one case: whether the node did what the rule requires, why (what it did, or what it did wrong),
 * and how long the case took.
 * @example const { pass, reason, ms } = await case.run(target)
 */
export interface CaseResult {
  readonly pass: boolean;
  readonly reason: string;
  readonly ms: number;
}

/** A case's result with its name, as {@link runCases} reports it. */
export interface NamedCaseResult extends CaseResult {
  readonly name: string;
}

/**
 * How cases run. Every field is optional: by default the cases use the runtime's clock and TCP/UDP, send from
 * 127.0.0.1 (and 127.0.0.2 where a second address is needed) to a loopback target, from any address otherwise.
 * @example await discv4Cases[0].run(target, { signal: AbortSignal.timeout(30_000) })
 */
export interface RunOptions {
  /** Aborting ends the case at once: it fails with reason "aborted" and releases its sockets. */
  readonly signal?: AbortSignal;
  /** Time and timers (deadlines, silence windows); {@link systemClock} by default. */
  readonly clock?: Clock;
  /** UDP for the discv4 and discv5 cases; `udpTransport` of `@devp2p/transport-node` by default. */
  readonly udp?: DatagramTransport;
  /** TCP for the RLPx cases; `tcpTransport` of `@devp2p/transport-node` by default. */
  readonly tcp?: Transport;
  /**
   * Local IP the discv4 and discv5 sockets bind (port 0: any free port). Default: 127.0.0.1 for an IPv4 loopback target,
   * ::1 for an IPv6 one, else 0.0.0.0 (or :: for an IPv6 target).
   */
  readonly listen?: string;
  /**
   * A second local IP, for the case that sends from another address of the same node id (geth's `--listen2`).
   * Default: 127.0.0.2 for an IPv4 loopback target (all of 127/8 is this machine on Linux); none otherwise, and
   * that case then fails saying so.
   */
  readonly listen2?: string;
  /** The network the node should be on: the eth cases then also check its Status names this chain. */
  readonly chain?: ChainConfig;
  /** Replaces each case's own deadline. */
  readonly timeoutMs?: number;
  /** Where the cases log what they send and receive (debug level); silent by default. */
  readonly logger?: Logger;
}

/**
 * One named conformance case: what it checks (`description`), where the rule comes from (`spec`), and `run`, which
 * never throws: every outcome, a crash included, is a {@link CaseResult}.
 * @example for (const c of discv4Cases) console.log(c.name, (await c.run(target)).pass)
 */
export interface ConformanceCase {
  readonly name: string;
  readonly suite: SuiteName;
  readonly description: string;
  /** The spec section (or geth suite) the rule comes from. */
  readonly spec: string;
  /** The case's own deadline; {@link RunOptions.timeoutMs} replaces it. */
  readonly timeoutMs: number;
  run(target: Node, options?: RunOptions): Promise<CaseResult>;
}

/** Thrown by a case body when the node broke the rule: its message is the result's reason. */
export class CaseFailure extends Error {
  override readonly name = 'CaseFailure';
}

/** Thrown into a case body's waits when the case is aborted (its deadline, or the caller's signal). */
class CaseAborted extends Error {
  override readonly name = 'CaseAborted';
}

/** The local address to send from for a target at `ip`, unless one was given. */
function defaultListen(ip: string | undefined): string {
  const ipv6 = ip?.includes(':') ?? false;
  if (ip !== undefined && isLoopback(ip)) return ipv6 ? '::1' : '127.0.0.1';
  return ipv6 ? '::' : '0.0.0.0';
}

/** Another loopback address on this machine, for a loopback IPv4 target; none otherwise. */
const SECOND_LOOPBACK = '127.0.0.2';

/**
 * What a case body works with: the target, its deadline's signal, the clock and transports, and a list of
 * resources released when the case ends.
 */
export class CaseContext {
  readonly target: Node;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly udp: DatagramTransport;
  readonly tcp: Transport;
  readonly listen: string;
  readonly listen2: string | undefined;
  readonly chain: ChainConfig | undefined;
  readonly log: Logger;
  /** What the case is doing now: named in the reason when the deadline passes. */
  step = 'starting';
  readonly #cleanups: (() => unknown)[] = [];
  /** Waits to end when the case is aborted: one listener on the signal for them all, however many sockets wait. */
  readonly #abortWaiters = new Set<() => void>();

  constructor(target: Node, signal: AbortSignal, options: RunOptions, name: string) {
    this.target = target;
    this.signal = signal;
    this.clock = options.clock ?? systemClock;
    this.udp = options.udp ?? defaultUdp;
    this.tcp = options.tcp ?? defaultTcp;
    this.listen = options.listen ?? defaultListen(target.ip);
    const loopback4 = target.ip !== undefined && !target.ip.includes(':') && isLoopback(target.ip);
    this.listen2 = options.listen2 ?? (loopback4 ? SECOND_LOOPBACK : undefined);
    this.chain = options.chain;
    this.log = (options.logger ?? silentLogger).child('conformance').with({ case: name });
    signal.addEventListener(
      'abort',
      () => {
        for (const wake of [...this.#abortWaiters]) wake();
      },
      { once: true },
    );
  }

  /** Registers a release to run when the case ends (last registered, first run); failures are ignored. */
  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** Ends the case as failed with `reason`. */
  fail(reason: string): never {
    throw new CaseFailure(reason);
  }

  /** Throws (ending the case) when it has been aborted. */
  checkOpen(): void {
    if (this.signal.aborted) throw new CaseAborted('aborted');
  }

  /**
   * Waits until `wake` is called, `ms` pass, or the case is aborted (which rejects). `register` is handed the
   * wake-up function and returns what undoes the registration.
   */
  nap(ms: number, register: (wake: () => void) => () => void = () => () => undefined): Promise<void> {
    this.checkOpen();
    return new Promise<void>((resolve, reject) => {
      let unregister: () => void = () => undefined;
      const finish = (error?: Error): void => {
        this.clock.clearTimeout(timer);
        this.#abortWaiters.delete(onAbort);
        unregister();
        if (error) reject(error);
        else resolve();
      };
      const onAbort = (): void => finish(new CaseAborted('aborted'));
      const timer = this.clock.setTimeout(() => finish(), Math.max(0, ms));
      this.#abortWaiters.add(onAbort);
      unregister = register(() => finish());
    });
  }

  /** Sleeps `ms` (rejects when the case is aborted). */
  sleep(ms: number): Promise<void> {
    return this.nap(ms);
  }

  /** Runs the registered releases, newest first. */
  async close(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // Releasing is best effort: the case's outcome is already decided.
      }
    }
  }
}

/**
 * A queue of what arrived from the node (datagrams, messages, a close), read with a wait.
 * @example const packet = await inbox.next(REPLY_TIMEOUT_MS) // undefined when nothing came in time
 */
export class Inbox<T> {
  readonly #ctx: CaseContext;
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;

  constructor(ctx: CaseContext) {
    this.#ctx = ctx;
  }

  /** Adds an item, waking a reader. */
  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  /** The oldest item, waiting at most `ms` for one; undefined when none came. Rejects when the case is aborted. */
  async next(ms: number): Promise<T | undefined> {
    const deadline = this.#ctx.clock.now() + ms;
    while (this.#items.length === 0) {
      const left = deadline - this.#ctx.clock.now();
      if (left <= 0) return undefined;
      await this.#ctx.nap(left, (wake) => {
        this.#wake = wake;
        return () => {
          if (this.#wake === wake) this.#wake = undefined;
        };
      });
    }
    return this.#items.shift();
  }
}

/** What a case definition gives {@link defineCase}. */
export interface CaseDefinition {
  readonly name: string;
  readonly suite: SuiteName;
  readonly description: string;
  readonly spec: string;
  readonly timeoutMs: number;
  /** Runs the case: resolves with the reason it passed, or throws ({@link CaseContext.fail}) with why it failed. */
  readonly body: (ctx: CaseContext) => Promise<string>;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes a case from its definition: `run` applies the deadline, turns every outcome into a {@link CaseResult} and
 * releases what the body opened.
 * @example export const myCase = defineCase({ name: 'x', suite: 'discv4', description, spec, timeoutMs, body })
 */
export function defineCase(definition: CaseDefinition): ConformanceCase {
  const { name, suite, description, spec, timeoutMs } = definition;
  return {
    name,
    suite,
    description,
    spec,
    timeoutMs,
    run: (target, options = {}) => runCase(definition, target, options),
  };
}

async function runCase(definition: CaseDefinition, target: Node, options: RunOptions): Promise<CaseResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const timeoutMs = options.timeoutMs ?? definition.timeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = (): void => controller.abort();
  if (options.signal?.aborted) controller.abort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const ctx = new CaseContext(target, controller.signal, options, definition.name);
  let pass = false;
  let reason: string;
  try {
    ctx.checkOpen();
    reason = await definition.body(ctx);
    pass = true;
  } catch (error) {
    if (timedOut) reason = `no outcome within the ${timeoutMs} ms deadline (${ctx.step})`;
    else if (options.signal?.aborted) reason = 'aborted';
    else if (error instanceof CaseFailure) reason = error.message;
    else reason = `error: ${message(error)}`;
  } finally {
    clock.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await ctx.close();
  }
  ctx.log.debug(pass ? 'pass' : 'fail', { reason });
  return { pass, reason, ms: clock.now() - started };
}

/** Options of {@link runCases}. */
export interface RunCasesOptions extends RunOptions {
  /** Only the cases whose name matches (the CLI's `--run`). */
  readonly filter?: RegExp;
  /** Called after each case, in order (progress output). */
  readonly onResult?: (result: NamedCaseResult) => void;
}

/**
 * Runs cases one after another against one target (each with its own sockets and deadline) and returns their
 * results in order. Stops early, with the remaining cases reported as aborted, when `signal` aborts.
 * @example const results = await runCases(discv4Cases, parseNode(enode), { filter: /^ping\// })
 */
export async function runCases(
  cases: readonly ConformanceCase[],
  target: Node,
  options: RunCasesOptions = {},
): Promise<NamedCaseResult[]> {
  const results: NamedCaseResult[] = [];
  for (const c of cases) {
    if (options.filter && !options.filter.test(c.name)) continue;
    const result = { name: c.name, ...(await c.run(target, options)) };
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}
