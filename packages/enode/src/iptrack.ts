import { type Clock, systemClock } from '@devp2p/core';
import type { Endpoint } from './node.ts';

/**
 * How long an endpoint statement counts (geth `iptrackWindow`): old statements describe old NAT mappings.
 * @example new IpTracker({ window: IPTRACK_WINDOW_MS })
 */
export const IPTRACK_WINDOW_MS: number = 5 * 60 * 1000;
/**
 * How long a contact (a packet we sent) is remembered (geth `iptrackContactWindow`).
 * @example new IpTracker({ contactWindow: IPTRACK_CONTACT_WINDOW_MS })
 */
export const IPTRACK_CONTACT_WINDOW_MS: number = 10 * 60 * 1000;
/**
 * Statements needed before any prediction (geth `iptrackMinStatements`): a few liars can't move our address.
 * @example new IpTracker({ minStatements: IPTRACK_MIN_STATEMENTS })
 */
export const IPTRACK_MIN_STATEMENTS = 10;

/**
 * Options for {@link IpTracker}; the defaults are geth's.
 * @example new IpTracker({ minStatements: 3, clock: new ManualClock() })
 */
export interface IpTrackerOptions {
  /** Statement lifetime in ms (default {@link IPTRACK_WINDOW_MS}). */
  window?: number;
  /** Contact lifetime in ms (default {@link IPTRACK_CONTACT_WINDOW_MS}). */
  contactWindow?: number;
  /** Statements needed before predicting (default {@link IPTRACK_MIN_STATEMENTS}). */
  minStatements?: number;
  /** Clock for statement ages (default {@link systemClock}). */
  clock?: Pick<Clock, 'now'>;
}

interface Statement {
  readonly endpoint: Endpoint;
  readonly key: string;
  readonly time: number;
}

/**
 * Predicts our external endpoint from what other hosts say it is (discv4 pong `to` fields): the endpoint
 * most hosts state within the window, once at least `minStatements` hosts agree. One vote per host.
 *
 * @example
 * const tracker = new IpTracker()
 * tracker.addStatement(from.ip, pong.to)   // for each pong
 * tracker.predictEndpoint()                // { ip: '203.0.113.7', port: 30303 } once 10 hosts agree
 */
export class IpTracker {
  readonly #window: number;
  readonly #contactWindow: number;
  readonly #minStatements: number;
  readonly #now: () => number;
  readonly #statements = new Map<string, Statement>();
  readonly #contacts = new Map<string, number>();
  #lastStatementGc = Number.NEGATIVE_INFINITY;
  #lastContactGc = Number.NEGATIVE_INFINITY;

  constructor(options: IpTrackerOptions = {}) {
    this.#window = options.window ?? IPTRACK_WINDOW_MS;
    this.#contactWindow = options.contactWindow ?? IPTRACK_CONTACT_WINDOW_MS;
    this.#minStatements = options.minStatements ?? IPTRACK_MIN_STATEMENTS;
    const clock = options.clock ?? systemClock;
    this.#now = () => clock.now();
  }

  /**
   * Records that `host` (its IP address) says our endpoint is `endpoint`; a host's newer statement replaces its older one.
   * @example tracker.addStatement('198.51.100.4', { ip: '203.0.113.7', port: 30303 })
   */
  addStatement(host: string, endpoint: Endpoint): void {
    const now = this.#now();
    const key = `${endpoint.ip}|${endpoint.port}`;
    this.#statements.set(host, { endpoint: { ip: endpoint.ip, port: endpoint.port }, key, time: now });
    if (now - this.#lastStatementGc >= this.#window) this.#gcStatements(now);
  }

  /**
   * Records that we sent `host` a packet carrying our endpoint (a discv4 ping).
   * @example tracker.addContact('198.51.100.4')
   */
  addContact(host: string): void {
    const now = this.#now();
    this.#contacts.set(host, now);
    if (now - this.#lastContactGc >= this.#contactWindow) this.#gcContacts(now);
  }

  /**
   * The endpoint with the most statements, if it has at least `minStatements`; ties go to the endpoint
   * that reached the count first.
   * @example const external = tracker.predictEndpoint()
   */
  predictEndpoint(): Endpoint | undefined {
    this.#gcStatements(this.#now());
    const counts = new Map<string, number>();
    let best: Endpoint | undefined;
    let bestCount = 0;
    for (const statement of this.#statements.values()) {
      const count = (counts.get(statement.key) ?? 0) + 1;
      counts.set(statement.key, count);
      if (count > bestCount && count >= this.#minStatements) {
        bestCount = count;
        best = statement.endpoint;
      }
    }
    return best;
  }

  /**
   * True when some host made a statement without having been contacted first (or before it was): a sign
   * that unsolicited packets reach us, i.e. we are not behind a restrictive NAT.
   * @example if (tracker.predictFullConeNat()) advertiseUdp()
   */
  predictFullConeNat(): boolean {
    const now = this.#now();
    this.#gcContacts(now);
    this.#gcStatements(now);
    for (const [host, statement] of this.#statements) {
      const contact = this.#contacts.get(host);
      if (contact === undefined || contact > statement.time) return true;
    }
    return false;
  }

  #gcStatements(now: number): void {
    this.#lastStatementGc = now;
    const cutoff = now - this.#window;
    for (const [host, statement] of this.#statements) {
      if (statement.time < cutoff) this.#statements.delete(host);
    }
  }

  #gcContacts(now: number): void {
    this.#lastContactGc = now;
    const cutoff = now - this.#contactWindow;
    for (const [host, time] of this.#contacts) {
      if (time < cutoff) this.#contacts.delete(host);
    }
  }
}
