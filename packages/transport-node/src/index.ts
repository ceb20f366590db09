export {
  createTxtResolver,
  DNS_LOOKUP_TIMEOUT_MS,
  DNS_UDP_PAYLOAD_SIZE,
  lookupHost,
  systemTxtResolver,
  type TxtResolverBackend,
  type TxtResolverOptions,
} from './dns.ts';
export { nodeFiles } from './files.ts';
export {
  checkLoopbackOnly,
  ERR_LOOPBACK_ONLY,
  LOOPBACK_ONLY_ENV,
  LOOPBACK_ONLY_EXIT_CODE,
  LoopbackOnlyError,
} from './loopback.ts';
export { createMemoryStreamPair, MemoryNetwork, type MemoryStreamOptions } from './memory.ts';
export { CLOSE_FLUSH_TIMEOUT_MS, type NodeSocketStreamOptions, nodeSocketStream } from './socket.ts';
export { DEFAULT_DIAL_TIMEOUT_MS, tcpTransport } from './tcp.ts';
export { MemoryDatagramNetwork, udpTransport } from './udp.ts';
