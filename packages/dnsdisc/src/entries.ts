/**
 * The entries of a DNS node list (dnsdisc.md, EIP-1459): the signed root, branches of hashes, `enr:` leaves and
 * `enrtree://` links; how each parses, prints, hashes and (the root) verifies.
 */
import { utf8ToBytes } from '@devp2p/core';
import { compressPublicKey, keccak256, SIGNATURE_LENGTH, sign, verify } from '@devp2p/crypto';
import { base64UrlDecode, base64UrlEncode, ENR_TEXT_PREFIX, Enr, Node } from '@devp2p/enode';
import { base32Decode, base32Encode } from './base32.ts';
import { DNSDISC_HASH_LENGTH, DNSDISC_MAX_ENTRY_LENGTH, DNSDISC_MIN_HASH_LENGTH } from './constants.ts';
import { DnsDiscError } from './errors.ts';

/** Start of a root entry, with its version. */
export const ROOT_PREFIX = 'enrtree-root:v1';
/** Start of a link entry, and the scheme of a tree's URL. */
export const LINK_PREFIX = 'enrtree://';
/** Start of a branch entry. */
export const BRANCH_PREFIX = 'enrtree-branch:';

/** Largest hash in a root or branch: all 32 bytes of keccak-256. */
const MAX_HASH_LENGTH = 32;
/** Largest sequence number: what a JavaScript number holds exactly (geth's is a Go `uint`). */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The root of a tree: the hashes of the ENR and link subtrees, the sequence number, and the 65-byte signature
 * (r ‖ s ‖ recovery id) over the root's text before ` sig=` (empty until signed).
 */
export interface RootEntry {
  readonly type: 'root';
  readonly enrRoot: string;
  readonly linkRoot: string;
  readonly seq: number;
  readonly signature: Uint8Array;
}

/** An intermediate entry: the hashes of its children. */
export interface BranchEntry {
  readonly type: 'branch';
  readonly children: readonly string[];
}

/** A leaf of the ENR subtree: a node with a verified record. */
export interface EnrEntry {
  readonly type: 'enr';
  readonly node: Node;
}

/**
 * A leaf of the link subtree, and what an `enrtree://` URL parses to: the tree at `domain`, signed by `publicKey`.
 */
export interface LinkEntry {
  readonly type: 'link';
  /** The URL, `enrtree://<base32 key>@<domain>`. */
  readonly url: string;
  readonly domain: string;
  /** The signer's compressed public key (33 bytes). */
  readonly publicKey: Uint8Array;
}

/** Any entry below the root. */
export type TreeEntry = BranchEntry | EnrEntry | LinkEntry;

function tooLarge(text: string): DnsDiscError | undefined {
  return text.length > DNSDISC_MAX_ENTRY_LENGTH
    ? new DnsDiscError(
        'too-large',
        `entry of ${text.length} characters exceeds the limit of ${DNSDISC_MAX_ENTRY_LENGTH} (starts ${JSON.stringify(text.slice(0, 24))})`,
      )
    : undefined;
}

/**
 * True when `hash` is base32 of 12 to 32 bytes, as a root or branch may name a child (geth's `isValidHash`).
 * @example isValidHash('JWXYDBPXYWG6FX3GMDIBFA6CJ4') // true
 */
export function isValidHash(hash: string): boolean {
  const length = Math.floor((hash.length * 5) / 8);
  if (length < DNSDISC_MIN_HASH_LENGTH || length > MAX_HASH_LENGTH) return false;
  return base32Decode(hash) !== undefined;
}

/**
 * The DNS label an entry is published under: base32 of the first 16 bytes of keccak-256 of its text.
 * @example entryHash('enrtree-branch:') // 'FDXN3SN67NA5DKA4J2GOK7BVQI'
 */
export function entryHash(text: string): string {
  return base32Encode(keccak256(utf8ToBytes(text)).subarray(0, DNSDISC_HASH_LENGTH));
}

/**
 * True when `text` hashes to `hash` (which may be abbreviated to 12 bytes, as geth accepts).
 * @example matchesHash(txt, 'JWXYDBPXYWG6FX3GMDIBFA6CJ4')
 */
export function matchesHash(text: string, hash: string): boolean {
  const want = isValidHash(hash) ? base32Decode(hash) : undefined;
  if (!want) return false;
  const got = keccak256(utf8ToBytes(text));
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return false;
  return true;
}

