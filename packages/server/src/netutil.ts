import { ipLocalityScore, parseIp } from '@devp2p/enode';

interface Network {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** Strips IPv6 brackets and maps `::ffff:a.b.c.d` to IPv4, so one address has one form. */
function ipBytes(ip: string): Uint8Array | undefined {
  const bytes = parseIp(ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip);
  if (bytes?.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12);
  }
  return bytes;
}

/**
 * A list of IP networks in CIDR notation, as geth's `netutil.Netlist` (the server's `netRestrict`).
 * @example const list = Netlist.parse(['10.0.0.0/8', '2001:db8::/32']); list.contains('10.1.2.3') // true
 */
export class Netlist {
  readonly #networks: Network[];
  /** The networks as given (normalised), for logs and the node info. */
  readonly cidrs: readonly string[];

  private constructor(networks: Network[], cidrs: string[]) {
    this.#networks = networks;
    this.cidrs = cidrs;
  }

  /** Parses CIDR strings; throws a TypeError naming the first malformed one. */
  static parse(cidrs: readonly string[]): Netlist {
    const networks: Network[] = [];
    for (const cidr of cidrs) {
      const [ip, bits, ...rest] = cidr.trim().split('/');
      const bytes = ip === undefined ? undefined : ipBytes(ip);
      const prefix = bits === undefined ? Number.NaN : Number(bits);
      if (!bytes || rest.length > 0 || !/^\d+$/.test(bits ?? '') || prefix > bytes.length * 8) {
        throw new TypeError(`invalid network ${JSON.stringify(cidr)}: expected CIDR notation like 10.0.0.0/8`);
      }
      networks.push({ bytes, prefix });
    }
    return new Netlist(
      networks,
      cidrs.map((c) => c.trim()),
    );
  }

  /** True when `ip` (text, IPv4 or IPv6) lies in one of the networks; false for text that is not an address. */
  contains(ip: string): boolean {
    const bytes = ipBytes(ip);
    if (!bytes) return false;
    return this.#networks.some((net) => net.bytes.length === bytes.length && prefixMatches(net, bytes));
  }
}

function prefixMatches(net: Network, ip: Uint8Array): boolean {
  const full = net.prefix >> 3;
  for (let i = 0; i < full; i++) if (net.bytes[i] !== ip[i]) return false;
  const rest = net.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (net.bytes[full]! & mask) === (ip[full]! & mask);
}

/**
 * True for loopback, link-local and private addresses, as geth's `netutil.IsLAN`: such peers are exempt from the
 * inbound throttle.
 * @example isLanIp('192.168.1.7') // true
 */
export function isLanIp(ip: string): boolean {
  const bytes = ipBytes(ip);
  if (!bytes) return false;
  const score = ipLocalityScore(bytes);
  return score >= 1 && score <= 3;
}

/**
 * Splits `host:port` or `[v6]:port` into its parts; undefined when it is not of that form.
 * @example splitHostPort('[::1]:30303') // { host: '::1', port: 30303 }
 */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}
