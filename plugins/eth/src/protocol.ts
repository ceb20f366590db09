/**
 * The eth/68 and eth/69 protocols: Status handshake with EIP-2124 fork id validation, serving requests from
 * an application's {@link ChainProvider} (or empty replies without one), and typed request helpers.
 */
import {
  AbortError,
  bytesToHex,
  Devp2pError,
  DisconnectError,
  DisconnectReason,
  decodeEnrForkId,
  defineProtocol,
  enrForkIdEntry,
  equalBytes,
  type HandshakeContext,
  type JsonValue,
  type NodeRecordEntries,
  type Protocol,
  type ProtocolContext,
  ProtocolError,
  RequestTracker,
  type RlpInput,
  TimeoutError,
  throwIfAborted,
} from '@devp2p/core';
import type { ChainConfig } from './chains.ts';
import { type ForkIdCheck, forkId, validateForkId } from './forkid.ts';
import {
  type BlockHeadersQuery,
  type BlockRangeUpdateMessage,
  type Eth68Messages,
  type Eth69Messages,
  eth68Messages,
  eth69Messages,
  MAX_BODIES_SERVE,
  MAX_HEADERS_SERVE,
  MAX_MESSAGE_SIZE,
  MAX_RECEIPTS_SERVE,
  MAX_REQUEST_HASHES,
  SOFT_RESPONSE_LIMIT,
  type Status68,
  type Status69,
} from './messages.ts';

/** The capability name. */
export const ETH_PROTOCOL_NAME = 'eth';

/** Error code of an eth request made before the peer's Status exchange completed. */
export const ERR_NOT_READY = 'ERR_NOT_READY';

/** Error code of an eth response that breaks its request (more items than asked): the peer is disconnected. */
export const ERR_ETH_RESPONSE = 'ERR_ETH_RESPONSE';
/** Message codes eth/68 reserves: 17 (0x00–0x10). */
export const ETH68_LENGTH = 17;
/** Message codes eth/69 reserves: 18 (0x00–0x11). */
export const ETH69_LENGTH = 18;
/** The versions this package speaks. */
export type EthVersion = 68 | 69;
/** Deadline for the remote's Status: 5 s, geth's `handshakeTimeout`; past it the peer ends with "read timeout". */
export const ETH_HANDSHAKE_TIMEOUT_MS: number = 5_000;
/**
 * How long a request waits for its reply: 10 s. Geth's fetchers adapt their timeouts to each peer and cap
 * them at about this; a reply slower than this is not worth waiting for.
 */
export const ETH_REQUEST_TIMEOUT_MS: number = 10_000;
/** Requests of one kind (headers, bodies, receipts, transactions) outstanding per peer: 16. */
export const MAX_PENDING_REQUESTS: number = 16;
/**
 * Timed-out or aborted requests remembered per peer and kind, so that their late replies are dropped rather
 * than taken for unsolicited ones (which end the peer): 16, as many as can be pending.
 */
export const MAX_ABANDONED_REQUESTS: number = 16;

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
  /** Oldest block whose bodies and receipts are served (eth/69's Status); 0 when absent. */
  readonly earliest?: bigint;
}

/**
 * Where the protocol gets chain data. Every lookup is optional: a missing one answers with an empty reply, as
 * does one that throws. Results are raw RLP items in request order (missing items skipped); they are trimmed to
 * the serve limits and to {@link SOFT_RESPONSE_LIMIT}.
 * @example
 * const provider: ChainProvider = {
 *   head: () => ({ hash: db.headHash, number: db.headNumber, time: db.headTime }),
 *   getHeaders: (query, limit) => db.headers(query, limit),
 * }
 */
export interface ChainProvider {
  head(): ChainHead | Promise<ChainHead>;
  /** Raw headers answering `query`, at most `limit`. */
  getHeaders?(query: BlockHeadersQuery, limit: number): readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
  /** Raw bodies (`[txs, ommers, withdrawals?]`) of these blocks. */
  getBodies?(hashes: readonly Uint8Array[]): readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
  /** One raw RLP list of receipts per block, in the encoding of `version` (see {@link ReceiptsMessage}). */
  getReceipts?(
    hashes: readonly Uint8Array[],
    version: EthVersion,
  ): readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
  /** Raw transactions from the pool. */
  getPooledTransactions?(hashes: readonly Uint8Array[]): readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
}

/** Why a Status was refused. */
export type EthStatusMismatch = 'network-id' | 'version' | 'genesis' | 'fork-id' | 'block-range';

