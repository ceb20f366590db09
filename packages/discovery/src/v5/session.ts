/**
 * The discv5 session store (geth p2p/discover/v5wire/session.go): the keys of each session, per node id and
 * address, in a bounded least-recently-used cache; the message nonce counter of each; and the WHOAREYOU challenges
 * we sent and still accept a handshake for, bounded in number, per IP address and in time.
 */
import { randomBytes } from '@devp2p/crypto';
import type { Endpoint, Node, NodeId } from '@devp2p/enode';
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_ACTIVE_CHALLENGES,
  MAX_CHALLENGES_PER_IP,
  NONCE_SIZE,
  SESSION_CACHE_SIZE,
} from './constants.ts';

/** Bytes of the nonce taken by the message counter; the rest is random (geth `generateNonce`). */
const NONCE_COUNTER_SIZE = 4;

/**
 * The keys of one session with one node at one address.
 * @example const { writeKey } = sessions.session(id, to)!
 */
export interface Discv5Session {
  /** Encrypts what we send. */
  readonly writeKey: Uint8Array;
  /** Decrypts what we receive. */
  readonly readKey: Uint8Array;
  /** Messages sent under `writeKey` so far: the first 4 bytes of each nonce. */
  nonceCounter: number;
  /** The remote's record as the handshake proved it (or, for our own handshakes, the record we addressed). */
  readonly node: Node;
  /**
   * The read key of the session this one replaced, if any. When both sides start a handshake at once, each ends
   * with the keys of the handshake it received last, and messages already sent under the other one's keys still
   * arrive: they are read with this key instead of being lost to a new challenge.
   */
  readonly previousReadKey?: Uint8Array | undefined;
}

/**
 * A WHOAREYOU we sent and accept one handshake for.
 * @example if (challenge) openDiscv5Handshake(packet, { privateKey, localId, challengeData: challenge.challengeData })
 */
export interface Discv5Challenge {
  /** The datagram as sent: a repeated challenge resends it byte for byte. */
  readonly packet: Uint8Array;
  /** Its unmasked header: what the handshake signs and derives keys from. */
  readonly challengeData: Uint8Array;
  /** Our signed copy of the remote's record when we had one (its sequence number went in the challenge). */
  readonly node: Node | undefined;
  /** When it was sent (ms). */
  readonly sentAt: number;
}

/**
 * Options of {@link SessionCache}.
 * @example new SessionCache({ now: () => clock.now() })
 */
export interface SessionCacheOptions {
  readonly now: () => number;
  /** Sessions kept (default {@link SESSION_CACHE_SIZE}). */
  readonly size?: number;
  /** Challenges awaiting a handshake at once (default {@link MAX_ACTIVE_CHALLENGES}). */
  readonly maxChallenges?: number;
  /** Challenges awaiting a handshake from one IP at once (default {@link MAX_CHALLENGES_PER_IP}). */
  readonly maxChallengesPerIp?: number;
  /** How long a challenge stays answerable (default {@link HANDSHAKE_TIMEOUT_MS}). */
  readonly handshakeTimeoutMs?: number;
}

/**
 * The key of a session or challenge: keys are never shared between two addresses of one node.
 * @example sessionKey(id, { ip: '10.0.0.1', port: 30303 }) // '3a…|10.0.0.1|30303'
 */
export function sessionKey(id: NodeId, addr: Endpoint): string {
  return `${id.hex}|${addr.ip}|${addr.port}`;
}

/**
 * Sessions and challenges of one discv5 node.
 * @example
 * const sessions = new SessionCache({ now: Date.now })
 * sessions.storeSession(id, to, { writeKey, readKey, nonceCounter: 0, node })
 * const nonce = sessions.nextNonce(sessions.session(id, to)!)
 */
export class SessionCache {
  readonly #now: () => number;
  readonly #size: number;
  readonly #maxChallenges: number;
  readonly #maxPerIp: number;
  readonly #timeout: number;
  /** Least recently used first (a read moves an entry to the end). */
  readonly #sessions = new Map<string, Discv5Session>();
  /** Oldest first: entries are only ever appended with the current time. */
  readonly #challenges = new Map<string, Discv5Challenge & { readonly ip: string }>();
  readonly #challengesPerIp = new Map<string, number>();

