import type { Clock, Logger } from '@devp2p/core';
import type { LocalNode, NetList, Node, NodeDatabase } from '@devp2p/enode';

/**
 * The options discv4 and discv5 share: who we are, where we listen, whom we start from, and the table's timings.
 * Each protocol adds how it gets its socket ({@link Discv4Options}, {@link Discv5Options}).
 */
export interface DiscoveryServiceOptions {
  /** Our secp256k1 private key (32 bytes): it signs our packets, record and handshakes. */
  privateKey: Uint8Array;
  /** Address to bind (default `0.0.0.0`). */
  host?: string;
  /** Port to bind (default 0: any free port). */
  port?: number;
  /** Our record; default: a new LocalNode for `privateKey` over an in-memory node database. */
  localNode?: LocalNode;
  /** Node database for bonds, seeds and find failures (default: the LocalNode's). */
  db?: NodeDatabase;
  /** Nodes to contact when the table is empty: records (`enr:`) or public key and address (`enode://`). */
  bootnodes?: readonly Node[];
  /** Only nodes in these networks are contacted, and only their packets are handled (geth `NetRestrict`). */
  netRestrict?: NetList;
  /** Clock for deadlines, timers and node ages (default `systemClock`). */
  clock?: Clock;
  /** Uniform [0, 1) source (default `Math.random`). */
  random?: () => number;
  /** Logger (default: silent unless `DEBUG` names devp2p). */
  logger?: Logger;
  /** Reply deadline (default: the protocol's, `RESP_TIMEOUT_MS` or `DISCV5_RESP_TIMEOUT_MS`). */
  respTimeoutMs?: number;
  /** Table refresh period (default `REFRESH_INTERVAL_MS`). */
  refreshIntervalMs?: number;
  /** Random lookups per refresh after the self lookup (default `REFRESH_RANDOM_LOOKUPS`). */
  refreshRandomLookups?: number;
  /** Fast revalidation interval (default `PING_INTERVAL_MS`). */
  pingIntervalMs?: number;
}
