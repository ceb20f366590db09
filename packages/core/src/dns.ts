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

/** Error code of a DNS lookup that failed (server failure, refused, malformed or truncated answer, bad name). */
export const ERR_DNS = 'ERR_DNS';

// TXT lookups: what DNS node lists (EIP-1459) are read with. Implementations live in `@devp2p/transport-node` (the
// system resolver, or a given DNS server).

/** Options of {@link TxtResolver.resolveTxt}. */
export interface TxtResolveOptions {
  /** Ends the lookup: it rejects with an AbortError. */
  readonly signal?: AbortSignal;
}

/**
 * Looks up the TXT records of a DNS name. Contract:
 * - resolves to one string per TXT record, the record's character-strings joined in order (a record longer than
 *   255 bytes travels as several strings; joined, it is the text its publisher wrote);
 * - resolves to `[]` when the name does not exist or has no TXT records;
 * - rejects with a Devp2pError {@link ERR_DNS} (server failure, refused, malformed or truncated answer), a TimeoutError
 *   or an AbortError, never anything else.
 * @example
 * const records = await resolver.resolveTxt('all.mainnet.ethdisco.net', { signal })
 * const root = records.find((r) => r.startsWith('enrtree-root:v1 '))
 */
export interface TxtResolver {
  resolveTxt(name: string, options?: TxtResolveOptions): Promise<string[]>;
}
