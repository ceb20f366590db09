/**
 * The eth protocol's limits, with geth's values where geth has one, and the typed errors for a peer that breaks
 * them. Geth's eth handlers return a plain error for every such breach, which `p2p.discReasonForError` turns into
 * `DiscSubprotocolError`: {@link EthLimitError} and {@link EthResponseError} end the peer with "subprotocol error"
 * (0x10) too.
 */
import { DisconnectError, DisconnectReason } from '@devp2p/core';

// ---------------------------------------------------------------------------------------------------------
// Message size

/** Largest message accepted on any eth version: 10 MiB (geth `maxMessageSize`; the spec: "typically 10 MiB"). */
export const MAX_MESSAGE_SIZE: number = 10 * 1024 * 1024;
/**
 * Target size of a reply to a data request: 2 MiB (geth `softResponseLimit`; the spec's recommended soft limit for
 * BlockHeaders, BlockBodies, Receipts, BlockAccessLists and Cells). The item that crosses it still goes.
 */
export const SOFT_RESPONSE_LIMIT: number = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Items per request and reply

/** Most headers served per GetBlockHeaders, and accepted in a BlockHeaders reply: 1024 (geth `maxHeadersServe`). */
export const MAX_HEADERS_SERVE: number = 1024;
/** Most bodies served per GetBlockBodies, and accepted in a BlockBodies reply: 1024 (geth `maxBodiesServe`). */
export const MAX_BODIES_SERVE: number = 1024;
/** Most blocks' receipts served per GetReceipts, and accepted in a Receipts reply: 1024 (geth `maxReceiptsServe`). */
export const MAX_RECEIPTS_SERVE: number = 1024;
/**
 * Most block access lists served per GetBlockAccessLists (eth/71), and accepted in a BlockAccessLists reply: 1024
 * (geth `maxBALsServe`).
 */
export const MAX_BALS_SERVE: number = 1024;
/**
 * Most hashes in one NewPooledTransactionHashes: 4096, the spec's recommended limit and geth's `maxTxAnnounces`;
 * geth never sends more in one message (its fetcher trims a longer one; we drop the peer).
 */
export const MAX_TX_ANNOUNCEMENTS: number = 4096;
/** Most transactions in one Transactions message: 5000 (geth `maxTransactionAnnouncements`, "too many transactions"). */
export const MAX_TRANSACTIONS_PER_MESSAGE: number = 5000;
/**
 * Most hashes accepted in one GetBlockBodies / GetReceipts / GetPooledTransactions / GetBlockAccessLists / GetCells:
 * 4096 (ours: geth bounds these by the message size only). Clients ask for at most a few hundred (geth: 128 bodies,
 * 256 receipts or transactions, 64 cells); this bounds the work one request makes.
 */
export const MAX_REQUEST_HASHES: number = 4096;
/** Most announcements in one NewBlockHashes: 4096 (eth/68 only; post-Merge nodes no longer send it). */
export const MAX_BLOCK_ANNOUNCEMENTS: number = 4096;

// ---------------------------------------------------------------------------------------------------------
// Cells (eth/72, EIP-8070 over EIP-7594)

/** Bytes in one cell: 2048 (EIP-7594 `BYTES_PER_CELL`, 64 field elements of 32 bytes; the spec's `B_2048`). */
export const CELL_SIZE: number = 2048;
/** Cells of one extended blob: 128 (EIP-7594 `CELLS_PER_EXT_BLOB`, geth `kzg4844.CellsPerBlob`). */
export const CELLS_PER_BLOB: number = 128;
/** Bytes of a cell bitmap: 16, one bit per cell index (the spec's `cells: B_16`). */
export const CELL_MASK_SIZE: number = CELLS_PER_BLOB / 8;
/** Most blobs in one transaction: 6 (EIP-7594 `MAX_BLOBS_PER_TX`, geth `params.BlobTxMaxBlobs`). */
export const MAX_BLOBS_PER_TRANSACTION: number = 6;
/**
 * Most cells for one transaction in a Cells reply: 768, {@link MAX_BLOBS_PER_TRANSACTION} × {@link CELLS_PER_BLOB}
 * (geth's handler: "cells per tx exceeded the possible maximum").
 */
