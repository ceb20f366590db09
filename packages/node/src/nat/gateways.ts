/**
 * Where a NAT-PMP gateway probably is when none is named: as geth, the `.1` address of each private IPv4 network
 * this machine has an address in (most home and office routers sit there).
 */
import { networkInterfaces } from 'node:os';

/** Private IPv4 ranges (RFC 1918): only these are taken for a LAN behind a router. */
function isPrivateIpv4(ip: readonly number[]): boolean {
  const [a, b] = ip;
  return a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168);
}

/**
 * The guessed gateways, one per private IPv4 network of this machine's interfaces, without repeats.
 * @example guessGateways() // ['192.168.1.1']
 */
export function guessGateways(): string[] {
  const found = new Set<string>();
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family !== 'IPv4' || address.internal) continue;
      const ip = address.address.split('.').map(Number);
      const mask = address.netmask.split('.').map(Number);
      if (ip.length !== 4 || mask.length !== 4 || !isPrivateIpv4(ip)) continue;
      const network = ip.map((part, i) => part & mask[i]!);
      network[3] = network[3]! | 1;
      found.add(network.join('.'));
    }
  }
  return [...found];
}
