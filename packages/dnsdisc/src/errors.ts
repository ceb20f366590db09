import { ProtocolError } from '@devp2p/core';

/** Error code of a {@link DnsDiscError}. */
export const ERR_DNSDISC = 'ERR_DNSDISC';

/**
 * Why a tree, entry or URL was refused (stable strings, after geth's `p2p/dnsdisc` errors):
 * - `unknown-entry`: text that is none of the entry types;
 * - `syntax`: an entry or root whose fields do not parse;
 * - `too-large`: longer than `DNSDISC_MAX_ENTRY_LENGTH`;
 * - `missing-public-key`, `invalid-public-key`: an `enrtree://` URL without a key, or with one that is not a
 *   compressed secp256k1 point in base32;
 * - `invalid-hash`: a root or branch hash that is not base32 of 12 to 32 bytes;
 * - `invalid-signature`: a root signature that is not 65 bytes of unpadded base64url;
 * - `bad-signature`: a root signature that does not verify against the URL's key;
 * - `invalid-enr`: an `enr:` entry whose record is malformed or not signed by its key;
 * - `no-root`, `no-entry`: a name with no root / no tree entry among its TXT records;
 * - `hash-mismatch`: an entry whose text does not hash to the name it was found under;
 * - `enr-in-link-tree`, `link-in-enr-tree`: a leaf in the wrong subtree;
 * - `stale-root`: a root whose sequence number is below one already seen for the tree (dnsdisc.md, step 2);
 * - `invalid-url`: not an `enrtree://` URL.
 */
export type DnsDiscErrorReason =
  | 'unknown-entry'
  | 'syntax'
  | 'too-large'
  | 'missing-public-key'
  | 'invalid-public-key'
  | 'invalid-hash'
  | 'invalid-signature'
  | 'bad-signature'
  | 'invalid-enr'
  | 'no-root'
  | 'no-entry'
  | 'hash-mismatch'
  | 'enr-in-link-tree'
  | 'link-in-enr-tree'
  | 'stale-root'
  | 'invalid-url';

/** The kind of entry an error is about. */
export type DnsDiscEntryType = 'root' | 'branch' | 'enr' | 'link';

/**
 * A DNS node list (EIP-1459) that breaks the format: code `ERR_DNSDISC`, `reason` says what (see
 * {@link DnsDiscErrorReason}), `dnsName` where, when it came from a lookup.
 * @example
 * try { parseEntry(txt) } catch (err) { if (err instanceof DnsDiscError && err.reason === 'hash-mismatch') drop() }
 */
export class DnsDiscError extends ProtocolError {
  readonly reason: DnsDiscErrorReason;
  readonly entryType: DnsDiscEntryType | undefined;
  readonly dnsName: string | undefined;
  constructor(
    reason: DnsDiscErrorReason,
    message: string,
    options: { entryType?: DnsDiscEntryType; dnsName?: string; cause?: unknown } = {},
  ) {
    const what = options.entryType ? `invalid ${options.entryType} entry: ${message}` : message;
    super(ERR_DNSDISC, options.dnsName ? `${options.dnsName}: ${what}` : what, { cause: options.cause });
    this.reason = reason;
    this.entryType = options.entryType;
    this.dnsName = options.dnsName;
  }

  /** The same error, located at `dnsName`. */
  at(dnsName: string): DnsDiscError {
    if (this.dnsName !== undefined) return this;
    const message = this.entryType ? this.message.replace(/^invalid \S+ entry: /, '') : this.message;
    return new DnsDiscError(this.reason, message, {
      ...(this.entryType ? { entryType: this.entryType } : {}),
      dnsName,
      cause: this.cause,
    });
  }
}
