/**
 * Limits and defaults of DNS discovery, each with its value and reason; where geth's `p2p/dnsdisc` has one, the
 * same value.
 */

/** Deadline of one DNS query (geth's `Config.Timeout` default, 5 s). */
export const DNSDISC_QUERY_TIMEOUT_MS = 5_000;

/**
 * How often a tree's root is fetched again to see whether the list changed (geth's `Config.RecheckInterval`
 * default, 30 min): roots carry short TTLs, the rest of a tree is immutable under its hashes.
 */
export const DNSDISC_RECHECK_INTERVAL_MS: number = 30 * 60_000;

/** Tree entries kept in memory, least recently used dropped first (geth's `Config.CacheLimit` default, 1,000). */
export const DNSDISC_CACHE_LIMIT = 1_000;

/** Sustained DNS queries per second for tree entries (geth's `Config.RateLimit` default, 3). */
export const DNSDISC_RATE_LIMIT = 3;

/** Queries that may go at once before the rate applies (geth's `rate.NewLimiter(RateLimit, 10)` burst). */
export const DNSDISC_RATE_BURST = 10;

/**
 * Consecutive failed entry lookups after which the root is fetched again before the next one (geth's
 * `rootRecheckFailCount`, 5): failing entries usually mean the tree was replaced under us.
 */
export const DNSDISC_ROOT_RECHECK_FAIL_COUNT = 5;

/**
 * Pauses before a root lookup after repeated failures, so an offline client does not poll (geth's
 * `slowdownRootUpdate`): 5 s after more than 5 failures in a row, 10 s after more than 20.
 */
export const DNSDISC_ROOT_RETRY_DELAYS: readonly { readonly afterFailures: number; readonly delayMs: number }[] = [
  { afterFailures: 20, delayMs: 10_000 },
  { afterFailures: 5, delayMs: 5_000 },
];

/**
 * Longest tree entry accepted, in bytes (characters: entries are ASCII). dnsdisc.md asks every entry to fit a
 * 512-byte UDP DNS answer, which the largest valid entries do: an `enr:` entry of a 300-byte record is 404
 * characters, a branch of 13 hashes (what geth builds) 365, a root about 190. Anything longer is not a tree entry.
 */
export const DNSDISC_MAX_ENTRY_LENGTH = 512;

/** Shortest hash accepted in a root or branch, in bytes of keccak-256 (geth's `minHashLength`, 12). */
export const DNSDISC_MIN_HASH_LENGTH = 12;

/** Bytes of keccak-256 that name an entry: `base32(keccak256(entry)[:16])` (dnsdisc.md, geth's `subdomain`). */
export const DNSDISC_HASH_LENGTH = 16;

/**
 * Children per branch entry the tree builder writes (geth's `maxChildren`, 13): 13 hashes of 26 characters and
 * their commas stay under 370 bytes, which keeps the answer under 512 bytes with a long domain in the question.
 */
export const DNSDISC_MAX_BRANCH_CHILDREN = 13;
