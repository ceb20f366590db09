/**
 * Codecs for every message of eth/68 and eth/69 (devp2p `caps/eth.md`). Control data (Status, request ids,
 * header queries, announcements, block ranges) is fully typed; block headers, bodies, receipts, blocks and
 * transactions stay opaque: each is one raw RLP item (`Uint8Array`), checked to be well-formed and of the
 * right shape (a list, or for a transaction a list or a typed envelope), never decoded further.
 */

import type { ForkId } from '@devp2p/core';
import {
  type MessageCodec,
  type MessageSpec,
  RlpError,
  type RlpValue,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpEncodeRawList,
  rlpList,
  rlpUint,
} from '@devp2p/core';

/** Largest message geth accepts on the eth protocol: 10 MiB (`maxMessageSize`). */
export const MAX_MESSAGE_SIZE: number = 10 * 1024 * 1024;
/** Target size of a reply to a data request: 2 MiB (geth's `softResponseLimit`, the spec's soft limit). */
export const SOFT_RESPONSE_LIMIT: number = 2 * 1024 * 1024;
/** Most headers served per GetBlockHeaders, and accepted in a BlockHeaders reply: 1024 (geth `maxHeadersServe`). */
export const MAX_HEADERS_SERVE: number = 1024;
/** Most bodies served per GetBlockBodies, and accepted in a BlockBodies reply: 1024 (geth `maxBodiesServe`). */
export const MAX_BODIES_SERVE: number = 1024;
/** Most blocks' receipts served per GetReceipts, and accepted in a Receipts reply: 1024 (geth `maxReceiptsServe`). */
export const MAX_RECEIPTS_SERVE: number = 1024;
/**
 * Most hashes in one NewPooledTransactionHashes: 4096, the spec's recommended limit and geth's
 * `maxTxAnnounces`; geth never sends more in one message.
 */
export const MAX_TX_ANNOUNCEMENTS: number = 4096;
/** Most transactions in one Transactions message: 5000 (geth `maxTransactionAnnouncements`). */
export const MAX_TRANSACTIONS_PER_MESSAGE: number = 5000;
/**
 * Most hashes accepted in one GetBlockBodies / GetReceipts / GetPooledTransactions: 4096. Clients ask for at
 * most a few hundred (geth: 128 bodies, 256 receipts or transactions); this bounds the work one request makes.
 */
export const MAX_REQUEST_HASHES: number = 4096;
/** Most announcements in one NewBlockHashes: 4096 (eth/68 only; post-Merge nodes no longer send it). */
export const MAX_BLOCK_ANNOUNCEMENTS: number = 4096;

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;
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

/** Status (0x00) of eth/69: `[version, networkid, genesis, forkid, earliest, latest, latesthash]`. */
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

/** BlockRangeUpdate (0x11, eth/69 only): the blocks the node can serve. */
export interface BlockRangeUpdateMessage {
  readonly earliestBlock: bigint;
  readonly latestBlock: bigint;
  readonly latestBlockHash: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------
// Raw RLP items

const LIST_OFFSET = 0xc0;

/** Length of the (already validated) RLP item at `pos`, header included, and of its header. */
function itemBounds(bytes: Uint8Array, pos: number): { total: number; header: number } {
  const prefix = bytes[pos]!;
  if (prefix < 0x80) return { total: 1, header: 0 };
  const short = prefix < LIST_OFFSET ? prefix - 0x80 : prefix - LIST_OFFSET;
  if (short < 56) return { total: 1 + short, header: 1 };
  const lengthOfLength = short - 55;
  let length = 0;
  for (let i = 1; i <= lengthOfLength; i++) length = length * 256 + bytes[pos + i]!;
  return { total: 1 + lengthOfLength + length, header: 1 + lengthOfLength };
}

/** The raw items of the (already validated) RLP list `bytes`; at most `max` of them. */
function rawItems(bytes: Uint8Array, label: string, max: number): Uint8Array[] {
  if (bytes.length === 0 || bytes[0]! < LIST_OFFSET) throw new RlpError(`${label}: expected a list`);
  const { total, header } = itemBounds(bytes, 0);
  const items: Uint8Array[] = [];
  for (let pos = header; pos < total; ) {
    if (items.length === max) throw new RlpError(`${label}: more than ${max} items`);
    const { total: length } = itemBounds(bytes, pos);
    items.push(bytes.subarray(pos, pos + length));
    pos += length;
  }
  return items;
}

/** The raw item at `index` of the (validated) RLP list `bytes`. */
function rawItem(bytes: Uint8Array, index: number, label: string): Uint8Array {
  const item = rawItems(bytes, label, Number.MAX_SAFE_INTEGER)[index];
  if (item === undefined) throw new RlpError(`${label}: missing item ${index}`);
  return item;
}

type Shape = 'list' | 'transaction' | 'receipt68';

function isList(item: Uint8Array): boolean {
  return item[0]! >= LIST_OFFSET;
}

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
function shapedItems(bytes: Uint8Array, label: string, max: number, shape: Shape): Uint8Array[] {
  const items = rawItems(bytes, label, max);
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

/** Every receipt inside one block's receipt list has the shape of its protocol version. */
function checkReceiptList(item: Uint8Array, version: 68 | 69, label: string): void {
  shapedItems(item, label, Number.MAX_SAFE_INTEGER, version === 69 ? 'list' : 'receipt68');
}

// ---------------------------------------------------------------------------------------------------------
// Typed fields

function uint64(value: RlpValue | undefined, label: string): bigint {
  return rlpBigUint(value, label, 8);
}

function checkUint64(value: bigint, label: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${label}: expected a bigint, got ${typeof value}`);
  if (value < 0n || value > MAX_UINT64) throw new RangeError(`${label}: ${value} is outside uint64`);
  return value;
}

function checkBigUint(value: bigint, label: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${label}: expected a bigint, got ${typeof value}`);
  if (value < 0n || value >= 1n << 256n) throw new RangeError(`${label}: ${value} is outside uint256`);
  return value;
}

function checkHash(value: Uint8Array, label: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== 32) throw new TypeError(`${label}: expected 32 bytes`);
  return value;
}

