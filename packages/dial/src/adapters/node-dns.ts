/**
 * The dialer's default host resolver: `lookupHost` (`node:dns`, on Node, Bun and Deno) from `@devp2p/transport-node`.
 * The only place this package reaches runtime code; pass `resolveHost` to use another.
 */
export { lookupHost } from '@devp2p/transport-node';
