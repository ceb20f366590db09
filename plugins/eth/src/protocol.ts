/**
 * The eth/68 to eth/72 protocols: Status handshake with EIP-2124 fork id validation, serving requests from an
 * application's {@link ChainProvider} (or empty replies without one), the per-message limits, and typed request
 * helpers.
 */
import {
  bytesToHex,
  type Clock,
  Devp2pError,
  DisconnectError,
  DisconnectReason,
  decodeEnrForkId,
  defineProtocol,
  enrForkIdEntry,
  equalBytes,
  type HandshakeContext,
  HandshakeMismatchError,
  type JsonValue,
  type MessageMap,
  type MessageSpec,
  type NodeRecordEntries,
  type PayloadOf,
  type Protocol,
  type ProtocolContext,
  type RequestPairs,
  type RlpInput,
  rlpEncodeRawList,
  TimeoutError,
} from '@devp2p/core';
import type { ChainConfig } from './chains.ts';
import { type ForkIdCheck, forkId, validateForkId } from './forkid.ts';
import {
  CELL_MASK_SIZE,
  CELL_SIZE,
  checkLimit,
  EthLimitError,
  EthResponseError,
  MAX_BALS_SERVE,
  MAX_BODIES_SERVE,
  MAX_CELLS_PER_TRANSACTION,
  MAX_CELLS_SERVE,
  MAX_GET_CELLS_HASHES,
  MAX_HEADERS_SERVE,
  MAX_MESSAGE_SIZE,
  MAX_RECEIPT_PAGES,
  MAX_RECEIPTS_SERVE,
  MAX_REQUEST_HASHES,
  SOFT_RESPONSE_LIMIT,
} from './limits.ts';
import {
  type BlockHeadersQuery,
  type BlockRangeUpdateMessage,
  type CellsMessage,
  cellIndices,
  type Eth68Messages,
  type Eth69Messages,
  type Eth70Messages,
  type Eth71Messages,
  type Eth72Messages,
  eth68Messages,
  eth69Messages,
  eth70Messages,
  eth71Messages,
  eth72Messages,
  type GetBlockHeadersMessage,
  type GetCellsMessage,
  type GetReceipts70Message,
  type HashesRequestMessage,
  type Receipts70Message,
  type ReceiptsMessage,
  type Status68,
  type Status69,
} from './messages.ts';
import { forEachItem, listItems } from './raw.ts';

/** The capability name. */
export const ETH_PROTOCOL_NAME = 'eth';

/** Error code of an eth request made before the peer's Status exchange completed. */
export const ERR_NOT_READY = 'ERR_NOT_READY';

/** Message codes eth/68 reserves: 17 (0x00–0x10). */
export const ETH68_LENGTH = 17;
/** Message codes eth/69 reserves: 18 (0x00–0x11; geth `protocolLengths[ETH69]`). */
export const ETH69_LENGTH = 18;
/** Message codes eth/70 reserves: 18, as eth/69 (geth `protocolLengths[ETH70]`). */
export const ETH70_LENGTH = 18;
/** Message codes eth/71 reserves: 20 (0x00–0x13; geth `protocolLengths[ETH71]`). */
export const ETH71_LENGTH = 20;
/** Message codes eth/72 reserves: 22 (0x00–0x15; geth `protocolLengths[ETH72]`). */
export const ETH72_LENGTH = 22;
/** The versions this package speaks. */
export type EthVersion = 68 | 69 | 70 | 71 | 72;
/** Every version this package speaks, newest first: what {@link eth} runs by default. */
export const ETH_VERSIONS: readonly EthVersion[] = [72, 71, 70, 69, 68];
/** Deadline for the remote's Status: 5 s, geth's `handshakeTimeout`; past it the peer ends with "read timeout". */
export const ETH_HANDSHAKE_TIMEOUT_MS: number = 5_000;
/**
 * How long a request waits for its reply: 10 s. Geth's fetchers adapt their timeouts to each peer and cap
 * them at about this; a reply slower than this is not worth waiting for.
 */
export const ETH_REQUEST_TIMEOUT_MS: number = 10_000;
/** Requests of one kind (headers, bodies, receipts, transactions, ...) outstanding per peer: 16. */
export const MAX_PENDING_REQUESTS: number = 16;

/** The request/response pairs of eth/68 to eth/70, for `ctx.request`. */
export const ETH68_REQUESTS = {
  GetBlockHeaders: 'BlockHeaders',
  GetBlockBodies: 'BlockBodies',
  GetPooledTransactions: 'PooledTransactions',
  GetReceipts: 'Receipts',
} as const;
/** The request/response pairs of eth/71: eth/68's and GetBlockAccessLists. */
export const ETH71_REQUESTS = {
  GetBlockHeaders: 'BlockHeaders',
  GetBlockBodies: 'BlockBodies',
  GetPooledTransactions: 'PooledTransactions',
  GetReceipts: 'Receipts',
  GetBlockAccessLists: 'BlockAccessLists',
} as const;
/** The request/response pairs of eth/72: eth/71's and GetCells. */
export const ETH72_REQUESTS = {
  GetBlockHeaders: 'BlockHeaders',
  GetBlockBodies: 'BlockBodies',
  GetPooledTransactions: 'PooledTransactions',
  GetReceipts: 'Receipts',
  GetBlockAccessLists: 'BlockAccessLists',
  GetCells: 'Cells',
} as const;
/** The request/response pairs of eth/68 to eth/70. */
export type Eth68Requests = typeof ETH68_REQUESTS;
/** The request/response pairs of eth/71. */
export type Eth71Requests = typeof ETH71_REQUESTS;
/** The request/response pairs of eth/72. */
export type Eth72Requests = typeof ETH72_REQUESTS;

/**
 * Bytes kept free for the rest of a Receipts message when filling it with receipt lists up to 10 MiB: the request id
 * (9 bytes), the flag (1) and two list headers (up to 5 each), rounded up. Geth leaves none and can send 10 MiB and a
 * few bytes, which its own 10 MiB check then refuses.
 */
const RECEIPTS_ENVELOPE_BYTES = 32;

const ZERO_HASH = new Uint8Array(32);

/**
 * The local chain's head, as the application reports it.
 * @example const head: ChainHead = { hash, number: 100n, time: 1_700_000_000, td: 17_179_869_184n }
 */
export interface ChainHead {
  readonly hash: Uint8Array;
  readonly number: bigint;
  /** The head block's timestamp (seconds), for timestamp forks. */
  readonly time: number;
  /** Total difficulty (eth/68's Status); the chain's genesis difficulty when absent. */
  readonly td?: bigint;
  /** Oldest block whose bodies and receipts are served (the Status of eth/69 and later); 0 when absent. */
  readonly earliest?: bigint;
}

