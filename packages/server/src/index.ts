export type { DialHost, DialOutcome, DialScheduler, HostDialOptions, NodeResolver, NodeSource } from '@devp2p/dial';
export { clientName, VERSION } from './client-name.ts';
export { checkHello, exchangeHello, type HelloExchangeOptions } from './handshake.ts';
export {
  BASE_PROTOCOL_LENGTH,
  BaseMessageCode,
  decodeDisconnect,
  decodeHello,
  EMPTY_LIST_PAYLOAD,
  ERR_HELLO,
  encodeDisconnect,
  encodeHello,
  type Hello,
  INVALID_DISCONNECT_REASON,
  MAX_HELLO_CAPS,
  MAX_HELLO_SIZE,
  MIN_P2P_VERSION,
  P2P_VERSION,
  SNAPPY_MIN_VERSION,
} from './hello.ts';
export {
  DEFAULT_DIAL_RATIO,
  DEFAULT_MAX_PENDING_PEERS,
  INBOUND_THROTTLE_MS,
  MAX_INBOUND_HISTORY,
  MAX_QUEUED_MESSAGES_PER_PROTOCOL,
  MAX_WAITING_INBOUND,
  PING_INTERVAL_MS,
  PROTOCOL_HANDSHAKE_TIMEOUT_MS,
  READ_PAUSE_QUEUED_BYTES,
} from './limits.ts';
export { Peer, type PeerEnd, type PeerEvents, type PeerMessageEvent, type PeerOptions } from './peer.ts';
export { compareCaps, findProtocol, type MatchedProtocol, ProtocolRegistry } from './registry.ts';
export {
  type ConnectionEvent,
  createServer,
  type NodeInfo,
  type NodeInput,
  type PeerInfo,
  Server,
  type ServerConfig,
  type ServerEvents,
} from './server.ts';
