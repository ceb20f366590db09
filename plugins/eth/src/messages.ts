/**
 * Codecs for every message of eth/68 to eth/72 (devp2p `caps/eth.md`, EIP-7642, EIP-7975, EIP-8159, EIP-8070).
 * Control data (Status, request ids, header queries, announcements, block ranges, cell bitmaps) is fully typed;
 * block headers, bodies, receipts, blocks, transactions and block access lists stay opaque: each is one raw RLP item
 * (`Uint8Array`), checked to be well-formed and of the right shape (a list, or for a transaction a list or a typed
 * envelope), never decoded further. Cells are checked to be 2048 bytes each.
 *
 * Malformed input throws an RlpError (the server ends the peer with "breach of protocol"); input over one of the
 * limits in `limits.ts` throws an EthLimitError ("subprotocol error", as geth).
 */

import type { ForkId } from '@devp2p/core';
import {
  checkHash,
  checkUint64,
  MAX_UINT64,
  type MessageCodec,
  type MessageSpec,
  RlpError,
  type RlpInput,
  type RlpValue,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpEncodeRawList,
  rlpHashes,
  rlpList,
  rlpUint,
  rlpUint64,
} from '@devp2p/core';
import {
  CELL_MASK_SIZE,
  CELL_SIZE,
  CELLS_PER_BLOB,
  checkLimit,
  type EthLimit,
  MAX_BALS_SERVE,
  MAX_BLOCK_ANNOUNCEMENTS,
  MAX_BODIES_SERVE,
  MAX_CELLS_PER_TRANSACTION,
  MAX_HEADERS_SERVE,
  MAX_MESSAGE_SIZE,
  MAX_RECEIPTS_SERVE,
  MAX_REQUEST_HASHES,
  MAX_TRANSACTIONS_PER_MESSAGE,
  MAX_TX_ANNOUNCEMENTS,
} from './limits.ts';
import { forEachItem, isList, itemBounds } from './raw.ts';

const MAX_UINT32 = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------------------
// Message types

/** Status (0x00) of eth/68: `[version, networkid, td, blockhash, genesis, forkid]`. */
export interface Status68 {
  readonly version: number;
  readonly networkId: bigint;
  /** Total difficulty of the head block. */
  readonly td: bigint;
  /** Hash of the head block. */
  readonly head: Uint8Array;
  readonly genesis: Uint8Array;
  readonly forkId: ForkId;
}

/**
 * Status (0x00) of eth/69 and later (eth/70, eth/71 and eth/72 keep it):
 * `[version, networkid, genesis, forkid, earliest, latest, latesthash]`.
 */
export interface Status69 {
  readonly version: number;
  readonly networkId: bigint;
  readonly genesis: Uint8Array;
  readonly forkId: ForkId;
  /** Oldest block whose bodies and receipts the node serves. */
  readonly earliestBlock: bigint;
  readonly latestBlock: bigint;
  readonly latestBlockHash: Uint8Array;
}

/** One entry of NewBlockHashes (0x01, eth/68). */
export interface BlockAnnouncement {
  readonly hash: Uint8Array;
  readonly number: bigint;
}

/** NewBlockHashes (0x01, eth/68 only). */
export interface NewBlockHashesMessage {
  readonly announcements: readonly BlockAnnouncement[];
}

/** Transactions (0x02): raw transactions (a legacy list, or an EIP-2718 typed envelope as a byte string). */
export interface TransactionsMessage {
  readonly transactions: readonly Uint8Array[];
}

/** The first block of a header query: by hash (32 bytes) or by number. */
export type BlockOrigin = { readonly hash: Uint8Array } | { readonly number: bigint };

/**
 * A GetBlockHeaders query: `amount` headers from `origin`, `skip` blocks apart, towards genesis if `reverse`.
 * @example const q: BlockHeadersQuery = { origin: { number: 100n }, amount: 10n, skip: 0n, reverse: false }
 */
export interface BlockHeadersQuery {
  readonly origin: BlockOrigin;
  readonly amount: bigint;
  readonly skip: bigint;
  readonly reverse: boolean;
}

/** GetBlockHeaders (0x03). */
export interface GetBlockHeadersMessage extends BlockHeadersQuery {
  readonly requestId: bigint;
}

/** BlockHeaders (0x04): raw RLP headers. */
export interface BlockHeadersMessage {
  readonly requestId: bigint;
  readonly headers: readonly Uint8Array[];
}

/** GetBlockBodies (0x05), GetPooledTransactions (0x09), GetReceipts (0x0f): a request for these hashes. */
export interface HashesRequestMessage {
  readonly requestId: bigint;
  readonly hashes: readonly Uint8Array[];
}

/** BlockBodies (0x06): raw RLP bodies (`[transactions, ommers, withdrawals?]`). */
export interface BlockBodiesMessage {
  readonly requestId: bigint;
  readonly bodies: readonly Uint8Array[];
}

/** NewBlock (0x07, eth/68 only): a raw RLP block and its total difficulty. */
export interface NewBlockMessage {
  readonly block: Uint8Array;
  readonly td: bigint;
}

/** NewPooledTransactionHashes (0x08): transaction types, sizes and hashes, of equal lengths. */
export interface NewPooledTransactionHashesMessage {
  /** One type byte per transaction. */
  readonly types: Uint8Array;
  /** Encoded size of each transaction (uint32). */
  readonly sizes: readonly number[];
  readonly hashes: readonly Uint8Array[];
}

/** PooledTransactions (0x0a): raw transactions, in request order, missing ones skipped. */
export interface PooledTransactionsMessage {
  readonly requestId: bigint;
  readonly transactions: readonly Uint8Array[];
}

/**
 * Receipts (0x10): one raw RLP list per block. In eth/68 a receipt in it is a legacy list or a typed receipt
 * as a byte string; in eth/69 every receipt is the list `[tx-type, post-state-or-status, cumulative-gas, logs]`
 * (no bloom).
 */
export interface ReceiptsMessage {
  readonly requestId: bigint;
  readonly receipts: readonly Uint8Array[];
}

/** BlockRangeUpdate (0x11, eth/69 and later): the blocks the node can serve. */
export interface BlockRangeUpdateMessage {
  readonly earliestBlock: bigint;
  readonly latestBlock: bigint;
  readonly latestBlockHash: Uint8Array;
}

/** Which receipt encoding a Receipts message carries: eth/68's, or eth/69's (also that of eth/70 to eth/72). */
export type ReceiptEncoding = 68 | 69;

/**
 * GetReceipts (0x0f) of eth/70 and later (EIP-7975): receipts of these blocks, the first block's list starting at
 * `firstBlockReceiptIndex`.
 */
export interface GetReceipts70Message {
  readonly requestId: bigint;
  /** Receipts of the first block before this index are left out (to continue a partial list). */
  readonly firstBlockReceiptIndex: bigint;
  readonly hashes: readonly Uint8Array[];
}

/**
 * Receipts (0x10) of eth/70 and later (EIP-7975): one raw RLP list of eth/69 receipts per block; when
 * `lastBlockIncomplete`, the last list stops short of the block's last receipt (it would overflow 10 MiB) and the
 * rest is fetched with another GetReceipts.
 */
export interface Receipts70Message {
  readonly requestId: bigint;
  readonly lastBlockIncomplete: boolean;
  readonly receipts: readonly Uint8Array[];
}

/**
 * BlockAccessLists (0x13, eth/71 and later, EIP-8159): one entry per requested block, in request order: the raw RLP
 * block access list (a list, see {@link blockAccessListCodec}), or null where the peer has none (the empty string
 * `0x80` on the wire; an empty list `0xc0` is a valid, empty BAL).
 */
export interface BlockAccessListsMessage {
  readonly requestId: bigint;
  readonly accessLists: readonly (Uint8Array | null)[];
}