/**
 * Parses an `enrtree://<base32 compressed key>@<domain>` URL (or link entry). Throws a {@link DnsDiscError}
 * (`invalid-url`, `missing-public-key`, `invalid-public-key`).
 * @example parseEnrTreeUrl('enrtree://AKA3AM6LPBYEUDMVNU3BSVQJ5AD45Y7YPOHJLEF6W26QOE4VTUDPE@all.mainnet.ethdisco.net')
 */
export function parseEnrTreeUrl(url: string): LinkEntry {
  if (typeof url !== 'string' || !url.startsWith(LINK_PREFIX)) {
    throw new DnsDiscError('invalid-url', `wrong or missing scheme 'enrtree' in URL ${JSON.stringify(url)}`);
  }
  const large = tooLarge(url);
  if (large) throw large;
  const rest = url.slice(LINK_PREFIX.length);
  const at = rest.indexOf('@');
  if (at < 0) throw new DnsDiscError('missing-public-key', 'missing public key', { entryType: 'link' });
  const keyText = rest.slice(0, at);
  const domain = rest.slice(at + 1);
  const keyBytes = base32Decode(keyText);
  let publicKey: Uint8Array | undefined;
  try {
    if (keyBytes?.length === 33) publicKey = compressPublicKey(keyBytes);
  } catch {
    publicKey = undefined;
  }
  if (!publicKey) throw new DnsDiscError('invalid-public-key', 'invalid public key', { entryType: 'link' });
  if (!isValidDomain(domain)) {
    throw new DnsDiscError('syntax', `invalid domain ${JSON.stringify(domain)}`, { entryType: 'link' });
  }
  return { type: 'link', url, domain, publicKey };
}

/** A DNS name the client can ask: dot-separated labels of 1 to 63 visible ASCII characters, 253 at most. */
function isValidDomain(domain: string): boolean {
  if (domain.length === 0 || domain.length > 253) return false;
  if (/[^\x21-\x7e]/.test(domain)) return false;
  return domain.split('.').every((label) => label.length > 0 && label.length <= 63);
}

/**
 * The `enrtree://` URL of the tree at `domain` signed by `publicKey` (33, 64 or 65 bytes).
 * @example formatEnrTreeUrl(publicKeyFromPrivate(key), 'nodes.example.org')
 */
export function formatEnrTreeUrl(publicKey: Uint8Array, domain: string): string {
  const url = LINK_PREFIX + base32Encode(compressPublicKey(publicKey)) + '@' + domain;
  parseEnrTreeUrl(url);
  return url;
}

/**
 * The text a root's signature covers: `enrtree-root:v1 e=<hash> l=<hash> seq=<n>`.
 * @example keccak256(utf8ToBytes(rootSigningText(root)))
 */
export function rootSigningText(root: Pick<RootEntry, 'enrRoot' | 'linkRoot' | 'seq'>): string {
  return `${ROOT_PREFIX} e=${root.enrRoot} l=${root.linkRoot} seq=${root.seq}`;
}

/**
 * Parses a root entry, checking its syntax, hashes and signature encoding but not whose signature it is (see
 * {@link verifyRoot}). Throws a {@link DnsDiscError}.
 * @example const root = parseRoot(txt); if (!verifyRoot(root, link.publicKey)) drop()
 */
export function parseRoot(text: string): RootEntry {
  const large = tooLarge(text);
  if (large) throw new DnsDiscError('too-large', large.message, { entryType: 'root' });
  const match = /^enrtree-root:v1 e=(\S+) l=(\S+) seq=(\d+) sig=(\S+)$/.exec(text);
  if (!match) throw new DnsDiscError('syntax', 'invalid syntax', { entryType: 'root' });
  const [, enrRoot, linkRoot, seqText, sigText] = match as unknown as [string, string, string, string, string];
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq > MAX_SEQ) {
    throw new DnsDiscError('syntax', `sequence number ${seqText} is too large`, { entryType: 'root' });
  }
  if (!isValidHash(enrRoot) || !isValidHash(linkRoot)) {
    throw new DnsDiscError('invalid-hash', 'invalid child hash', { entryType: 'root' });
  }
  const signature = base64UrlDecode(sigText);
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    const got = signature instanceof Uint8Array ? `${signature.length} bytes` : 'not base64url';
    throw new DnsDiscError('invalid-signature', `invalid base64 signature (${got}, want ${SIGNATURE_LENGTH} bytes)`, {
      entryType: 'root',
    });
  }
  return { type: 'root', enrRoot, linkRoot, seq, signature };
}

/**
 * The root's text as published: its signed text, then ` sig=` and the signature in unpadded base64url.
 * @example records['nodes.example.org'] = formatRoot(tree.root)
 */
