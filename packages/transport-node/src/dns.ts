import { lookup } from 'node:dns/promises';
import type { HostResolveOptions } from '@devp2p/core';
import { checkLoopbackOnly } from './loopback.ts';

/**
 * The `HostResolver` of `@devp2p/core` on the system resolver through `node:dns` (`getaddrinfo`, so `/etc/hosts`
 * counts), on Node, Bun and Deno alike. The lookup itself cannot be cancelled; callers stop waiting for it on abort.
 * @example await lookupHost('localhost') // '127.0.0.1'
 */
export async function lookupHost(hostname: string, _options?: HostResolveOptions): Promise<string> {
  checkLoopbackOnly('DNS lookup of', hostname);
  const { address } = await lookup(hostname);
  return address;
}
