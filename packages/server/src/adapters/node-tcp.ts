/**
 * The server's default transport: TCP on `node:net` from `@devp2p/transport-node`, which runs on Node, Bun and
 * Deno. The only place the server reaches runtime code; pass `transport` to use another.
 */
export { tcpTransport as defaultTransport } from '@devp2p/transport-node';