function checkVersion(value: number, label: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_UINT32) throw new RangeError(`${label}: not a uint32`);
  return value;
}

function hashes(value: RlpValue | undefined, label: string, max: number): Uint8Array[] {
  const list = rlpList(value, label);
  if (list.length > max) throw new RlpError(`${label}: ${list.length} hashes exceed the limit of ${max}`);
  return list.map((hash, i) => rlpBytes(hash, `${label}[${i}]`, 32));
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
    next: uint64(next, `${label}.next`),
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
      networkId: uint64(networkId, 'status.networkId'),
      td: rlpBigUint(td, 'status.td', 32),
      head: rlpBytes(head, 'status.head', 32),
      genesis: rlpBytes(genesis, 'status.genesis', 32),
      forkId: decodeForkId(forkId, 'status.forkId'),
    };
  },
};

/**
 * Status of eth/69 (no total difficulty; the served block range instead).
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
      networkId: uint64(networkId, 'status.networkId'),
      genesis: rlpBytes(genesis, 'status.genesis', 32),
      forkId: decodeForkId(forkId, 'status.forkId'),
      earliestBlock: uint64(earliest, 'status.earliestBlock'),
      latestBlock: uint64(latest, 'status.latestBlock'),
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
    if (list.length > MAX_BLOCK_ANNOUNCEMENTS)
      throw new RlpError(`newBlockHashes: ${list.length} announcements exceed the limit`);
    return {
      announcements: list.map((entry, i) => {
        const [hash, number] = rlpList(entry, `newBlockHashes[${i}]`, 2);
        return {
          hash: rlpBytes(hash, `newBlockHashes[${i}].hash`, 32),
          number: uint64(number, `newBlockHashes[${i}].number`),
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
    return { transactions: shapedItems(payload, 'transactions', MAX_TRANSACTIONS_PER_MESSAGE, 'transaction') };
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
    const flag = rlpUint(reverse, 'getBlockHeaders.reverse');
    if (flag > 1) throw new RlpError(`getBlockHeaders.reverse: expected 0 or 1, got ${flag}`);
    return {
      requestId: uint64(requestId, 'getBlockHeaders.requestId'),
      origin: originBytes.length === 32 ? { hash: originBytes } : { number: uint64(origin, 'getBlockHeaders.origin') },
      amount: uint64(amount, 'getBlockHeaders.amount'),
      skip: uint64(skip, 'getBlockHeaders.skip'),
      reverse: flag === 1,
    };
  },
};

/** `[request-id, [item, ...]]` with raw items of one shape. */
function rawResponseCodec<K extends string>(
  label: string,
  key: K,
  max: number,
  shape: Shape,
  inner?: (item: Uint8Array, label: string) => void,
): MessageCodec<{ readonly requestId: bigint } & { readonly [P in K]: readonly Uint8Array[] }> {
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
      const items = shapedItems(rawItem(payload, 1, label), label, max, shape);
      if (inner) for (let i = 0; i < items.length; i++) inner(items[i]!, `${label}[${i}]`);
      return { requestId: uint64(requestId, `${label}.requestId`), [key]: items } as { readonly requestId: bigint } & {
        readonly [P in K]: readonly Uint8Array[];
      };
    },
  };
}

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
        requestId: uint64(requestId, `${label}.requestId`),
        hashes: hashes(list, `${label}.hashes`, MAX_REQUEST_HASHES),
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

