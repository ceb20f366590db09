export {
  BASE_PROTOCOL_LENGTH,
  BaseMessageCode,
  decodeDisconnect,
  decodeHello,
  EMPTY_LIST_PAYLOAD,
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
export { compareCaps, findProtocol, type MatchedProtocol, ProtocolRegistry } from './registry.ts';
