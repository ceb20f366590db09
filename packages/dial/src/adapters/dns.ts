import { lookup } from 'node:dns/promises';
import type { ResolveOptions } from '../types.ts';

/**
 * The default {@link HostResolver}: the system resolver through `node:dns` (`getaddrinfo`, so `/etc/hosts` counts),
 * on Node, Bun and Deno alike. The lookup itself cannot be cancelled; the scheduler stops waiting for it on abort.
 * @example await lookupHost('localhost', { signal }) // '127.0.0.1'
 */
export async function lookupHost(hostname: string, _options?: ResolveOptions): Promise<string> {
  const { address } = await lookup(hostname);
  return address;
}
