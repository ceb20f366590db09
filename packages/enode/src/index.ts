export { base64UrlDecode, base64UrlEncode } from './base64url.ts';
export { type EnsureDirectoryOptions, ensureDirectory } from './directory.ts';
export type { NodeDiscovery } from './discovery.ts';
export {
  ENR_MAX_SIZE,
  ENR_TEXT_PREFIX,
  ENR_V4_SCHEME,
  Enr,
  type EnrDecodeOptions,
  type EnrEntries,
} from './enr.ts';
export {
  EnodeUrlError,
  EnrError,
  ERR_ENODE_URL,
  ERR_ENR,
  ERR_NODEDB_CLOSED,
  ERR_NODEDB_FORMAT,
  ERR_NODEDB_LOCKED,
  ERR_NODEDB_VERSION,
  ERR_NODEKEY,
  NodeDatabaseError,
  type NodeDatabaseErrorCode,
  NodeKeyError,
} from './errors.ts';
export {
  FileNodeDatabase,
  type FileNodeDatabaseOptions,
  NODEDB_COMPACT_MIN_CHANGES,
  NODEDB_FLUSH_INTERVAL_MS,
  NODEDB_FLUSH_MAX_CHANGES,
  NODEDB_SCHEMA_VERSION,
  openNodeDatabase,
} from './filedb.ts';
export { compareDistance, logDistance, NODE_ID_LENGTH, NodeId } from './id.ts';
export {
  formatIp,
  ipLocalityScore,
  isIPv4MappedIp,
  isLoopbackIp,
  isMulticastIp,
  isUnspecifiedIp,
  normalizeIp,
  parseIp,
} from './ip.ts';
export {
  IPTRACK_CONTACT_WINDOW_MS,
  IPTRACK_MIN_STATEMENTS,
  IPTRACK_WINDOW_MS,
  IpTracker,
  type IpTrackerOptions,
} from './iptrack.ts';
export { LocalNode, type LocalNodeOptions } from './localnode.ts';
export { isLan, NetList } from './netlist.ts';
export { type Endpoint, Node, type NodeAddress } from './node.ts';
export {
  MemoryNodeDatabase,
  NODEDB_CLEANUP_CYCLE_MS,
  NODEDB_NODE_EXPIRATION_MS,
  type NodeDatabase,
  type NodeDatabaseChange,
  type NodeDatabaseOptions,
} from './nodedb.ts';
export {
  generateNodeKey,
  loadNodeKey,
  loadOrCreateNodeKey,
  type NodeKeyFileOptions,
  parseNodeKey,
  saveNodeKey,
} from './nodekey.ts';
export { parseEnodeUrl, parseNode } from './url.ts';
