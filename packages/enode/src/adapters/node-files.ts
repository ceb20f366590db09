/**
 * The default file system of the node key and node database functions: `nodeFiles` (`node:fs`, on Node, Bun and
 * Deno) from `@devp2p/transport-node`. The only place this package reaches runtime code; pass `files` to use another.
 */
export { nodeFiles as defaultFiles } from '@devp2p/transport-node';
