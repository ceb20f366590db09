export { DnsDiscovery, type DnsDiscoveryOptions, type SyncedTree, type SyncTreeOptions } from './client.ts';
export {
  DNSDISC_CACHE_LIMIT,
  DNSDISC_HASH_LENGTH,
  DNSDISC_MAX_BRANCH_CHILDREN,
  DNSDISC_MAX_ENTRY_LENGTH,
  DNSDISC_MIN_HASH_LENGTH,
  DNSDISC_QUERY_TIMEOUT_MS,
  DNSDISC_RATE_BURST,
  DNSDISC_RATE_LIMIT,
  DNSDISC_RECHECK_INTERVAL_MS,
  DNSDISC_ROOT_RECHECK_FAIL_COUNT,
  DNSDISC_ROOT_RETRY_DELAYS,
} from './constants.ts';
export {
  BRANCH_PREFIX,
  type BranchEntry,
  type EnrEntry,
  entryHash,
  formatEnrTreeUrl,
  formatEntry,
  formatRoot,
  isValidHash,
  LINK_PREFIX,
  type LinkEntry,
  matchesHash,
  parseAndVerifyRoot,
  parseEnrTreeUrl,
  parseEntry,
  parseRoot,
  ROOT_PREFIX,
  type RootEntry,
  rootSigningText,
  signRoot,
  type TreeEntry,
  verifyRoot,
} from './entries.ts';
export { type DnsDiscEntryType, DnsDiscError, type DnsDiscErrorReason, ERR_DNSDISC } from './errors.ts';
export { buildTree, signTree, type Tree, treeLinks, treeNodes, treeToTxt } from './tree.ts';
