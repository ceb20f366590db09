/**
 * Ethereum Node Records (EIP-778, devp2p `enr.md`) with the "v4" identity scheme.
 *
 * A record is `[signature, seq, k1, v1, k2, v2, ...]` in RLP, keys sorted and unique, at most 300 bytes.
 * Values are kept as the exact RLP bytes they arrived in, so keys this code does not know are re-encoded byte
 * for byte.
 */
import {
  bytesToHex,
  bytesToNumber,
  bytesToUtf8,
  decodeEnrForkId,
  equalBytes,
  type ForkId,
  type RlpInput,
  type RlpValue,
  rlpDecode,
  rlpEncode,
  rlpEncodedLength,
  rlpEncodeRawList,
  rlpListHeader,
  utf8ToBytes,
} from '@devp2p/core';
import { compressPublicKey, decompressPublicKey, keccak256, publicKeyFromPrivate, sign, verify } from '@devp2p/crypto';
import { base64UrlDecode, base64UrlEncode } from './base64url.ts';
import { EnrError } from './errors.ts';
import { NodeId } from './id.ts';
import { formatIp, parseIp } from './ip.ts';

/**
 * Largest encoded record implementations accept (EIP-778): records travel in UDP packets and DNS TXT entries.
 * @example if (bytes.length > ENR_MAX_SIZE) drop()
 */
export const ENR_MAX_SIZE = 300;

/**
 * Prefix of a record's text form: `enr:` + unpadded URL-safe base64 of its RLP.
 * @example if (text.startsWith(ENR_TEXT_PREFIX)) Enr.decodeText(text)
 */
export const ENR_TEXT_PREFIX = 'enr:';

/**
 * Name of the one identity scheme EIP-778 defines: secp256k1 keys, keccak-256 hashes.
 * @example record.id === ENR_V4_SCHEME
 */
export const ENR_V4_SCHEME = 'v4';

/** Largest sequence number (a 64-bit unsigned integer). */
const MAX_SEQ = (1n << 64n) - 1n;
/** Length of a v4 signature: r ‖ s, without the recovery id. */
const V4_SIGNATURE_LENGTH = 64;
/** Length of the compressed public key in the `secp256k1` entry. */
const V4_PUBLIC_KEY_LENGTH = 33;

const PORT_KEYS: ReadonlySet<string> = new Set(['tcp', 'udp', 'tcp6', 'udp6', 'quic', 'quic6']);

/**
 * Entries to put into a record. Known keys take typed values (`ip` as `'1.2.3.4'`, ports as numbers); any
 * other key takes an RLP value (bytes, text, integer, or nested lists: a plugin's attribute, the `eth` fork
 * id `[[forkHash, forkNext]]`, ...). `null` removes the key.
 * @example const entries: EnrEntries = { ip: '10.0.0.1', tcp: 30303, udp: 30303, eth: [[forkHash, 0]] }
 */
export interface EnrEntries {
  /** Identity scheme name; set by {@link Enr.sign}. */
  id?: string | null;
  /** Compressed public key (33 bytes); set by {@link Enr.sign}. */
  secp256k1?: Uint8Array | null;
  /** IPv4 address, as text or 4 bytes. */
  ip?: string | Uint8Array | null;
  /** IPv6 address, as text or 16 bytes. */
  ip6?: string | Uint8Array | null;
  tcp?: number | null;
  udp?: number | null;
  tcp6?: number | null;
  udp6?: number | null;
  quic?: number | null;
  quic6?: number | null;
  [key: string]: RlpInput | null | undefined;
}

/**
 * Options for {@link Enr.decode}.
 * @example Enr.decode(bytes, { remoteAddress: '203.0.113.7:30303' })
 */
export interface EnrDecodeOptions {
  /**
   * Check the "v4" signature (default true). Pass false only for records from a trusted store; the structure,
   * ordering and size limit are checked either way.
   */
  verify?: boolean;
  /** Remote the record came from, added to error messages. */
  remoteAddress?: string;
}

/** One key/value pair: the key's bytes and text, and the value's exact RLP encoding. */
interface Pair {
  readonly key: string;
  readonly keyBytes: Uint8Array;
  readonly value: Uint8Array;
}

