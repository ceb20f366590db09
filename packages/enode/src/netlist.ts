/**
 * IP networks as geth's `p2p/netutil` has them: CIDR lists (NetRestrict) and the LAN test. One implementation for
 * the server (who may connect) and discovery (whom to contact).
 */
import { isIPv4MappedIp, isLoopbackIp, parseIp } from './ip.ts';

interface Network {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** 4 bytes for IPv4 (also IPv4-mapped IPv6), 16 for IPv6; IPv6 brackets are accepted. */
function canonicalIp(text: string): Uint8Array | undefined {
  const bytes = parseIp(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (!bytes) return undefined;
  return isIPv4MappedIp(bytes) ? bytes.slice(12) : bytes;
}

function parseNetwork(cidr: string): Network {
  const [ip, bits, ...rest] = cidr.split('/');
  const bytes = ip === undefined ? undefined : canonicalIp(ip);
  const prefix = Number(bits);
  if (!bytes || rest.length > 0 || !/^\d+$/.test(bits ?? '') || prefix > bytes.length * 8) {
    throw new TypeError(`invalid network ${JSON.stringify(cidr)}: expected CIDR notation like 10.0.0.0/8`);
  }
  return { bytes, bits: prefix };
}

function inNetwork(net: Network, ip: Uint8Array): boolean {
  if (ip.length !== net.bytes.length) return false;
  const full = net.bits >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== net.bytes[i]) return false;
  const rest = net.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === (net.bytes[full]! & mask);
}

/**
 * A list of IP networks in CIDR notation, as geth's `netutil.Netlist` (NetRestrict).
 * @example const list = new NetList(['10.0.0.0/8', '2001:db8::/32']); list.contains('10.1.2.3') // true
 */
export class NetList {
  readonly #networks: Network[];
  /** The networks as given (trimmed), for logs and flags. */
  readonly cidrs: readonly string[];

  /** Throws a TypeError naming the first entry that is not `address/bits`. */
  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs.map((c) => c.trim());
    this.#networks = this.cidrs.map(parseNetwork);
  }

  /** True when `ip` (text, IPv4 or IPv6) lies in one of the networks; false for text that is not an address. */
  contains(ip: string): boolean {
    const bytes = canonicalIp(ip);
    return bytes !== undefined && this.#networks.some((net) => inNetwork(net, bytes));
  }
}

const LAN = new NetList([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fe80::/10',
  'fc00::/7',
]);

/**
 * True for loopback and private, link-local and shared networks (geth's `netutil.IsLAN`): such peers are exempt
 * from the inbound throttle, and may relay LAN addresses in discovery.
 * @example isLan('192.168.1.5') // true
 */
export function isLan(ip: string): boolean {
  const bytes = canonicalIp(ip);
  if (!bytes) return false;
  return isLoopbackIp(bytes) || LAN.contains(ip);
}
