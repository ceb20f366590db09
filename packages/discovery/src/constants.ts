/**
 * Limits and timeouts of Node Discovery v4, with geth's values (p2p/discover) and their reasons.
 */

/** Largest datagram sent or accepted (discv4.md; geth `v4wire.MaxPacketSize`): fits in an IPv6 minimum MTU. */
export const MAX_PACKET_SIZE: number = 1280;

/** Nodes per Neighbors packet (geth `v4wire.MaxNeighbors`): 12 IPv6 nodes still fit in {@link MAX_PACKET_SIZE}. */
export const MAX_NEIGHBORS: number = 12;

/** How far ahead packets' expiration lies (geth `expiration`): 20 s covers clock skew and queueing. */
export const EXPIRATION_MS: number = 20_000;

/** How long a request waits for its reply (geth `respTimeout`). */
export const RESP_TIMEOUT_MS: number = 500;

/**
 * After a full Neighbors packet (12 nodes) that leaves a FindNode answer short of 16 nodes, how long to wait for
 * the answer's next packet. A responder sends its packets back to back, so the next one arrives within moments,
 * and a responder that knows exactly 12 nodes sends none: without this the query would wait out the whole
 * response timeout (geth's querier always does, for any answer short of 16).
 */
export const NEIGHBORS_FOLLOW_UP_MS: number = 100;

/**
 * How long an endpoint proof (a pong to our ping) lasts (geth `bondExpiration`): FindNode and ENRRequest from a
 * node whose last pong is older get no reply, so we cannot be used to amplify traffic to a spoofed address.
 */
export const BOND_EXPIRATION_MS: number = 24 * 60 * 60 * 1000;

/** Kademlia bucket size, also the size of lookup results (geth `bucketSize`). */
export const BUCKET_SIZE: number = 16;

/** Replacement candidates kept per bucket (geth `maxReplacements`). */
export const MAX_REPLACEMENTS: number = 10;

/** Bit length of the hash space. */
export const HASH_BITS: number = 256;

/** Number of buckets (geth `nBuckets` = hashBits / 15): log distances 240..256, everything closer in the first. */
export const N_BUCKETS: number = 17;

/** Log distance of the first bucket (geth `bucketMinDistance`): nodes at this distance or closer share it. */
export const BUCKET_MIN_DISTANCE: number = HASH_BITS - N_BUCKETS;

/** Nodes of one /24 per bucket (geth `bucketIPLimit`), against eclipse attacks from one network. */
export const BUCKET_IP_LIMIT: number = 2;

/** Nodes of one /24 in the whole table (geth `tableIPLimit`). */
export const TABLE_IP_LIMIT: number = 10;

/** Prefix length the IP limits group addresses by (geth `tableSubnet`). */
export const TABLE_SUBNET: number = 24;

/** Consecutive empty FindNode answers after which a node is dropped (geth `maxFindnodeFailures`). */
export const MAX_FINDNODE_FAILURES: number = 5;

/** Nodes taken from the node database when (re)filling the table (geth `seedCount`). */
export const SEED_COUNT: number = 30;

/** Oldest pong a database seed may have (geth `seedMaxAge`): 5 days. */
export const SEED_MAX_AGE_MS: number = 5 * 24 * 60 * 60 * 1000;

/** Concurrent queries of a lookup (geth `alpha`). */
export const ALPHA: number = 3;

/** Table refresh period: a self lookup and random lookups (geth `Config.RefreshInterval`). */
export const REFRESH_INTERVAL_MS: number = 30 * 60 * 1000;

/** Random lookups per refresh after the self lookup (geth's v4 refresh does three). */
export const REFRESH_RANDOM_LOOKUPS: number = 3;

/**
 * Revalidation period of the fast list (geth `Config.PingInterval`): new and recently failing nodes are pinged
 * about this often; the slow list (nodes that answered) waits {@link SLOW_REVALIDATION_FACTOR} times longer.
 */
export const PING_INTERVAL_MS: number = 3_000;

/** Slow list interval / fast list interval (geth: slow = 3 × PingInterval). */
export const SLOW_REVALIDATION_FACTOR: number = 3;

/** A lookup that starts on an empty table waits this long before giving up (geth `lookup.slowdown`). */
export const EMPTY_TABLE_SLOWDOWN_MS: number = 1_000;

/**
 * Requests awaiting replies at once. Each inbound ping may cause a ping back, so this bounds what remote
 * input can make us hold (each entry lives {@link RESP_TIMEOUT_MS}); requests beyond it fail at once.
 */
export const MAX_PENDING_REPLIES: number = 2_048;

/**
 * Remembered "last ping received" times (used to skip re-bonding before FindNode). Kept in memory, not in the
 * node database, because any remote key can ping us: the oldest entries are forgotten beyond this count.
 */
export const MAX_PING_RECORDS: number = 10_000;

/** Node ids `randomNodes()` remembers to avoid yielding the same node twice in a row. */
export const ITERATOR_SEEN_LIMIT: number = 4_096;