export function formatRoot(root: RootEntry): string {
  return `${rootSigningText(root)} sig=${base64UrlEncode(root.signature)}`;
}

/**
 * True when the root's signature (its r ‖ s; the recovery id is not needed with the key known, and geth ignores it
 * too) is the tree key's over keccak-256 of {@link rootSigningText}.
 * @example if (!verifyRoot(root, link.publicKey)) throw new Error('forged root')
 */
export function verifyRoot(root: RootEntry, publicKey: Uint8Array): boolean {
  if (root.signature.length !== SIGNATURE_LENGTH) return false;
  const hash = keccak256(utf8ToBytes(rootSigningText(root)));
  return verify(hash, root.signature.subarray(0, 64), publicKey);
}

/**
 * Parses a root and checks its signature against the tree's key: throws a {@link DnsDiscError} (`bad-signature`
 * when the signature is someone else's).
 * @example const root = parseAndVerifyRoot(txt, link.publicKey)
 */
export function parseAndVerifyRoot(text: string, publicKey: Uint8Array): RootEntry {
  const root = parseRoot(text);
  if (!verifyRoot(root, publicKey)) {
    throw new DnsDiscError('bad-signature', 'signature does not verify against the tree key', { entryType: 'root' });
  }
  return root;
}

/**
 * The root with `seq` signed by `privateKey`.
 * @example const root = signRoot({ enrRoot, linkRoot, seq: 1 }, key)
 */
export function signRoot(root: Pick<RootEntry, 'enrRoot' | 'linkRoot' | 'seq'>, privateKey: Uint8Array): RootEntry {
  if (!Number.isSafeInteger(root.seq) || root.seq < 0) throw new RangeError(`seq: expected an integer ≥ 0`);
  const signature = sign(keccak256(utf8ToBytes(rootSigningText(root))), privateKey);
  return { type: 'root', enrRoot: root.enrRoot, linkRoot: root.linkRoot, seq: root.seq, signature };
}

/**
 * Parses a branch, ENR or link entry. Throws a {@link DnsDiscError}: `unknown-entry` for text of none of these
 * types (lookups skip such TXT records), `too-large`, or the reason the entry is malformed; an `enr:` entry must
 * carry a record signed by its own key.
 * @example const entry = parseEntry('enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY')
 */
export function parseEntry(text: string): TreeEntry {
  if (typeof text !== 'string') throw new TypeError('parseEntry: expected a string');
  if (text.startsWith(LINK_PREFIX)) return parseEnrTreeUrl(text);
  if (text.startsWith(BRANCH_PREFIX)) return parseBranch(text);
  if (text.startsWith(ENR_TEXT_PREFIX)) return parseEnr(text);
  throw new DnsDiscError('unknown-entry', `unknown entry type (starts ${JSON.stringify(text.slice(0, 24))})`);
}

function parseBranch(text: string): BranchEntry {
  const large = tooLarge(text);
  if (large) throw new DnsDiscError('too-large', large.message, { entryType: 'branch' });
  const list = text.slice(BRANCH_PREFIX.length);
  if (list === '') return { type: 'branch', children: [] };
  const children = list.split(',');
  for (const child of children) {
    if (!isValidHash(child)) throw new DnsDiscError('invalid-hash', 'invalid child hash', { entryType: 'branch' });
  }
  return { type: 'branch', children };
}

function parseEnr(text: string): EnrEntry {
  const large = tooLarge(text);
  if (large) throw new DnsDiscError('too-large', large.message, { entryType: 'enr' });
  try {
    return { type: 'enr', node: Node.fromRecord(Enr.decodeText(text)) };
  } catch (cause) {
    throw new DnsDiscError('invalid-enr', `invalid node record: ${(cause as Error).message}`, {
      entryType: 'enr',
      cause,
    });
  }
}

/**
 * An entry's text as published: `enrtree-branch:<h1>,<h2>`, the record's `enr:` text, or the link's URL.
 * @example entryHash(formatEntry(entry))
 */
export function formatEntry(entry: TreeEntry): string {
  switch (entry.type) {
    case 'branch':
      return BRANCH_PREFIX + entry.children.join(',');
    case 'enr':
      return entry.node.record.toText();
    case 'link':
      return entry.url;
  }
}

/** The key of an entry (its hash cut to 12 bytes, as geth's cache keys it): the same for abbreviated names. */
export function cacheKey(hash: string): string {
  return hash.slice(0, Math.ceil((DNSDISC_MIN_HASH_LENGTH * 8) / 5));
}
