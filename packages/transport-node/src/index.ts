export {
  createTxtResolver,
  DNS_LOOKUP_TIMEOUT_MS,
  DNS_UDP_PAYLOAD_SIZE,
  systemTxtResolver,
  type TxtResolverBackend,
  type TxtResolverOptions,
} from './dns.ts';
export { createMemoryStreamPair, MemoryNetwork, type MemoryStreamOptions } from './memory.ts';
export { CLOSE_FLUSH_TIMEOUT_MS, type NodeSocketStreamOptions, nodeSocketStream } from './socket.ts';
export { DEFAULT_DIAL_TIMEOUT_MS, tcpTransport } from './tcp.ts';
export { MemoryDatagramNetwork, udpTransport } from './udp.ts';
