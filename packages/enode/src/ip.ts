/**
 * IP address text ⇄ bytes, and the address classes geth uses to pick a node's endpoint. Pure code (no
 * `node:net`), so it behaves the same on every runtime.
 */

/**
 * Parses an IPv4 (`1.2.3.4`) or IPv6 (`2001:db8::1`, `::ffff:1.2.3.4`) address to 4 or 16 bytes; undefined
 * when `text` is neither. Zones (`fe80::1%eth0`), brackets and IPv4 octets with leading zeros are rejected.
 * @example parseIp('127.0.0.1') // Uint8Array [127, 0, 0, 1]
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

function parseIPv6(text: string): Uint8Array | undefined {
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1) return undefined;
  const head = doubleColon === -1 ? text : text.slice(0, doubleColon);
  const tail = doubleColon === -1 ? '' : text.slice(doubleColon + 2);
  const headGroups = parseGroups(head, doubleColon === -1);
  const tailGroups = parseGroups(tail, true);
  if (!headGroups || !tailGroups) return undefined;
  const total = headGroups.length + tailGroups.length;
  if (doubleColon === -1 ? total !== 8 : total > 7) return undefined;
  const groups = [...headGroups, ...new Array<number>(8 - total).fill(0), ...tailGroups];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** 16-bit groups of one side of `::`; an embedded IPv4 is allowed last when `allowIPv4` (the final side). */
function parseGroups(text: string, allowIPv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (allowIPv4 && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (!v4) return undefined;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}

const V4_IN_V6_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** True for `::ffff:a.b.c.d`. */
function isV4InV6(ip: Uint8Array): boolean {
  return ip.length === 16 && V4_IN_V6_PREFIX.every((b, i) => ip[i] === b);
}

/**
 * Canonical text of a 4- or 16-byte address: dotted quad, or RFC 5952 IPv6 (lowercase, the longest run of
 * two or more zero groups as `::`, IPv4-mapped addresses as `::ffff:1.2.3.4`).
 * @example formatIp(new Uint8Array(16)) // '::'
 */
export function formatIp(ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  if (ip.length !== 16) throw new RangeError(`ip: expected 4 or 16 bytes, got ${ip.length}`);
  if (isV4InV6(ip)) return `::ffff:${formatIp(ip.subarray(12))}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip[i]! << 8) | ip[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** The IPv4 bytes of a 4-byte or IPv4-mapped address, else the address unchanged. */
function unmap(ip: Uint8Array): Uint8Array {
  return isV4InV6(ip) ? ip.subarray(12) : ip;
}

/**
 * True for `0.0.0.0` and `::` (and `::ffff:0.0.0.0`).
 * @example isUnspecifiedIp(parseIp('::')!) // true
 */
export function isUnspecifiedIp(ip: Uint8Array): boolean {
  return unmap(ip).every((b) => b === 0);
}

/**
 * True for 127.0.0.0/8 and `::1`.
 * @example isLoopbackIp(parseIp('127.0.0.53')!) // true
 */
export function isLoopbackIp(ip: Uint8Array): boolean {
  const a = unmap(ip);
  if (a.length === 4) return a[0] === 127;
  return a.subarray(0, 15).every((b) => b === 0) && a[15] === 1;
}

/**
 * True for 224.0.0.0/4 and ff00::/8: never a node's endpoint.
 * @example isMulticastIp(parseIp('ff02::1')!) // true
 */
export function isMulticastIp(ip: Uint8Array): boolean {
  const a = unmap(ip);
  return a.length === 4 ? (a[0]! & 0xf0) === 0xe0 : a[0] === 0xff;
}

/** True for 169.254.0.0/16 and fe80::/10. */
function isLinkLocalUnicast(ip: Uint8Array): boolean {
  const a = unmap(ip);
  return a.length === 4 ? a[0] === 169 && a[1] === 254 : a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;
}

/** True for RFC 1918 (10/8, 172.16/12, 192.168/16) and RFC 4193 (fc00::/7) addresses. */
function isPrivate(ip: Uint8Array): boolean {
  const a = unmap(ip);
  if (a.length === 16) return (a[0]! & 0xfe) === 0xfc;
  return a[0] === 10 || (a[0] === 172 && (a[1]! & 0xf0) === 16) || (a[0] === 192 && a[1] === 168);
}

/**
 * How global an address is, as geth ranks them when a record has both `ip` and `ip6`: unspecified 0,
 * loopback 1, link-local 2, private 3, anything else 4.
 * @example ipLocalityScore(parseIp('192.168.1.1')!) // 3
 */
export function ipLocalityScore(ip: Uint8Array): number {
  if (isUnspecifiedIp(ip)) return 0;
  if (isLoopbackIp(ip)) return 1;
  if (isLinkLocalUnicast(ip)) return 2;
  if (isPrivate(ip)) return 3;
  return 4;
}

/**
 * True for a 16-byte address holding an IPv4 (`::ffff:a.b.c.d`); such addresses behave as IPv4.
 * @example isIPv4MappedIp(parseIp('::ffff:10.0.0.1')!) // true
 */
export function isIPv4MappedIp(ip: Uint8Array): boolean {
  return isV4InV6(ip);
}

/**
 * Canonical text of an address given as text (`::FFFF:1.2.3.4` → `::ffff:1.2.3.4`), or undefined when it
 * is not an address.
 * @example normalizeIp('2001:DB8:0:0::1') // '2001:db8::1'
 */
export function normalizeIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes ? formatIp(bytes) : undefined;
}
