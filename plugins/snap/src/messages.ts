/**
 * Codecs for the eight messages of snap/1 (devp2p `caps/snap.md`, as of its snap/1 text; go-ethereum's
 * `eth/protocols/snap/protocol.go`), with the protocol's limits as named constants carrying geth's values.
 * Hashes are checked to be 32 bytes, integers to be canonical and in range, ranges to be in ascending order, proofs
 * to hold at most {@link MAX_PROOF_NODES} nodes; decoders throw an RlpError (a Devp2pError) on anything else.
 */
import {
  checkHash,
  checkUint64,
  type MessageCodec,
  type MessageSpec,
  RlpError,
  type RlpInput,
  type RlpValue,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpEncodedLength,
  rlpHashes,
  rlpList,
  rlpUint64,
} from '@devp2p/core';

// ---------------------------------------------------------------------------------------------------------
// Limits

/** Largest snap message geth reads: 10 MiB (`maxMessageSize`); a larger one ends the peer before decoding. */
export const MAX_MESSAGE_SIZE: number = 10 * 1024 * 1024;
/**
 * Target size of a reply: 2 MiB (geth's `softResponseLimit`). A request's `responseBytes` above it is lowered to
 * it before serving; the item that crosses the limit is still sent.
 */
export const SOFT_RESPONSE_LIMIT: number = 2 * 1024 * 1024;
/** Most bytecodes looked up for one GetByteCodes: 1024 (geth `maxCodeLookups`); later hashes are ignored. */
export const MAX_CODE_LOOKUPS: number = 1024;
/** Most trie nodes looked up for one GetTrieNodes: 1024 (geth `maxTrieNodeLookups`). */
export const MAX_TRIE_NODE_LOOKUPS: number = 1024;
/** Longest time spent looking up the trie nodes of one GetTrieNodes: 5 s (geth `maxTrieNodeTimeSpent`). */
export const MAX_TRIE_NODE_TIME_SPENT_MS: number = 5_000;
/**
 * How far a storage reply may exceed `responseBytes` to finish a contract rather than cut and prove it: 10 %
 * (geth `stateLookupSlack`); geth stops a storage range at `responseBytes × (1 + STATE_LOOKUP_SLACK)`.
 */
export const STATE_LOOKUP_SLACK: number = 0.1;
/**
 * Most trie nodes in the proof of an AccountRange or StorageRanges: 128 (geth's `handleAccountRange` and
 * `handleStorageRanges` drop a peer that sends more).
 */
export const MAX_PROOF_NODES: number = 128;
/**
 * How much larger than its request a range reply may be: twice `responseBytes`, counted over the accounts (or
 * storage slots) list's content. Geth's request tracker registers account and storage range requests with a size of
 * `2 * bytes` and drops a peer whose reply exceeds it (`ErrTooManyItems`).
 */
export const RESPONSE_SIZE_FACTOR: number = 2;
/** Geth's syncer never asks for less than 64 KiB per range request (`minRequestSize`). */
export const MIN_REQUEST_SIZE: number = 64 * 1024;
/** Geth's syncer never asks for more than 512 KiB per request (`maxRequestSize`); the helpers' default. */
export const MAX_REQUEST_SIZE: number = 512 * 1024;
/** Most bytecodes geth's syncer asks for at once: 84 (`maxCodeRequestCount`, 512 KiB / 24 KiB × 4). */
export const MAX_CODE_REQUEST_COUNT: number = Math.floor(MAX_REQUEST_SIZE / (24 * 1024)) * 4;
/** Most trie nodes geth's syncer asks for at once: 1024 (`maxTrieRequestCount`, 512 KiB / 512). */
export const MAX_TRIE_REQUEST_COUNT: number = MAX_REQUEST_SIZE / 512;
/**
 * Longest trie path in a GetTrieNodes path set: 33 bytes. The spec sends a full path (64 nibbles) as its 32 plain
 * bytes and a partial one compact-encoded (at most 1 + 32 bytes); nothing longer names a trie node.
 */
export const MAX_TRIE_PATH_LENGTH: number = 33;