/** What a lookup may return: the value, or its promise. */
type Maybe<T> = T | Promise<T>;

/**
 * Where the protocol gets chain data. Every lookup is optional: a missing one answers with an empty reply, as
 * does one that throws. Results are raw RLP items in request order; they are trimmed to the serve limits and to
 * {@link SOFT_RESPONSE_LIMIT}.
 * @example
 * const provider: ChainProvider = {
 *   head: () => ({ hash: db.headHash, number: db.headNumber, time: db.headTime }),
 *   getHeaders: (query, limit) => db.headers(query, limit),
 * }
 */
export interface ChainProvider {
  head(): Maybe<ChainHead>;
  /** Raw headers answering `query`, at most `limit`. */
  getHeaders?(query: BlockHeadersQuery, limit: number): Maybe<readonly Uint8Array[]>;
  /** Raw bodies (`[txs, ommers, withdrawals?]`) of these blocks, in order, missing ones skipped. */
  getBodies?(hashes: readonly Uint8Array[]): Maybe<readonly Uint8Array[]>;
  /**
   * One raw RLP list of receipts per block, whole, in request order, ending at the first block it does not have (the
   * spec: "end the response at that block"). In eth/68's encoding when `version` is 68, in eth/69's otherwise (the
   * list `[tx-type, post-state-or-status, cumulative-gas, logs]`, see {@link ReceiptsMessage}). On eth/70 and later
   * the plugin cuts these lists itself (`firstBlockReceiptIndex`, the 10 MiB message).
   */
  getReceipts?(hashes: readonly Uint8Array[], version: EthVersion): Maybe<readonly Uint8Array[]>;
  /**
   * Raw transactions from the pool, in order, missing ones skipped. On eth/72 (`version` 72) a blob transaction
   * goes without its blobs (EIP-8070: peers fetch them as cells), with its commitments and proofs.
   */
  getPooledTransactions?(hashes: readonly Uint8Array[], version: EthVersion): Maybe<readonly Uint8Array[]>;
  /**
   * Block access lists (eth/71, EIP-8159), one entry per hash in request order: the raw RLP list, or null where none
   * is kept (pruned, or a block before Amsterdam). A missing trailing entry counts as null.
   */
  getBlockAccessLists?(hashes: readonly Uint8Array[]): Maybe<readonly (Uint8Array | null)[]>;
  /**
   * Cells of pooled blob transactions (eth/72), one entry per hash in request order: the transaction's cells at the
   * indices set in `mask` (ascending index, and for each index one 2048-byte cell per blob, in blob order), or null
   * when the transaction or any of those cells is missing.
   */
  getCells?(hashes: readonly Uint8Array[], mask: Uint8Array): Maybe<readonly (readonly Uint8Array[] | null)[]>;
}

/** Why a Status was refused. */
export type EthStatusMismatch = 'network-id' | 'version' | 'genesis' | 'fork-id' | 'block-range';

/**
 * The remote's Status does not fit ours: core's HandshakeMismatchError for `eth`. It ends the peer with
 * "subprotocol error" (0x10), as geth does: its handshake returns plain errors (`errNetworkIDMismatch`,
 * `errGenesisMismatch`, `errForkIDRejected`, ...) from the protocol's Run, which `p2p.discReasonForError` maps to
 * `DiscSubprotocolError`.
 * @example if (err instanceof EthStatusError && err.mismatch === 'fork-id') console.log(err.message)
 */
export class EthStatusError extends HandshakeMismatchError {
  declare readonly mismatch: EthStatusMismatch;
  constructor(mismatch: EthStatusMismatch, detail: string) {
    super('eth', mismatch, detail);
  }
}

/** The remote's head, as last announced (Status, then NewBlock / NewBlockHashes / BlockRangeUpdate). */
export interface RemoteHead {
  readonly hash: Uint8Array;
  readonly number: bigint | null;
  readonly td: bigint | null;
}

type Raw = readonly Uint8Array[];

/** One Receipts reply: the receipt lists, and (eth/70 and later) whether the last one stops short. */
export interface ReceiptsPage {
  readonly receipts: Raw;
  /** Always false before eth/70. */
  readonly lastBlockIncomplete: boolean;
}

/** A Cells reply (eth/72), without its request id. */
export type CellsReply = Omit<CellsMessage, 'requestId'>;

/** What a GetCells asked for, to check its reply against. */
export interface CellsRequest {
  /** The requested hashes, as hex. */
  readonly hashes: ReadonlySet<string>;
  readonly mask: Uint8Array;
}

/** Per-peer state of an eth protocol (the handshake's result). */
export interface EthState<V extends EthVersion = EthVersion> {
  readonly version: V;
  /** The remote's Status (eth/68's, or the one of eth/69 and later). */
  readonly status: Status68 | Status69;
  head: RemoteHead;
  /** The remote's served block range (eth/69 and later), as of its Status or last BlockRangeUpdate. */
  range: BlockRangeUpdateMessage | null;
}

/** An eth/68 protocol object. */
export type Eth68Protocol = Protocol<Eth68Messages, EthState<68>, Eth68Requests>;
/** An eth/69 protocol object. */
export type Eth69Protocol = Protocol<Eth69Messages, EthState<69>, Eth68Requests>;
/** An eth/70 protocol object. */
export type Eth70Protocol = Protocol<Eth70Messages, EthState<70>, Eth68Requests>;
/** An eth/71 protocol object. */
export type Eth71Protocol = Protocol<Eth71Messages, EthState<71>, Eth71Requests>;
/** An eth/72 protocol object. */
export type Eth72Protocol = Protocol<Eth72Messages, EthState<72>, Eth72Requests>;
/** Any of the eth protocol objects. */
export type EthProtocol = Eth68Protocol | Eth69Protocol | Eth70Protocol | Eth71Protocol | Eth72Protocol;
/** The typed context of an eth/68 peer. */
export type Eth68Context = ProtocolContext<Eth68Messages, EthState<68>, Eth68Requests>;
/** The typed context of an eth/69 peer. */
export type Eth69Context = ProtocolContext<Eth69Messages, EthState<69>, Eth68Requests>;
/** The typed context of an eth/70 peer. */
export type Eth70Context = ProtocolContext<Eth70Messages, EthState<70>, Eth68Requests>;
/** The typed context of an eth/71 peer. */
export type Eth71Context = ProtocolContext<Eth71Messages, EthState<71>, Eth71Requests>;
/** The typed context of an eth/72 peer. */
export type Eth72Context = ProtocolContext<Eth72Messages, EthState<72>, Eth72Requests>;
/** The context of a peer on any version: what the version-independent request helpers take. */
export type EthContext = Eth68Context | Eth69Context | Eth70Context | Eth71Context | Eth72Context;
/** A peer on eth/69 or later (BlockRangeUpdate). */
export type Eth69PlusContext = Eth69Context | Eth70Context | Eth71Context | Eth72Context;
/** A peer on eth/70 or later (partial receipt lists). */
export type Eth70PlusContext = Eth70Context | Eth71Context | Eth72Context;
/** A peer on eth/71 or later (block access lists). */
export type Eth71PlusContext = Eth71Context | Eth72Context;