  constructor(options: SessionCacheOptions) {
    this.#now = options.now;
    this.#size = options.size ?? SESSION_CACHE_SIZE;
    this.#maxChallenges = options.maxChallenges ?? MAX_ACTIVE_CHALLENGES;
    this.#maxPerIp = options.maxChallengesPerIp ?? MAX_CHALLENGES_PER_IP;
    this.#timeout = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  /** Sessions kept. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Challenges still answerable. */
  get activeChallenges(): number {
    this.#expireChallenges();
    return this.#challenges.size;
  }

  /** The session with `id` at `addr`, marked as most recently used. */
  session(id: NodeId, addr: Endpoint): Discv5Session | undefined {
    const key = sessionKey(id, addr);
    const session = this.#sessions.get(key);
    if (session) {
      this.#sessions.delete(key);
      this.#sessions.set(key, session);
    }
    return session;
  }

  /**
   * Stores (or replaces) the session with `id` at `addr`, forgetting the least recently used beyond the size. A
   * replaced session's read key stays readable (see {@link Discv5Session.previousReadKey}).
   */
  storeSession(id: NodeId, addr: Endpoint, session: Omit<Discv5Session, 'previousReadKey'>): void {
    const key = sessionKey(id, addr);
    const previous = this.#sessions.get(key);
    this.#sessions.delete(key);
    this.#sessions.set(key, { ...session, previousReadKey: previous?.readKey });
    if (this.#sessions.size > this.#size) this.#sessions.delete(this.#sessions.keys().next().value!);
  }

  /** Forgets the session with `id` at `addr`. */
  deleteSession(id: NodeId, addr: Endpoint): void {
    this.#sessions.delete(sessionKey(id, addr));
  }

  /** The nonce of the next message under `session`: a 32-bit counter then 8 random bytes (geth's layout). */
  nextNonce(session: Discv5Session): Uint8Array {
    session.nonceCounter = (session.nonceCounter + 1) >>> 0;
    const nonce = new Uint8Array(NONCE_SIZE);
    new DataView(nonce.buffer).setUint32(0, session.nonceCounter);
    nonce.set(randomBytes(NONCE_SIZE - NONCE_COUNTER_SIZE), NONCE_COUNTER_SIZE);
    return nonce;
  }

  /** The challenge sent to `id` at `addr` that is still answerable. */
  challenge(id: NodeId, addr: Endpoint): Discv5Challenge | undefined {
    this.#expireChallenges();
    return this.#challenges.get(sessionKey(id, addr));
  }

  /**
   * Whether a new challenge to `ip` may be sent now: false when {@link MAX_ACTIVE_CHALLENGES} or, from that IP,
   * {@link MAX_CHALLENGES_PER_IP} are awaiting a handshake.
   */
  mayChallenge(ip: string): boolean {
    this.#expireChallenges();
    return this.#challenges.size < this.#maxChallenges && (this.#challengesPerIp.get(ip) ?? 0) < this.#maxPerIp;
  }

  /** Records a challenge sent to `id` at `addr` (after {@link SessionCache.mayChallenge} said yes). */
  storeChallenge(id: NodeId, addr: Endpoint, challenge: Omit<Discv5Challenge, 'sentAt'>): void {
    const key = sessionKey(id, addr);
    this.#dropChallenge(key);
    this.#challenges.set(key, { ...challenge, sentAt: this.#now(), ip: addr.ip });
    this.#challengesPerIp.set(addr.ip, (this.#challengesPerIp.get(addr.ip) ?? 0) + 1);
  }

  /** Removes and returns the answerable challenge sent to `id` at `addr`: each is good for one handshake. */
  takeChallenge(id: NodeId, addr: Endpoint): Discv5Challenge | undefined {
    this.#expireChallenges();
    const key = sessionKey(id, addr);
    const challenge = this.#challenges.get(key);
    this.#dropChallenge(key);
    return challenge;
  }

  /** Forgets every session and challenge. */
  clear(): void {
    this.#sessions.clear();
    this.#challenges.clear();
    this.#challengesPerIp.clear();
  }

  #dropChallenge(key: string): void {
    const challenge = this.#challenges.get(key);
    if (!challenge) return;
    this.#challenges.delete(key);
    const left = (this.#challengesPerIp.get(challenge.ip) ?? 1) - 1;
    if (left <= 0) this.#challengesPerIp.delete(challenge.ip);
    else this.#challengesPerIp.set(challenge.ip, left);
  }

  /** Drops the challenges older than the handshake timeout (geth `handshakeGC`), oldest first. */
  #expireChallenges(): void {
    const deadline = this.#now() - this.#timeout;
    for (const [key, challenge] of this.#challenges) {
      if (challenge.sentAt >= deadline) break;
      this.#dropChallenge(key);
    }
  }
}