const latin1 = new TextDecoder('latin1');

function keyText(bytes: Uint8Array): string {
  try {
    return bytesToUtf8(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function checkPort(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`enr ${key}: expected a port number 0..65535, got ${String(value)}`);
  }
  return value;
}

function checkIp(key: 'ip' | 'ip6', value: unknown): Uint8Array {
  const want = key === 'ip' ? 4 : 16;
  const bytes = typeof value === 'string' ? parseIp(value) : value instanceof Uint8Array ? value : undefined;
  if (!bytes || bytes.length !== want) {
    throw new TypeError(`enr ${key}: expected an IPv${key === 'ip' ? 4 : 6} address, got ${String(value)}`);
  }
  return bytes;
}

/**
 * The RLP encoding a record stores for `value` under `key`, validating the typed keys. Throws a TypeError or
 * RangeError naming the key for a value of the wrong shape.
 */
export function encodeEnrEntry(key: string, value: RlpInput): Uint8Array {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('enr: keys must be non-empty strings');
  if (PORT_KEYS.has(key)) return rlpEncode(checkPort(key, value));
  if (key === 'ip' || key === 'ip6') return rlpEncode(checkIp(key, value));
  if (key === 'id' && typeof value !== 'string') throw new TypeError('enr id: expected the scheme name as a string');
  if (key === 'secp256k1' && !(value instanceof Uint8Array && value.length === V4_PUBLIC_KEY_LENGTH)) {
    throw new TypeError(`enr secp256k1: expected a ${V4_PUBLIC_KEY_LENGTH}-byte compressed public key`);
  }
  return rlpEncode(value);
}

function applyEntries(pairs: readonly Pair[], entries: EnrEntries): Pair[] {
  if (entries === null || typeof entries !== 'object') throw new TypeError('enr: entries must be an object');
  // Keyed by the key's bytes: distinct byte keys stay distinct even where their text forms coincide.
  const map = new Map<string, Pair>(pairs.map((p) => [bytesToHex(p.keyBytes), p]));
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined) continue;
    const keyBytes = utf8ToBytes(key);
    if (value === null) map.delete(bytesToHex(keyBytes));
    else map.set(bytesToHex(keyBytes), { key, keyBytes, value: encodeEnrEntry(key, value) });
  }
  return [...map.values()].sort((a, b) => compareBytes(a.keyBytes, b.keyBytes));
}

function checkSeq(seq: bigint): bigint {
  if (typeof seq !== 'bigint' || seq < 0n || seq > MAX_SEQ) {
    throw new RangeError(`enr seq: expected a bigint in 0..2^64-1, got ${String(seq)}`);
  }
  return seq;
}

/** Encodes `[signature, seq, k, v, ...]`, or the signed content `[seq, k, v, ...]` when signature is undefined. */
function encodeRecord(signature: Uint8Array | undefined, seq: bigint, pairs: readonly Pair[]): Uint8Array {
  const parts: Uint8Array[] = [];
  if (signature) parts.push(rlpEncode(signature));
  parts.push(rlpEncode(seq));
  for (const p of pairs) parts.push(rlpEncode(p.keyBytes), p.value);
  return rlpEncodeRawList(parts);
}

/**
 * An Ethereum Node Record. Immutable: {@link Enr.with} and {@link Enr.sign} return new records. A record
 * built with {@link Enr.create} or {@link Enr.with} is unsigned (empty signature) until signed.
 *
 * @example
 * const record = Enr.create({ ip: '127.0.0.1', udp: 30303 }, 1n).sign(privateKey)
 * const text = record.toText()             // 'enr:-IS4Q...'
 * const again = Enr.decodeText(text)       // verifies the signature
 * again.ip                                 // '127.0.0.1'
 * again.nodeId?.hex
 */
export class Enr {
  /** Sequence number: the signer raises it whenever the record changes. */
  readonly seq: bigint;
  readonly #signature: Uint8Array;
  readonly #pairs: readonly Pair[];
  #raw: Uint8Array | undefined;
  #verified: boolean | undefined;
  #publicKey: Uint8Array | null | undefined;
  #nodeId: NodeId | null | undefined;

