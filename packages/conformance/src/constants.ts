/**
 * Waits and deadlines of the conformance cases, with the reason for each value. They are deliberately longer than
 * the protocols' own reply timeouts (discv4's 500 ms, geth's suite waits 300 ms), so that a slow but conforming node
 * on a loaded machine still passes, and short enough that a whole suite runs in well under a minute.
 */

/** How long a case waits for a reply the node must send (a Pong, Neighbors, a Hello): 2 s. */
export const REPLY_TIMEOUT_MS: number = 2_000;

/**
 * How long a case listens for a reply the node must NOT send (to an expired or unbonded request) before deciding it
 * stayed silent: 600 ms, above discv4's 500 ms reply timeout, so a reply sent "late" by the node's own measure
 * still counts as a reply.
 */
export const SILENCE_MS: number = 600;

/**
 * How long a case waits for the node to close a connection it must refuse (bad MAC, oversize message, Disconnect
 * received): 3 s, below the 5 s handshake deadline nodes apply (geth's `handshakeTimeout`), so a node that only
 * drops the connection when its own deadline passes, having read on past the violation, fails.
 */
export const CLOSE_TIMEOUT_MS: number = 3_000;

/** After a Neighbors packet, how long to wait for the next one of the same answer before counting: 400 ms. */
export const NEIGHBORS_QUIET_MS: number = 400;

/** Deadline of one discv4 case (bonding, a request, a silence window and the liveness check fit in it). */
export const DISCV4_CASE_TIMEOUT_MS: number = 10_000;

/** Deadline of one RLPx case (dial, handshake, Hello, Status, a request and a close fit in it). */
export const RLPX_CASE_TIMEOUT_MS: number = 15_000;

/** How far ahead the packets a case sends expire (discv4 `expiration`): 20 s, as geth's. */
export const EXPIRATION_S: number = 20;

/** How far in the past an "expired" packet's expiration lies: 20 s, as geth's suite. */
export const PAST_EXPIRATION_S: number = 20;

/**
 * Nodes the "neighbours within the size limit" case bonds with the target first, so the answer has to be split:
 * 16, a full bucket's worth (k), more than one 1280-byte packet holds.
 */
export const NEIGHBOR_HELPERS: number = 16;

/** Most nodes one FindNode may be answered with (discv4.md: "the closest 16 nodes"; k). */
export const MAX_FINDNODE_RESULTS: number = 16;

/** The p2p version we announce (EIP-706 snappy from 5 on). */
export const P2P_VERSION: number = 5;

/** Snappy compression applies when both Hellos announce at least this version (EIP-706). */
export const SNAPPY_MIN_VERSION: number = 5;

/** The oldest p2p version a node talks to; the "too old" case announces one below it (3). */
export const TOO_OLD_P2P_VERSION: number = 3;

/** The p2p version the forward-compatibility case announces: one above the current 5. */
export const FUTURE_P2P_VERSION: number = 6;

/** The client name our Hellos carry. */
export const CLIENT_NAME: string = 'devp2p.ts/conformance';

/** Uncompressed message size above which a node must refuse the message (rlpx.md, snappy section): 16 MiB. */
export const MAX_UNCOMPRESSED_SIZE: number = 16 * 1024 * 1024;

/**
 * Deadline of one discv5 case: a handshake, a request and its answer, and for the cases that check silence a
 * listening window and a fresh PING, fit in it many times over.
 */
export const DISCV5_CASE_TIMEOUT_MS: number = 10_000;

/**
 * Deadline of the discv5 cases that first fill the node's table (bystanders, HandshakeStaleENR's node) and then
 * ask for them: geth's FindnodeResults waits up to 60 s for the node to revalidate them; 30 s leaves a node that
 * takes them in at once (as ours does, and geth for a bystander that wrote from its record's address once
 * revalidated) time to spare.
 */
export const DISCV5_TABLE_CASE_TIMEOUT_MS: number = 30_000;

/** Bystanders of FindnodeResults: 5, as geth's. */
export const DISCV5_BYSTANDERS: number = 5;

/**
 * Bystanders of FindnodeMultiplePackets: 16, a full answer (geth's `findnodeResultLimit`); their records, about
 * 130 bytes each, are more than one 1280-byte packet holds, so the answer must be split.
 */
export const DISCV5_SPLIT_BYSTANDERS: number = 16;

/** How long FindnodeResults waits between asks while the node has not taken every bystander in yet: 1 s. */
export const DISCV5_FINDNODE_RETRY_MS: number = 1_000;
