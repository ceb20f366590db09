import { bytesToHex } from '@devp2p/core';
import { compressPublicKey, isValidPublicKey } from '@devp2p/crypto';
import { Enr, type EnrEntries } from './enr.ts';
import { EnrError } from './errors.ts';
import { NodeId } from './id.ts';
import { formatIp, ipLocalityScore, isIPv4MappedIp, isMulticastIp, isUnspecifiedIp, parseIp } from './ip.ts';

/**
 * An IP address (canonical text) and a port.
 * @example const { ip, port } = node.udpEndpoint() ?? fail('no UDP endpoint')
 */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/**
 * Where a node built from a bare public key listens (see {@link Node.fromPublicKey}).
 * @example Node.fromPublicKey(publicKey, { ip: '10.0.0.1', tcp: 30303, udp: 30301 })
 */
export interface NodeAddress {
  /** IPv4 or IPv6 address text. */
  readonly ip?: string;
  /** A DNS name, resolved when dialed (see {@link Node.withIp}). */
  readonly hostname?: string;
  /** TCP (RLPx) port; 0 or absent for none. */
  readonly tcp?: number;
  /** UDP (discovery) port; 0 or absent for none. */
  readonly udp?: number;
}

/** The address and ports chosen from a record, the way geth's `newNodeWithID` chooses them. */
interface ChosenEndpoint {
  readonly ip: Uint8Array | undefined;
  readonly tcp: number;
  readonly udp: number;
  readonly quic: number;
}

/** Reads a record getter, treating a malformed value like an absent one (as geth's endpoint selection does). */
function tryGet<T>(get: () => T | undefined): T | undefined {
  try {
    return get();
  } catch (err) {
    if (err instanceof EnrError) return undefined;
    throw err;
  }
}

/** An address geth accepts as an endpoint: present and not multicast. */
function validEndpointIp(ip: Uint8Array | undefined): ip is Uint8Array {
  return ip !== undefined && !isMulticastIp(ip);
}

function ipv4Ports(record: Enr, ip: Uint8Array | undefined): ChosenEndpoint {
  return {
    ip,
    tcp: tryGet(() => record.tcp) ?? 0,
    udp: tryGet(() => record.udp) ?? 0,
    quic: ip ? (tryGet(() => record.quic) ?? 0) : 0,
  };
}

function ipv6Ports(record: Enr, ip: Uint8Array): ChosenEndpoint {
  if (isIPv4MappedIp(ip)) return ipv4Ports(record, ip.subarray(12));
  return {
    ip,
    tcp: tryGet(() => record.tcp6) ?? tryGet(() => record.tcp) ?? 0,
    udp: tryGet(() => record.udp6) ?? tryGet(() => record.udp) ?? 0,
    quic: tryGet(() => record.quic6) ?? 0,
  };
}

function portsFor(record: Enr, ip: Uint8Array): ChosenEndpoint {
  return ip.length === 4 ? ipv4Ports(record, ip) : ipv6Ports(record, ip);
}

/**
 * Picks the endpoint: with both `ip` and `ip6` valid, the more global one (unspecified < loopback < link-local
 * < private < global), IPv4 on a tie; IPv6 ports come from `udp6`/`tcp6`, falling back to `udp`/`tcp`.
 */
function chooseEndpoint(record: Enr): ChosenEndpoint {
  const text4 = tryGet(() => record.ip);
  const text6 = tryGet(() => record.ip6);
  const ip4 = text4 === undefined ? undefined : parseIp(text4);
  const ip6 = text6 === undefined ? undefined : parseIp(text6);
  const valid4 = validEndpointIp(ip4);
  const valid6 = validEndpointIp(ip6);
  if (valid4 && valid6) {
    return ipLocalityScore(ip4) >= ipLocalityScore(ip6) ? ipv4Ports(record, ip4) : ipv6Ports(record, ip6);
  }
  if (valid4) return ipv4Ports(record, ip4);
  if (valid6) return ipv6Ports(record, ip6);
  return ipv4Ports(record, undefined);
}

function checkPort(label: string, port: number | undefined): number {
  const value = port ?? 0;
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`${label}: expected a port number 0..65535, got ${String(port)}`);
  }
  return value;
}