/**
 * NewPooledTransactionHashes (0x08) of eth/72 (EIP-8070): eth/68's three lists and the `cells` bitmap: the cell
 * indices the sender holds for every blob of the blob transactions announced (see {@link cellIndices}).
 */
export interface NewPooledTransactionHashes72Message extends NewPooledTransactionHashesMessage {
  /** 16 bytes, one bit per cell index (the spec's `cells: B_16`). */
  readonly mask: Uint8Array;
}

/** GetCells (0x14, eth/72): the cells at the indices of `mask` of every blob of these transactions. */
export interface GetCellsMessage {
  readonly requestId: bigint;
  readonly hashes: readonly Uint8Array[];
  /** 16 bytes, one bit per cell index (the spec's `cells: B_16`). */
  readonly mask: Uint8Array;
}

/**
 * Cells (0x15, eth/72): for each transaction of `hashes`, its cells at the indices of `mask`, by ascending index and,
 * for each index, in the order of the transaction's blobs; so each group holds (set bits of `mask`) × (blobs) cells
 * of 2048 bytes.
 */
export interface CellsMessage {
  readonly requestId: bigint;
  readonly hashes: readonly Uint8Array[];
  readonly cells: readonly (readonly Uint8Array[])[];
  /** 16 bytes, a subset of the request's bitmap. */
  readonly mask: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------
// Raw RLP items

/** How many items the list may hold, and which limit a longer one breaks. */
interface ItemLimit {
  readonly max: number;
  readonly limit: EthLimit;
}

const UNBOUNDED: ItemLimit = { max: Number.MAX_SAFE_INTEGER, limit: 'response-items' };

/** The raw items of the (already validated) RLP list `bytes`; more than `bound.max` is an EthLimitError. */
function rawItems(bytes: Uint8Array, label: string, bound: ItemLimit = UNBOUNDED): Uint8Array[] {
  if (bytes.length === 0 || !isList(bytes)) throw new RlpError(`${label}: expected a list`);
  const items: Uint8Array[] = [];
  const count = forEachItem(bytes, (item) => {
    if (items.length < bound.max) items.push(item);
  });
  checkLimit(bound.limit, `${label} items`, count, bound.max);
  return items;
}

/** The raw item at `index` of the (validated) RLP list `bytes`. */
function rawItem(bytes: Uint8Array, index: number, label: string): Uint8Array {
  const item = rawItems(bytes, label)[index];
  if (item === undefined) throw new RlpError(`${label}: missing item ${index}`);
  return item;
}

type Shape = 'list' | 'transaction' | 'receipt68';

/** Checks the shape of one raw item (already known to be well-formed). */
function checkShape(item: Uint8Array, shape: Shape, label: string): void {
  if (isList(item)) return;
  if (shape === 'list') throw new RlpError(`${label}: expected a list`);
  // A typed transaction or receipt: a byte string holding type ‖ payload, the type byte below 0x80.
  const { header } = itemBounds(item, 0);
  if (item.length === header || item[header]! >= 0x80) {
    throw new RlpError(`${label}: expected a list or a typed envelope`);
  }
}

/** Raw items of a list, each checked to have `shape`. */
function shapedItems(bytes: Uint8Array, label: string, bound: ItemLimit, shape: Shape): Uint8Array[] {
  const items = rawItems(bytes, label, bound);
  for (let i = 0; i < items.length; i++) checkShape(items[i]!, shape, `${label}[${i}]`);
  return items;
}

/** Encoder-side check of a raw item from the caller: exactly one well-formed item of `shape`. */
function checkRawInput(item: Uint8Array, shape: Shape, label: string): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new TypeError(`${label}: expected raw RLP bytes`);
  rlpDecode(item);
  checkShape(item, shape, label);
  return item;
}

function checkRawList(items: readonly Uint8Array[], max: number, shape: Shape, label: string): Uint8Array {
  if (!Array.isArray(items)) throw new TypeError(`${label}: expected an array`);
  if (items.length > max) throw new RangeError(`${label}: ${items.length} items exceed the limit of ${max}`);
  return rlpEncodeRawList(items.map((item, i) => checkRawInput(item, shape, `${label}[${i}]`)));
}

/**
 * Every receipt inside one block's receipt list has the shape of its protocol version: eth/68's legacy list or typed
 * byte string, or (eth/69 and later) the list `[tx-type, post-state-or-status, cumulative-gas, logs]`.
 */
function checkReceiptList(item: Uint8Array, encoding: ReceiptEncoding, label: string): void {
  shapedItems(item, label, UNBOUNDED, encoding === 68 ? 'receipt68' : 'list');
}

// ---------------------------------------------------------------------------------------------------------
// Typed fields

