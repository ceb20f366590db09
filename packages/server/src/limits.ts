import { MAX_HELLO_SIZE } from './hello.ts';

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

/**
 * Messages a peer's read loop handles before it yields the event loop. A socket can deliver megabytes in one turn
 * (libuv reads up to 32 × 64 KiB per wakeup) and every message in them decodes without waiting, so without a yield a
 * flooding peer holds the process for seconds; 64 small messages take well under a millisecond.
 */
export const MESSAGES_PER_TURN = 64;

/**
 * Bytes queued for a peer (frames with their per-frame overhead, as the RLPx write queue counts them) at which its
 * read loop stops reading until the queue drains below it again. Geth's read loop waits for each Pong to be written
 * before it reads on; we let a turn's replies go out in one write, and stop long before the write-queue bound
 * (1 MiB): a peer that floods requests and never reads holds at most this much of our memory in replies (ten such
 * peers about 640 KiB, where they held 10 MiB of queued Pongs, 850 bytes of heap each, before). 64 KiB is one
 * socket write of replies, so a peer that reads what we send is not paused by it; a reply larger than this (a full
 * eth response) pauses reading until the socket has taken it, as geth's synchronous write does.
 */
export const READ_PAUSE_QUEUED_BYTES: number = 64 * 1024;

/** Default cap on connections in the RLPx + Hello handshakes at once (geth's `defaultMaxPendingPeers`). */
export const DEFAULT_MAX_PENDING_PEERS = 50;

/** Default share of `maxPeers` reserved for outbound connections: `maxPeers / dialRatio` (geth's `defaultDialRatio`). */
export const DEFAULT_DIAL_RATIO = 3;

/** A non-LAN IP may connect in again only after this long (geth's `inboundThrottleTime`). */
export const INBOUND_THROTTLE_MS = 30_000;

/**
 * Accepted connections held waiting for a handshake slot beyond `maxPendingPeers`; more are closed at once. Geth
 * leaves them in the kernel's accept backlog (Go's default listen backlog is the kernel's somaxconn); `node:net`
 * accepts eagerly, so we hold them, each with at most its stream's 64 KiB read buffer: 256 of them cost at most
 * 16 MiB, and outlast an attack's silent sockets by one handshake deadline (see the server's waiting queue).
 */
export const MAX_WAITING_INBOUND = 256;

/**
 * Largest frame accepted before the Hello exchange completes: the message code byte plus the largest Hello we read
 * ({@link MAX_HELLO_SIZE}, geth's 2 KiB `baseProtocolMaxMsgSize`). A bigger declared frame is refused from its
 * header, before its body is read.
 */
export const MAX_HELLO_FRAME_SIZE: number = MAX_HELLO_SIZE + 1;

/** Entries kept in the inbound throttle history before the oldest are dropped, so a flood cannot grow it. */
export const MAX_INBOUND_HISTORY = 4096;