/** The messages every version has, with equal payloads. */
export type CommonMessages = Pick<
  Eth68Messages,
  | 'Transactions'
  | 'GetBlockHeaders'
  | 'BlockHeaders'
  | 'GetBlockBodies'
  | 'BlockBodies'
  | 'GetPooledTransactions'
  | 'PooledTransactions'
>;
type CommonContext = ProtocolContext<CommonMessages, EthState>;
/** The requests every version makes alike. */
type CommonRequester = ProtocolContext<
  CommonMessages,
  EthState,
  Pick<Eth68Requests, 'GetBlockHeaders' | 'GetBlockBodies' | 'GetPooledTransactions'>
>;
type ReceiptsRequest = Pick<Eth68Requests, 'GetReceipts'>;
type Receipts68Context = ProtocolContext<Pick<Eth69Messages, 'GetReceipts' | 'Receipts'>, EthState, ReceiptsRequest>;
type Receipts70Context = ProtocolContext<Pick<Eth70Messages, 'GetReceipts' | 'Receipts'>, EthState, ReceiptsRequest>;
type RangeContext = ProtocolContext<Pick<Eth69Messages, 'BlockRangeUpdate'>, EthState>;
type AccessListsContext = ProtocolContext<
  Pick<Eth71Messages, 'GetBlockAccessLists' | 'BlockAccessLists'>,
  EthState,
  Pick<Eth71Requests, 'GetBlockAccessLists'>
>;
type CellsContext = ProtocolContext<
  Pick<Eth72Messages, 'GetCells' | 'Cells'>,
  EthState,
  Pick<Eth72Requests, 'GetCells'>
>;
type Status69Messages = { readonly Status: MessageSpec<Status69> };

/** Options of {@link eth}. */
export interface EthOptions {
  readonly chain: ChainConfig;
  /** The network id to announce and require (default: the chain's). */
  readonly network?: bigint | number;
  /** Chain data; without one the node reports its genesis as head and answers requests empty. */
  readonly provider?: ChainProvider;
  /** Versions to run (default all, {@link ETH_VERSIONS}: `[72, 71, 70, 69, 68]`); the highest shared one wins. */
  readonly versions?: readonly EthVersion[];
  /** Handshake deadline (default {@link ETH_HANDSHAKE_TIMEOUT_MS}). */
  readonly handshakeTimeoutMs?: number;
  /** Request deadline (default {@link ETH_REQUEST_TIMEOUT_MS}). */
  readonly requestTimeoutMs?: number;
  /** Requests of one kind outstanding per peer (default {@link MAX_PENDING_REQUESTS}). */
  readonly maxPending?: number;
}

/** What {@link eth} returns. */
export interface EthProtocols {
  readonly eth68: Eth68Protocol;
  readonly eth69: Eth69Protocol;
  readonly eth70: Eth70Protocol;
  readonly eth71: Eth71Protocol;
  readonly eth72: Eth72Protocol;
  /** The protocols of the selected versions, newest first: hand them to a server. */
  readonly protocols: readonly EthProtocol[];
  /**
   * The eth context of a connected peer, whichever version it agreed on, once its Status exchange is done
   * (undefined before, or when it runs no eth): what the request helpers take.
   * @example const ctx = contextOf(peer); if (ctx) console.log(ctx.state.version, await getBlockHeaders(ctx, query))
   */
  contextOf(peer: PeerProtocols): EthContext | undefined;
  /**
   * The eth context of a peer once its Status exchange has ended: resolves undefined when the peer runs no eth or
   * its handshake failed.
   * @example node.on('peer:added', async ({ peer }) => { const ctx = await contextReady(peer) })
   */
  contextReady(peer: PeerProtocols): Promise<EthContext | undefined>;
  /**
   * Observes a message every version has (Transactions, GetBlockHeaders, BlockHeaders, ...) on every eth peer,
   * whatever version it runs; returns the function that stops observing.
   * @example const off = protocols.on('Transactions', ({ transactions }, ctx) => console.log(ctx.peer.id, transactions.length))
   */
  on<K extends keyof CommonMessages>(
    name: K,
    listener: (payload: PayloadOf<CommonMessages[K]>, ctx: EthContext) => void,
  ): () => void;
}

/** What {@link EthProtocols.contextOf} needs of a peer (a `Peer` of `@devp2p/server` has it). */
export interface PeerProtocols {
  protocol<M extends MessageMap, S, R extends RequestPairs<M>>(
    protocol: Protocol<M, S, R>,
  ): ProtocolContext<M, S, R> | undefined;
  protocolReady<M extends MessageMap, S, R extends RequestPairs<M>>(
    protocol: Protocol<M, S, R>,
  ): Promise<ProtocolContext<M, S, R> | undefined>;
}

/**
 * Parses a list of eth versions (`"72,71,68"`, `"eth/69"`), as `--eth.versions` takes it; throws a RangeError naming
 * a version this package does not speak.
 * @example parseEthVersions('70,69') // [70, 69]
 */
export function parseEthVersions(text: string): EthVersion[] {
  const versions = text.split(',').map((item) => {
    const trimmed = item.trim().replace(/^eth\//, '');
    const version = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || !(ETH_VERSIONS as readonly number[]).includes(version)) {
      throw new RangeError(
        `unsupported eth version ${JSON.stringify(item.trim())} (supported: ${ETH_VERSIONS.join(', ')})`,
      );
    }
    return version as EthVersion;
  });
  return [...new Set(versions)];
}