/** Root of the empty trie, keccak256(rlp('')): a slim account sends an empty string instead. */
export const EMPTY_ROOT_HASH: Uint8Array = hex32('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421');
/** Hash of empty code, keccak256(''): a slim account sends an empty string instead. */
export const EMPTY_CODE_HASH: Uint8Array = hex32('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');

function hex32(text: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Message types

/** GetAccountRange (0x00): `[reqID, rootHash, startingHash, limitHash, responseBytes]`. */
export interface GetAccountRangeMessage {
  readonly requestId: bigint;
  /** Root of the account trie to serve. */
  readonly root: Uint8Array;
  /** Hash of the first account to return (proved even when absent). */
  readonly origin: Uint8Array;
  /** Account hash after which to stop. */
  readonly limit: Uint8Array;
  /** Soft limit of the reply, in bytes (uint64). */
  readonly responseBytes: bigint;
}

/**
 * An account in consensus form. On the wire it travels in geth's slim format: the RLP list
 * `[nonce, balance, storageRoot, codeHash]` with an empty string for {@link EMPTY_ROOT_HASH} and
 * {@link EMPTY_CODE_HASH}; the codec converts both ways.
 */
export interface StateAccount {
  readonly nonce: bigint;
  readonly balance: bigint;
  /** 32 bytes; {@link EMPTY_ROOT_HASH} for an account without storage. */
  readonly storageRoot: Uint8Array;
  /** 32 bytes; {@link EMPTY_CODE_HASH} for an account without code. */
  readonly codeHash: Uint8Array;
}

/** One account of an AccountRange: `[accHash, accBody]`. */
export interface AccountData {
  /** keccak256 of the address: the account's trie path. */
  readonly hash: Uint8Array;
  readonly account: StateAccount;
}

/** AccountRange (0x01): `[reqID, [[accHash, accBody], ...], [proofNode, ...]]`. */
export interface AccountRangeMessage {
  readonly requestId: bigint;
  /** Consecutive accounts, in strictly ascending hash order. */
  readonly accounts: readonly AccountData[];
  /** Trie nodes proving the range's first (requested origin) and last hash; none for the whole trie. */
  readonly proof: readonly Uint8Array[];
}

/** GetStorageRanges (0x02): `[reqID, rootHash, [accountHash, ...], startingHash, limitHash, responseBytes]`. */
export interface GetStorageRangesMessage {
  readonly requestId: bigint;
  /** Root of the account trie. */
  readonly root: Uint8Array;
  /** Hashes of the accounts whose storage to serve. */
  readonly accounts: readonly Uint8Array[];
  /** First slot hash of the first account's range: empty (from the start) or up to 32 bytes. */
  readonly origin: Uint8Array;
  /** Slot hash after which the first account's range stops: empty (to the end) or up to 32 bytes. */
  readonly limit: Uint8Array;
  readonly responseBytes: bigint;
}

/** One storage slot of a StorageRanges: `[slotHash, slotData]`. */
export interface StorageSlot {
  /** keccak256 of the slot key: its trie path. */
  readonly hash: Uint8Array;
  /** The slot's value as stored in the trie (the RLP of the value). */
  readonly data: Uint8Array;
}

/** StorageRanges (0x03): `[reqID, [[[slotHash, slotData], ...], ...], [proofNode, ...]]`. */
export interface StorageRangesMessage {
  readonly requestId: bigint;
  /** One list of consecutive slots per account served, in request order, each in strictly ascending hash order. */
  readonly slots: readonly (readonly StorageSlot[])[];
  /** Trie nodes proving the last range when it is incomplete; otherwise none. */
  readonly proof: readonly Uint8Array[];
}

/** GetByteCodes (0x04): `[reqID, [codeHash, ...], bytes]`. */
export interface GetByteCodesMessage {
  readonly requestId: bigint;
  readonly hashes: readonly Uint8Array[];
  readonly responseBytes: bigint;
}

/** ByteCodes (0x05): `[reqID, [code, ...]]`, in request order, unavailable codes skipped. */
export interface ByteCodesMessage {
  readonly requestId: bigint;
  readonly codes: readonly Uint8Array[];
}

/**
 * One path set of GetTrieNodes, `[accountPath, storagePath...]`: without storage paths it asks for the account trie
 * node at `accountPath`; with them, for those nodes of that account's storage trie. A path is 32 plain bytes (a full
 * path) or compact-encoded (a partial one).
 */
export interface TrieNodePathSet {
  readonly accountPath: Uint8Array;
  readonly storagePaths: readonly Uint8Array[];
}

/** GetTrieNodes (0x06): `[reqID, rootHash, [[accPath, slotPath...], ...], bytes]`. */
export interface GetTrieNodesMessage {
  readonly requestId: bigint;
  readonly root: Uint8Array;
  readonly paths: readonly TrieNodePathSet[];
  readonly responseBytes: bigint;
}

/** TrieNodes (0x07): `[reqID, [node, ...]]`, in request order. */
export interface TrieNodesMessage {
  readonly requestId: bigint;
  readonly nodes: readonly Uint8Array[];
}

// ---------------------------------------------------------------------------------------------------------
// Fields

/** Orders byte strings as geth's `bytes.Compare`: lexicographically, a prefix first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

function checkBytes(value: Uint8Array, label: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${label}: expected a Uint8Array`);
  return value;
}

function checkArray<T>(value: readonly T[], label: string): readonly T[] {
  if (!Array.isArray(value)) throw new TypeError(`${label}: expected an array`);
  return value;
}

function byteStrings(value: RlpValue | undefined, label: string): Uint8Array[] {
  return rlpList(value, label).map((item, i) => rlpBytes(item, `${label}[${i}]`));
}

function decodeProof(value: RlpValue | undefined, label: string): Uint8Array[] {
  const list = rlpList(value, label);
  if (list.length > MAX_PROOF_NODES) {
    throw new RlpError(`${label}: ${list.length} nodes exceed the limit of ${MAX_PROOF_NODES}`);
  }
  return list.map((node, i) => rlpBytes(node, `${label}[${i}]`));
}

function encodeProof(proof: readonly Uint8Array[], label: string): Uint8Array[] {
  checkArray(proof, label);
  if (proof.length > MAX_PROOF_NODES) {
    throw new RangeError(`${label}: ${proof.length} nodes exceed the limit of ${MAX_PROOF_NODES}`);
  }
  return proof.map((node, i) => checkBytes(node, `${label}[${i}]`));
}

/** A byte string of at most 32 bytes (GetStorageRanges' origin and limit, which geth reads as `[]byte`). */
function shortHash(value: RlpValue | undefined, label: string): Uint8Array {
  const bytes = rlpBytes(value, label);
  if (bytes.length > 32) throw new RlpError(`${label}: ${bytes.length} bytes, more than 32`);
  return bytes;
}

function checkShortHash(value: Uint8Array, label: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > 32) throw new TypeError(`${label}: expected at most 32 bytes`);
  return value;
}