/**
 * NewPooledTransactionHashes: `[types, [size, ...], [hash, ...]]`, three equal lengths, at most
 * {@link MAX_TX_ANNOUNCEMENTS}.
 * @example newPooledTransactionHashesCodec.encode({ types: Uint8Array.of(2), sizes: [120], hashes: [hash] })
 */
export const newPooledTransactionHashesCodec: MessageCodec<NewPooledTransactionHashesMessage> = {
  encode(m) {
    const label = 'newPooledTransactionHashes';
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
    return rlpEncode([m.types, m.sizes, checkHashes(m.hashes, MAX_TX_ANNOUNCEMENTS, `${label}.hashes`)]);
  },
  decode(payload) {
    const label = 'newPooledTransactionHashes';
    const [types, sizes, list] = rlpList(rlpDecode(payload), label, 3);
    const typeBytes = rlpBytes(types, `${label}.types`);
    const sizeList = rlpList(sizes, `${label}.sizes`);
    const hashList = hashes(list, `${label}.hashes`, MAX_TX_ANNOUNCEMENTS);
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
  },
};

/**
 * GetPooledTransactions: `[request-id, [hash, ...]]`.
 * @example getPooledTransactionsCodec.encode({ requestId: 1n, hashes: [hash] })
 */
export const getPooledTransactionsCodec: MessageCodec<HashesRequestMessage> =
  hashesRequestCodec('getPooledTransactions');

/**
 * PooledTransactions: `[request-id, [tx, ...]]`, raw transactions, at most {@link MAX_REQUEST_HASHES}.
 * @example pooledTransactionsCodec.decode(payload).transactions
 */
export const pooledTransactionsCodec: MessageCodec<PooledTransactionsMessage> = rawResponseCodec(
  'pooledTransactions',
  'transactions',
  MAX_REQUEST_HASHES,
  'transaction',
);

/**
 * GetReceipts: `[request-id, [hash, ...]]`.
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
 * BlockRangeUpdate (eth/69): `[earliest, latest, latest-hash]`.
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
      earliestBlock: uint64(earliest, 'blockRangeUpdate.earliestBlock'),
      latestBlock: uint64(latest, 'blockRangeUpdate.latestBlock'),
      latestBlockHash: rlpBytes(hash, 'blockRangeUpdate.latestBlockHash', 32),
    };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Message tables

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

/**
 * eth/68 messages by name, with their codes.
 * @example eth68Messages.GetBlockHeaders.code // 3
 */
export const eth68Messages: Eth68Messages = {
  Status: { code: 0x00, codec: status68Codec },
  NewBlockHashes: { code: 0x01, codec: newBlockHashesCodec },
  Transactions: { code: 0x02, codec: transactionsCodec },
  GetBlockHeaders: { code: 0x03, codec: getBlockHeadersCodec },
  BlockHeaders: { code: 0x04, codec: blockHeadersCodec },
  GetBlockBodies: { code: 0x05, codec: getBlockBodiesCodec },
  BlockBodies: { code: 0x06, codec: blockBodiesCodec },
  NewBlock: { code: 0x07, codec: newBlockCodec },
  NewPooledTransactionHashes: { code: 0x08, codec: newPooledTransactionHashesCodec },
  GetPooledTransactions: { code: 0x09, codec: getPooledTransactionsCodec },
  PooledTransactions: { code: 0x0a, codec: pooledTransactionsCodec },
  GetReceipts: { code: 0x0f, codec: getReceiptsCodec },
  Receipts: { code: 0x10, codec: receipts68Codec },
};

/**
 * eth/69 messages by name, with their codes.
 * @example eth69Messages.BlockRangeUpdate.code // 17
 */
export const eth69Messages: Eth69Messages = {
  Status: { code: 0x00, codec: status69Codec },
  Transactions: { code: 0x02, codec: transactionsCodec },
  GetBlockHeaders: { code: 0x03, codec: getBlockHeadersCodec },
  BlockHeaders: { code: 0x04, codec: blockHeadersCodec },
  GetBlockBodies: { code: 0x05, codec: getBlockBodiesCodec },
  BlockBodies: { code: 0x06, codec: blockBodiesCodec },
  NewPooledTransactionHashes: { code: 0x08, codec: newPooledTransactionHashesCodec },
  GetPooledTransactions: { code: 0x09, codec: getPooledTransactionsCodec },
  PooledTransactions: { code: 0x0a, codec: pooledTransactionsCodec },
  GetReceipts: { code: 0x0f, codec: getReceiptsCodec },
  Receipts: { code: 0x10, codec: receipts69Codec },
  BlockRangeUpdate: { code: 0x11, codec: blockRangeUpdateCodec },
};