export const MAX_CELLS_PER_TRANSACTION: number = MAX_BLOBS_PER_TRANSACTION * CELLS_PER_BLOB;
/** Cells served per GetCells: 1024, {@link SOFT_RESPONSE_LIMIT} / {@link CELL_SIZE} (geth `answerGetCells`). */
export const MAX_CELLS_SERVE: number = SOFT_RESPONSE_LIMIT / CELL_SIZE;
/** Most hashes we put in one GetCells: 64 (the spec's recommended soft limit for GetCells requests). */
export const MAX_GET_CELLS_HASHES: number = 64;

// ---------------------------------------------------------------------------------------------------------
// Receipts (eth/70, EIP-7975)

/**
 * Most Receipts pages `getReceipts` follows for one block whose list the peer sends in parts (eth/70
 * `lastBlockIncomplete`): 16 (ours). Geth bounds a partial list with the block's gas used, which a node without
 * chain data does not have; 16 pages of up to 10 MiB hold the logs of a block of over a billion gas (logs cost
 * 8 gas a byte), far above any gas limit in sight. A peer that needs more is dropped.
 */
export const MAX_RECEIPT_PAGES: number = 16;

// ---------------------------------------------------------------------------------------------------------
// Errors

/** Which limit a peer broke. */
export type EthLimit =
  | 'message-size'
  | 'transactions'
  | 'announcements'
  | 'block-announcements'
  | 'request-hashes'
  | 'response-items'
  | 'cells-per-transaction'
  | 'receipt-pages';

/**
 * A peer broke one of the eth protocol's limits (a message over 10 MiB, more transactions, hashes or reply items
 * than allowed). It ends the peer with "subprotocol error" (0x10), the reason geth sends: its handlers return a plain
 * error (`errMsgTooLarge`, "too many transactions", the tracker's `ErrTooManyItems`) that `p2p.discReasonForError`
 * maps to `DiscSubprotocolError`.
 * @example if (err instanceof EthLimitError && err.limit === 'message-size') console.log(err.size, err.max)
 */
export class EthLimitError extends DisconnectError {
  readonly limit: EthLimit;
  /** What the peer sent: bytes for `message-size`, items for the rest. */
  readonly size: number;
  readonly max: number;
  constructor(limit: EthLimit, what: string, size: number, max: number) {
    super(DisconnectReason.SubprotocolError, 'local');
    this.limit = limit;
    this.size = size;
    this.max = max;
    this.message = `${this.message}: eth ${what}: ${size} exceeds the limit of ${max}`;
  }
}

/** How a reply broke its request. */
export type EthResponseProblem =
  /** A Cells reply for a transaction not asked for, or twice for one. */
  | 'unrequested-hash'
  /** A Cells reply whose bitmap holds an index not asked for. */
  | 'cells-mask'
  /** A Receipts reply (eth/70) flagged incomplete but holding no receipt list, or an empty last list. */
  | 'incomplete-receipts';

/**
 * A well-formed reply that does not answer its request (cells not asked for, an empty "incomplete" receipts page).
 * It ends the peer with "subprotocol error" (0x10), as geth's handlers do.
 * @example if (err instanceof EthResponseError) console.log(err.problem)
 */
export class EthResponseError extends DisconnectError {
  readonly problem: EthResponseProblem;
  constructor(problem: EthResponseProblem, detail: string) {
    super(DisconnectReason.SubprotocolError, 'local');
    this.problem = problem;
    this.message = `${this.message}: eth ${detail}`;
  }
}

/** Throws an {@link EthLimitError} when `size` is over `max`. */
export function checkLimit(limit: EthLimit, what: string, size: number, max: number): void {
  if (size > max) throw new EthLimitError(limit, what, size, max);
}