/** Throws unless the hashes are in strictly ascending order, as geth requires of a range reply. */
function ascending(items: readonly { readonly hash: Uint8Array }[], label: string, fail: (m: string) => Error): void {
  for (let i = 1; i < items.length; i++) {
    if (compareBytes(items[i - 1]!.hash, items[i]!.hash) >= 0) {
      throw fail(`${label}: hashes not in strictly ascending order at ${i}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Accounts in slim format

/** Slim root or code hash: empty for the empty value, else 32 bytes (geth's `FullAccount` reads any length). */
function slimHash(value: RlpValue | undefined, empty: Uint8Array, label: string): Uint8Array {
  const bytes = rlpBytes(value, label);
  // A copy: the caller may modify what it decoded, and must not modify the exported constant through it.
  if (bytes.length === 0) return empty.slice();
  if (bytes.length !== 32) throw new RlpError(`${label}: expected 0 or 32 bytes, got ${bytes.length}`);
  return bytes;
}

/** The slim-format RLP fields of an account (geth `SlimAccountRLP`). */
function slimFields(account: StateAccount, label: string): RlpInput[] {
  if (typeof account !== 'object' || account === null) throw new TypeError(`${label}: expected an account`);
  checkUint64(account.nonce, `${label}.nonce`);
  if (typeof account.balance !== 'bigint') throw new TypeError(`${label}.balance: expected a bigint`);
  if (account.balance < 0n || account.balance >= 1n << 256n) {
    throw new RangeError(`${label}.balance: ${account.balance} is outside uint256`);
  }
  const root = checkHash(account.storageRoot, `${label}.storageRoot`);
  const code = checkHash(account.codeHash, `${label}.codeHash`);
  return [
    account.nonce,
    account.balance,
    equal32(root, EMPTY_ROOT_HASH) ? new Uint8Array(0) : root,
    equal32(code, EMPTY_CODE_HASH) ? new Uint8Array(0) : code,
  ];
}

/** An account body in slim format (geth `FullAccount`): `[nonce, balance, root, codeHash]`. */
function decodeSlimAccount(value: RlpValue | undefined, label: string): StateAccount {
  const [nonce, balance, root, code] = rlpList(value, label, 4);
  return {
    nonce: rlpUint64(nonce, `${label}.nonce`),
    balance: rlpBigUint(balance, `${label}.balance`, 32),
    storageRoot: slimHash(root, EMPTY_ROOT_HASH, `${label}.storageRoot`),
    codeHash: slimHash(code, EMPTY_CODE_HASH, `${label}.codeHash`),
  };
}

/**
 * An account in geth's slim RLP format (`[nonce, balance, root, codeHash]`, empty strings for the empty trie root
 * and the empty code hash), as snapshot databases store it and AccountRange carries it.
 * @example bytesToHex(slimAccountCodec.encode({ nonce: 1n, balance: 0n, storageRoot: EMPTY_ROOT_HASH, codeHash: EMPTY_CODE_HASH })) // 'c401808080'
 */
export const slimAccountCodec: MessageCodec<StateAccount> = {
  encode(account) {
    return rlpEncode(slimFields(account, 'account'));
  },
  decode(payload) {
    return decodeSlimAccount(rlpDecode(payload), 'account');
  },
};

function accountEntries(accounts: readonly AccountData[], label: string): RlpInput[] {
  checkArray(accounts, label);
  const entries = accounts.map((entry, i): RlpInput => {
    if (typeof entry !== 'object' || entry === null) throw new TypeError(`${label}[${i}]: expected an account`);
    return [checkHash(entry.hash, `${label}[${i}].hash`), slimFields(entry.account, `${label}[${i}].account`)];
  });
  ascending(accounts, label, (message) => new RangeError(message));
  return entries;
}

function slotEntries(slots: readonly StorageSlot[], label: string): RlpInput[] {
  checkArray(slots, label);
  const entries = slots.map((slot, i): RlpInput => {
    if (typeof slot !== 'object' || slot === null) throw new TypeError(`${label}[${i}]: expected a slot`);
    return [checkHash(slot.hash, `${label}[${i}].hash`), checkBytes(slot.data, `${label}[${i}].data`)];
  });
  ascending(slots, label, (message) => new RangeError(message));
  return entries;
}

/**
 * Size of an AccountRange's accounts as geth's tracker measures a reply: the bytes of the accounts list's content
 * (each `[hash, slimBody]` entry, encoded), compared against {@link RESPONSE_SIZE_FACTOR} × `responseBytes`.
 * @example accountsSize([]) // 0
 */
export function accountsSize(accounts: readonly AccountData[]): number {
  let size = 0;
  for (const entry of accounts) size += rlpEncodedLength([entry.hash, slimFields(entry.account, 'account')]);
  return size;
}

/**
 * Size of a StorageRanges' slots as geth's tracker measures a reply: the bytes of the slots list's content (each
 * account's list of `[hash, data]` entries, encoded).
 * @example storageSize([[]]) // 1 (an empty list, c0)
 */
export function storageSize(slots: readonly (readonly StorageSlot[])[]): number {
  let size = 0;
  for (const set of slots) size += rlpEncodedLength(set.map((slot): RlpInput => [slot.hash, slot.data]));
  return size;
}

// ---------------------------------------------------------------------------------------------------------
// Codecs

/**
 * GetAccountRange: `[reqID, rootHash, startingHash, limitHash, responseBytes]`; the three hashes 32 bytes.
 * @example getAccountRangeCodec.encode({ requestId: 1n, root, origin: new Uint8Array(32), limit: new Uint8Array(32).fill(0xff), responseBytes: 524288n })
 */
export const getAccountRangeCodec: MessageCodec<GetAccountRangeMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'getAccountRange.requestId'),
      checkHash(m.root, 'getAccountRange.root'),
      checkHash(m.origin, 'getAccountRange.origin'),
      checkHash(m.limit, 'getAccountRange.limit'),
      checkUint64(m.responseBytes, 'getAccountRange.responseBytes'),
    ]);
  },
  decode(payload) {
    const [id, root, origin, limit, bytes] = rlpList(rlpDecode(payload), 'getAccountRange', 5);
    return {
      requestId: rlpUint64(id, 'getAccountRange.requestId'),
      root: rlpBytes(root, 'getAccountRange.root', 32),
      origin: rlpBytes(origin, 'getAccountRange.origin', 32),
      limit: rlpBytes(limit, 'getAccountRange.limit', 32),
      responseBytes: rlpUint64(bytes, 'getAccountRange.responseBytes'),
    };
  },
};

/**
 * AccountRange: `[reqID, [[accHash, slimAccount], ...], [proofNode, ...]]`. The accounts must be in strictly
 * ascending hash order, each body a slim account; at most {@link MAX_PROOF_NODES} proof nodes.
 * @example accountRangeCodec.decode(payload).accounts[0]?.account.balance
 */
export const accountRangeCodec: MessageCodec<AccountRangeMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'accountRange.requestId'),
      accountEntries(m.accounts, 'accountRange.accounts'),
      encodeProof(m.proof, 'accountRange.proof'),
    ]);
  },
  decode(payload) {
    const [id, list, proof] = rlpList(rlpDecode(payload), 'accountRange', 3);
    const accounts = rlpList(list, 'accountRange.accounts').map((entry, i): AccountData => {
      const label = `accountRange.accounts[${i}]`;
      const [hash, body] = rlpList(entry, label, 2);
      return { hash: rlpBytes(hash, `${label}.hash`, 32), account: decodeSlimAccount(body, `${label}.account`) };
    });
    ascending(accounts, 'accountRange.accounts', (message) => new RlpError(message));
    return {
      requestId: rlpUint64(id, 'accountRange.requestId'),
      accounts,
      proof: decodeProof(proof, 'accountRange.proof'),
    };
  },
};

/**
 * GetStorageRanges: `[reqID, rootHash, [accountHash, ...], startingHash, limitHash, responseBytes]`. The origin and
 * limit are byte strings of at most 32 bytes, empty for "the whole storage" (geth sends them empty, or 32 bytes).
 * @example getStorageRangesCodec.encode({ requestId: 1n, root, accounts: [account], origin: new Uint8Array(), limit: new Uint8Array(), responseBytes: 524288n })
 */
export const getStorageRangesCodec: MessageCodec<GetStorageRangesMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'getStorageRanges.requestId'),
      checkHash(m.root, 'getStorageRanges.root'),
      checkArray(m.accounts, 'getStorageRanges.accounts').map((hash, i) =>
        checkHash(hash, `getStorageRanges.accounts[${i}]`),
      ),
      checkShortHash(m.origin, 'getStorageRanges.origin'),
      checkShortHash(m.limit, 'getStorageRanges.limit'),
      checkUint64(m.responseBytes, 'getStorageRanges.responseBytes'),
    ]);
  },
  decode(payload) {
    const [id, root, accounts, origin, limit, bytes] = rlpList(rlpDecode(payload), 'getStorageRanges', 6);
    return {
      requestId: rlpUint64(id, 'getStorageRanges.requestId'),
      root: rlpBytes(root, 'getStorageRanges.root', 32),
      accounts: rlpHashes(accounts, 'getStorageRanges.accounts'),
      origin: shortHash(origin, 'getStorageRanges.origin'),
      limit: shortHash(limit, 'getStorageRanges.limit'),
      responseBytes: rlpUint64(bytes, 'getStorageRanges.responseBytes'),
    };
  },
};

/**
 * StorageRanges: `[reqID, [[[slotHash, slotData], ...], ...], [proofNode, ...]]`, each account's slots in strictly
 * ascending hash order; at most {@link MAX_PROOF_NODES} proof nodes.
 * @example storageRangesCodec.decode(payload).slots.length
 */
export const storageRangesCodec: MessageCodec<StorageRangesMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'storageRanges.requestId'),
      checkArray(m.slots, 'storageRanges.slots').map((set, i) => slotEntries(set, `storageRanges.slots[${i}]`)),
      encodeProof(m.proof, 'storageRanges.proof'),
    ]);
  },
  decode(payload) {
    const [id, list, proof] = rlpList(rlpDecode(payload), 'storageRanges', 3);
    const slots = rlpList(list, 'storageRanges.slots').map((set, i): StorageSlot[] => {
      const label = `storageRanges.slots[${i}]`;
      const decoded = rlpList(set, label).map((entry, j): StorageSlot => {
        const [hash, data] = rlpList(entry, `${label}[${j}]`, 2);
        return { hash: rlpBytes(hash, `${label}[${j}].hash`, 32), data: rlpBytes(data, `${label}[${j}].data`) };
      });
      ascending(decoded, label, (message) => new RlpError(message));
      return decoded;
    });
    return {
      requestId: rlpUint64(id, 'storageRanges.requestId'),
      slots,
      proof: decodeProof(proof, 'storageRanges.proof'),
    };
  },
};

/**
 * GetByteCodes: `[reqID, [codeHash, ...], bytes]`. Any number of hashes decodes (the message size bounds them);
 * a server looks up at most {@link MAX_CODE_LOOKUPS}.
 * @example getByteCodesCodec.encode({ requestId: 1n, hashes: [codeHash], responseBytes: 524288n })
 */
export const getByteCodesCodec: MessageCodec<GetByteCodesMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'getByteCodes.requestId'),
      checkArray(m.hashes, 'getByteCodes.hashes').map((hash, i) => checkHash(hash, `getByteCodes.hashes[${i}]`)),
      checkUint64(m.responseBytes, 'getByteCodes.responseBytes'),
    ]);
  },
  decode(payload) {
    const [id, list, bytes] = rlpList(rlpDecode(payload), 'getByteCodes', 3);
    return {
      requestId: rlpUint64(id, 'getByteCodes.requestId'),
      hashes: rlpHashes(list, 'getByteCodes.hashes'),
      responseBytes: rlpUint64(bytes, 'getByteCodes.responseBytes'),
    };
  },
};

/**
 * ByteCodes: `[reqID, [code, ...]]`, raw contract codes.
 * @example byteCodesCodec.decode(payload).codes
 */
export const byteCodesCodec: MessageCodec<ByteCodesMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'byteCodes.requestId'),
      checkArray(m.codes, 'byteCodes.codes').map((code, i) => checkBytes(code, `byteCodes.codes[${i}]`)),
    ]);
  },
  decode(payload) {
    const [id, list] = rlpList(rlpDecode(payload), 'byteCodes', 2);
    return { requestId: rlpUint64(id, 'byteCodes.requestId'), codes: byteStrings(list, 'byteCodes.codes') };
  },
};

function triePath(value: RlpValue | undefined, label: string): Uint8Array {
  const path = rlpBytes(value, label);
  if (path.length > MAX_TRIE_PATH_LENGTH) {
    throw new RlpError(`${label}: ${path.length} bytes, more than ${MAX_TRIE_PATH_LENGTH}`);
  }
  return path;
}

function checkTriePath(path: Uint8Array, label: string): Uint8Array {
  if (!(path instanceof Uint8Array) || path.length > MAX_TRIE_PATH_LENGTH) {
    throw new TypeError(`${label}: expected at most ${MAX_TRIE_PATH_LENGTH} bytes`);
  }
  return path;
}

/**
 * GetTrieNodes: `[reqID, rootHash, [[accountPath, storagePath...], ...], bytes]`. A path set must not be empty
 * (geth drops a peer that sends one: `errBadRequest`); a path is at most {@link MAX_TRIE_PATH_LENGTH} bytes.
 * @example getTrieNodesCodec.encode({ requestId: 1n, root, paths: [{ accountPath: new Uint8Array(), storagePaths: [] }], responseBytes: 524288n })
 */
export const getTrieNodesCodec: MessageCodec<GetTrieNodesMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'getTrieNodes.requestId'),
      checkHash(m.root, 'getTrieNodes.root'),
      checkArray(m.paths, 'getTrieNodes.paths').map((set, i): Uint8Array[] => {
        const label = `getTrieNodes.paths[${i}]`;
        if (typeof set !== 'object' || set === null) throw new TypeError(`${label}: expected a path set`);
        return [
          checkTriePath(set.accountPath, `${label}.accountPath`),
          ...checkArray(set.storagePaths, `${label}.storagePaths`).map((path, j) =>
            checkTriePath(path, `${label}.storagePaths[${j}]`),
          ),
        ];
      }),
      checkUint64(m.responseBytes, 'getTrieNodes.responseBytes'),
    ]);
  },
  decode(payload) {
    const [id, root, list, bytes] = rlpList(rlpDecode(payload), 'getTrieNodes', 4);
    const paths = rlpList(list, 'getTrieNodes.paths').map((set, i): TrieNodePathSet => {
      const label = `getTrieNodes.paths[${i}]`;
      const [account, ...storage] = rlpList(set, label, 1);
      return {
        accountPath: triePath(account, `${label}[0]`),
        storagePaths: storage.map((path, j) => triePath(path, `${label}[${j + 1}]`)),
      };
    });
    return {
      requestId: rlpUint64(id, 'getTrieNodes.requestId'),
      root: rlpBytes(root, 'getTrieNodes.root', 32),
      paths,
      responseBytes: rlpUint64(bytes, 'getTrieNodes.responseBytes'),
    };
  },
};

/**
 * TrieNodes: `[reqID, [node, ...]]`, raw trie nodes.
 * @example trieNodesCodec.decode(payload).nodes
 */
export const trieNodesCodec: MessageCodec<TrieNodesMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'trieNodes.requestId'),
      checkArray(m.nodes, 'trieNodes.nodes').map((node, i) => checkBytes(node, `trieNodes.nodes[${i}]`)),
    ]);
  },
  decode(payload) {
    const [id, list] = rlpList(rlpDecode(payload), 'trieNodes', 2);
    return { requestId: rlpUint64(id, 'trieNodes.requestId'), nodes: byteStrings(list, 'trieNodes.nodes') };
  },
};

/**
 * How many trie nodes a list of path sets asks for: one per path set without storage paths (an account trie
 * node), else one per storage path. A TrieNodes reply holding more is refused.
 * @example trieNodeCount([{ accountPath, storagePaths: [] }, { accountPath, storagePaths: [a, b] }]) // 3
 */
export function trieNodeCount(paths: readonly TrieNodePathSet[]): number {
  let count = 0;
  for (const set of paths) count += Math.max(1, set.storagePaths.length);
  return count;
}

// ---------------------------------------------------------------------------------------------------------
// Message table

/** The snap/1 message table (8 codes, 0x00–0x07). */
export type Snap1Messages = {
  readonly GetAccountRange: MessageSpec<GetAccountRangeMessage>;
  readonly AccountRange: MessageSpec<AccountRangeMessage>;
  readonly GetStorageRanges: MessageSpec<GetStorageRangesMessage>;
  readonly StorageRanges: MessageSpec<StorageRangesMessage>;
  readonly GetByteCodes: MessageSpec<GetByteCodesMessage>;
  readonly ByteCodes: MessageSpec<ByteCodesMessage>;
  readonly GetTrieNodes: MessageSpec<GetTrieNodesMessage>;
  readonly TrieNodes: MessageSpec<TrieNodesMessage>;
};

/**
 * snap/1 messages by name, with their codes.
 * @example snap1Messages.GetTrieNodes.code // 6
 */
export const snap1Messages: Snap1Messages = {
  GetAccountRange: { code: 0x00, codec: getAccountRangeCodec },
  AccountRange: { code: 0x01, codec: accountRangeCodec },
  GetStorageRanges: { code: 0x02, codec: getStorageRangesCodec },
  StorageRanges: { code: 0x03, codec: storageRangesCodec },
  GetByteCodes: { code: 0x04, codec: getByteCodesCodec },
  ByteCodes: { code: 0x05, codec: byteCodesCodec },
  GetTrieNodes: { code: 0x06, codec: getTrieNodesCodec },
  TrieNodes: { code: 0x07, codec: trieNodesCodec },
};