/**
 * A host on the network: its id, its record, and the endpoint chosen from the record (the way geth chooses
 * between `ip` and `ip6`). Immutable.
 *
 * Nodes come from signed records ({@link Node.fromRecord}, {@link parseNode} with `enr:` text), from a public
 * key and address (discv4, `enode://` URLs: {@link Node.fromPublicKey}), or from a trusted store.
 *
 * @example
 * const node = parseNode('enode://1dd9...a439@127.0.0.1:30303?discport=30301')
 * node.id.hex; node.ip; node.tcp; node.udp // '3431c393...', '127.0.0.1', 30303, 30301
 * node.toString() // the same URL back
 */
export class Node {
  /** The node id: keccak-256 of the public key under the v4 scheme. */
  readonly id: NodeId;
  /** The node's record. Unsigned (empty signature) for nodes built from a public key and address. */
  readonly record: Enr;
  /** The chosen endpoint address as canonical text, or undefined when the record has none. */
  readonly ip: string | undefined;
  /** TCP port of the chosen endpoint (0 when none). */
  readonly tcp: number;
  /** UDP port of the chosen endpoint (0 when none). */
  readonly udp: number;
  /** QUIC port for the chosen address family (`quic` for IPv4, `quic6` for IPv6), 0 when none or no address. */
  readonly quic: number;
  /** DNS name the node was given by, kept for (re-)resolution when dialed. */
  readonly hostname: string | undefined;

  private constructor(record: Enr, id: NodeId, endpoint: ChosenEndpoint, hostname: string | undefined) {
    this.record = record;
    this.id = id;
    this.ip = endpoint.ip ? formatIp(endpoint.ip) : undefined;
    this.tcp = endpoint.tcp;
    this.udp = endpoint.udp;
    this.quic = endpoint.quic;
    this.hostname = hostname;
  }

  /**
   * A node from a signed record; throws an {@link EnrError} unless the record carries a valid "v4" signature.
   * @example const node = Node.fromRecord(Enr.decode(bytes))
   */
  static fromRecord(record: Enr): Node {
    if (!(record instanceof Enr)) throw new TypeError('Node.fromRecord: expected an Enr');
    if (!record.signed) throw new EnrError('record is not signed');
    record.verifyOrThrow();
    const id = record.nodeId;
    if (!id) throw new EnrError('record has no valid secp256k1 public key');
    return new Node(record, id, chooseEndpoint(record), undefined);
  }