/**
 * The remote's Status does not fit ours. It ends the peer with "subprotocol error" (0x10), as geth does: its
 * handshake returns plain errors (`errNetworkIDMismatch`, `errGenesisMismatch`, `errForkIDRejected`, ...) from
 * the protocol's Run, which `p2p.discReasonForError` maps to `DiscSubprotocolError`.
 * @example if (err instanceof EthStatusError && err.mismatch === 'fork-id') console.log(err.message)
 */
export class EthStatusError extends DisconnectError {
  readonly mismatch: EthStatusMismatch;
  constructor(mismatch: EthStatusMismatch, detail: string) {
    super(DisconnectReason.SubprotocolError, 'local');
    this.mismatch = mismatch;
    this.message = `${this.message}: eth status ${mismatch} mismatch: ${detail}`;
  }
}

/** The remote's head, as last announced (Status, then NewBlock / NewBlockHashes / BlockRangeUpdate). */
export interface RemoteHead {
  readonly hash: Uint8Array;
  readonly number: bigint | null;
  readonly td: bigint | null;
}

type Raw = readonly Uint8Array[];

/** Per-peer state of an eth protocol (the handshake's result). */
export interface EthState {
  readonly version: EthVersion;
  /** The remote's Status. */
  readonly status: Status68 | Status69;
  head: RemoteHead;
  /** The remote's served block range (eth/69), as of its Status or last BlockRangeUpdate. */
  range: BlockRangeUpdateMessage | null;
  readonly headers: RequestTracker<Raw>;
  readonly bodies: RequestTracker<Raw>;
  readonly receipts: RequestTracker<Raw>;
  readonly transactions: RequestTracker<Raw>;
  /** Ids of abandoned requests by kind, whose late replies are dropped. */
  readonly abandoned: Set<string>;
}

/** An eth/68 protocol object. */
export type Eth68Protocol = Protocol<Eth68Messages, EthState>;
/** An eth/69 protocol object. */
export type Eth69Protocol = Protocol<Eth69Messages, EthState>;
/** The typed context of an eth/68 peer. */
export type Eth68Context = ProtocolContext<Eth68Messages, EthState>;
/** The typed context of an eth/69 peer. */
export type Eth69Context = ProtocolContext<Eth69Messages, EthState>;
/** The context of a peer on either version: what the request helpers take. */
export type EthContext = Eth68Context | Eth69Context;

/** The messages both versions share, with equal payloads. */
type CommonMessages = Omit<Eth68Messages, 'Status' | 'NewBlockHashes' | 'NewBlock'>;
type CommonContext = ProtocolContext<CommonMessages, EthState>;