function jsonUint(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function hex(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes)}`;
}

function chainJson(chain: ChainConfig): JsonValue {
  return {
    name: chain.name,
    forks: chain.forks.map(
      (fork): JsonValue =>
        'block' in fork ? { name: fork.name, block: fork.block } : { name: fork.name, time: fork.time },
    ),
  };
}

const FORK_CHECK_TEXT: Readonly<Record<Exclude<ForkIdCheck, 'ok'>, string>> = {
  'remote-stale': 'remote needs update',
  'local-incompatible-or-stale': 'local incompatible or needs update',
};

/** Rejects with a TimeoutError when `promise` does not settle within `timeoutMs` on `clock` (the server's). */
function deadline<T>(promise: Promise<T>, timeoutMs: number, what: string, clock: Clock): Promise<T> {
  let timer: unknown;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clock.clearTimeout(timer));
}

/** The number of bits set in a cell bitmap. */
function indexCount(mask: Uint8Array): number {
  return cellIndices(mask).length;
}

/**
 * Receipts for a GetReceipts of eth/70 and later, from whole lists, as geth's `serviceGetReceiptsQuery70`: the first
 * block's list from `first` on; blocks until the soft limit or {@link MAX_RECEIPTS_SERVE}; the last block's list cut
 * where the message would pass 10 MiB (and flagged incomplete), or left out when not even its first receipt fits.
 */
function pageReceipts(
  lists: Raw,
  first: bigint,
  max: number,
): { receipts: Uint8Array[]; lastBlockIncomplete: boolean } {
  const receipts: Uint8Array[] = [];
  let bytes = 0;
  for (let i = 0; i < lists.length && i < max; i++) {
    if (bytes >= SOFT_RESPONSE_LIMIT) break;
    const room = MAX_MESSAGE_SIZE - RECEIPTS_ENVELOPE_BYTES - bytes;
    const skip = i === 0 ? first : 0n;
    const kept: Uint8Array[] = [];
    let size = 0;
    let position = 0n;
    let incomplete = false;
    forEachItem(lists[i]!, (receipt) => {
      if (incomplete || position++ < skip) return;
      // A list header is at most 5 bytes at these sizes.
      if (size + receipt.length + 5 > room) incomplete = true;
      else {
        kept.push(receipt);
        size += receipt.length;
      }
    });
    // Not even the first receipt fits: the reply ends before this block, complete.
    if (incomplete && kept.length === 0) break;
    const list = rlpEncodeRawList(kept);
    receipts.push(list);
    bytes += list.length;
    if (incomplete) return { receipts, lastBlockIncomplete: true };
  }
  return { receipts, lastBlockIncomplete: false };
}

/** Throws the EthLimitError of a reply holding more items than its request asked for (geth's `ErrTooManyItems`). */
function checkReplyItems(name: string, items: number, asked: number): void {
  checkLimit('response-items', `${name} reply items`, items, asked);
}

/** Checks a Cells reply against its GetCells: hashes asked for (each once), and indices within the request's. */
function checkCells(reply: CellsReply, request: CellsRequest): void {
  checkReplyItems('Cells', reply.hashes.length, request.hashes.size);
  const seen = new Set<string>();
  for (const hash of reply.hashes) {
    const key = bytesToHex(hash);
    if (!request.hashes.has(key) || seen.has(key)) {
      throw new EthResponseError('unrequested-hash', `Cells for transaction 0x${key}, not asked for (or twice)`);
    }
    seen.add(key);
  }
  for (let i = 0; i < CELL_MASK_SIZE; i++) {
    if ((reply.mask[i]! & ~request.mask[i]!) !== 0) {
      throw new EthResponseError(
        'cells-mask',
        `Cells bitmap 0x${bytesToHex(reply.mask)} is not within 0x${bytesToHex(request.mask)}`,
      );
    }
  }
}

/**
 * The eth protocols for `chain`: eth/68 to eth/72 objects to hand to a server (`protocols`), each running the Status
 * handshake (network id, version, genesis and EIP-2124 fork id checks; from eth/69 on the block range) and answering
 * requests from `provider`: GetBlockHeaders, GetBlockBodies, GetReceipts, GetPooledTransactions, and on eth/71
 * GetBlockAccessLists, on eth/72 GetCells.
 * @example
 * const { protocols, eth72 } = eth({ chain: mainnet })
 * const server = createServer({ privateKey, protocols: [...protocols] })
 * // later, for a connected peer:
 * const ctx = peer.protocol(eth72)
 * if (ctx) console.log(await getBlockHeaders(ctx, { origin: { number: 0n }, amount: 1n, skip: 0n, reverse: false }))
 */
export function eth(options: EthOptions): EthProtocols {
  const { chain, provider } = options;
  const networkId = BigInt(options.network ?? chain.networkId);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? ETH_HANDSHAKE_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? ETH_REQUEST_TIMEOUT_MS;
  const maxPending = options.maxPending ?? MAX_PENDING_REQUESTS;
  const versions = options.versions ?? ETH_VERSIONS;
  for (const version of versions) {
    if (!ETH_VERSIONS.includes(version)) throw new RangeError(`eth: unsupported version ${String(version)}`);
  }
  const genesisHead: ChainHead = {
    hash: chain.genesisHash,
    number: 0n,
    time: chain.genesisTime,
    td: chain.genesisDifficulty,
    earliest: 0n,
  };
  let lastHead = genesisHead;

  const localHead = async (): Promise<ChainHead> => {
    if (provider) lastHead = await provider.head();
    return lastHead;
  };

  const newState = <V extends EthVersion>(version: V, status: Status68 | Status69, head: RemoteHead): EthState<V> => {
    return {
      version,
      status,
      head,
      range:
        'latestBlock' in status
          ? {
              earliestBlock: status.earliestBlock,
              latestBlock: status.latestBlock,
              latestBlockHash: status.latestBlockHash,
            }
          : null,
    };
  };

  /** Geth's order of checks: network id, version, genesis, fork id. */
  const checkCommon = (theirs: Status68 | Status69, version: EthVersion, head: ChainHead): void => {
    if (theirs.networkId !== networkId) throw new EthStatusError('network-id', `${theirs.networkId} (!= ${networkId})`);
    if (theirs.version !== version) throw new EthStatusError('version', `${theirs.version} (!= ${version})`);
    if (!equalBytes(theirs.genesis, chain.genesisHash)) {
      throw new EthStatusError('genesis', `${bytesToHex(theirs.genesis)} (!= ${bytesToHex(chain.genesisHash)})`);
    }
    const check = validateForkId(chain, head, theirs.forkId);
    if (check !== 'ok') {
      const id = `${theirs.forkId.hash.toString(16).padStart(8, '0')}/${theirs.forkId.next}`;
      throw new EthStatusError('fork-id', `${id}: ${FORK_CHECK_TEXT[check]}`);
    }
  };

  const exchange = async <S extends Status68 | Status69>(
    clock: Clock,
    send: () => Promise<void>,
    receive: () => Promise<S>,
  ): Promise<S> => {
    const sent = send();
    sent.catch(() => {});
    const theirs = await deadline(receive(), handshakeTimeoutMs, 'eth status', clock);
    await sent;
    return theirs;
  };

  const handshake68 = async (ctx: HandshakeContext<Eth68Messages>): Promise<EthState<68>> => {
    const head = await localHead();
    const ours: Status68 = {
      version: 68,
      networkId,
      td: head.td ?? chain.genesisDifficulty,
      head: head.hash,
      genesis: chain.genesisHash,
      forkId: forkId(chain, head),
    };
    const theirs = await exchange(
      ctx.clock,
      () => ctx.send('Status', ours),
      () => ctx.receive('Status', { timeoutMs: handshakeTimeoutMs }),
    );
    checkCommon(theirs, 68, head);
    return newState(68, theirs, { hash: theirs.head, number: null, td: theirs.td });
  };

  /** The Status exchange of eth/69 and later: the same message, with the block range. */
  const handshake69 =
    <V extends 69 | 70 | 71 | 72>(version: V) =>
    async (ctx: HandshakeContext<Status69Messages>): Promise<EthState<V>> => {
      const head = await localHead();
      const ours: Status69 = {
        version,
        networkId,
        genesis: chain.genesisHash,
        forkId: forkId(chain, head),
        earliestBlock: head.earliest ?? 0n,
        latestBlock: head.number,
        latestBlockHash: head.hash,
      };
      const theirs = await exchange(
        ctx.clock,
        () => ctx.send('Status', ours),
        () => ctx.receive('Status', { timeoutMs: handshakeTimeoutMs }),
      );
      checkCommon(theirs, version, head);
      checkRange(theirs, (detail) => new EthStatusError('block-range', detail));
      return newState(version, theirs, { hash: theirs.latestBlockHash, number: theirs.latestBlock, td: null });
    };

  /** Calls a provider lookup; a missing lookup or one that fails gives `empty`. */
  const lookup = async <T>(
    ctx: { readonly log: CommonContext['log'] },
    what: string,
    call: (() => Maybe<T>) | undefined,
    empty: T,
  ): Promise<T> => {
    if (!call) return empty;
    try {
      return await call();
    } catch (error) {
      ctx.log.warn('chain provider failed; answering empty', { what, error: String(error) });
      return empty;
    }
  };

  /** The first items that fit `max` and the soft response limit (the item crossing it still goes, as in geth). */
  const trim = (items: Raw, max: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (const item of items) {
      if (out.length >= max || bytes >= SOFT_RESPONSE_LIMIT) break;
      out.push(item);
      bytes += item.length;
    }
    return out;
  };

  const commonHandlers = {
    GetBlockHeaders: async (query: GetBlockHeadersMessage, ctx: CommonContext) => {
      const limit = Number(query.amount < BigInt(MAX_HEADERS_SERVE) ? query.amount : BigInt(MAX_HEADERS_SERVE));
      const headers =
        limit === 0
          ? []
          : await lookup(ctx, 'headers', provider?.getHeaders && (() => provider.getHeaders!(query, limit)), []);
      await ctx.send('BlockHeaders', { requestId: query.requestId, headers: trim(headers, limit) });
    },
    GetBlockBodies: async ({ requestId, hashes }: HashesRequestMessage, ctx: CommonContext) => {
      const wanted = hashes.slice(0, MAX_BODIES_SERVE);
      const bodies = await lookup(ctx, 'bodies', provider?.getBodies && (() => provider.getBodies!(wanted)), []);
      await ctx.send('BlockBodies', { requestId, bodies: trim(bodies, wanted.length) });
    },
    GetPooledTransactions: async ({ requestId, hashes }: HashesRequestMessage, ctx: CommonContext) => {
      const txs = await lookup(
        ctx,
        'pooled transactions',
        provider?.getPooledTransactions && (() => provider.getPooledTransactions!(hashes, ctx.state.version)),
        [],
      );
      await ctx.send('PooledTransactions', { requestId, transactions: trim(txs, hashes.length) });
    },
  };

  /** GetReceipts of eth/68 and eth/69: whole lists. */
  const receipts68Handlers = {
    GetReceipts: async ({ requestId, hashes }: HashesRequestMessage, ctx: Receipts68Context) => {
      const wanted = hashes.slice(0, MAX_RECEIPTS_SERVE);
      const receipts = await lookup(
        ctx,
        'receipts',
        provider?.getReceipts && (() => provider.getReceipts!(wanted, ctx.state.version)),
        [],
      );
      await ctx.send('Receipts', { requestId, receipts: trim(receipts, wanted.length) });
    },
  };

  /** GetReceipts of eth/70 and later (EIP-7975): lists cut at an index, and at 10 MiB. */
  const receipts70Handlers = {
    GetReceipts: async (
      { requestId, firstBlockReceiptIndex, hashes }: GetReceipts70Message,
      ctx: Receipts70Context,
    ) => {
      const wanted = hashes.slice(0, MAX_RECEIPTS_SERVE);
      const lists = await lookup(
        ctx,
        'receipts',
        provider?.getReceipts && (() => provider.getReceipts!(wanted, ctx.state.version)),
        [],
      );
      await ctx.send('Receipts', { requestId, ...pageReceipts(lists, firstBlockReceiptIndex, wanted.length) });
    },
  };

  const rangeHandlers = {
    BlockRangeUpdate: (update: BlockRangeUpdateMessage, ctx: RangeContext) => {
      // Geth ends the peer with a plain error (so "subprotocol error") for an invalid range.
      checkRange(
        update,
        (detail) => new DisconnectError(DisconnectReason.SubprotocolError, 'local', { cause: detail }),
      );
      ctx.state.range = update;
      ctx.state.head = { hash: update.latestBlockHash, number: update.latestBlock, td: null };
    },
  };

  /** GetBlockAccessLists (eth/71 and later, EIP-8159). */
  const accessListHandlers = {
    GetBlockAccessLists: async ({ requestId, hashes }: HashesRequestMessage, ctx: AccessListsContext) => {
      const wanted = hashes.slice(0, MAX_BALS_SERVE);
      const found = await lookup(
        ctx,
        'block access lists',
        provider?.getBlockAccessLists && (() => provider.getBlockAccessLists!(wanted)),
        [],
      );
      // As geth's serviceGetBlockAccessListsQuery: one entry per hash (null, the empty string, for a missing one) until
      // the soft limit, counting the lists we have.
      const accessLists: (Uint8Array | null)[] = [];
      let bytes = 0;
      for (let i = 0; i < wanted.length && bytes < SOFT_RESPONSE_LIMIT; i++) {
        const bal = found[i] ?? null;
        accessLists.push(bal);
        if (bal) bytes += bal.length;
      }
      await ctx.send('BlockAccessLists', { requestId, accessLists });
    },
  };

  /** GetCells (eth/72, EIP-8070). */
  const cellHandlers = {
    GetCells: async ({ requestId, hashes, mask }: GetCellsMessage, ctx: CellsContext) => {
      const perIndex = indexCount(mask);
      const found =
        perIndex === 0
          ? []
          : await lookup(ctx, 'cells', provider?.getCells && (() => provider.getCells!(hashes, mask)), []);
      // As geth's answerGetCells: the transactions whose cells we have, until about 1024 cells (2 MiB).
      const reply: { hashes: Uint8Array[]; cells: (readonly Uint8Array[])[] } = { hashes: [], cells: [] };
      let count = 0;
      for (let i = 0; i < hashes.length && count < MAX_CELLS_SERVE; i++) {
        const group = found[i];
        if (!group || group.length === 0) continue;
        const wellFormed =
          group.length % perIndex === 0 &&
          group.length <= MAX_CELLS_PER_TRANSACTION &&
          group.every((cell) => cell instanceof Uint8Array && cell.length === CELL_SIZE);
        if (!wellFormed) {
          ctx.log.warn('chain provider returned malformed cells; skipping the transaction', {
            cells: group.length,
            indices: perIndex,
          });
          continue;
        }
        reply.hashes.push(hashes[i]!);
        reply.cells.push(group);
        count += group.length;
      }
      await ctx.send('Cells', { requestId, ...reply, mask });
    },
  };

  const peerInfo = (ctx: CommonContext): JsonValue => {
    const { state } = ctx;
    const info: Record<string, JsonValue> = { version: state.version, head: hex(state.head.hash) };
    if (state.head.td !== null) info['difficulty'] = state.head.td.toString();
    if (state.range) {
      info['earliestBlock'] = jsonUint(state.range.earliestBlock);
      info['latestBlock'] = jsonUint(state.range.latestBlock);
    }
    return info;
  };

  const nodeInfo = (version: EthVersion) => (): JsonValue => {
    const info: Record<string, JsonValue> = {
      network: jsonUint(networkId),
      genesis: hex(chain.genesisHash),
      config: chainJson(chain),
      head: hex(lastHead.hash),
    };
    if (version === 68) info['difficulty'] = (lastHead.td ?? chain.genesisDifficulty).toString();
    return info;
  };

  /** Our fork id as the ENR `eth` entry announces it (geth's `currentENREntry`), at the head we know. */
  const enrEntries = (): Record<string, RlpInput> => ({ eth: enrForkIdEntry(forkId(chain, lastHead)) });
  /** Geth's eth `NodeFilter`: dial only nodes whose record has an `eth` entry with a fork id compatible with ours. */
  const acceptsNode = (record: NodeRecordEntries): boolean => {
    const raw = record.get('eth');
    if (raw === undefined) return false;
    try {
      return validateForkId(chain, lastHead, decodeEnrForkId(raw)) === 'ok';
    } catch {
      return false;
    }
  };

  // Every version checks the 10 MiB limit in its message table's codecs (an EthLimitError, "subprotocol error" as
  // geth), not through `maxMessageSize` (a TooLargeError, "breach of protocol").
  const shared = {
    name: ETH_PROTOCOL_NAME,
    peerInfo,
    enrEntries,
    acceptsNode,
    requestTimeoutMs,
    maxPendingRequests: maxPending,
  };

  const eth68: Eth68Protocol = defineProtocol<Eth68Messages, EthState<68>, Eth68Requests>({
    ...shared,
    requests: ETH68_REQUESTS,
    version: 68,
    length: ETH68_LENGTH,
    messages: eth68Messages,
    handshake: handshake68,
    handlers: {
      ...commonHandlers,
      ...receipts68Handlers,
      NewBlockHashes: ({ announcements }, ctx) => {
        for (const { hash, number } of announcements) {
          const known = ctx.state.head.number;
          if (known === null || number > known) ctx.state.head = { hash, number, td: ctx.state.head.td };
        }
      },
      NewBlock: ({ td }, ctx) => {
        if (ctx.state.head.td === null || td > ctx.state.head.td) ctx.state.head = { ...ctx.state.head, td };
      },
    },
    nodeInfo: nodeInfo(68),
  });

  const eth69: Eth69Protocol = defineProtocol<Eth69Messages, EthState<69>, Eth68Requests>({
    ...shared,
    requests: ETH68_REQUESTS,
    version: 69,
    length: ETH69_LENGTH,
    messages: eth69Messages,
    handshake: handshake69(69),
    handlers: { ...commonHandlers, ...receipts68Handlers, ...rangeHandlers },
    nodeInfo: nodeInfo(69),
  });

  const eth70: Eth70Protocol = defineProtocol<Eth70Messages, EthState<70>, Eth68Requests>({
    ...shared,
    requests: ETH68_REQUESTS,
    version: 70,
    length: ETH70_LENGTH,
    messages: eth70Messages,
    handshake: handshake69(70),
    handlers: { ...commonHandlers, ...receipts70Handlers, ...rangeHandlers },
    nodeInfo: nodeInfo(70),
  });

  const eth71: Eth71Protocol = defineProtocol<Eth71Messages, EthState<71>, Eth71Requests>({
    ...shared,
    requests: ETH71_REQUESTS,
    version: 71,
    length: ETH71_LENGTH,
    messages: eth71Messages,
    handshake: handshake69(71),
    handlers: { ...commonHandlers, ...receipts70Handlers, ...rangeHandlers, ...accessListHandlers },
    nodeInfo: nodeInfo(71),
  });

  const eth72: Eth72Protocol = defineProtocol<Eth72Messages, EthState<72>, Eth72Requests>({
    ...shared,
    requests: ETH72_REQUESTS,
    version: 72,
    length: ETH72_LENGTH,
    messages: eth72Messages,
    handshake: handshake69(72),
    handlers: { ...commonHandlers, ...receipts70Handlers, ...rangeHandlers, ...accessListHandlers, ...cellHandlers },
    nodeInfo: nodeInfo(72),
  });

  const byVersion: Readonly<Record<EthVersion, EthProtocol>> = {
    68: eth68,
    69: eth69,
    70: eth70,
    71: eth71,
    72: eth72,
  };
  const selected = [...new Set(versions)].sort((a, b) => b - a).map((version) => byVersion[version]);
  const contextOf = (peer: PeerProtocols): EthContext | undefined =>
    peer.protocol(eth72) ??
    peer.protocol(eth71) ??
    peer.protocol(eth70) ??
    peer.protocol(eth69) ??
    peer.protocol(eth68);
  const contextReady = async (peer: PeerProtocols): Promise<EthContext | undefined> =>
    (await peer.protocolReady(eth72)) ??
    (await peer.protocolReady(eth71)) ??
    (await peer.protocolReady(eth70)) ??
    (await peer.protocolReady(eth69)) ??
    (await peer.protocolReady(eth68));
  const on = <K extends keyof CommonMessages>(
    name: K,
    listener: (payload: PayloadOf<CommonMessages[K]>, ctx: EthContext) => void,
  ): (() => void) => {
    const each = listener as unknown as (payload: unknown, ctx: unknown) => void;
    const offs = [eth68, eth69, eth70, eth71, eth72].map((protocol) =>
      (protocol as unknown as { on(name: string, l: (payload: unknown, ctx: unknown) => void): () => void }).on(
        name,
        each,
      ),
    );
    return () => {
      for (const off of offs) off();
    };
  };
  return { eth68, eth69, eth70, eth71, eth72, protocols: selected, contextOf, contextReady, on };
}

/** Geth's `BlockRangeUpdatePacket.Validate`: earliest ≤ latest, and a non-zero latest hash. */
function checkRange(range: BlockRangeUpdateMessage, fail: (detail: string) => Error): void {
  if (equalBytes(range.latestBlockHash, ZERO_HASH)) throw fail('zero latest block hash');
  if (range.earliestBlock > range.latestBlock)
    throw fail(`earliest ${range.earliestBlock} > latest ${range.latestBlock}`);
}

/** Options of the request helpers. */
export interface EthRequestOptions {
  readonly signal?: AbortSignal;
}

/** The state of a context whose handshake has completed, or an ERR_NOT_READY error. */
function stateOf(ctx: EthContext): EthState {
  const { state } = ctx as CommonContext;
  if (!state) throw new Devp2pError(ERR_NOT_READY, 'eth handshake has not completed');
  return state;
}

function checkRequestHashes(hashes: readonly Uint8Array[], max: number, what: string): void {
  if (hashes.length === 0 || hashes.length > max) throw new RangeError(`${what}: between 1 and ${max} hashes`);
}

/** Runs `start` once the context is ready and `check` passes; their errors reject the returned promise. */
async function guarded<T>(ctx: EthContext, check: () => void, start: () => Promise<T>): Promise<T> {
  stateOf(ctx);
  check();
  return start();
}

/**
 * Sends the peer a Transactions message (raw EIP-2718 / legacy transactions), on whatever eth version it runs.
 * @example await sendTransactions(ctx, [rawTx])
 */
export function sendTransactions(ctx: EthContext, transactions: readonly Uint8Array[]): Promise<void> {
  return (ctx as CommonContext).send('Transactions', { transactions });
}

/**
 * Asks the peer for block headers; resolves with raw RLP headers (possibly fewer than asked, or none).
 * Rejects with a TimeoutError, an AbortError, the peer's DisconnectError, an EthLimitError when the reply holds more
 * headers than asked (which ends the peer), or a Devp2pError (`ERR_TOO_MANY_REQUESTS`).
 * @example const [genesis] = await getBlockHeaders(ctx, { origin: { number: 0n }, amount: 1n, skip: 0n, reverse: false })
 */
export function getBlockHeaders(
  ctx: EthContext,
  query: BlockHeadersQuery,
  options: EthRequestOptions = {},
): Promise<Raw> {
  return guarded(
    ctx,
    () => {
      if (query.amount < 1n || query.amount > BigInt(MAX_HEADERS_SERVE)) {
        throw new RangeError(`getBlockHeaders: amount must be 1 to ${MAX_HEADERS_SERVE}`);
      }
    },
    async () => {
      const reply = await (ctx as CommonRequester).request('GetBlockHeaders', query, 'BlockHeaders', {
        signal: options.signal,
        check: ({ headers }) => checkReplyItems('BlockHeaders', headers.length, Number(query.amount)),
      });
      return reply.headers;
    },
  );
}

/**
 * Asks the peer for the bodies of these blocks; resolves with raw RLP bodies, in order, missing ones skipped.
 * @example const bodies = await getBlockBodies(ctx, [hash], { signal: AbortSignal.timeout(5_000) })
 */
export function getBlockBodies(
  ctx: EthContext,
  hashes: readonly Uint8Array[],
  options: EthRequestOptions = {},
): Promise<Raw> {
  return guarded(
    ctx,
    () => checkRequestHashes(hashes, MAX_BODIES_SERVE, 'getBlockBodies'),
    async () => {
      const reply = await (ctx as CommonRequester).request('GetBlockBodies', { hashes }, 'BlockBodies', {
        signal: options.signal,
        check: ({ bodies }) => checkReplyItems('BlockBodies', bodies.length, hashes.length),
      });
      return reply.bodies;
    },
  );
}

/**
 * Asks the peer for pooled transactions by hash; resolves with the raw transactions it has, in order (on eth/72 blob
 * transactions come without their blobs).
 * @example const txs = await getPooledTransactions(ctx, announcedHashes)
 */
export function getPooledTransactions(
  ctx: EthContext,
  hashes: readonly Uint8Array[],
  options: EthRequestOptions = {},
): Promise<Raw> {
  return guarded(
    ctx,
    () => checkRequestHashes(hashes, MAX_REQUEST_HASHES, 'getPooledTransactions'),
    async () => {
      const reply = await (ctx as CommonRequester).request('GetPooledTransactions', { hashes }, 'PooledTransactions', {
        signal: options.signal,
        check: ({ transactions }) => checkReplyItems('PooledTransactions', transactions.length, hashes.length),
      });
      return reply.transactions;
    },
  );
}

/** Options of {@link getReceiptsPage}. */
export interface ReceiptsPageOptions extends EthRequestOptions {
  /** Receipts of the first block before this index are left out (default 0). */
  readonly firstBlockReceiptIndex?: bigint;
}

/**
 * One GetReceipts of eth/70 and later (EIP-7975), as sent: resolves with the receipt lists and whether the last one
 * stops short (`lastBlockIncomplete`). For a partial list, ask again from that block with `firstBlockReceiptIndex`
 * set to the receipts already received; {@link getReceipts} does that for you. EIP-7975 asks to check a partial list
 * against its block (receipt count against transactions, sizes against gas): that needs the block, so it is yours.
 * @example const { receipts, lastBlockIncomplete } = await getReceiptsPage(ctx, [hash], { firstBlockReceiptIndex: 100n })
 */
export function getReceiptsPage(
  ctx: Eth70PlusContext,
  hashes: readonly Uint8Array[],
  options: ReceiptsPageOptions = {},
): Promise<ReceiptsPage> {
  const firstBlockReceiptIndex = options.firstBlockReceiptIndex ?? 0n;
  return guarded(
    ctx,
    () => checkRequestHashes(hashes, MAX_RECEIPTS_SERVE, 'getReceiptsPage'),
    async () => {
      const { receipts, lastBlockIncomplete } = await (ctx as Receipts70Context).request(
        'GetReceipts',
        { firstBlockReceiptIndex, hashes },
        'Receipts',
        { signal: options.signal, check: (reply) => checkReceiptsPage(reply, hashes.length) },
      );
      return { receipts, lastBlockIncomplete };
    },
  );
}

/** Checks an eth/70 Receipts reply: no more lists than blocks asked for, and a partial last list that has receipts. */
function checkReceiptsPage({ receipts, lastBlockIncomplete }: Receipts70Message, asked: number): void {
  checkReplyItems('Receipts', receipts.length, asked);
  // Geth: "invalid empty receipt response with incomplete flag". A server flags a list incomplete only after at
  // least one of its receipts, so an empty last list is as invalid.
  if (lastBlockIncomplete && (receipts.length === 0 || receipts.at(-1)!.length === 1)) {
    throw new EthResponseError('incomplete-receipts', 'Receipts flagged incomplete without a receipt to continue');
  }
}

/** Follows eth/70's partial lists until each block's list is whole; drops a block whose rest the peer lacks. */
async function receiptsInPages(
  ctx: Eth70PlusContext,
  hashes: readonly Uint8Array[],
  options: EthRequestOptions,
): Promise<Raw> {
  const lists: Uint8Array[][] = [];
  let page = await getReceiptsPage(ctx, hashes, options);
  for (const list of page.receipts) lists.push(listItems(list));
  for (let pages = 1; page.lastBlockIncomplete; pages++) {
    if (pages >= MAX_RECEIPT_PAGES) {
      const error = new EthLimitError('receipt-pages', 'Receipts pages for one block', pages + 1, MAX_RECEIPT_PAGES);
      ctx.disconnect(DisconnectReason.SubprotocolError);
      throw error;
    }
    const start = lists.length - 1;
    const partial = lists[start]!;
    page = await getReceiptsPage(ctx, hashes.slice(start), {
      ...options,
      firstBlockReceiptIndex: BigInt(partial.length),
    });
    if (page.receipts.length === 0) {
      lists.pop();
      break;
    }
    page.receipts.forEach((list, i) => {
      if (i === 0) partial.push(...listItems(list));
      else lists.push(listItems(list));
    });
  }
  return lists.map((items) => rlpEncodeRawList(items));
}

/**
 * Asks the peer for the receipts of these blocks; resolves with one raw RLP receipt list per block, in order, in the
 * encoding of the peer's version (eth/68's, or eth/69's from eth/69 on), ending where the peer has no more. On
 * eth/70 and later a list the peer sends in parts is fetched to its end (at most {@link MAX_RECEIPT_PAGES} pages).
 * @example const [receipts] = await getReceipts(ctx, [hash])
 */
export function getReceipts(
  ctx: EthContext,
  hashes: readonly Uint8Array[],
  options: EthRequestOptions = {},
): Promise<Raw> {
  return guarded(
    ctx,
    () => checkRequestHashes(hashes, MAX_RECEIPTS_SERVE, 'getReceipts'),
    async () => {
      if (stateOf(ctx).version >= 70) return receiptsInPages(ctx as Eth70PlusContext, hashes, options);
      const reply = await (ctx as Receipts68Context).request('GetReceipts', { hashes }, 'Receipts', {
        signal: options.signal,
        check: ({ receipts }) => checkReplyItems('Receipts', receipts.length, hashes.length),
      });
      return reply.receipts;
    },
  );
}

/**
 * Asks an eth/71 or later peer for the block access lists of these blocks (EIP-8159); resolves with one entry per
 * block, in order (the peer may stop early): the raw RLP list (decode it with {@link blockAccessListCodec}, and check
 * its hash against the header's `block-access-list-hash`), or null where the peer has none.
 * @example const [bal] = await getBlockAccessLists(ctx, [hash])
 */
export function getBlockAccessLists(
  ctx: Eth71PlusContext,
  hashes: readonly Uint8Array[],
  options: EthRequestOptions = {},
): Promise<readonly (Uint8Array | null)[]> {
  return guarded(
    ctx,
    () => checkRequestHashes(hashes, MAX_BALS_SERVE, 'getBlockAccessLists'),
    async () => {
      const reply = await (ctx as AccessListsContext).request('GetBlockAccessLists', { hashes }, 'BlockAccessLists', {
        signal: options.signal,
        check: ({ accessLists }) => checkReplyItems('BlockAccessLists', accessLists.length, hashes.length),
      });
      return reply.accessLists;
    },
  );
}

/**
 * Asks an eth/72 peer for the cells at the indices of `mask` (see {@link cellMask}) of these blob transactions (1 to
 * {@link MAX_GET_CELLS_HASHES}, the spec's soft limit); resolves with the transactions it has, their cells and the
 * indices it sent (within `mask`). A reply with a transaction or an index not asked for ends the peer.
 * @example const { hashes, cells } = await getCells(ctx, [txHash], cellMask([0, 1, 2, 3]))
 */
export function getCells(
  ctx: Eth72Context,
  hashes: readonly Uint8Array[],
  mask: Uint8Array,
  options: EthRequestOptions = {},
): Promise<CellsReply> {
  return guarded(
    ctx,
    () => {
      checkRequestHashes(hashes, MAX_GET_CELLS_HASHES, 'getCells');
      if (!(mask instanceof Uint8Array) || mask.length !== CELL_MASK_SIZE) {
        throw new TypeError(`getCells: the mask is ${CELL_MASK_SIZE} bytes`);
      }
    },
    async () => {
      const asked: CellsRequest = { hashes: new Set(hashes.map((hash) => bytesToHex(hash))), mask: mask.slice() };
      const reply = await ctx.request('GetCells', { hashes, mask }, 'Cells', {
        signal: options.signal,
        check: (cells) => checkCells(cells, asked),
      });
      return { hashes: reply.hashes, cells: reply.cells, mask: reply.mask };
    },
  );
}

/**
 * Tells a peer on eth/69 or later which blocks we serve (BlockRangeUpdate). Throws a RangeError for an invalid range.
 * @example await announceBlockRange(ctx, { earliestBlock: 0n, latestBlock: head.number, latestBlockHash: head.hash })
 */
export function announceBlockRange(ctx: Eth69PlusContext, range: BlockRangeUpdateMessage): Promise<void> {
  try {
    checkRange(range, (detail) => new RangeError(`announceBlockRange: ${detail}`));
  } catch (error) {
    return Promise.reject(error);
  }
  return (ctx as Eth69Context).send('BlockRangeUpdate', range);
}