  /**
   * A node with no signed record, as discv4 and `enode://` URLs describe nodes: a 64-byte public key (x ‖ y)
   * and optionally an address. Its record is unsigned and holds `secp256k1`, `ip`/`ip6`, `tcp`, `udp`.
   * @example Node.fromPublicKey(pub, { ip: '10.3.58.6', tcp: 30303, udp: 30301 })
   */
  static fromPublicKey(publicKey: Uint8Array, address: NodeAddress = {}): Node {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 64) {
      throw new RangeError('Node.fromPublicKey: expected a 64-byte public key (x ‖ y)');
    }
    if (!isValidPublicKey(publicKey)) throw new RangeError('Node.fromPublicKey: not a secp256k1 curve point');
    const entries: EnrEntries = { secp256k1: compressPublicKey(publicKey) };
    if (address.ip !== undefined) {
      let ip = parseIp(address.ip);
      if (!ip) throw new TypeError(`Node.fromPublicKey: invalid IP address ${address.ip}`);
      if (isIPv4MappedIp(ip)) ip = ip.subarray(12);
      entries[ip.length === 4 ? 'ip' : 'ip6'] = ip;
    }
    const tcp = checkPort('Node.fromPublicKey tcp', address.tcp);
    const udp = checkPort('Node.fromPublicKey udp', address.udp);
    if (udp !== 0) entries.udp = udp;
    if (tcp !== 0) entries.tcp = tcp;
    const record = Enr.create(entries);
    return new Node(record, NodeId.fromPublicKey(publicKey), chooseEndpoint(record), address.hostname);
  }

  /**
   * A node from a record this process already trusts (its own store, a test), without checking a
   * signature. The id defaults to the one derived from the record's `secp256k1` key.
   * @example Node.fromTrustedRecord(Enr.decode(stored, { verify: false }), storedId)
   */
  static fromTrustedRecord(record: Enr, id?: NodeId): Node {
    if (!(record instanceof Enr)) throw new TypeError('Node.fromTrustedRecord: expected an Enr');
    const nodeId = id ?? record.nodeId;
    if (!nodeId) throw new EnrError('record has no valid secp256k1 public key and no id was given');
    return new Node(record, nodeId, chooseEndpoint(record), undefined);
  }

  /**
   * The 64-byte public key (x ‖ y) from the record, or undefined for a record without one.
   * @example ecdhX(privateKey, node.publicKey!)
   */
  get publicKey(): Uint8Array | undefined {
    return this.record.publicKey;
  }

  /**
   * Sequence number of the record.
   * @example if (remote.seq > known.seq) refresh(remote)
   */
  get seq(): bigint {
    return this.record.seq;
  }

  /**
   * True when the node has neither an IP address nor a DNS name: only its identity is known.
   * @example if (node.incomplete) node = await resolveViaDiscovery(node.id)
   */
  get incomplete(): boolean {
    return this.ip === undefined && this.hostname === undefined;
  }

  #endpoint(port: number): Endpoint | undefined {
    const ip = this.ip === undefined ? undefined : parseIp(this.ip);
    if (!ip || isUnspecifiedIp(ip) || port === 0) return undefined;
    return { ip: this.ip!, port };
  }

  /**
   * The announced TCP endpoint, or undefined without a usable address (none, or unspecified) or TCP port.
   * @example const ep = node.tcpEndpoint(); if (ep) dial(ep.ip, ep.port)
   */
  tcpEndpoint(): Endpoint | undefined {
    return this.#endpoint(this.tcp);
  }

  /**
   * The announced UDP (discovery) endpoint, or undefined without a usable address or UDP port.
   * @example const ep = node.udpEndpoint(); if (ep) sendPing(ep)
   */
  udpEndpoint(): Endpoint | undefined {
    return this.#endpoint(this.udp);
  }

  /**
   * The announced QUIC endpoint, or undefined.
   * @example node.quicEndpoint()
   */
  quicEndpoint(): Endpoint | undefined {
    return this.#endpoint(this.quic);
  }

  /**
   * The same node with `ip` as its address (a DNS name resolved at dial time); the record is unchanged and
   * the ports are taken for the new address's family.
   * @example const dialable = node.hostname ? node.withIp((await lookup(node.hostname)).address) : node
   */
  withIp(ip: string): Node {
    const bytes = parseIp(ip);
    if (!bytes) throw new TypeError(`Node.withIp: invalid IP address ${ip}`);
    return new Node(this.record, this.id, portsFor(this.record, bytes), this.hostname);
  }

  /**
   * The same node with a DNS name to resolve when dialing.
   * @example node.withHostname('boot.example.org')
   */
  withHostname(hostname: string | undefined): Node {
    const endpoint = { ip: this.ip === undefined ? undefined : parseIp(this.ip), tcp: this.tcp, udp: this.udp };
    return new Node(this.record, this.id, { ...endpoint, quic: this.quic }, hostname);
  }

  /**
   * The `enode://<128 hex>@<host>:<tcp>[?discport=<udp>]` URL (`discport` only when it differs from the TCP
   * port; `enode://<128 hex>` alone for an incomplete node). Throws a TypeError without a public key.
   * @example node.toEnodeUrl() // 'enode://1dd9...a439@127.0.0.1:52150'
   */
  toEnodeUrl(): string {
    const publicKey = this.publicKey;
    if (!publicKey) throw new TypeError(`node ${this.id.short()} has no secp256k1 public key for an enode URL`);
    const user = bytesToHex(publicKey);
    let host: string;
    if (this.hostname !== undefined) host = this.hostname;
    else if (this.ip !== undefined) host = this.ip.includes(':') ? `[${this.ip}]` : this.ip;
    else return `enode://${user}`;
    const query = this.udp !== this.tcp ? `?discport=${this.udp}` : '';
    return `enode://${user}@${host}:${this.tcp}${query}`;
  }

  /**
   * The text form geth prints: the `enode://` URL for nodes without a signed record, `enr:...` otherwise.
   * @example console.log(`${node}`)
   */
  toString(): string {
    if (!this.record.signed && this.publicKey) return this.toEnodeUrl();
    return this.record.toText();
  }
}
