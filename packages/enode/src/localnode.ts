import { type Clock, defaultLogger, equalBytes, type Logger, type RlpInput, systemClock } from '@devp2p/core';
import { compressPublicKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { ENR_MAX_SIZE, ENR_V4_SCHEME, Enr, type EnrEntries, encodeEnrEntry } from './enr.ts';
import { EnrError } from './errors.ts';
import { NodeId } from './id.ts';
import { isIPv4MappedIp, isUnspecifiedIp, normalizeIp, parseIp } from './ip.ts';
import { IpTracker, type IpTrackerOptions } from './iptrack.ts';
import { type Endpoint, Node } from './node.ts';
import { MemoryNodeDatabase, type NodeDatabase } from './nodedb.ts';

/** Keys LocalNode manages itself: the identity (set when signing) and the endpoint (see setStaticIp & co.). */
const MANAGED_KEYS: Readonly<Record<string, string>> = {
  id: 'it is set when the record is signed',
  secp256k1: 'it is set when the record is signed',
  ip: 'use setStaticIp or setFallbackIp (or let endpoint statements predict it)',
  ip6: 'use setStaticIp or setFallbackIp (or let endpoint statements predict it)',
  udp: 'use setFallbackUdp (or let endpoint statements predict it)',
  udp6: 'use setFallbackUdp (or let endpoint statements predict it)',
};

/** Bytes a 64-byte signature adds over the empty one an unsigned record encodes with. */
const SIGNATURE_GROWTH = 65;

/** Size of a record once signed, from its size with an empty signature (the list header may grow). */
function signedSize(unsignedSize: number): number {
  const headerOf = (payload: number) => (payload < 56 ? 1 : payload < 256 ? 2 : 3);
  const payload = unsignedSize <= 56 ? unsignedSize - 1 : unsignedSize <= 257 ? unsignedSize - 2 : unsignedSize - 3;
  const signedPayload = payload + SIGNATURE_GROWTH;
  return signedPayload + headerOf(signedPayload);
}

/**
 * Options for {@link LocalNode}.
 * @example new LocalNode(privateKey, { db: openNodeDatabase(dir), logger })
 */
export interface LocalNodeOptions {
  /** Where the sequence number persists (default: a fresh in-memory database, i.e. nothing persists). */
  db?: NodeDatabase;
  /** Clock (default {@link systemClock}): the first sequence number is its time in ms, as in geth. */
  clock?: Pick<Clock, 'now'>;
  /** Endpoint predictor settings (defaults are geth's); its clock defaults to `clock`. */
  ipTracker?: IpTrackerOptions;
  /** Logger (default: silent unless `DEBUG` names devp2p). */
  logger?: Logger;
}

interface EntryValue {
  readonly value: RlpInput;
  readonly raw: Uint8Array;
}

/** Where one address family's endpoint comes from: static > predicted > fallback. */
class EndpointSource {
  readonly tracker: IpTracker;
  staticIp: string | undefined;
  fallbackIp: string | undefined;
  fallbackUdp = 0;

  constructor(tracker: IpTracker) {
    this.tracker = tracker;
  }

  get(): { ip: string | undefined; udp: number } {
    let ip = this.fallbackIp;
    let udp = this.fallbackUdp;
    if (this.staticIp !== undefined) {
      ip = this.staticIp;
    } else {
      const predicted = this.tracker.predictEndpoint();
      if (predicted) {
        ip = predicted.ip;
        udp = predicted.port;
      }
    }
    return { ip, udp };
  }
}

function family(ip: string): 4 | 6 | undefined {
  const bytes = parseIp(ip);
  if (!bytes) return undefined;
  return bytes.length === 4 || isIPv4MappedIp(bytes) ? 4 : 6;
}

/** Canonical text, IPv4-mapped IPv6 written as IPv4; undefined for anything that is not an address. */
function tryCanonicalIp(ip: unknown): string | undefined {
  const bytes = typeof ip === 'string' ? parseIp(ip) : undefined;
  if (!bytes) return undefined;
  return isIPv4MappedIp(bytes) ? bytes.subarray(12).join('.') : normalizeIp(ip as string);
}

function canonicalIp(label: string, ip: string): string {
  const canonical = tryCanonicalIp(ip);
  if (canonical === undefined) throw new TypeError(`${label}: invalid IP address ${String(ip)}`);
  return canonical;
}

/**
 * Our own node: its key, and the signed record peers see. Setting entries marks the record stale; the next
 * read of {@link LocalNode.node} raises the sequence number by one, stores it in the node database, and signs
 * a new record, so a burst of changes costs one signature. The first sequence number is the one stored for
 * our id, or else the current time in ms (as geth does), so peers never see a lower one after a restart.
 *
 * The IP address and UDP port come from a static IP if set, else from a majority of endpoint statements
 * (what peers say our address is), else from fallbacks.
 *
 * @example
 * const local = new LocalNode(privateKey, { db })
 * local.set({ tcp: 30303, eth: [[forkHash, 0]] })
 * local.setFallbackIp('127.0.0.1'); local.setFallbackUdp(30303)
 * local.node.record.toText() // enr:... with seq = previous + 1
 */
export class LocalNode {
  /** Our node id. */
  readonly id: NodeId;
  /** Our 64-byte public key (x ‖ y). */
  readonly publicKey: Uint8Array;
  /** The node database holding our sequence number. */
  readonly db: NodeDatabase;
  readonly #privateKey: Uint8Array;
  readonly #compressedKey: Uint8Array;
  readonly #logger: Logger;
  readonly #entries = new Map<string, EntryValue>();
  readonly #endpoint4: EndpointSource;
  readonly #endpoint6: EndpointSource;
  #seq: bigint;
  #current: Node | undefined;

  constructor(privateKey: Uint8Array, options: LocalNodeOptions = {}) {
    this.publicKey = publicKeyFromPrivate(privateKey);
    this.#privateKey = privateKey.slice();
    this.#compressedKey = compressPublicKey(this.publicKey);
    this.id = NodeId.fromPublicKey(this.publicKey);
    this.db = options.db ?? new MemoryNodeDatabase();
    this.#logger = (options.logger ?? defaultLogger()).child('enode:localnode');
    const clock = options.clock ?? systemClock;
    const trackerOptions = { clock, ...options.ipTracker };
    this.#endpoint4 = new EndpointSource(new IpTracker(trackerOptions));
    this.#endpoint6 = new EndpointSource(new IpTracker(trackerOptions));
    this.#seq = this.db.localSeq(this.id) ?? BigInt(clock.now());
  }

  /**
   * The current signed record as a node, signing a new version first if entries changed since the last one.
   * @example socket.send(encodeEnrResponse(local.node.record))
   */
  get node(): Node {
    if (!this.#current) this.#sign();
    return this.#current!;
  }

  /**
   * Sequence number of the latest signed record (before the first signing: the one the next record builds on).
   * @example pong.enrSeq = local.seq
   */
  get seq(): bigint {
    return this.#seq;
  }

  /**
   * Sets (or, with `null`, removes) record entries: ports (`tcp`, `tcp6`, `quic`...), a fork id (`eth`), a
   * plugin's attributes. A real change marks the record stale. `ip`, `ip6`, `udp`, `udp6`, `id` and
   * `secp256k1` are managed by this class and throw a TypeError here. Throws an {@link EnrError} when the
   * signed record would exceed 300 bytes (nothing is changed then).
   * @example local.set({ tcp: 30303, snap: [] })
   */
  set(entries: EnrEntries): void {
    if (entries === null || typeof entries !== 'object') throw new TypeError('LocalNode.set: expected an object');
    for (const key of Object.keys(entries)) {
      const reason = MANAGED_KEYS[key];
      if (reason !== undefined && entries[key] !== undefined) {
        throw new TypeError(`LocalNode.set: "${key}" is managed by LocalNode: ${reason}`);
      }
    }
    this.#apply(entries);
    // A predicted endpoint skipped earlier for lack of room may fit now.
    this.#updateEndpoints(true);
  }

  /**
   * Removes an entry (same as `set({ [key]: null })`).
   * @example local.delete('snap')
   */
  delete(key: string): void {
    this.set({ [key]: null });
  }

  /**
   * The RLP encoding of the entry under `key` in the next record, or undefined.
   * @example local.get('tcp')
   */
  get(key: string): Uint8Array | undefined {
    return this.#entries.get(key)?.raw.slice();
  }

  #apply(entries: EnrEntries): void {
    const next = new Map(this.#entries);
    let changed = false;
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) continue;
      const current = next.get(key);
      if (value === null) {
        if (current) {
          next.delete(key);
          changed = true;
        }
        continue;
      }
      const raw = encodeEnrEntry(key, value);
      if (!current || !equalBytes(current.raw, raw)) {
        next.set(key, { value, raw });
        changed = true;
      }
    }
    if (!changed) return;
    const size = signedSize(this.#unsigned(next, this.#seq + 1n).size);
    if (size > ENR_MAX_SIZE) {
      throw new EnrError(`local record would be ${size} bytes, over the ${ENR_MAX_SIZE}-byte limit`);
    }
    this.#entries.clear();
    for (const [key, value] of next) this.#entries.set(key, value);
    this.#current = undefined;
  }

  #unsigned(entries: ReadonlyMap<string, EntryValue>, seq: bigint): Enr {
    const values: EnrEntries = { id: ENR_V4_SCHEME, secp256k1: this.#compressedKey };
    for (const [key, { value }] of entries) values[key] = value;
    return Enr.create(values, seq);
  }

  #sign(): void {
    const seq = this.#seq + 1n;
    const record = this.#unsigned(this.#entries, seq).sign(this.#privateKey);
    this.db.storeLocalSeq(this.id, seq);
    this.#seq = seq;
    // Built from a record we just signed: no need to verify our own signature again.
    this.#current = Node.fromTrustedRecord(record, this.id);
    this.#logger.info('new local node record', {
      seq,
      id: this.id.short(),
      ip: this.#current.ip,
      udp: this.#current.udp,
      tcp: this.#current.tcp,
    });
  }

  #source(ip: string): EndpointSource | undefined {
    const f = family(ip);
    return f === 4 ? this.#endpoint4 : f === 6 ? this.#endpoint6 : undefined;
  }

  /**
   * Uses `ip` as our address for its family unconditionally: endpoint prediction is off for that family.
   * @example local.setStaticIp('203.0.113.7') // --nat extip:203.0.113.7
   */
  setStaticIp(ip: string): void {
    const canonical = canonicalIp('setStaticIp', ip);
    const source = this.#source(canonical)!;
    this.#changeEndpoint(() => {
      const previous = source.staticIp;
      source.staticIp = canonical;
      return () => {
        source.staticIp = previous;
      };
    });
  }

  /**
   * The address to announce for its family when no static IP is set and no prediction can be made.
   * @example local.setFallbackIp('127.0.0.1')
   */
  setFallbackIp(ip: string): void {
    const canonical = canonicalIp('setFallbackIp', ip);
    const source = this.#source(canonical)!;
    this.#changeEndpoint(() => {
      const previous = source.fallbackIp;
      source.fallbackIp = canonical;
      return () => {
        source.fallbackIp = previous;
      };
    });
  }

  /**
   * The UDP port to announce when no prediction can be made (usually our listening port).
   * @example local.setFallbackUdp(socket.address().port)
   */
  setFallbackUdp(port: number): void {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
      throw new RangeError(`setFallbackUdp: expected a port number 0..65535, got ${port}`);
    }
    this.#changeEndpoint(() => {
      const previous = this.#endpoint4.fallbackUdp;
      this.#endpoint4.fallbackUdp = port;
      this.#endpoint6.fallbackUdp = port;
      return () => {
        this.#endpoint4.fallbackUdp = previous;
        this.#endpoint6.fallbackUdp = previous;
      };
    });
  }

  /** Applies an endpoint setting and updates the record; undoes the setting if the record cannot take it. */
  #changeEndpoint(change: () => () => void): void {
    const undo = change();
    try {
      this.#updateEndpoints();
    } catch (err) {
      undo();
      throw err;
    }
  }

  /**
   * Feeds the predictor: the host at `from` says our UDP endpoint is `endpoint` (a discv4 pong's `to`).
   * Malformed addresses (network input) are ignored.
   * @example local.udpEndpointStatement(fromEndpoint, pong.to)
   */
  udpEndpointStatement(from: Endpoint, endpoint: Endpoint): void {
    const host = tryCanonicalIp(from?.ip);
    const ip = tryCanonicalIp(endpoint?.ip);
    if (host === undefined || ip === undefined) return;
    if (!Number.isInteger(endpoint.port) || endpoint.port <= 0 || endpoint.port > 0xffff) return;
    this.#source(ip)!.tracker.addStatement(host, { ip, port: endpoint.port });
    this.#updateEndpoints(true);
  }

  /**
   * Feeds the predictor: we sent our endpoint to `to` (a discv4 ping).
   * @example local.udpContact(toEndpoint)
   */
  udpContact(to: Endpoint): void {
    const host = tryCanonicalIp(to?.ip);
    if (host === undefined) return;
    this.#source(host)!.tracker.addContact(host);
    this.#updateEndpoints(true);
  }

  /**
   * True when a host made an endpoint statement without being contacted first, for either family: we seem
   * reachable from outside (full-cone NAT or none).
   * @example if (local.predictFullConeNat()) log.info('reachable')
   */
  predictFullConeNat(): boolean {
    return this.#endpoint4.tracker.predictFullConeNat() || this.#endpoint6.tracker.predictFullConeNat();
  }

  /**
   * Puts the current endpoint into the record. A change triggered by the network (a statement) that would push
   * the record over the size limit is logged and skipped rather than thrown at the packet handler.
   */
  #updateEndpoints(fromNetwork = false): void {
    const v4 = this.#endpoint4.get();
    const v6 = this.#endpoint6.get();
    const usable = (ip: string | undefined) => (ip !== undefined && !isUnspecifiedIp(parseIp(ip)!) ? ip : null);
    try {
      this.#apply({
        ip: usable(v4.ip),
        ip6: usable(v6.ip),
        udp: v4.udp !== 0 ? v4.udp : null,
        udp6: v6.udp !== 0 && v6.udp !== v4.udp ? v6.udp : null,
      });
    } catch (err) {
      if (!fromNetwork || !(err instanceof EnrError)) throw err;
      this.#logger.warn('predicted endpoint not applied', { reason: err.message });
    }
  }
}