/** Options of {@link eth}. */
export interface EthOptions {
  readonly chain: ChainConfig;
  /** The network id to announce and require (default: the chain's). */
  readonly network?: bigint | number;
  /** Chain data; without one the node reports its genesis as head and answers requests empty. */
  readonly provider?: ChainProvider;
  /** Versions to run (default both: `[69, 68]`). */
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
  /** The protocols of the selected versions, newest first: hand them to a server. */
  readonly protocols: readonly (Eth68Protocol | Eth69Protocol)[];
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

/** Rejects with a TimeoutError when `promise` does not settle within `timeoutMs`. */
function deadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The eth protocols for `chain`: eth/68 and eth/69 objects to hand to a server (`protocols`), each running the
 * Status handshake (network id, version, genesis and EIP-2124 fork id checks; for eth/69 the block range) and
 * answering GetBlockHeaders / GetBlockBodies / GetReceipts / GetPooledTransactions from `provider`.
 * @example
 * const { protocols, eth69 } = eth({ chain: mainnet })
 * const server = createServer({ privateKey, protocols: [...protocols] })
 * // later, for a connected peer:
 * const ctx = peer.protocol(eth69)
 * if (ctx) console.log(await getBlockHeaders(ctx, { origin: { number: 0n }, amount: 1n, skip: 0n, reverse: false }))
 */
export function eth(options: EthOptions): EthProtocols {
  const { chain, provider } = options;
  const networkId = BigInt(options.network ?? chain.networkId);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? ETH_HANDSHAKE_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? ETH_REQUEST_TIMEOUT_MS;
  const maxPending = options.maxPending ?? MAX_PENDING_REQUESTS;
  const versions = options.versions ?? [69, 68];
  for (const version of versions) {
    if (version !== 68 && version !== 69) throw new RangeError(`eth: unsupported version ${String(version)}`);
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

  const newState = (version: EthVersion, status: Status68 | Status69, head: RemoteHead): EthState => {
    const tracker = (what: string): RequestTracker<Raw> =>
      new RequestTracker<Raw>({ timeoutMs: requestTimeoutMs, maxPending, what });
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
      headers: tracker('GetBlockHeaders'),
      bodies: tracker('GetBlockBodies'),
      receipts: tracker('GetReceipts'),
      transactions: tracker('GetPooledTransactions'),
      abandoned: new Set(),
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
    send: () => Promise<void>,
    receive: () => Promise<S>,
  ): Promise<S> => {
    const sent = send();
    sent.catch(() => {});
    const theirs = await deadline(receive(), handshakeTimeoutMs, 'eth status');
    await sent;
    return theirs;
  };

  const handshake68 = async (ctx: HandshakeContext<Eth68Messages>): Promise<EthState> => {
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
      () => ctx.send('Status', ours),
      () => ctx.receive('Status', { timeoutMs: handshakeTimeoutMs }),
    );
    checkCommon(theirs, 68, head);
    return newState(68, theirs, { hash: theirs.head, number: null, td: theirs.td });
  };

  const handshake69 = async (ctx: HandshakeContext<Eth69Messages>): Promise<EthState> => {
    const head = await localHead();
    const ours: Status69 = {
      version: 69,
      networkId,
      genesis: chain.genesisHash,
      forkId: forkId(chain, head),
      earliestBlock: head.earliest ?? 0n,
      latestBlock: head.number,
      latestBlockHash: head.hash,
    };
    const theirs = await exchange(
      () => ctx.send('Status', ours),
      () => ctx.receive('Status', { timeoutMs: handshakeTimeoutMs }),
    );
    checkCommon(theirs, 69, head);
    checkRange(theirs, (detail) => new EthStatusError('block-range', detail));
    return newState(69, theirs, { hash: theirs.latestBlockHash, number: theirs.latestBlock, td: null });
  };

  /** Calls a provider lookup; a missing lookup or one that fails gives an empty reply. */
  const lookup = async (
    ctx: CommonContext,
    what: string,
    call: (() => Raw | Promise<Raw>) | undefined,
  ): Promise<Raw> => {
    if (!call) return [];
    try {
      return await call();
    } catch (error) {
      ctx.log.warn('chain provider failed; answering empty', { what, error: String(error) });
      return [];
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
    GetBlockHeaders: async (
      query: Parameters<CommonMessages['GetBlockHeaders']['codec']['encode']>[0],
      ctx: CommonContext,
    ) => {
      const limit = Number(query.amount < BigInt(MAX_HEADERS_SERVE) ? query.amount : BigInt(MAX_HEADERS_SERVE));
      const headers =
        limit === 0
          ? []
          : await lookup(ctx, 'headers', provider?.getHeaders && (() => provider.getHeaders!(query, limit)));
      await ctx.send('BlockHeaders', { requestId: query.requestId, headers: trim(headers, limit) });
    },
    GetBlockBodies: async (
      { requestId, hashes }: { requestId: bigint; hashes: readonly Uint8Array[] },
      ctx: CommonContext,
    ) => {
      const wanted = hashes.slice(0, MAX_BODIES_SERVE);
      const bodies = await lookup(ctx, 'bodies', provider?.getBodies && (() => provider.getBodies!(wanted)));
      await ctx.send('BlockBodies', { requestId, bodies: trim(bodies, wanted.length) });
    },
    GetPooledTransactions: async (
      { requestId, hashes }: { requestId: bigint; hashes: readonly Uint8Array[] },
      ctx: CommonContext,
    ) => {
      const txs = await lookup(
        ctx,
        'pooled transactions',
        provider?.getPooledTransactions && (() => provider.getPooledTransactions!(hashes)),
      );
      await ctx.send('PooledTransactions', { requestId, transactions: trim(txs, hashes.length) });
    },
    GetReceipts: async (
      { requestId, hashes }: { requestId: bigint; hashes: readonly Uint8Array[] },
      ctx: CommonContext,
    ) => {
      const wanted = hashes.slice(0, MAX_RECEIPTS_SERVE);
      const receipts = await lookup(
        ctx,
        'receipts',
        provider?.getReceipts && (() => provider.getReceipts!(wanted, ctx.state.version)),
      );
      await ctx.send('Receipts', { requestId, receipts: trim(receipts, wanted.length) });
    },
    BlockHeaders: ({ requestId, headers }: { requestId: bigint; headers: Raw }, ctx: CommonContext) =>
      deliver(ctx, ctx.state.headers, 'headers', requestId, headers),
    BlockBodies: ({ requestId, bodies }: { requestId: bigint; bodies: Raw }, ctx: CommonContext) =>
      deliver(ctx, ctx.state.bodies, 'bodies', requestId, bodies),
    Receipts: ({ requestId, receipts }: { requestId: bigint; receipts: Raw }, ctx: CommonContext) =>
      deliver(ctx, ctx.state.receipts, 'receipts', requestId, receipts),
    PooledTransactions: ({ requestId, transactions }: { requestId: bigint; transactions: Raw }, ctx: CommonContext) =>
      deliver(ctx, ctx.state.transactions, 'transactions', requestId, transactions),
  };

  const onClose = (ctx: CommonContext, error: DisconnectError): void => {
    for (const tracker of [ctx.state.headers, ctx.state.bodies, ctx.state.receipts, ctx.state.transactions]) {
      tracker.close(error);
    }
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

  const eth68: Eth68Protocol = defineProtocol<Eth68Messages, EthState>({
    name: ETH_PROTOCOL_NAME,
    version: 68,
    length: ETH68_LENGTH,
    maxMessageSize: MAX_MESSAGE_SIZE,
    messages: eth68Messages,
    handshake: handshake68,
    handlers: {
      ...commonHandlers,
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
    onClose,
    nodeInfo: nodeInfo(68),
    peerInfo,
    enrEntries,
    acceptsNode,
  });

  const eth69: Eth69Protocol = defineProtocol<Eth69Messages, EthState>({
    name: ETH_PROTOCOL_NAME,
    version: 69,
    length: ETH69_LENGTH,
    maxMessageSize: MAX_MESSAGE_SIZE,
    messages: eth69Messages,
    handshake: handshake69,
    handlers: {
      ...commonHandlers,
      BlockRangeUpdate: (update, ctx) => {
        // Geth ends the peer with a plain error (so "subprotocol error") for an invalid range.
        checkRange(
          update,
          (detail) => new DisconnectError(DisconnectReason.SubprotocolError, 'local', { cause: detail }),
        );
        ctx.state.range = update;
        ctx.state.head = { hash: update.latestBlockHash, number: update.latestBlock, td: null };
      },
    },
    onClose,
    nodeInfo: nodeInfo(69),
    peerInfo,
    enrEntries,
    acceptsNode,
  });

  const byVersion = { 68: eth68, 69: eth69 } as const;
  const selected = [...new Set(versions)].sort((a, b) => b - a).map((version) => byVersion[version]);
  return { eth68, eth69, protocols: selected };
}

/** Geth's `BlockRangeUpdatePacket.Validate`: earliest ≤ latest, and a non-zero latest hash. */
function checkRange(range: BlockRangeUpdateMessage, fail: (detail: string) => Error): void {
  if (equalBytes(range.latestBlockHash, ZERO_HASH)) throw fail('zero latest block hash');
  if (range.earliestBlock > range.latestBlock)
    throw fail(`earliest ${range.earliestBlock} > latest ${range.latestBlock}`);
}

function remember(set: Set<string>, key: string): void {
  set.add(key);
  if (set.size > MAX_ABANDONED_REQUESTS * 4) set.delete(set.values().next().value!);
}

/** Hands a reply to its request; a reply to no request (nor to an abandoned one) is a breach of protocol. */
function deliver(ctx: CommonContext, tracker: RequestTracker<Raw>, kind: string, requestId: bigint, items: Raw): void {
  if (tracker.deliver(requestId, items) || ctx.state.abandoned.delete(`${kind}:${requestId}`)) return;
  ctx.log.debug('unsolicited eth reply', { kind, requestId: requestId.toString() });
  ctx.disconnect(DisconnectReason.ProtocolError);
}

/** Options of the request helpers. */
export interface EthRequestOptions {
  readonly signal?: AbortSignal;
}

async function request(
  context: EthContext,
  kind: 'headers' | 'bodies' | 'receipts' | 'transactions',
  maxItems: number,
  send: (ctx: CommonContext, requestId: bigint) => Promise<void>,
  options: EthRequestOptions,
): Promise<Raw> {
  const { signal } = options;
  throwIfAborted(signal);
  const ctx = context as CommonContext;
  const { state } = ctx;
  if (!state) throw new Devp2pError(ERR_NOT_READY, 'eth handshake has not completed');
  const cancel = new AbortController();
  const onAbort = (): void => cancel.abort(new AbortError('eth request aborted', { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { id, response } = state[kind].start(cancel.signal);
    new Promise<void>((resolve) => resolve(send(ctx, id))).catch((error: unknown) => cancel.abort(error));
    let items: Raw;
    try {
      items = await response;
    } catch (error) {
      remember(state.abandoned, `${kind}:${id}`);
      throw error;
    }
    if (items.length > maxItems) {
      ctx.disconnect(DisconnectReason.ProtocolError);
      throw new ProtocolError(
        ERR_ETH_RESPONSE,
        `eth ${kind} reply has ${items.length} items, more than the ${maxItems} asked`,
      );
    }
    return items;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function checkRequestHashes(hashes: readonly Uint8Array[], max: number, what: string): void {
  if (hashes.length === 0 || hashes.length > max) throw new RangeError(`${what}: between 1 and ${max} hashes`);
}

/**
 * Asks the peer for block headers; resolves with raw RLP headers (possibly fewer than asked, or none).
 * Rejects with a TimeoutError, an AbortError, the peer's DisconnectError, a Devp2pError
 * (`ERR_TOO_MANY_REQUESTS`), or a ProtocolError when the reply holds more headers than asked.
 * @example const [genesis] = await getBlockHeaders(ctx, { origin: { number: 0n }, amount: 1n, skip: 0n, reverse: false })
 */
export function getBlockHeaders(
  ctx: EthContext,
  query: BlockHeadersQuery,
  options: EthRequestOptions = {},
): Promise<Raw> {
  if (query.amount < 1n || query.amount > BigInt(MAX_HEADERS_SERVE)) {
    return Promise.reject(new RangeError(`getBlockHeaders: amount must be 1 to ${MAX_HEADERS_SERVE}`));
  }
  return request(
    ctx,
    'headers',
    Number(query.amount),
    (c, requestId) => c.send('GetBlockHeaders', { requestId, ...query }),
    options,
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
  try {
    checkRequestHashes(hashes, MAX_BODIES_SERVE, 'getBlockBodies');
  } catch (error) {
    return Promise.reject(error);
  }
  return request(
    ctx,
    'bodies',
    hashes.length,
    (c, requestId) => c.send('GetBlockBodies', { requestId, hashes }),
    options,
  );
}

/**
 * Asks the peer for the receipts of these blocks; resolves with one raw RLP receipt list per block, in the
 * encoding of the peer's version.
 * @example const [receipts] = await getReceipts(ctx, [hash])
 */
export function getReceipts(
  ctx: EthContext,
  hashes: readonly Uint8Array[],
  options: EthRequestOptions = {},
): Promise<Raw> {
  try {
    checkRequestHashes(hashes, MAX_RECEIPTS_SERVE, 'getReceipts');
  } catch (error) {
    return Promise.reject(error);
  }
  return request(
    ctx,
    'receipts',
    hashes.length,
    (c, requestId) => c.send('GetReceipts', { requestId, hashes }),
    options,
  );
}

/**
 * Asks the peer for pooled transactions by hash; resolves with the raw transactions it has, in order.
 * @example const txs = await getPooledTransactions(ctx, announcedHashes)
 */
export function getPooledTransactions(
  ctx: EthContext,
  hashes: readonly Uint8Array[],
  options: EthRequestOptions = {},
): Promise<Raw> {
  try {
    checkRequestHashes(hashes, MAX_REQUEST_HASHES, 'getPooledTransactions');
  } catch (error) {
    return Promise.reject(error);
  }
  return request(
    ctx,
    'transactions',
    hashes.length,
    (c, requestId) => c.send('GetPooledTransactions', { requestId, hashes }),
    options,
  );
}

/**
 * Tells an eth/69 peer which blocks we serve (BlockRangeUpdate). Throws a RangeError for an invalid range.
 * @example await announceBlockRange(ctx, { earliestBlock: 0n, latestBlock: head.number, latestBlockHash: head.hash })
 */
export function announceBlockRange(ctx: Eth69Context, range: BlockRangeUpdateMessage): Promise<void> {
  try {
    checkRange(range, (detail) => new RangeError(`announceBlockRange: ${detail}`));
  } catch (error) {
    return Promise.reject(error);
  }
  return ctx.send('BlockRangeUpdate', range);
}
