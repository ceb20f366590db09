/**
 * Node address text: `enode://` URLs (discv4 era) and `enr:` records, parsed the way geth's `enode.Parse`
 * and `enode.ParseV4` accept them.
 */
import { hexToBytes } from '@devp2p/core';
import { isValidPublicKey } from '@devp2p/crypto';
import { ENR_TEXT_PREFIX, Enr } from './enr.ts';
import { EnodeUrlError } from './errors.ts';
import { isIPv4MappedIp, isMulticastIp, parseIp } from './ip.ts';
import { Node } from './node.ts';

/** URL scheme of node URLs. */
const ENODE_SCHEME = 'enode://';
/** Hex characters of a 64-byte public key. */
const PUBLIC_KEY_HEX_LENGTH = 128;
/** Longest DNS name (RFC 1035), and longest label. */
const MAX_HOSTNAME_LENGTH = 253;
const HOSTNAME_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
/** `enode://<hex>` or a bare hex id: a node known only by its key (geth's `incompleteNodeURL`). */
const INCOMPLETE_NODE_URL = /^(?:enode:\/\/)?([0-9a-f]+)$/i;

function parsePublicKey(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(text)) throw new EnodeUrlError('invalid public key (not hex)');
  if (text.length !== PUBLIC_KEY_HEX_LENGTH) {
    throw new EnodeUrlError(
      `invalid public key (wrong length, want ${PUBLIC_KEY_HEX_LENGTH} hex chars): got ${text.length}`,
    );
  }
  const key = hexToBytes(text);
  if (!isValidPublicKey(key)) throw new EnodeUrlError('invalid public key (not a point on secp256k1)');
  return key;
}

function parsePort(text: string | undefined, what: string): number {
  if (text === undefined || !/^[0-9]{1,5}$/.test(text) || Number(text) > 0xffff) {
    throw new EnodeUrlError(`${what} ${text === undefined || text === '' ? '(missing)' : JSON.stringify(text)}`);
  }
  return Number(text);
}

function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > MAX_HOSTNAME_LENGTH + 1) return false;
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  // All-numeric dotted names are malformed IPv4 addresses, not DNS names.
  if (labels.every((l) => /^[0-9]+$/.test(l))) return false;
  return labels.every((l) => HOSTNAME_LABEL.test(l));
}

/** Splits `host:port` / `[v6]:port` into host (without brackets), whether it was bracketed, and port text. */
function splitHostPort(authority: string): { host: string; bracketed: boolean; port: string | undefined } {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) throw new EnodeUrlError('invalid host (missing "]" after an IPv6 address)');
    const rest = authority.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new EnodeUrlError('invalid host (unexpected text after "]")');
    return { host: authority.slice(1, close), bracketed: true, port: rest === '' ? undefined : rest.slice(1) };
  }
  const colon = authority.lastIndexOf(':');
  if (colon === -1) return { host: authority, bracketed: false, port: undefined };
  const host = authority.slice(0, colon);
  if (host.includes(':')) throw new EnodeUrlError('invalid host (IPv6 addresses must be in brackets)');
  return { host, bracketed: false, port: authority.slice(colon + 1) };
}

/**
 * Parses an `enode://` URL, as geth's `ParseV4` does:
 * - `enode://<128 hex>@<host>:<tcp>[?discport=<udp>]`, host an IPv4, a bracketed IPv6 or a DNS name (kept as
 *   {@link Node.hostname}, resolved when dialed); `discport` defaults to the TCP port;
 * - `enode://<128 hex>` or a bare `<128 hex>`: an incomplete node, known only by its key.
 *
 * Throws an {@link EnodeUrlError} naming the part that is wrong.
 * @example parseEnodeUrl('enode://1dd9...a439@[2001:db8::1]:30303?discport=30301').udp // 30301
 */
export function parseEnodeUrl(url: string): Node {
  if (typeof url !== 'string') throw new TypeError('parseEnodeUrl: expected a string');
  const incomplete = INCOMPLETE_NODE_URL.exec(url);
  if (incomplete) return Node.fromPublicKey(parsePublicKey(incomplete[1]!));
  if (url.slice(0, ENODE_SCHEME.length).toLowerCase() !== ENODE_SCHEME) {
    throw new EnodeUrlError('invalid URL scheme, want "enode"');
  }
  let rest = url.slice(ENODE_SCHEME.length);
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  const query = question === -1 ? '' : rest.slice(question + 1);
  if (question !== -1) rest = rest.slice(0, question);
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    if (rest.slice(slash) !== '/') throw new EnodeUrlError(`unexpected path ${JSON.stringify(rest.slice(slash))}`);
    rest = rest.slice(0, slash);
  }
  const at = rest.lastIndexOf('@');
  if (at === -1) throw new EnodeUrlError('does not contain node ID (want enode://<128 hex chars>@host:port)');
  const publicKey = parsePublicKey(rest.slice(0, at));
  const { host, bracketed, port } = splitHostPort(rest.slice(at + 1));
  if (host === '') throw new EnodeUrlError('missing host');
  let ip: string | undefined;
  let hostname: string | undefined;
  const bytes = parseIp(host);
  if (bytes) {
    if (bracketed !== (bytes.length === 16)) {
      throw new EnodeUrlError(`invalid host ${JSON.stringify(host)} (only IPv6 addresses go in brackets)`);
    }
    // geth would accept a multicast address and then drop it from the endpoint, leaving a node nobody can dial.
    if (isMulticastIp(bytes)) throw new EnodeUrlError(`invalid host ${JSON.stringify(host)} (a multicast address)`);
    // As geth does (To4), an IPv4-mapped IPv6 address is the IPv4 address.
    ip = host;
    if (isIPv4MappedIp(bytes)) ip = bytes.subarray(12).join('.');
  } else if (!bracketed && isHostname(host)) {
    hostname = host;
  } else {
    throw new EnodeUrlError(`invalid host ${JSON.stringify(host)} (want an IP address or a DNS name)`);
  }
  const tcp = parsePort(port, 'invalid port');
  let udp = tcp;
  const discport = new URLSearchParams(query).get('discport');
  if (discport !== null && discport !== '') udp = parsePort(discport, 'invalid discport in query');
  return Node.fromPublicKey(publicKey, { ip, hostname, tcp, udp });
}

/**
 * Parses any node address a geth user would paste, as geth's `enode.Parse` does: an `enode://` URL (see
 * {@link parseEnodeUrl}) or an `enr:` record, whose signature must verify. Surrounding whitespace is ignored.
 * Throws an {@link EnodeUrlError} or an {@link EnrError} naming what is wrong.
 * @example const bootnodes = flag.split(',').map(parseNode)
 */
export function parseNode(text: string): Node {
  if (typeof text !== 'string') throw new TypeError('parseNode: expected a string');
  const input = text.trim();
  if (input.startsWith(ENODE_SCHEME)) return parseEnodeUrl(input);
  if (input.startsWith(ENR_TEXT_PREFIX)) return Node.fromRecord(Enr.decodeText(input));
  throw new EnodeUrlError(
    `missing '${ENR_TEXT_PREFIX}' prefix for base64-encoded record (or '${ENODE_SCHEME}' for a URL)`,
  );
}