  private constructor(seq: bigint, signature: Uint8Array, pairs: readonly Pair[], raw?: Uint8Array) {
    this.seq = seq;
    this.#signature = signature;
    this.#pairs = pairs;
    this.#raw = raw;
  }

  /**
   * A new unsigned record holding `entries`, with sequence number `seq` (default 0).
   * @example Enr.create({ ip: '10.0.0.1', tcp: 30303, udp: 30303 }, 5n)
   */
  static create(entries: EnrEntries = {}, seq = 0n): Enr {
    return new Enr(checkSeq(seq), new Uint8Array(0), applyEntries([], entries));
  }

  /**
   * Decodes the RLP form, checking size, structure, key order and (unless `verify: false`) the v4
   * signature. Throws an {@link EnrError} naming what is wrong; never anything else for any input bytes.
   * @example const record = Enr.decode(packet.subarray(offset))
   */
  static decode(bytes: Uint8Array, options: EnrDecodeOptions = {}): Enr {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('enr: expected Uint8Array');
    const context = { remoteAddress: options.remoteAddress };
    if (bytes.length === 0) throw new EnrError('record is empty (unexpected EOF)', context);
    if (bytes.length > ENR_MAX_SIZE) {
      throw new EnrError(`record bigger than ${ENR_MAX_SIZE} bytes (${bytes.length})`, context);
    }
    let items: RlpValue;
    try {
      items = rlpDecode(bytes);
    } catch (cause) {
      throw new EnrError(`record is not valid RLP: ${(cause as Error).message}`, { ...context, cause });
    }
    if (!Array.isArray(items)) throw new EnrError('record is not an RLP list', context);
    if (items.length < 2) throw new EnrError('record contains less than two list elements', context);
    const [signature, seqItem] = items;
    if (!(signature instanceof Uint8Array)) throw new EnrError('record signature is not a byte string', context);
    if (!(seqItem instanceof Uint8Array)) throw new EnrError('record seq is not an integer', context);
    if (seqItem.length > 8) throw new EnrError('record seq exceeds 64 bits', context);
    if (seqItem.length > 0 && seqItem[0] === 0) throw new EnrError('record seq has leading zero bytes', context);
    let seq = 0n;
    for (const b of seqItem) seq = (seq << 8n) | BigInt(b);
    if ((items.length - 2) % 2 !== 0) throw new EnrError('record contains incomplete k/v pair', context);
    const pairs: Pair[] = [];
    for (let i = 2; i < items.length; i += 2) {
      const k = items[i]!;
      if (!(k instanceof Uint8Array)) throw new EnrError(`record key #${(i - 2) / 2} is a list, not a string`, context);
      const previous = pairs[pairs.length - 1];
      if (previous) {
        const order = compareBytes(previous.keyBytes, k);
        if (order === 0) throw new EnrError(`record contains duplicate key "${keyText(k)}"`, context);
        if (order > 0) throw new EnrError('record key/value pairs are not sorted by key', context);
      }
      // The decoder accepts canonical RLP only, so re-encoding the value gives back its exact bytes.
      pairs.push({ key: keyText(k), keyBytes: k.slice(), value: rlpEncode(items[i + 1]!) });
    }
    const record = new Enr(seq, signature.slice(), pairs, bytes.slice());
    if (options.verify !== false) {
      const problem = record.#verifyProblem();
      if (problem) throw new EnrError(problem, context);
    }
    return record;
  }

  /**
   * Decodes the text form `enr:<base64url>` (see {@link Enr.decode} for the checks).
   * @example Enr.decodeText('enr:-IS4QHCYrYZbAKWCBRlAy5zz...')
   */
  static decodeText(text: string, options: EnrDecodeOptions = {}): Enr {
    if (typeof text !== 'string') throw new TypeError('enr: expected a string');
    if (!text.startsWith(ENR_TEXT_PREFIX)) {
      throw new EnrError(`missing '${ENR_TEXT_PREFIX}' prefix for base64-encoded record`);
    }
    const decoded = base64UrlDecode(text.slice(ENR_TEXT_PREFIX.length));
    if (!(decoded instanceof Uint8Array)) {
      throw new EnrError(`illegal base64 data at input byte ${decoded.invalidAt} (want URL-safe base64, no padding)`);
    }
    return Enr.decode(decoded, options);
  }

