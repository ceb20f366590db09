/**
 * `host:port`, with IPv6 hosts in brackets (`[::1]:30303`): how addresses appear in logs, errors and flags.
 * @example formatHostPort('::1', 30303) // '[::1]:30303'
 */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Splits `host:port` or `[v6]:port` into its parts; undefined when it is not of that form or the port is past 65535.
 * @example splitHostPort('[::1]:30303') // { host: '::1', port: 30303 }
 */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}