function checkBigUint(value: bigint, label: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${label}: expected a bigint, got ${typeof value}`);
  if (value < 0n || value >= 1n << 256n) throw new RangeError(`${label}: ${value} is outside uint256`);
  return value;
}

function checkVersion(value: number, label: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_UINT32) throw new RangeError(`${label}: not a uint32`);
  return value;
}

/** A hash list, its length checked against `bound` before its items (so an overlong list is an EthLimitError). */
function hashes(value: RlpValue | undefined, label: string, bound: ItemLimit): Uint8Array[] {
  checkLimit(bound.limit, label, rlpList(value, label).length, bound.max);
  return rlpHashes(value, label);
}

function checkHashes(values: readonly Uint8Array[], max: number, label: string): Uint8Array[] {
  if (!Array.isArray(values)) throw new TypeError(`${label}: expected an array`);
  if (values.length > max) throw new RangeError(`${label}: ${values.length} hashes exceed the limit of ${max}`);
  return values.map((hash, i) => checkHash(hash, `${label}[${i}]`));
}

function decodeForkId(value: RlpValue | undefined, label: string): ForkId {
  const [hash, next] = rlpList(value, label, 2);
  const bytes = rlpBytes(hash, `${label}.hash`, 4);
  return {
    hash: ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0,
    next: rlpUint64(next, `${label}.next`),
  };
}

function encodeForkId(id: ForkId, label: string): [Uint8Array, bigint] {
  if (!Number.isInteger(id.hash) || id.hash < 0 || id.hash > MAX_UINT32)
    throw new RangeError(`${label}.hash: not a uint32`);
  const hash = Uint8Array.of(id.hash >>> 24, (id.hash >>> 16) & 0xff, (id.hash >>> 8) & 0xff, id.hash & 0xff);
  return [hash, checkUint64(id.next, `${label}.next`)];
}

// ---------------------------------------------------------------------------------------------------------
// Codecs

/**
 * An EIP-2124 fork id on its own: `[hash: B_4, next: P]` (as in Status, and in the ENR `eth` entry).
 * @example bytesToHex(forkIdCodec.encode({ hash: 0xdeadbeef, next: 0xbaddcafen })) // 'ca84deadbeef84baddcafe'
 */
export const forkIdCodec: MessageCodec<ForkId> = {
  encode(id) {
    return rlpEncode(encodeForkId(id, 'forkId'));
  },
  decode(payload) {
    return decodeForkId(rlpDecode(payload), 'forkId');
  },
};

/**
 * Status of eth/68. Decoding accepts extra trailing items; throws an RlpError on anything malformed.
 * @example status68Codec.decode(status68Codec.encode(status)).networkId // 1n
 */
export const status68Codec: MessageCodec<Status68> = {
  encode(s) {
    return rlpEncode([
      checkVersion(s.version, 'status.version'),
      checkUint64(s.networkId, 'status.networkId'),
      checkBigUint(s.td, 'status.td'),
      checkHash(s.head, 'status.head'),
      checkHash(s.genesis, 'status.genesis'),
      encodeForkId(s.forkId, 'status.forkId'),
    ]);
  },
  decode(payload) {
    const [version, networkId, td, head, genesis, forkId] = rlpList(rlpDecode(payload), 'status', 6);
    const v = rlpBigUint(version, 'status.version', 4);
    return {
      version: Number(v),
      networkId: rlpUint64(networkId, 'status.networkId'),
      td: rlpBigUint(td, 'status.td', 32),
      head: rlpBytes(head, 'status.head', 32),
      genesis: rlpBytes(genesis, 'status.genesis', 32),
      forkId: decodeForkId(forkId, 'status.forkId'),
    };
  },
};

/**
 * Status of eth/69 and later (no total difficulty; the served block range instead).
 * @example status69Codec.decode(status69Codec.encode(status)).latestBlock // 123n
 */
export const status69Codec: MessageCodec<Status69> = {
  encode(s) {
    return rlpEncode([
      checkVersion(s.version, 'status.version'),
      checkUint64(s.networkId, 'status.networkId'),
      checkHash(s.genesis, 'status.genesis'),
      encodeForkId(s.forkId, 'status.forkId'),
      checkUint64(s.earliestBlock, 'status.earliestBlock'),
      checkUint64(s.latestBlock, 'status.latestBlock'),
      checkHash(s.latestBlockHash, 'status.latestBlockHash'),
    ]);
  },
  decode(payload) {
    const [version, networkId, genesis, forkId, earliest, latest, latestHash] = rlpList(
      rlpDecode(payload),
      'status',
      7,
    );
    return {
      version: Number(rlpBigUint(version, 'status.version', 4)),
      networkId: rlpUint64(networkId, 'status.networkId'),
      genesis: rlpBytes(genesis, 'status.genesis', 32),
      forkId: decodeForkId(forkId, 'status.forkId'),
      earliestBlock: rlpUint64(earliest, 'status.earliestBlock'),
      latestBlock: rlpUint64(latest, 'status.latestBlock'),
      latestBlockHash: rlpBytes(latestHash, 'status.latestBlockHash', 32),
    };
  },
};

/**
 * NewBlockHashes (eth/68): `[[hash, number], ...]`, at most {@link MAX_BLOCK_ANNOUNCEMENTS}.
 * @example newBlockHashesCodec.encode({ announcements: [{ hash, number: 1n }] })
 */
export const newBlockHashesCodec: MessageCodec<NewBlockHashesMessage> = {
  encode({ announcements }) {
    if (announcements.length > MAX_BLOCK_ANNOUNCEMENTS) throw new RangeError('newBlockHashes: too many announcements');
    return rlpEncode(
      announcements.map((a, i) => [
        checkHash(a.hash, `newBlockHashes[${i}].hash`),
        checkUint64(a.number, `newBlockHashes[${i}].number`),
      ]),
    );
  },
  decode(payload) {
    const list = rlpList(rlpDecode(payload), 'newBlockHashes');
    checkLimit('block-announcements', 'newBlockHashes announcements', list.length, MAX_BLOCK_ANNOUNCEMENTS);
    return {
      announcements: list.map((entry, i) => {
        const [hash, number] = rlpList(entry, `newBlockHashes[${i}]`, 2);
        return {
          hash: rlpBytes(hash, `newBlockHashes[${i}].hash`, 32),
          number: rlpUint64(number, `newBlockHashes[${i}].number`),
        };
      }),
    };
  },
};

/**
 * Transactions: `[tx, ...]`, raw, at most {@link MAX_TRANSACTIONS_PER_MESSAGE}.
 * @example transactionsCodec.encode({ transactions: [rawTx] })
 */
export const transactionsCodec: MessageCodec<TransactionsMessage> = {
  encode({ transactions }) {
    return checkRawList(transactions, MAX_TRANSACTIONS_PER_MESSAGE, 'transaction', 'transactions');
  },
  decode(payload) {
    rlpDecode(payload);
    const bound: ItemLimit = { max: MAX_TRANSACTIONS_PER_MESSAGE, limit: 'transactions' };
    return { transactions: shapedItems(payload, 'transactions', bound, 'transaction') };
  },
};

/**
 * GetBlockHeaders: `[request-id, [origin, amount, skip, reverse]]`; an origin of 32 bytes is a hash, anything
 * up to 8 bytes a number.
 * @example getBlockHeadersCodec.encode({ requestId: 1n, origin: { number: 0n }, amount: 1n, skip: 0n, reverse: false })
 */
export const getBlockHeadersCodec: MessageCodec<GetBlockHeadersMessage> = {
  encode(m) {
    const origin =
      'hash' in m.origin
        ? checkHash(m.origin.hash, 'getBlockHeaders.origin')
        : checkUint64(m.origin.number, 'getBlockHeaders.origin');
    if (typeof m.reverse !== 'boolean') throw new TypeError('getBlockHeaders.reverse: expected a boolean');
    return rlpEncode([
      checkUint64(m.requestId, 'getBlockHeaders.requestId'),
      [
        origin,
        checkUint64(m.amount, 'getBlockHeaders.amount'),
        checkUint64(m.skip, 'getBlockHeaders.skip'),
        m.reverse ? 1 : 0,
      ],
    ]);
  },
  decode(payload) {
    const [requestId, query] = rlpList(rlpDecode(payload), 'getBlockHeaders', 2);
    const [origin, amount, skip, reverse] = rlpList(query, 'getBlockHeaders.query', 4);
    const originBytes = rlpBytes(origin, 'getBlockHeaders.origin');
    return {
      requestId: rlpUint64(requestId, 'getBlockHeaders.requestId'),
      origin:
        originBytes.length === 32 ? { hash: originBytes } : { number: rlpUint64(origin, 'getBlockHeaders.origin') },
      amount: rlpUint64(amount, 'getBlockHeaders.amount'),
      skip: rlpUint64(skip, 'getBlockHeaders.skip'),
      reverse: flag(reverse, 'getBlockHeaders.reverse'),
    };
  },
};

/** An RLP boolean: 0 (the empty string) or 1. */
function flag(value: RlpValue | undefined, label: string): boolean {
  const n = rlpUint(value, label);
  if (n > 1) throw new RlpError(`${label}: expected 0 or 1, got ${n}`);
  return n === 1;
}

/** `[request-id, [item, ...]]` with raw items of one shape. */
function rawResponseCodec<K extends string>(
  label: string,
  key: K,
  max: number,
  shape: Shape,
  inner?: (item: Uint8Array, label: string) => void,
): MessageCodec<{ readonly requestId: bigint } & { readonly [P in K]: readonly Uint8Array[] }> {
  const bound: ItemLimit = { max, limit: 'response-items' };
  return {
    encode(m) {
      const items = m[key];
      if (inner)
        for (let i = 0; i < items.length; i++)
          inner(checkRawInput(items[i]!, shape, `${label}[${i}]`), `${label}[${i}]`);
      return rlpEncodeRawList([
        rlpEncode(checkUint64(m.requestId, `${label}.requestId`)),
        checkRawList(items, max, shape, label),
      ]);
    },
    decode(payload) {
      const [requestId] = rlpList(rlpDecode(payload), label, 2);
      const items = shapedItems(rawItem(payload, 1, label), label, bound, shape);
      if (inner) for (let i = 0; i < items.length; i++) inner(items[i]!, `${label}[${i}]`);
      return { requestId: rlpUint64(requestId, `${label}.requestId`), [key]: items } as {
        readonly requestId: bigint;
      } & {
        readonly [P in K]: readonly Uint8Array[];
      };
    },
  };
}

const REQUEST_HASHES: ItemLimit = { max: MAX_REQUEST_HASHES, limit: 'request-hashes' };

/** `[request-id, [hash, ...]]`. */
function hashesRequestCodec(label: string): MessageCodec<HashesRequestMessage> {
  return {
    encode(m) {
      return rlpEncode([
        checkUint64(m.requestId, `${label}.requestId`),
        checkHashes(m.hashes, MAX_REQUEST_HASHES, `${label}.hashes`),
      ]);
    },
    decode(payload) {
      const [requestId, list] = rlpList(rlpDecode(payload), label, 2);
      return {
        requestId: rlpUint64(requestId, `${label}.requestId`),
        hashes: hashes(list, `${label}.hashes`, REQUEST_HASHES),
      };
    },
  };
}

/**
 * BlockHeaders: `[request-id, [header, ...]]`, raw headers (lists), at most {@link MAX_HEADERS_SERVE}.
 * @example blockHeadersCodec.decode(payload).headers.length
 */
export const blockHeadersCodec: MessageCodec<BlockHeadersMessage> = rawResponseCodec(
  'blockHeaders',
  'headers',
  MAX_HEADERS_SERVE,
  'list',
);

/**
 * GetBlockBodies: `[request-id, [hash, ...]]`, at most {@link MAX_REQUEST_HASHES}.
 * @example getBlockBodiesCodec.encode({ requestId: 1n, hashes: [hash] })
 */
export const getBlockBodiesCodec: MessageCodec<HashesRequestMessage> = hashesRequestCodec('getBlockBodies');

/**
 * BlockBodies: `[request-id, [body, ...]]`, raw bodies (lists), at most {@link MAX_BODIES_SERVE}.
 * @example blockBodiesCodec.decode(payload).bodies
 */
export const blockBodiesCodec: MessageCodec<BlockBodiesMessage> = rawResponseCodec(
  'blockBodies',
  'bodies',
  MAX_BODIES_SERVE,
  'list',
);

/**
 * NewBlock (eth/68): `[block, td]`, the block raw (a list).
 * @example newBlockCodec.decode(payload).td
 */
export const newBlockCodec: MessageCodec<NewBlockMessage> = {
  encode(m) {
    return rlpEncodeRawList([
      checkRawInput(m.block, 'list', 'newBlock.block'),
      rlpEncode(checkBigUint(m.td, 'newBlock.td')),
    ]);
  },
  decode(payload) {
    const [, td] = rlpList(rlpDecode(payload), 'newBlock', 2);
    const block = rawItem(payload, 0, 'newBlock');
    checkShape(block, 'list', 'newBlock.block');
    return { block, td: rlpBigUint(td, 'newBlock.td', 32) };
  },
};

const ANNOUNCED_HASHES: ItemLimit = { max: MAX_TX_ANNOUNCEMENTS, limit: 'announcements' };

/** The three equal-length lists of NewPooledTransactionHashes, checked for encoding. */
function encodeAnnouncement(m: NewPooledTransactionHashesMessage, label: string): RlpInput[] {
  if (!(m.types instanceof Uint8Array)) throw new TypeError(`${label}.types: expected bytes`);
  if (m.types.length !== m.sizes.length || m.types.length !== m.hashes.length) {
    throw new RangeError(
      `${label}: ${m.types.length} types, ${m.sizes.length} sizes and ${m.hashes.length} hashes differ in length`,
    );
  }
  for (const size of m.sizes) {
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_UINT32)
      throw new RangeError(`${label}.sizes: ${size} is not a uint32`);
  }
  return [m.types, m.sizes, checkHashes(m.hashes, MAX_TX_ANNOUNCEMENTS, `${label}.hashes`)];
}

/** The three equal-length lists of NewPooledTransactionHashes, decoded. */
function decodeAnnouncement(
  types: RlpValue | undefined,
  sizes: RlpValue | undefined,
  list: RlpValue | undefined,
  label: string,
): NewPooledTransactionHashesMessage {
  const typeBytes = rlpBytes(types, `${label}.types`);
  const sizeList = rlpList(sizes, `${label}.sizes`);
  const hashList = hashes(list, `${label}.hashes`, ANNOUNCED_HASHES);
  if (typeBytes.length !== sizeList.length || typeBytes.length !== hashList.length) {
    throw new RlpError(
      `${label}: ${typeBytes.length} types, ${sizeList.length} sizes and ${hashList.length} hashes differ in length`,
    );
  }
  return {
    types: typeBytes,
    sizes: sizeList.map((size, i) => Number(rlpBigUint(size, `${label}.sizes[${i}]`, 4))),
    hashes: hashList,
  };
}

/**
 * NewPooledTransactionHashes of eth/68 to eth/71: `[types, [size, ...], [hash, ...]]`, three equal lengths, at most
 * {@link MAX_TX_ANNOUNCEMENTS}.
 * @example newPooledTransactionHashesCodec.encode({ types: Uint8Array.of(2), sizes: [120], hashes: [hash] })
 */
export const newPooledTransactionHashesCodec: MessageCodec<NewPooledTransactionHashesMessage> = {
  encode(m) {
    return rlpEncode(encodeAnnouncement(m, 'newPooledTransactionHashes'));
  },
  decode(payload) {
    const label = 'newPooledTransactionHashes';
    const [types, sizes, list] = rlpList(rlpDecode(payload), label, 3);
    return decodeAnnouncement(types, sizes, list, label);
  },
};

/**
 * NewPooledTransactionHashes of eth/72 (EIP-8070): `[types, [size, ...], [hash, ...], cells: B_16]`.
 * @example newPooledTransactionHashes72Codec.encode({ types: Uint8Array.of(3), sizes: [131_000], hashes: [hash], mask: cellMask([0, 1]) })
 */
export const newPooledTransactionHashes72Codec: MessageCodec<NewPooledTransactionHashes72Message> = {
  encode(m) {
    const label = 'newPooledTransactionHashes';
    return rlpEncode([...encodeAnnouncement(m, label), checkMask(m.mask, `${label}.mask`)]);
  },
  decode(payload) {
    const label = 'newPooledTransactionHashes';
    const [types, sizes, list, mask] = rlpList(rlpDecode(payload), label, 4);
    return { ...decodeAnnouncement(types, sizes, list, label), mask: rlpBytes(mask, `${label}.mask`, CELL_MASK_SIZE) };
  },
};

/**
 * GetPooledTransactions: `[request-id, [hash, ...]]`.
 * @example getPooledTransactionsCodec.encode({ requestId: 1n, hashes: [hash] })
 */
export const getPooledTransactionsCodec: MessageCodec<HashesRequestMessage> =
  hashesRequestCodec('getPooledTransactions');

/**
 * PooledTransactions: `[request-id, [tx, ...]]`, raw transactions, at most {@link MAX_REQUEST_HASHES}. On eth/72 a
 * blob transaction comes without its blobs (fetched as cells), which changes nothing here: the transaction is opaque.
 * @example pooledTransactionsCodec.decode(payload).transactions
 */
export const pooledTransactionsCodec: MessageCodec<PooledTransactionsMessage> = rawResponseCodec(
  'pooledTransactions',
  'transactions',
  MAX_REQUEST_HASHES,
  'transaction',
);

/**
 * GetReceipts of eth/68 and eth/69: `[request-id, [hash, ...]]`.
 * @example getReceiptsCodec.encode({ requestId: 1n, hashes: [hash] })
 */
export const getReceiptsCodec: MessageCodec<HashesRequestMessage> = hashesRequestCodec('getReceipts');

/**
 * Receipts of eth/68: `[request-id, [[receipt, ...], ...]]`, a receipt a legacy list or a typed byte string.
 * @example receipts68Codec.decode(payload).receipts
 */
export const receipts68Codec: MessageCodec<ReceiptsMessage> = rawResponseCodec(
  'receipts',
  'receipts',
  MAX_RECEIPTS_SERVE,
  'list',
  (item, label) => checkReceiptList(item, 68, label),
);

/**
 * Receipts of eth/69: `[request-id, [[receipt, ...], ...]]`, every receipt the list
 * `[tx-type, post-state-or-status, cumulative-gas, logs]`.
 * @example receipts69Codec.decode(payload).receipts
 */
export const receipts69Codec: MessageCodec<ReceiptsMessage> = rawResponseCodec(
  'receipts',
  'receipts',
  MAX_RECEIPTS_SERVE,
  'list',
  (item, label) => checkReceiptList(item, 69, label),
);

/**
 * GetReceipts of eth/70 and later (EIP-7975): `[request-id, firstBlockReceiptIndex, [hash, ...]]`.
 * @example getReceipts70Codec.encode({ requestId: 1n, firstBlockReceiptIndex: 0n, hashes: [hash] })
 */
export const getReceipts70Codec: MessageCodec<GetReceipts70Message> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'getReceipts.requestId'),
      checkUint64(m.firstBlockReceiptIndex, 'getReceipts.firstBlockReceiptIndex'),
      checkHashes(m.hashes, MAX_REQUEST_HASHES, 'getReceipts.hashes'),
    ]);
  },
  decode(payload) {
    const [requestId, first, list] = rlpList(rlpDecode(payload), 'getReceipts', 3);
    return {
      requestId: rlpUint64(requestId, 'getReceipts.requestId'),
      firstBlockReceiptIndex: rlpUint64(first, 'getReceipts.firstBlockReceiptIndex'),
      hashes: hashes(list, 'getReceipts.hashes', REQUEST_HASHES),
    };
  },
};

const RECEIPT_LISTS: ItemLimit = { max: MAX_RECEIPTS_SERVE, limit: 'response-items' };

/**
 * Receipts of eth/70 and later (EIP-7975): `[request-id, lastBlockIncomplete: {0,1}, [[receipt, ...], ...]]`, the
 * receipts in eth/69's encoding.
 * @example receipts70Codec.decode(payload).lastBlockIncomplete
 */
export const receipts70Codec: MessageCodec<Receipts70Message> = {
  encode(m) {
    if (typeof m.lastBlockIncomplete !== 'boolean') {
      throw new TypeError('receipts.lastBlockIncomplete: expected a boolean');
    }
    for (let i = 0; i < m.receipts.length; i++) {
      checkReceiptList(checkRawInput(m.receipts[i]!, 'list', `receipts[${i}]`), 69, `receipts[${i}]`);
    }
    return rlpEncodeRawList([
      rlpEncode(checkUint64(m.requestId, 'receipts.requestId')),
      rlpEncode(m.lastBlockIncomplete ? 1 : 0),
      checkRawList(m.receipts, MAX_RECEIPTS_SERVE, 'list', 'receipts'),
    ]);
  },
  decode(payload) {
    const [requestId, incomplete] = rlpList(rlpDecode(payload), 'receipts', 3);
    const lists = shapedItems(rawItem(payload, 2, 'receipts'), 'receipts', RECEIPT_LISTS, 'list');
    for (let i = 0; i < lists.length; i++) checkReceiptList(lists[i]!, 69, `receipts[${i}]`);
    return {
      requestId: rlpUint64(requestId, 'receipts.requestId'),
      lastBlockIncomplete: flag(incomplete, 'receipts.lastBlockIncomplete'),
      receipts: lists,
    };
  },
};

/**
 * BlockRangeUpdate (eth/69 and later): `[earliest, latest, latest-hash]`.
 * @example blockRangeUpdateCodec.encode({ earliestBlock: 0n, latestBlock: 10n, latestBlockHash: hash })
 */
export const blockRangeUpdateCodec: MessageCodec<BlockRangeUpdateMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.earliestBlock, 'blockRangeUpdate.earliestBlock'),
      checkUint64(m.latestBlock, 'blockRangeUpdate.latestBlock'),
      checkHash(m.latestBlockHash, 'blockRangeUpdate.latestBlockHash'),
    ]);
  },
  decode(payload) {
    const [earliest, latest, hash] = rlpList(rlpDecode(payload), 'blockRangeUpdate', 3);
    return {
      earliestBlock: rlpUint64(earliest, 'blockRangeUpdate.earliestBlock'),
      latestBlock: rlpUint64(latest, 'blockRangeUpdate.latestBlock'),
      latestBlockHash: rlpBytes(hash, 'blockRangeUpdate.latestBlockHash', 32),
    };
  },
};

/**
 * GetBlockAccessLists (eth/71 and later, EIP-8159): `[request-id, [hash, ...]]`.
 * @example getBlockAccessListsCodec.encode({ requestId: 1n, hashes: [hash] })
 */
export const getBlockAccessListsCodec: MessageCodec<HashesRequestMessage> = hashesRequestCodec('getBlockAccessLists');

/** The RLP empty string: the BlockAccessLists entry of a block whose BAL the peer does not have. */
const EMPTY_STRING = Uint8Array.of(0x80);

const ACCESS_LISTS: ItemLimit = { max: MAX_BALS_SERVE, limit: 'response-items' };

/**
 * BlockAccessLists (eth/71 and later, EIP-8159): `[request-id, [bal, ...]]`, each entry a raw RLP list, or the empty
 * string `0x80` (null here) for a block whose BAL the peer does not have. At most {@link MAX_BALS_SERVE}.
 * @example blockAccessListsCodec.encode({ requestId: 1n, accessLists: [rlpEncode([]), null] })
 */
export const blockAccessListsCodec: MessageCodec<BlockAccessListsMessage> = {
  encode(m) {
    const label = 'blockAccessLists';
    if (!Array.isArray(m.accessLists)) throw new TypeError(`${label}: expected an array`);
    if (m.accessLists.length > MAX_BALS_SERVE) {
      throw new RangeError(`${label}: ${m.accessLists.length} items exceed the limit of ${MAX_BALS_SERVE}`);
    }
    const items = m.accessLists.map((bal, i) =>
      bal === null ? EMPTY_STRING : checkRawInput(bal, 'list', `${label}[${i}]`),
    );
    return rlpEncodeRawList([rlpEncode(checkUint64(m.requestId, `${label}.requestId`)), rlpEncodeRawList(items)]);
  },
  decode(payload) {
    const label = 'blockAccessLists';
    const [requestId] = rlpList(rlpDecode(payload), label, 2);
    const items = rawItems(rawItem(payload, 1, label), label, ACCESS_LISTS);
    return {
      requestId: rlpUint64(requestId, `${label}.requestId`),
      accessLists: items.map((item, i) => {
        if (item.length === 1 && item[0] === 0x80) return null;
        if (!isList(item)) throw new RlpError(`${label}[${i}]: expected a list or the empty string`);
        return item;
      }),
    };
  },
};

function checkMask(mask: Uint8Array, label: string): Uint8Array {
  if (!(mask instanceof Uint8Array) || mask.length !== CELL_MASK_SIZE) {
    throw new TypeError(`${label}: expected ${CELL_MASK_SIZE} bytes`);
  }
  return mask;
}

/**
 * The cell bitmap with these indices set (0 to 127), as eth/72 carries it in `cells: B_16`. The spec leaves the bit
 * order open; this is geth's (`types.CustodyBitmap`): index i is bit `i % 8` (least significant first) of byte
 * `i / 8`.
 * @example bytesToHex(cellMask([0, 9])) // '01020000000000000000000000000000'
 */
export function cellMask(indices: Iterable<number>): Uint8Array {
  const mask = new Uint8Array(CELL_MASK_SIZE);
  for (const index of indices) {
    if (!Number.isInteger(index) || index < 0 || index >= CELLS_PER_BLOB) {
      throw new RangeError(`cellMask: index ${index} is outside 0..${CELLS_PER_BLOB - 1}`);
    }
    mask[index >> 3]! |= 1 << (index & 7);
  }
  return mask;
}

/**
 * The cell indices set in a 16-byte bitmap, ascending (the inverse of {@link cellMask}).
 * @example cellIndices(cellMask([9, 0])) // [0, 9]
 */
export function cellIndices(mask: Uint8Array): number[] {
  checkMask(mask, 'cellIndices');
  const out: number[] = [];
  for (let i = 0; i < CELLS_PER_BLOB; i++) if ((mask[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}

/**
 * GetCells (eth/72): `[request-id, [hash, ...], cells: B_16]`.
 * @example getCellsCodec.encode({ requestId: 1n, hashes: [hash], mask: cellMask([0, 1, 2]) })
 */
export const getCellsCodec: MessageCodec<GetCellsMessage> = {
  encode(m) {
    return rlpEncode([
      checkUint64(m.requestId, 'getCells.requestId'),
      checkHashes(m.hashes, MAX_REQUEST_HASHES, 'getCells.hashes'),
      checkMask(m.mask, 'getCells.mask'),
    ]);
  },
  decode(payload) {
    const [requestId, list, mask] = rlpList(rlpDecode(payload), 'getCells', 3);
    return {
      requestId: rlpUint64(requestId, 'getCells.requestId'),
      hashes: hashes(list, 'getCells.hashes', REQUEST_HASHES),
      mask: rlpBytes(mask, 'getCells.mask', CELL_MASK_SIZE),
    };
  },
};

/**
 * Checks the cell groups of a Cells message against its hashes and bitmap: one group per hash; with no index set, no
 * cells; otherwise a whole number (1 to {@link MAX_BLOBS_PER_TRANSACTION}) of cells per index, each of 2048 bytes.
 */
function checkCellGroups(
  groups: readonly (readonly Uint8Array[])[],
  hashCount: number,
  indexCount: number,
  fail: (message: string) => Error,
): void {
  if (groups.length !== hashCount) throw fail(`${hashCount} hashes but ${groups.length} cell groups`);
  for (let i = 0; i < groups.length; i++) {
    const count = groups[i]!.length;
    checkLimit('cells-per-transaction', `cells[${i}]`, count, MAX_CELLS_PER_TRANSACTION);
    if (indexCount === 0 ? count !== 0 : count === 0 || count % indexCount !== 0) {
      throw fail(`cells[${i}]: ${count} cells for ${indexCount} indices (want a non-zero multiple)`);
    }
  }
}

function popCount(mask: Uint8Array): number {
  let n = 0;
  for (const byte of mask) for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}

/**
 * Cells (eth/72): `[request-id, [hash, ...], [[cell: B_2048, ...], ...], cells: B_16]`, one group of cells per hash.
 * A group holds the cells at the bitmap's indices, ascending, and for each index one per blob, in blob order: a
 * non-zero multiple of the indices set, at most {@link MAX_CELLS_PER_TRANSACTION} (an EthLimitError past it, as geth).
 * @example cellsCodec.encode({ requestId: 1n, hashes: [hash], cells: [[cell]], mask: cellMask([5]) })
 */
export const cellsCodec: MessageCodec<CellsMessage> = {
  encode(m) {
    const label = 'cells';
    const mask = checkMask(m.mask, `${label}.mask`);
    const hashList = checkHashes(m.hashes, MAX_REQUEST_HASHES, `${label}.hashes`);
    if (!Array.isArray(m.cells as unknown)) throw new TypeError(`${label}.cells: expected an array`);
    for (const [i, group] of m.cells.entries()) {
      if (group.length > MAX_CELLS_PER_TRANSACTION) {
        throw new RangeError(
          `${label}.cells[${i}]: ${group.length} cells exceed the limit of ${MAX_CELLS_PER_TRANSACTION}`,
        );
      }
    }
    checkCellGroups(m.cells, hashList.length, popCount(mask), (message) => new RangeError(`${label}: ${message}`));
    const groups = m.cells.map((group, i) =>
      group.map((cell, j) => {
        if (!(cell instanceof Uint8Array) || cell.length !== CELL_SIZE) {
          throw new TypeError(`${label}.cells[${i}][${j}]: expected ${CELL_SIZE} bytes`);
        }
        return cell;
      }),
    );
    return rlpEncode([checkUint64(m.requestId, `${label}.requestId`), hashList, groups, mask]);
  },
  decode(payload) {
    const label = 'cells';
    const [requestId, list, groups, mask] = rlpList(rlpDecode(payload), label, 4);
    const hashList = hashes(list, `${label}.hashes`, REQUEST_HASHES);
    const maskBytes = rlpBytes(mask, `${label}.mask`, CELL_MASK_SIZE);
    const cells = rlpList(groups, `${label}.cells`).map((group, i) =>
      rlpList(group, `${label}.cells[${i}]`).map((cell, j) => rlpBytes(cell, `${label}.cells[${i}][${j}]`, CELL_SIZE)),
    );
    checkCellGroups(cells, hashList.length, popCount(maskBytes), (message) => new RlpError(`${label}: ${message}`));
    return { requestId: rlpUint64(requestId, `${label}.requestId`), hashes: hashList, cells, mask: maskBytes };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Block access lists (EIP-7928)

/** A storage write of a block access list: the slot's value after the change at `index`. */
export interface StorageChange {
  /** Block access index: 0 before the transactions, 1..n for transaction n, n + 1 after them (uint32). */
  readonly index: number;
  readonly value: bigint;
}

/** All writes to one storage slot, by ascending index. */
export interface SlotChanges {
  readonly slot: bigint;
  readonly changes: readonly StorageChange[];
}

/** A balance after the change at `index`. */
export interface BalanceChange {
  readonly index: number;
  readonly balance: bigint;
}

/** A nonce after the change at `index`. */
export interface NonceChange {
  readonly index: number;
  readonly nonce: bigint;
}

/** The code deployed by the change at `index`. */
export interface CodeChange {
  readonly index: number;
  readonly code: Uint8Array;
}

/** Everything a block did to one account (EIP-7928 `AccountChanges`). */
export interface AccountChanges {
  /** 20 bytes. */
  readonly address: Uint8Array;
  /** By ascending slot. */
  readonly storageChanges: readonly SlotChanges[];
  /** Slots read and not written, ascending. */
  readonly storageReads: readonly bigint[];
  readonly balanceChanges: readonly BalanceChange[];
  readonly nonceChanges: readonly NonceChange[];
  readonly codeChanges: readonly CodeChange[];
}

/** A block access list (EIP-7928): account changes by ascending address. */
export type BlockAccessList = readonly AccountChanges[];

const MAX_UINT256 = (1n << 256n) - 1n;

function checkBalUint(value: bigint, max: bigint, label: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > max) throw new RangeError(`${label}: out of range`);
  return value;
}

function checkIndex(value: number, label: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) throw new RangeError(`${label}: not a uint32`);
  return value;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Throws `fail` unless `keys` ascend strictly (sorted and unique). */
function checkAscending<T>(keys: readonly T[], compare: (a: T, b: T) => number, what: string, fail: Failure): void {
  for (let i = 1; i < keys.length; i++) {
    if (compare(keys[i - 1]!, keys[i]!) >= 0) throw fail(`${what} are not strictly ascending at ${i}`);
  }
}

type Failure = (message: string) => Error;

const byNumber = (a: number, b: number): number => a - b;
const byBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** The ordering rules of EIP-7928 that need no block: sorted, unique keys, and no slot both read and written. */
function checkBalOrder(bal: BlockAccessList, fail: Failure): void {
  checkAscending(
    bal.map((a) => a.address),
    compareBytes,
    'addresses',
    fail,
  );
  for (const [i, account] of bal.entries()) {
    const at = `account[${i}]`;
    checkAscending(
      account.storageChanges.map((s) => s.slot),
      byBigint,
      `${at} storage change slots`,
      fail,
    );
    for (const [j, slot] of account.storageChanges.entries()) {
      checkAscending(
        slot.changes.map((c) => c.index),
        byNumber,
        `${at}.storageChanges[${j}] indices`,
        fail,
      );
    }
    checkAscending(account.storageReads, byBigint, `${at} storage reads`, fail);
    const written = new Set(account.storageChanges.map((s) => s.slot));
    if (account.storageReads.some((slot) => written.has(slot))) throw fail(`${at}: a slot is both read and written`);
    checkAscending(
      account.balanceChanges.map((c) => c.index),
      byNumber,
      `${at} balance change indices`,
      fail,
    );
    checkAscending(
      account.nonceChanges.map((c) => c.index),
      byNumber,
      `${at} nonce change indices`,
      fail,
    );
    checkAscending(
      account.codeChanges.map((c) => c.index),
      byNumber,
      `${at} code change indices`,
      fail,
    );
  }
}

function indexField(value: RlpValue | undefined, label: string): number {
  return Number(rlpBigUint(value, label, 4));
}

/** `[[index, x], ...]` of one account, each pair decoded by `decode`. */
function pairs<T>(
  value: RlpValue | undefined,
  label: string,
  decode: (index: number, x: RlpValue, l: string) => T,
): T[] {
  return rlpList(value, label).map((pair, i) => {
    const [index, x] = rlpList(pair, `${label}[${i}]`, 2);
    return decode(indexField(index, `${label}[${i}].index`), x!, `${label}[${i}]`);
  });
}

/**
 * A block access list (EIP-7928) on its own, as a BlockAccessLists entry carries it: `[[address, storage-changes,
 * storage-reads, balance-changes, nonce-changes, code-changes], ...]`, with slots, values and balances as RLP
 * integers (EIP-7928's `uint256`, as geth encodes them; `caps/eth.md` writes them `B_32`, which would not hash to
 * the header's `block-access-list-hash`), indices uint32 and nonces uint64. Decoding and encoding check EIP-7928's
 * order: addresses, slots and reads strictly ascending, indices strictly ascending in each list, and no slot both read
 * and written. The rules that need the block (highest index, size against the gas limit, code size) are the caller's.
 * @example blockAccessListCodec.decode(rlpEncode([])) // []
 */
export const blockAccessListCodec: MessageCodec<BlockAccessList> = {
  encode(bal) {
    if (!Array.isArray(bal)) throw new TypeError('blockAccessList: expected an array');
    const items = bal.map((account: AccountChanges, i): RlpInput => {
      const at = `blockAccessList[${i}]`;
      if (!(account.address instanceof Uint8Array) || account.address.length !== 20) {
        throw new TypeError(`${at}.address: expected 20 bytes`);
      }
      return [
        account.address,
        account.storageChanges.map((s, j) => [
          checkBalUint(s.slot, MAX_UINT256, `${at}.storageChanges[${j}].slot`),
          s.changes.map((c, k) => [
            checkIndex(c.index, `${at}.storageChanges[${j}][${k}].index`),
            checkBalUint(c.value, MAX_UINT256, `${at}.storageChanges[${j}][${k}].value`),
          ]),
        ]),
        account.storageReads.map((slot, j) => checkBalUint(slot, MAX_UINT256, `${at}.storageReads[${j}]`)),
        account.balanceChanges.map((c, j) => [
          checkIndex(c.index, `${at}.balanceChanges[${j}].index`),
          checkBalUint(c.balance, MAX_UINT256, `${at}.balanceChanges[${j}].balance`),
        ]),
        account.nonceChanges.map((c, j) => [
          checkIndex(c.index, `${at}.nonceChanges[${j}].index`),
          checkBalUint(c.nonce, MAX_UINT64, `${at}.nonceChanges[${j}].nonce`),
        ]),
        account.codeChanges.map((c, j) => {
          if (!(c.code instanceof Uint8Array)) throw new TypeError(`${at}.codeChanges[${j}].code: expected bytes`);
          return [checkIndex(c.index, `${at}.codeChanges[${j}].index`), c.code];
        }),
      ];
    });
    checkBalOrder(bal, (message) => new RangeError(`blockAccessList: ${message}`));
    return rlpEncode(items);
  },
  decode(payload) {
    const bal = rlpList(rlpDecode(payload), 'blockAccessList').map((entry, i): AccountChanges => {
      const at = `blockAccessList[${i}]`;
      const [address, storage, reads, balances, nonces, codes] = rlpList(entry, at, 6);
      return {
        address: rlpBytes(address, `${at}.address`, 20),
        storageChanges: rlpList(storage, `${at}.storageChanges`).map((slotEntry, j) => {
          const [slot, changes] = rlpList(slotEntry, `${at}.storageChanges[${j}]`, 2);
          return {
            slot: rlpBigUint(slot, `${at}.storageChanges[${j}].slot`, 32),
            changes: pairs(changes, `${at}.storageChanges[${j}].changes`, (index, x, l) => ({
              index,
              value: rlpBigUint(x, `${l}.value`, 32),
            })),
          };
        }),
        storageReads: rlpList(reads, `${at}.storageReads`).map((slot, j) =>
          rlpBigUint(slot, `${at}.storageReads[${j}]`, 32),
        ),
        balanceChanges: pairs(balances, `${at}.balanceChanges`, (index, x, l) => ({
          index,
          balance: rlpBigUint(x, `${l}.balance`, 32),
        })),
        nonceChanges: pairs(nonces, `${at}.nonceChanges`, (index, x, l) => ({
          index,
          nonce: rlpBigUint(x, `${l}.nonce`, 8),
        })),
        codeChanges: pairs(codes, `${at}.codeChanges`, (index, x, l) => ({ index, code: rlpBytes(x, `${l}.code`) })),
      };
    });
    checkBalOrder(bal, (message) => new RlpError(`blockAccessList: ${message}`));
    return bal;
  },
};

// ---------------------------------------------------------------------------------------------------------
// Message tables

/**
 * A table codec: refuses a payload over {@link MAX_MESSAGE_SIZE} with an EthLimitError before decoding it (geth's
 * `errMsgTooLarge`, checked on every eth message, the Status included).
 */
function sized<T>(name: string, codec: MessageCodec<T>): MessageCodec<T> {
  return {
    encode: (value) => codec.encode(value),
    decode(payload) {
      checkLimit('message-size', `${name} message bytes`, payload.length, MAX_MESSAGE_SIZE);
      return codec.decode(payload);
    },
  };
}

/** The eth/68 message table (17 codes, 0x00–0x10; 0x0b–0x0e unused). */
export type Eth68Messages = {
  readonly Status: MessageSpec<Status68>;
  readonly NewBlockHashes: MessageSpec<NewBlockHashesMessage>;
  readonly Transactions: MessageSpec<TransactionsMessage>;
  readonly GetBlockHeaders: MessageSpec<GetBlockHeadersMessage>;
  readonly BlockHeaders: MessageSpec<BlockHeadersMessage>;
  readonly GetBlockBodies: MessageSpec<HashesRequestMessage>;
  readonly BlockBodies: MessageSpec<BlockBodiesMessage>;
  readonly NewBlock: MessageSpec<NewBlockMessage>;
  readonly NewPooledTransactionHashes: MessageSpec<NewPooledTransactionHashesMessage>;
  readonly GetPooledTransactions: MessageSpec<HashesRequestMessage>;
  readonly PooledTransactions: MessageSpec<PooledTransactionsMessage>;
  readonly GetReceipts: MessageSpec<HashesRequestMessage>;
  readonly Receipts: MessageSpec<ReceiptsMessage>;
};

/** The eth/69 message table (18 codes; NewBlockHashes and NewBlock removed, BlockRangeUpdate 0x11 added). */
export type Eth69Messages = {
  readonly Status: MessageSpec<Status69>;
  readonly Transactions: MessageSpec<TransactionsMessage>;
  readonly GetBlockHeaders: MessageSpec<GetBlockHeadersMessage>;
  readonly BlockHeaders: MessageSpec<BlockHeadersMessage>;
  readonly GetBlockBodies: MessageSpec<HashesRequestMessage>;
  readonly BlockBodies: MessageSpec<BlockBodiesMessage>;
  readonly NewPooledTransactionHashes: MessageSpec<NewPooledTransactionHashesMessage>;
  readonly GetPooledTransactions: MessageSpec<HashesRequestMessage>;
  readonly PooledTransactions: MessageSpec<PooledTransactionsMessage>;
  readonly GetReceipts: MessageSpec<HashesRequestMessage>;
  readonly Receipts: MessageSpec<ReceiptsMessage>;
  readonly BlockRangeUpdate: MessageSpec<BlockRangeUpdateMessage>;
};

/** The eth/70 message table (18 codes, as eth/69; GetReceipts and Receipts changed by EIP-7975). */
export type Eth70Messages = {
  readonly Status: MessageSpec<Status69>;
  readonly Transactions: MessageSpec<TransactionsMessage>;
  readonly GetBlockHeaders: MessageSpec<GetBlockHeadersMessage>;
  readonly BlockHeaders: MessageSpec<BlockHeadersMessage>;
  readonly GetBlockBodies: MessageSpec<HashesRequestMessage>;
  readonly BlockBodies: MessageSpec<BlockBodiesMessage>;
  readonly NewPooledTransactionHashes: MessageSpec<NewPooledTransactionHashesMessage>;
  readonly GetPooledTransactions: MessageSpec<HashesRequestMessage>;
  readonly PooledTransactions: MessageSpec<PooledTransactionsMessage>;
  readonly GetReceipts: MessageSpec<GetReceipts70Message>;
  readonly Receipts: MessageSpec<Receipts70Message>;
  readonly BlockRangeUpdate: MessageSpec<BlockRangeUpdateMessage>;
};

/** The eth/71 message table (20 codes; eth/70 and GetBlockAccessLists 0x12, BlockAccessLists 0x13 of EIP-8159). */
export type Eth71Messages = {
  readonly Status: MessageSpec<Status69>;
  readonly Transactions: MessageSpec<TransactionsMessage>;
  readonly GetBlockHeaders: MessageSpec<GetBlockHeadersMessage>;
  readonly BlockHeaders: MessageSpec<BlockHeadersMessage>;
  readonly GetBlockBodies: MessageSpec<HashesRequestMessage>;
  readonly BlockBodies: MessageSpec<BlockBodiesMessage>;
  readonly NewPooledTransactionHashes: MessageSpec<NewPooledTransactionHashesMessage>;
  readonly GetPooledTransactions: MessageSpec<HashesRequestMessage>;
  readonly PooledTransactions: MessageSpec<PooledTransactionsMessage>;
  readonly GetReceipts: MessageSpec<GetReceipts70Message>;
  readonly Receipts: MessageSpec<Receipts70Message>;
  readonly BlockRangeUpdate: MessageSpec<BlockRangeUpdateMessage>;
  readonly GetBlockAccessLists: MessageSpec<HashesRequestMessage>;
  readonly BlockAccessLists: MessageSpec<BlockAccessListsMessage>;
};

/**
 * The eth/72 message table (22 codes; eth/71 with EIP-8070's NewPooledTransactionHashes carrying a cell bitmap, and
 * GetCells 0x14, Cells 0x15).
 */
export type Eth72Messages = {
  readonly Status: MessageSpec<Status69>;
  readonly Transactions: MessageSpec<TransactionsMessage>;
  readonly GetBlockHeaders: MessageSpec<GetBlockHeadersMessage>;
  readonly BlockHeaders: MessageSpec<BlockHeadersMessage>;
  readonly GetBlockBodies: MessageSpec<HashesRequestMessage>;
  readonly BlockBodies: MessageSpec<BlockBodiesMessage>;
  readonly NewPooledTransactionHashes: MessageSpec<NewPooledTransactionHashes72Message>;
  readonly GetPooledTransactions: MessageSpec<HashesRequestMessage>;
  readonly PooledTransactions: MessageSpec<PooledTransactionsMessage>;
  readonly GetReceipts: MessageSpec<GetReceipts70Message>;
  readonly Receipts: MessageSpec<Receipts70Message>;
  readonly BlockRangeUpdate: MessageSpec<BlockRangeUpdateMessage>;
  readonly GetBlockAccessLists: MessageSpec<HashesRequestMessage>;
  readonly BlockAccessLists: MessageSpec<BlockAccessListsMessage>;
  readonly GetCells: MessageSpec<GetCellsMessage>;
  readonly Cells: MessageSpec<CellsMessage>;
};

/**
 * eth/68 messages by name, with their codes.
 * @example eth68Messages.GetBlockHeaders.code // 3
 */
export const eth68Messages: Eth68Messages = {
  Status: { code: 0x00, codec: sized('Status', status68Codec) },
  NewBlockHashes: { code: 0x01, codec: sized('NewBlockHashes', newBlockHashesCodec) },
  Transactions: { code: 0x02, codec: sized('Transactions', transactionsCodec) },
  GetBlockHeaders: { code: 0x03, codec: sized('GetBlockHeaders', getBlockHeadersCodec) },
  BlockHeaders: { code: 0x04, codec: sized('BlockHeaders', blockHeadersCodec) },
  GetBlockBodies: { code: 0x05, codec: sized('GetBlockBodies', getBlockBodiesCodec) },
  BlockBodies: { code: 0x06, codec: sized('BlockBodies', blockBodiesCodec) },
  NewBlock: { code: 0x07, codec: sized('NewBlock', newBlockCodec) },
  NewPooledTransactionHashes: {
    code: 0x08,
    codec: sized('NewPooledTransactionHashes', newPooledTransactionHashesCodec),
  },
  GetPooledTransactions: { code: 0x09, codec: sized('GetPooledTransactions', getPooledTransactionsCodec) },
  PooledTransactions: { code: 0x0a, codec: sized('PooledTransactions', pooledTransactionsCodec) },
  GetReceipts: { code: 0x0f, codec: sized('GetReceipts', getReceiptsCodec) },
  Receipts: { code: 0x10, codec: sized('Receipts', receipts68Codec) },
};

/**
 * eth/69 messages by name, with their codes.
 * @example eth69Messages.BlockRangeUpdate.code // 17
 */
export const eth69Messages: Eth69Messages = {
  Status: { code: 0x00, codec: sized('Status', status69Codec) },
  Transactions: eth68Messages.Transactions,
  GetBlockHeaders: eth68Messages.GetBlockHeaders,
  BlockHeaders: eth68Messages.BlockHeaders,
  GetBlockBodies: eth68Messages.GetBlockBodies,
  BlockBodies: eth68Messages.BlockBodies,
  NewPooledTransactionHashes: eth68Messages.NewPooledTransactionHashes,
  GetPooledTransactions: eth68Messages.GetPooledTransactions,
  PooledTransactions: eth68Messages.PooledTransactions,
  GetReceipts: eth68Messages.GetReceipts,
  Receipts: { code: 0x10, codec: sized('Receipts', receipts69Codec) },
  BlockRangeUpdate: { code: 0x11, codec: sized('BlockRangeUpdate', blockRangeUpdateCodec) },
};

/**
 * eth/70 messages by name, with their codes.
 * @example eth70Messages.GetReceipts.code // 15
 */
export const eth70Messages: Eth70Messages = {
  ...eth69Messages,
  GetReceipts: { code: 0x0f, codec: sized('GetReceipts', getReceipts70Codec) },
  Receipts: { code: 0x10, codec: sized('Receipts', receipts70Codec) },
};

/**
 * eth/71 messages by name, with their codes.
 * @example eth71Messages.GetBlockAccessLists.code // 18
 */
export const eth71Messages: Eth71Messages = {
  ...eth70Messages,
  GetBlockAccessLists: { code: 0x12, codec: sized('GetBlockAccessLists', getBlockAccessListsCodec) },
  BlockAccessLists: { code: 0x13, codec: sized('BlockAccessLists', blockAccessListsCodec) },
};

/**
 * eth/72 messages by name, with their codes.
 * @example eth72Messages.Cells.code // 21
 */
export const eth72Messages: Eth72Messages = {
  ...eth71Messages,
  NewPooledTransactionHashes: {
    code: 0x08,
    codec: sized('NewPooledTransactionHashes', newPooledTransactionHashes72Codec),
  },
  GetCells: { code: 0x14, codec: sized('GetCells', getCellsCodec) },
  Cells: { code: 0x15, codec: sized('Cells', cellsCodec) },
};
