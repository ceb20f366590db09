import type { AnyProtocol, Cap } from '@devp2p/core';
import { BASE_PROTOCOL_LENGTH } from './hello.ts';

/** A protocol both sides speak, with its place in the shared message-code space. */
export interface MatchedProtocol {
  readonly protocol: AnyProtocol;
  /** First absolute message code of this protocol. */
  readonly offset: number;
}

/**
 * Validates the protocols a server runs: at most one per Cap.
 * @example const registry = new ProtocolRegistry([ping, eth68, eth69])
 */
export class ProtocolRegistry {
  readonly protocols: readonly AnyProtocol[];

  constructor(protocols: readonly AnyProtocol[]) {
    const seen = new Set<string>();
    for (const p of protocols) {
      const key = `${p.cap.name}/${p.cap.version}`;
      if (seen.has(key)) throw new TypeError(`protocol ${key} is registered twice`);
      seen.add(key);
    }
    this.protocols = [...protocols];
  }

  /** Our caps for the Hello, sorted by name then version (the order geth advertises them in). */
  caps(): Cap[] {
    return this.protocols.map((p) => p.cap).sort(compareCaps);
  }

  /**
   * The protocols shared with a remote that advertised `remoteCaps`, with their code offsets, as geth's
   * `matchProtocols`: caps equal in name and version are shared; of several versions of one name the highest
   * wins; the winners, in name order, take consecutive code ranges from 0x10. Empty means "useless peer".
   */
  match(remoteCaps: readonly Cap[]): MatchedProtocol[] {
    const best = new Map<string, AnyProtocol>();
    for (const cap of remoteCaps) {
      const ours = this.protocols.find((p) => p.cap.name === cap.name && p.cap.version === cap.version);
      if (!ours) continue;
      const current = best.get(cap.name);
      if (!current || current.cap.version < ours.cap.version) best.set(cap.name, ours);
    }
    const shared = [...best.values()].sort((a, b) => compareCaps(a.cap, b.cap));
    const matched: MatchedProtocol[] = [];
    let offset = BASE_PROTOCOL_LENGTH;
    for (const protocol of shared) {
      matched.push({ protocol, offset });
      offset += protocol.length;
    }
    return matched;
  }
}

/** Orders caps by name (byte order, as Go compares strings) and then by version. */
export function compareCaps(a: Cap, b: Cap): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.version - b.version;
}

/**
 * Finds the protocol owning absolute message code `code`, or undefined when it is outside every range.
 * @example const owner = findProtocol(matched, 0x13)
 */
export function findProtocol(matched: readonly MatchedProtocol[], code: number): MatchedProtocol | undefined {
  for (const m of matched) {
    if (code >= m.offset && code < m.offset + m.protocol.length) return m;
  }
  return undefined;
}
