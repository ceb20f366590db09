/**
 * Geth's `inboundThrottleTime`: a server refuses a non-LAN IP that connected within this long. The dial history
 * below is derived from it.
 */
export const INBOUND_THROTTLE_MS = 30_000;

/**
 * A node is not dialed again within this long of the previous attempt (geth's `dialHistoryExpiration`,
 * `inboundThrottleTime + 5 s`): a bit longer than the remote's inbound throttle, so that in a small private
 * network the redial is not refused by it. It also paces the redials of static nodes.
 */
export const DIAL_HISTORY_EXPIRATION_MS: number = INBOUND_THROTTLE_MS + 5_000;

/**
 * Deadline of one dial attempt (geth's `defaultDialTimeout`, 15 s). Geth applies it to the TCP connect; the
 * scheduler applies it to the whole attempt, so a dial slot is never held longer whatever the host does.
 */
export const DIAL_TIMEOUT_MS = 15_000;

/**
 * First wait between two discovery resolutions of one static node's id (geth's `initialResolveDelay`). It doubles
 * after each failure up to {@link MAX_RESOLVE_DELAY_MS} and is reset by a success, so a static node that has left
 * the network does not flood discovery with lookups.
 */
export const INITIAL_RESOLVE_DELAY_MS = 60_000;

/** Longest wait between two resolutions of one static node's id (geth's `maxResolveDelay`). */
export const MAX_RESOLVE_DELAY_MS = 3_600_000;

/** "Looking for peers" is logged at most this often (geth's `dialStatsLogInterval`). */
export const DIAL_STATS_LOG_INTERVAL_MS = 10_000;

/** ...and only while fewer than this many peers were dialed (geth's `dialStatsPeerLimit`). */
export const DIAL_STATS_PEER_LIMIT = 3;

/**
 * Candidates from the node sources discarded in a row (recently dialed, connected, ...) before the scheduler stops
 * pulling for {@link CANDIDATE_PAUSE_MS}. Geth reads its iterator in a goroutine; here an iterator that yields
 * without waiting would keep the event loop busy in microtasks, starving sockets and timers.
 */
export const CANDIDATE_DISCARD_LIMIT = 64;

/** How long the scheduler stops pulling candidates after {@link CANDIDATE_DISCARD_LIMIT} discards in a row. */
export const CANDIDATE_PAUSE_MS = 1_000;
