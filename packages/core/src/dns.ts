/**
 * Host name resolution, for nodes given by DNS name (`enode://…@bootnode.example.org:30303`). `@devp2p/transport-node`
 * provides `lookupHost` on `node:dns` (Node, Bun and Deno).
 */

/** Options of a {@link HostResolver} call: the signal aborts when the caller stops waiting. */
export interface HostResolveOptions {
  readonly signal: AbortSignal;
}

/**
 * Resolves a DNS name to one IP address (text). Rejects when it cannot.
 * @example const resolveHost: HostResolver = async (name) => (await lookup(name)).address
 */
export type HostResolver = (hostname: string, options: HostResolveOptions) => Promise<string>;
