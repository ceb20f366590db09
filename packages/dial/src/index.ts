export { lookupHost } from './adapters/node-dns.ts';
export {
  CANDIDATE_DISCARD_LIMIT,
  CANDIDATE_PAUSE_MS,
  DIAL_HISTORY_EXPIRATION_MS,
  DIAL_STATS_LOG_INTERVAL_MS,
  DIAL_STATS_PEER_LIMIT,
  DIAL_TIMEOUT_MS,
  INBOUND_THROTTLE_MS,
  INITIAL_RESOLVE_DELAY_MS,
  MAX_RESOLVE_DELAY_MS,
} from './constants.ts';
export { Dialer, type DialerEvents, type DialerOptions, type DialerStatus, type DialSkipReason } from './dialer.ts';
export { checkNodes, filterNodes } from './sources.ts';
export type {
  DialHost,
  DialOutcome,
  DialScheduler,
  HostDialOptions,
  HostResolver,
  NodeResolver,
  NodeSource,
  ResolveOptions,
} from './types.ts';
