/**
 * The default transports of the cases: TCP and UDP on `node:net` / `node:dgram` from `@devp2p/transport-node`, which
 * run on Node, Bun and Deno. The only place this package reaches runtime code; pass `tcp` and `udp` to use others.
 */
export { tcpTransport as defaultTcp, udpTransport as defaultUdp } from '@devp2p/transport-node';
