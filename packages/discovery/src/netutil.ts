/**
 * Address rules of geth's p2p/netutil that discovery alone needs: special networks, the relay rule for nodes in
 * Neighbors and per-subnet counting for the table's IP limits (CIDR lists and the LAN test are `@devp2p/enode`'s).
 */
import {
  formatIp,
  isIPv4MappedIp,
  isLan,
  isLoopbackIp,
  isMulticastIp,
  isUnspecifiedIp,
  NetList,
  parseIp,
} from '@devp2p/enode';

/** 4 bytes for IPv4 (also IPv4-mapped IPv6), 16 for IPv6: one subnet key per address. */
function toCanonicalBytes(text: string): Uint8Array | undefined {
  const bytes = parseIp(text);
  if (!bytes) return undefined;
  return isIPv4MappedIp(bytes) ? bytes.slice(12) : bytes;
}

const SPECIAL = new NetList([
  '192.0.0.0/29',
  '192.0.0.9/32',
  '192.0.0.170/32',
  '192.0.0.171/32',
  '192.0.2.0/24',
  '192.31.196.0/24',
  '192.52.193.0/24',
  '192.88.99.0/24',
  '192.175.48.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '255.255.255.255/32',
  '100::/64',
  '2001::/32',
  '2001:1::1/128',
  '2001:2::/48',
  '2001:3::/32',
  '2001:4:112::/48',
  '2001:5::/32',
  '2001:10::/28',
  '2001:20::/28',
  '2001:db8::/32',
  '2002::/16',
]);

/**
 * Canonical text of a datagram's source address, IPv4-mapped IPv6 written as IPv4 (geth unwraps 4-in-6 sources
 * the same way); undefined for text that is not an address.
 * @example canonicalHost('::ffff:10.0.0.1') // '10.0.0.1'
 */
export function canonicalHost(host: string): string | undefined {
  const bytes = parseIp(host);
  if (!bytes) return undefined;
  return formatIp(isIPv4MappedIp(bytes) ? bytes.subarray(12) : bytes);
}

/**
 * True for loopback addresses.
 * @example isLoopback('127.0.0.2') // true
 */
export function isLoopback(ip: string): boolean {
  const bytes = parseIp(ip);
  return bytes !== undefined && isLoopbackIp(bytes);
}

/**
 * Why a node address relayed by `sender` (in Neighbors) may not be used, or undefined when it may (geth
 * `netutil.CheckRelayIP`): no unspecified, special-purpose or multicast addresses, loopback only from a loopback
 * sender, LAN only from a LAN sender.
 * @example checkRelayIp('8.8.8.8', '127.0.0.1') // 'loopback address from a non-loopback sender'
 */
export function checkRelayIp(sender: string, ip: string | undefined): string | undefined {
  const bytes = ip === undefined ? undefined : parseIp(ip);
  if (ip === undefined || !bytes) return 'invalid IP';
  if (isUnspecifiedIp(bytes)) return 'unspecified address';
  if (isMulticastIp(bytes) || SPECIAL.contains(ip)) return 'special network';
  if (isLoopbackIp(bytes) && !isLoopback(sender)) return 'loopback address from a non-loopback sender';
  if (isLan(ip) && !isLan(sender)) return 'LAN address from a WAN sender';
  return undefined;
}

/**
 * Counts addresses per subnet (geth `netutil.DistinctNetSet`): at most `limit` per `/subnet` prefix.
 * @example const set = new DistinctNetSet(24, 2); set.add('1.2.3.4'); set.add('1.2.3.5'); set.add('1.2.3.6') // false
 */
export class DistinctNetSet {
  readonly #subnet: number;
  readonly #limit: number;
  readonly #members = new Map<string, number>();

  constructor(subnet: number, limit: number) {
    this.#subnet = subnet;
    this.#limit = limit;
  }

  #key(ip: string): string | undefined {
    const bytes = toCanonicalBytes(ip);
    if (!bytes) return undefined;
    const out: number[] = [bytes.length];
    const bits = Math.min(this.#subnet, bytes.length * 8);
    for (let i = 0; i * 8 < bits; i++) {
      const keep = Math.min(8, bits - i * 8);
      out.push(bytes[i]! & ((0xff << (8 - keep)) & 0xff));
    }
    return out.join('.');
  }

  /**
   * Adds `ip` unless its subnet is full; returns whether it was added.
   * @example if (!ips.add(node.ip)) return false
   */
  add(ip: string): boolean {
    const key = this.#key(ip);
    if (key === undefined) return false;
    const n = this.#members.get(key) ?? 0;
    if (n >= this.#limit) return false;
    this.#members.set(key, n + 1);
    return true;
  }

  /**
   * Removes one occurrence of `ip`'s subnet.
   * @example ips.remove(node.ip)
   */
  remove(ip: string): void {
    const key = this.#key(ip);
    if (key === undefined) return;
    const n = this.#members.get(key);
    if (n === undefined) return;
    if (n <= 1) this.#members.delete(key);
    else this.#members.set(key, n - 1);
  }

  /**
   * How many addresses of `ip`'s subnet are counted.
   * @example ips.count('1.2.3.4')
   */
  count(ip: string): number {
    const key = this.#key(ip);
    return key === undefined ? 0 : (this.#members.get(key) ?? 0);
  }
}
