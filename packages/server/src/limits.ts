/** Interval between base-protocol Pings we send (geth's `pingInterval`). */
export const PING_INTERVAL_MS = 15_000;

/**
 * Deadline for the Hello exchange and each protocol handshake. Geth bounds the whole connection setup with its
 * 5 s `handshakeTimeout`; we apply the same value to the Hello exchange after the RLPx handshake.
 */
export const PROTOCOL_HANDSHAKE_TIMEOUT_MS = 5_000;

/**
 * Messages queued for one protocol of one peer before the read loop stops reading from that peer until the
 * protocol catches up: a peer cannot make us buffer without bound by sending faster than a handler runs.
 */
export const MAX_QUEUED_MESSAGES_PER_PROTOCOL = 64;