  /**
   * The RLP encoding (an unsigned record encodes with an empty signature, as geth stores discv4 nodes). The
   * returned array is shared: do not modify it. Throws an {@link EnrError} above 300 bytes.
   * @example socket.send(enr.encode())
   */
  encode(): Uint8Array {
    if (!this.#raw) {
      const raw = encodeRecord(this.#signature, this.seq, this.#pairs);
      if (raw.length > ENR_MAX_SIZE) throw new EnrError(`record bigger than ${ENR_MAX_SIZE} bytes (${raw.length})`);
      this.#raw = raw;
    }
    return this.#raw;
  }

  /**
   * The text form: `enr:` + unpadded URL-safe base64 of {@link Enr.encode}.
   * @example console.log(record.toText())
   */
  toText(): string {
    return ENR_TEXT_PREFIX + base64UrlEncode(this.encode());
  }

  /**
   * Same as {@link Enr.toText}.
   * @example `${record}`
   */
  toString(): string {
    return this.toText();
  }

  /**
   * Encoded size in bytes.
   * @example if (record.size > 250) log.warn('record close to the limit')
   */
  get size(): number {
    if (this.#raw) return this.#raw.length;
    let payload = rlpEncodedLength(this.#signature) + rlpEncodedLength(this.seq);
    for (const p of this.#pairs) payload += rlpEncodedLength(p.keyBytes) + p.value.length;
    return rlpListHeader(payload).length + payload;
  }

  /**
   * The signature (64 bytes r ‖ s for v4), or empty for an unsigned record. A copy.
   * @example enr.signature.length // 64
   */
  get signature(): Uint8Array {
    return this.#signature.slice();
  }

  /**
   * True when the record carries a signature (valid or not: see {@link Enr.verify}).
   * @example if (!record.signed) record = record.sign(key)
   */
  get signed(): boolean {
    return this.#signature.length > 0;
  }

  /**
   * A new unsigned record with `entries` applied (`null` removes a key). Like geth, changing a signed record
   * raises its sequence number by one.
   * @example const next = record.with({ tcp: 30304 }).sign(privateKey)
   */
  with(entries: EnrEntries): Enr {
    const seq = this.signed ? this.seq + 1n : this.seq;
    return new Enr(checkSeq(seq), new Uint8Array(0), applyEntries(this.#pairs, entries));
  }

  /**
   * The same entries with sequence number `seq`, unsigned.
   * @example record.withSeq(record.seq + 1n).sign(key)
   */
  withSeq(seq: bigint): Enr {
    return new Enr(checkSeq(seq), new Uint8Array(0), this.#pairs);
  }

  /**
   * Signs with the "v4" scheme: sets `id` = "v4" and `secp256k1` = the key's compressed public key, keeps the
   * sequence number, and signs keccak-256 of `rlp([seq, k, v, ...])`. Throws an {@link EnrError} when the
   * signed record would exceed 300 bytes.
   * @example const signed = Enr.create({ udp: 30303 }, 1n).sign(privateKey)
   */
  sign(privateKey: Uint8Array): Enr {
    const publicKey = publicKeyFromPrivate(privateKey);
    const pairs = applyEntries(this.#pairs, { id: ENR_V4_SCHEME, secp256k1: compressPublicKey(publicKey) });
    const content = encodeRecord(undefined, this.seq, pairs);
    const signature = sign(keccak256(content), privateKey).slice(0, V4_SIGNATURE_LENGTH);
    const record = new Enr(this.seq, signature, pairs);
    record.encode();
    record.#verified = true;
    record.#publicKey = publicKey;
    return record;
  }

  /**
   * True when the record is signed under the "v4" scheme by the key in its `secp256k1` entry.
   * @example if (!record.verify()) throw new Error('forged record')
   */
  verify(): boolean {
    return this.#verifyProblem() === undefined;
  }

  /**
   * Throws an {@link EnrError} naming why the record's "v4" signature is not valid (unknown scheme, missing
   * key, wrong size, bad signature); returns when it is.
   * @example record.verifyOrThrow()
   */
  verifyOrThrow(): void {
    const problem = this.#verifyProblem();
    if (problem) throw new EnrError(problem);
  }

  #verifyProblem(): string | undefined {
    if (this.#verified === true) return undefined;
    const problem = this.#checkSignature();
    this.#verified = problem === undefined;
    return problem;
  }

  #checkSignature(): string | undefined {
    const scheme = this.#tryRead('id', (v) => this.#utf8('id', v));
    if (scheme === undefined) return 'invalid signature on node record: no identity scheme ("id" key)';
    if (scheme !== ENR_V4_SCHEME) return `invalid signature on node record: unknown identity scheme "${scheme}"`;
    const key = this.#tryRead('secp256k1', (v) => this.#bytes('secp256k1', v, V4_PUBLIC_KEY_LENGTH));
    if (!key) return 'invalid signature on node record: missing or malformed "secp256k1" key';
    if (this.#signature.length !== V4_SIGNATURE_LENGTH) {
      return `invalid signature on node record: expected ${V4_SIGNATURE_LENGTH} bytes, got ${this.#signature.length}`;
    }
    const content = encodeRecord(undefined, this.seq, this.#pairs);
    if (!verify(keccak256(content), this.#signature, key)) return 'invalid signature on node record';
    return undefined;
  }

  /**
   * The exact RLP encoding of the value under `key`, or undefined.
   * @example const raw = record.get('eth')
   */
  get(key: string): Uint8Array | undefined {
    return this.#pair(key)?.value.slice();
  }

  /**
   * The value under `key` decoded from RLP (bytes or nested lists), or undefined.
   * @example const [[forkHash]] = record.getValue('eth') as Uint8Array[][]
   */
  getValue(key: string): RlpValue | undefined {
    const pair = this.#pair(key);
    return pair ? rlpDecode(pair.value.slice()) : undefined;
  }

  /**
   * True when the record has `key`.
   * @example record.has('snap')
   */
  has(key: string): boolean {
    return this.#pair(key) !== undefined;
  }

  /**
   * The keys, in record (byte) order.
   * @example record.keys() // ['id', 'ip', 'secp256k1', 'udp']
   */
  keys(): string[] {
    return this.#pairs.map((p) => p.key);
  }

  #pair(key: string): Pair | undefined {
    // Records hold a handful of keys: a linear scan beats a map.
    for (const p of this.#pairs) if (p.key === key) return p;
    return undefined;
  }

  /** Reads `key` through `parse`; undefined when absent, EnrError naming the key when malformed. */
  #read<T>(key: string, parse: (value: RlpValue) => T): T | undefined {
    const pair = this.#pair(key);
    if (!pair) return undefined;
    return parse(rlpDecode(pair.value));
  }

  /** Like #read but undefined for a malformed value too. */
  #tryRead<T>(key: string, parse: (value: RlpValue) => T): T | undefined {
    try {
      return this.#read(key, parse);
    } catch {
      return undefined;
    }
  }

  #bytes(key: string, value: RlpValue, length?: number): Uint8Array {
    if (!(value instanceof Uint8Array)) throw new EnrError(`ENR key "${key}": expected a byte string, got a list`);
    if (length !== undefined && value.length !== length) {
      throw new EnrError(`ENR key "${key}": expected ${length} bytes, got ${value.length}`);
    }
    return value.slice();
  }

  #utf8(key: string, value: RlpValue): string {
    try {
      return bytesToUtf8(this.#bytes(key, value));
    } catch (cause) {
      if (cause instanceof EnrError) throw cause;
      throw new EnrError(`ENR key "${key}": invalid UTF-8`, { cause });
    }
  }

  #port(key: string): number | undefined {
    return this.#read(key, (value) => {
      const bytes = this.#bytes(key, value);
      if (bytes.length > 2 || (bytes.length > 0 && bytes[0] === 0)) {
        throw new EnrError(`ENR key "${key}": not a canonical 16-bit port`);
      }
      return bytesToNumber(bytes);
    });
  }

  /**
   * Identity scheme name (the `id` key), e.g. "v4". Getters return undefined for an absent key and throw an
   * {@link EnrError} naming the key for a malformed value.
   * @example if (record.id !== 'v4') return
   */
  get id(): string | undefined {
    return this.#read('id', (v) => this.#utf8('id', v));
  }

  /**
   * The `secp256k1` entry: a 33-byte compressed public key.
   * @example compressPublicKey(pub) === record.secp256k1
   */
  get secp256k1(): Uint8Array | undefined {
    return this.#read('secp256k1', (v) => this.#bytes('secp256k1', v, V4_PUBLIC_KEY_LENGTH));
  }

  /**
   * The public key from the `secp256k1` entry as 64 bytes x ‖ y, or undefined when absent or not a curve point.
   * @example const pub = record.publicKey
   */
  get publicKey(): Uint8Array | undefined {
    if (this.#publicKey === undefined) {
      const compressed = this.#tryRead('secp256k1', (v) => this.#bytes('secp256k1', v, V4_PUBLIC_KEY_LENGTH));
      try {
        this.#publicKey = compressed ? decompressPublicKey(compressed) : null;
      } catch {
        this.#publicKey = null;
      }
    }
    return this.#publicKey?.slice() ?? undefined;
  }

  /**
   * The node id the v4 scheme derives: keccak-256 of {@link Enr.publicKey}; undefined without a valid key.
   * @example record.nodeId?.hex
   */
  get nodeId(): NodeId | undefined {
    if (this.#nodeId === undefined) {
      const publicKey = this.publicKey;
      this.#nodeId = publicKey ? NodeId.fromPublicKey(publicKey) : null;
    }
    return this.#nodeId ?? undefined;
  }

  /**
   * IPv4 address (`ip` key) as text.
   * @example record.ip // '127.0.0.1'
   */
  get ip(): string | undefined {
    return this.#read('ip', (v) => formatIp(this.#bytes('ip', v, 4)));
  }

  /**
   * IPv6 address (`ip6` key) as text.
   * @example record.ip6 // '2001:db8::1'
   */
  get ip6(): string | undefined {
    return this.#read('ip6', (v) => formatIp(this.#bytes('ip6', v, 16)));
  }

  /**
   * TCP port (`tcp` key).
   * @example record.tcp // 30303
   */
  get tcp(): number | undefined {
    return this.#port('tcp');
  }

  /**
   * UDP (discovery) port (`udp` key).
   * @example record.udp // 30303
   */
  get udp(): number | undefined {
    return this.#port('udp');
  }

  /**
   * IPv6-specific TCP port (`tcp6` key); when absent, `tcp` applies to IPv6 too.
   * @example record.tcp6 ?? record.tcp
   */
  get tcp6(): number | undefined {
    return this.#port('tcp6');
  }

  /**
   * IPv6-specific UDP port (`udp6` key); when absent, `udp` applies to IPv6 too.
   * @example record.udp6 ?? record.udp
   */
  get udp6(): number | undefined {
    return this.#port('udp6');
  }

  /**
   * QUIC port for IPv4 (`quic` key).
   * @example record.quic
   */
  get quic(): number | undefined {
    return this.#port('quic');
  }

  /**
   * QUIC port for IPv6 (`quic6` key).
   * @example record.quic6
   */
  get quic6(): number | undefined {
    return this.#port('quic6');
  }

  /**
   * The `eth` entry's fork id (EIP-2124, `enr-entries/eth.md`: `[[forkHash, forkNext], ...]`; later list items are
   * ignored, as geth does).
   * @example if (record.eth && record.eth.hash !== ours.hash) skip()
   */
  get eth(): ForkId | undefined {
    const raw = this.#pair('eth')?.value;
    if (raw === undefined) return undefined;
    try {
      return decodeEnrForkId(raw);
    } catch (cause) {
      throw new EnrError(`ENR key "eth": ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * True when both records encode to the same bytes.
   * @example if (incoming.equals(stored)) return
   */
  equals(other: Enr): boolean {
    return equalBytes(this.encode(), other.encode());
  }
}
