/**
 * The snap/1 protocol: serving the four requests from an application's {@link SnapProvider} (or answering them
 * empty, as geth does without the state), typed request helpers with request ids, timeouts and `AbortSignal`, and
 * the checks that drop a peer whose reply breaks its request.
 */
import {
  type Clock,
  Devp2pError,
  defineProtocol,
  type JsonValue,
  type MessageCodec,
  type PeerDescription,
  type Protocol,
  type ProtocolContext,
  ProtocolError,
  systemClock,
} from '@devp2p/core';
import {
  type AccountData,
  type AccountRangeMessage,
  accountRangeCodec,
  accountsSize,
  type ByteCodesMessage,
  byteCodesCodec,
  compareBytes,
  EMPTY_CODE_HASH,
  type GetAccountRangeMessage,
  type GetByteCodesMessage,
  type GetStorageRangesMessage,
  type GetTrieNodesMessage,
  getTrieNodesCodec,
  MAX_CODE_LOOKUPS,
  MAX_MESSAGE_SIZE,
  MAX_REQUEST_SIZE,
  MAX_TRIE_NODE_LOOKUPS,
  MAX_TRIE_NODE_TIME_SPENT_MS,
  RESPONSE_SIZE_FACTOR,
  type Snap1Messages,
  SOFT_RESPONSE_LIMIT,
  STATE_LOOKUP_SLACK,
  type StorageRangesMessage,
  type StorageSlot,
  snap1Messages,
  storageRangesCodec,
  storageSize,
  type TrieNodePathSet,
  type TrieNodesMessage,
  trieNodeCount,
  trieNodesCodec,
} from './messages.ts';

/** The capability name. */
export const SNAP_PROTOCOL_NAME = 'snap';
/** The version this package speaks. snap/2 (EIP-8189) is not final yet. */
export const SNAP_VERSION = 1;
/** Message codes snap/1 reserves: 8 (0x00–0x07), geth's `protocolLengths[SNAP1]`. */
export const SNAP1_LENGTH = 8;
/**
 * How long a request waits for its reply: 20 s. Geth's syncer times each request out after an estimate of the
 * peer's round trip that starts at, and is tuned between 2 s and, 20 s (`rttMaxEstimate`).
 */
export const SNAP_REQUEST_TIMEOUT_MS: number = 20_000;
/** Requests of one kind (account ranges, storage ranges, bytecodes, trie nodes) outstanding per peer: 16. */
export const MAX_PENDING_REQUESTS: number = 16;
/** The request/response pairs of snap/1, for `ctx.request`. */
export const SNAP1_REQUESTS = {
  GetAccountRange: 'AccountRange',
  GetStorageRanges: 'StorageRanges',
  GetByteCodes: 'ByteCodes',
  GetTrieNodes: 'TrieNodes',
} as const;
/** The request/response pairs of snap/1. */
export type Snap1Requests = typeof SNAP1_REQUESTS;

/** Error code of a reply that breaks its request: the peer is disconnected. */
export const ERR_SNAP_RESPONSE = 'ERR_SNAP_RESPONSE';
/** Error code of a request on a context whose protocol has not started. */
export const ERR_NOT_READY = 'ERR_NOT_READY';

/** How a reply broke its request. */
export type SnapResponseViolation = 'too-many-items' | 'too-large' | 'out-of-range';

/**
 * A reply that breaks the request it answers: more items than asked (ByteCodes,
 * TrieNodes, or more storage sets than accounts), more bytes than {@link RESPONSE_SIZE_FACTOR} × `responseBytes`
 * (AccountRange, StorageRanges), or a range starting before the requested origin. The request rejects with it and
 * the peer ends with "breach of protocol" (0x02), as for an undecodable message. (Geth drops such a peer too; its
 * handler errors map to "subprotocol error".)
 * @example if (err instanceof SnapResponseError && err.violation === 'too-large') console.log('peer dropped')
 */
export class SnapResponseError extends ProtocolError {
  readonly violation: SnapResponseViolation;
  constructor(violation: SnapResponseViolation, message: string) {
    super(ERR_SNAP_RESPONSE, message);
    this.violation = violation;
  }
}

// ---------------------------------------------------------------------------------------------------------
// State, context, provider

/** The reply of an account range request, without its request id. */
export interface AccountRangeResult {
  readonly accounts: readonly AccountData[];
  readonly proof: readonly Uint8Array[];
}

/** The reply of a storage ranges request, without its request id. */
export interface StorageRangesResult {
  readonly slots: readonly (readonly StorageSlot[])[];
  readonly proof: readonly Uint8Array[];
}

/** Per-peer state of snap/1 (the handshake's result; snap has no wire handshake). */
export interface SnapState {
  readonly version: typeof SNAP_VERSION;
  /** Requests of the peer we answered. */
  served: number;
}

/** A snap/1 protocol object. */
export type SnapProtocol = Protocol<Snap1Messages, SnapState, Snap1Requests>;
/** The typed context of a snap/1 peer: what the request helpers take. */
export type SnapContext = ProtocolContext<Snap1Messages, SnapState, Snap1Requests>;

/** What a provider's lookups run with. */
export interface SnapServeContext {
  /** The peer asking. */
  readonly peer: PeerDescription;
  /** Aborted when the peer goes away: stop the lookup. */
  readonly signal: AbortSignal;
}

/** An account range to serve (from GetAccountRange). */
export interface AccountRangeQuery {
  /** Root of the account trie. */
  readonly root: Uint8Array;
  /** First account hash to return; its proof goes in the reply even when the account does not exist. */
  readonly origin: Uint8Array;
  /** Stop after the first account whose hash is at or past this one. */
  readonly limit: Uint8Array;
  /** Stop once the accounts (32 + slim body bytes each) exceed this; at most {@link SOFT_RESPONSE_LIMIT}. */
  readonly bytes: number;
}

/** Storage ranges to serve (from GetStorageRanges). */
export interface StorageRangesQuery {
  readonly root: Uint8Array;
  /** The accounts whose storage to return, in order. */
  readonly accounts: readonly Uint8Array[];
  /** First slot hash of the first account (32 bytes; zero for the whole storage). Later accounts start at zero. */
  readonly origin: Uint8Array;
  /** Slot hash after which the first account's range stops (32 bytes; all 0xff for the whole storage). */
  readonly limit: Uint8Array;
  /** Do not open another account's storage once the slots (32 + data bytes each) reach this; at most 2 MiB. */
  readonly bytes: number;
  /** Stop even inside an account's storage (then prove it) past this: `bytes × (1 + STATE_LOOKUP_SLACK)`. */
  readonly hardLimit: number;
}

/** One trie node to look up (from a GetTrieNodes path set). */
export interface TrieNodeQuery {
  readonly root: Uint8Array;
  /** The path in the account trie: of the node itself, or of the account whose storage trie holds it. */
  readonly accountPath: Uint8Array;
  /** The path in that account's storage trie; absent for an account trie node. */
  readonly storagePath?: Uint8Array;
}

type Maybe<T> = T | undefined | Promise<T | undefined>;

/**
 * Where the protocol gets state data: each lookup is optional, and without one the request is answered as geth
 * answers it without the state: empty (except the empty code hash, whose code is known). A lookup that throws
 * gives an empty reply too. The plugin applies the limits (lookups, bytes, time) around the per-item lookups;
 * a range lookup applies `bytes` itself, and its reply is checked (order, proof size, no more than
 * {@link RESPONSE_SIZE_FACTOR} × the requested bytes) before it is sent, or replaced by an empty one.
 * @example
 * const provider: SnapProvider = {
 *   accountRange: (q) => db.hasState(q.root) ? db.accountRange(q.root, q.origin, q.limit, q.bytes) : undefined,
 *   byteCode: (hash) => db.code(hash),
 * }
 */
export interface SnapProvider {
  /** Accounts from `origin` with the boundary proofs; undefined when the state of `root` is not available. */
  accountRange?(query: AccountRangeQuery, context: SnapServeContext): Maybe<AccountRangeResult>;
  /** One list of slots per account served, with a proof for the last one when it is cut; undefined without state. */
  storageRanges?(query: StorageRangesQuery, context: SnapServeContext): Maybe<StorageRangesResult>;
  /** The code with this hash; undefined (or empty) when unknown. */
  byteCode?(hash: Uint8Array, context: SnapServeContext): Maybe<Uint8Array>;
  /** The trie node at this path; undefined (or empty) when unknown. */
  trieNode?(query: TrieNodeQuery, context: SnapServeContext): Maybe<Uint8Array>;
}

/** Options of {@link createSnapProtocol}. */
export interface SnapOptions {
  /** State data; without one every request is answered empty. */
  readonly provider?: SnapProvider;
  /** Request deadline (default {@link SNAP_REQUEST_TIMEOUT_MS}). */
  readonly requestTimeoutMs?: number;
  /** Requests of one kind outstanding per peer (default {@link MAX_PENDING_REQUESTS}). */
  readonly maxPending?: number;
  /** Time for the trie node lookup budget (default `systemClock`). */
  readonly clock?: Pick<Clock, 'now'>;
}

// ---------------------------------------------------------------------------------------------------------
// Checks of a reply against its request (on both sides: of a peer's reply, and of our provider's)

const ZERO_HASH = new Uint8Array(32);
const EMPTY = new Uint8Array(0);
const MAX_HASH = new Uint8Array(32).fill(0xff);

function tooLarge(what: string, size: number, responseBytes: bigint): SnapResponseError | undefined {
  const allowed = BigInt(RESPONSE_SIZE_FACTOR) * responseBytes;
  if (BigInt(size) <= allowed) return undefined;
  return new SnapResponseError('too-large', `${what} of ${size} bytes exceeds ${allowed} (2 × ${responseBytes} asked)`);
}

function checkAccountRange(
  request: Pick<GetAccountRangeMessage, 'origin' | 'responseBytes'>,
  reply: AccountRangeResult,
): SnapResponseError | undefined {
  const first = reply.accounts[0];
  if (first && compareBytes(first.hash, request.origin) < 0) {
    return new SnapResponseError('out-of-range', 'snap account range starts before the requested origin');
  }
  return tooLarge('snap account range', accountsSize(reply.accounts), request.responseBytes);
}

function checkStorageRanges(
  request: Pick<GetStorageRangesMessage, 'accounts' | 'origin' | 'responseBytes'>,
  reply: StorageRangesResult,
): SnapResponseError | undefined {
  if (reply.slots.length > request.accounts.length) {
    return new SnapResponseError(
      'too-many-items',
      `snap storage ranges reply has ${reply.slots.length} slot sets for ${request.accounts.length} accounts`,
    );
  }
  const first = reply.slots[0]?.[0];
  if (first && request.origin.length > 0 && compareBytes(first.hash, leftPad32(request.origin)) < 0) {
    return new SnapResponseError('out-of-range', 'snap storage range starts before the requested origin');
  }
  return tooLarge('snap storage ranges', storageSize(reply.slots), request.responseBytes);
}

function tooMany(what: string, got: number, asked: number): SnapResponseError | undefined {
  if (got <= asked) return undefined;
  return new SnapResponseError('too-many-items', `snap ${what} reply has ${got} items, more than the ${asked} asked`);
}

/** Geth's `common.BytesToHash`: the last 32 bytes, left-padded with zeros. */
function leftPad32(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 32) return bytes;
  const out = new Uint8Array(32);
  out.set(bytes.subarray(Math.max(0, bytes.length - 32)), 32 - Math.min(32, bytes.length));
  return out;
}

function equalBytes32(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** A request's `responseBytes` as served: at most the soft response limit (geth lowers it the same way). */
function servedBytes(requested: bigint): number {
  return requested > BigInt(SOFT_RESPONSE_LIMIT) ? SOFT_RESPONSE_LIMIT : Number(requested);
}

// ---------------------------------------------------------------------------------------------------------
// The protocol

/**
 * A snap/1 protocol to hand to a server, serving requests from `provider` (empty replies without one). Snap is
 * meant to run next to eth (`caps/snap.md`); this plugin does not require it, so pair it with `@devp2p/plugin-eth`.
 * Throws a RangeError for a timeout or limit that is not positive.
 * @example
 * const snapProtocol = createSnapProtocol({ provider: { byteCode: (hash) => codes.get(bytesToHex(hash)) } })
 * const server = createServer({ privateKey, protocols: [...ethProtocols, snapProtocol] })
 */
export function createSnapProtocol(options: SnapOptions = {}): SnapProtocol {
  const { provider } = options;
  const timeoutMs = options.requestTimeoutMs ?? SNAP_REQUEST_TIMEOUT_MS;
  const maxPending = options.maxPending ?? MAX_PENDING_REQUESTS;
  const clock = options.clock ?? systemClock;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`createSnapProtocol: requestTimeoutMs must be a positive number, got ${timeoutMs}`);
  }
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
    throw new RangeError(`createSnapProtocol: maxPending must be a positive integer, got ${maxPending}`);
  }

  const serving = (ctx: SnapContext): SnapServeContext => ({ peer: ctx.peer, signal: ctx.signal });
  const byteCode = provider?.byteCode?.bind(provider);
  const trieNode = provider?.trieNode?.bind(provider);

  /** Runs a provider lookup; one that throws gives undefined (an empty reply) and a warning. */
  const consult = async <T>(ctx: SnapContext, what: string, call: () => Maybe<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      ctx.log.warn('snap provider failed; answering empty', { what, error: String(error) });
      return undefined;
    }
  };

  /**
   * The provider's reply when it encodes (order, hashes, proof size), fits in a message and passes the check the
   * requester applies to it (geth would drop us otherwise); else an empty one, with a warning.
   */
  const vetted = <T>(
    ctx: SnapContext,
    what: string,
    codec: MessageCodec<T>,
    reply: T,
    empty: T,
    check: () => SnapResponseError | undefined,
  ): T => {
    let problem: string | undefined;
    try {
      const size = codec.encode(reply).length;
      if (size > MAX_MESSAGE_SIZE) problem = `${size} bytes exceed the message limit of ${MAX_MESSAGE_SIZE}`;
      else problem = check()?.message;
    } catch (error) {
      problem = String(error);
    }
    if (problem === undefined) return reply;
    ctx.log.warn('snap provider reply refused; answering empty', { what, problem });
    return empty;
  };

  const handlers = {
    GetAccountRange: async (request: GetAccountRangeMessage, ctx: SnapContext): Promise<void> => {
      const { requestId } = request;
      const empty: AccountRangeMessage = { requestId, accounts: [], proof: [] };
      let reply = empty;
      if (provider?.accountRange) {
        const query: AccountRangeQuery = {
          root: request.root,
          origin: request.origin,
          limit: request.limit,
          bytes: servedBytes(request.responseBytes),
        };
        const result = await consult(ctx, 'account range', () => provider.accountRange!(query, serving(ctx)));
        if (result) {
          const full: AccountRangeMessage = { requestId, accounts: result.accounts, proof: result.proof };
          reply = vetted(ctx, 'account range', accountRangeCodec, full, empty, () => checkAccountRange(request, full));
        }
      }
      ctx.state.served++;
      await ctx.send('AccountRange', reply);
    },

    GetStorageRanges: async (request: GetStorageRangesMessage, ctx: SnapContext): Promise<void> => {
      const { requestId } = request;
      const empty: StorageRangesMessage = { requestId, slots: [], proof: [] };
      let reply = empty;
      if (provider?.storageRanges && request.accounts.length > 0) {
        const bytes = servedBytes(request.responseBytes);
        const query: StorageRangesQuery = {
          root: request.root,
          accounts: request.accounts,
          origin: request.origin.length > 0 ? leftPad32(request.origin) : ZERO_HASH.slice(),
          limit: request.limit.length > 0 ? leftPad32(request.limit) : MAX_HASH.slice(),
          bytes,
          hardLimit: Math.floor(bytes * (1 + STATE_LOOKUP_SLACK)),
        };
        const result = await consult(ctx, 'storage ranges', () => provider.storageRanges!(query, serving(ctx)));
        if (result) {
          const full: StorageRangesMessage = { requestId, slots: result.slots, proof: result.proof };
          reply = vetted(ctx, 'storage ranges', storageRangesCodec, full, empty, () =>
            checkStorageRanges(request, full),
          );
        }
      }
      ctx.state.served++;
      await ctx.send('StorageRanges', reply);
    },

    GetByteCodes: async (request: GetByteCodesMessage, ctx: SnapContext): Promise<void> => {
      const { requestId } = request;
      const limit = servedBytes(request.responseBytes);
      const codes: Uint8Array[] = [];
      let bytes = 0;
      let failed = false;
      // Geth: at most maxCodeLookups hashes, the empty code answered without a lookup, unknown codes skipped, and
      // stop once the codes exceed the byte limit (the code crossing it still goes).
      for (const hash of request.hashes.slice(0, MAX_CODE_LOOKUPS)) {
        if (ctx.signal.aborted) break;
        if (equalBytes32(hash, EMPTY_CODE_HASH)) {
          codes.push(new Uint8Array(0));
        } else if (byteCode) {
          let code: Uint8Array | undefined;
          try {
            code = await byteCode(hash, serving(ctx));
          } catch (error) {
            ctx.log.warn('snap provider failed; answering empty', { what: 'bytecode', error: String(error) });
            failed = true;
            break;
          }
          if (code !== undefined && code.length > 0) {
            codes.push(code);
            bytes += code.length;
          }
        }
        if (bytes > limit) break;
      }
      const empty: ByteCodesMessage = { requestId, codes: [] };
      const reply = failed
        ? empty
        : vetted(ctx, 'bytecodes', byteCodesCodec, { requestId, codes }, empty, () => undefined);
      ctx.state.served++;
      await ctx.send('ByteCodes', reply);
    },

    GetTrieNodes: async (request: GetTrieNodesMessage, ctx: SnapContext): Promise<void> => {
      const { requestId, root } = request;
      const limit = servedBytes(request.responseBytes);
      const nodes: Uint8Array[] = [];
      let bytes = 0;
      let lookups = 0;
      let failed = false;
      const started = clock.now();
      const spent = (): boolean =>
        bytes > limit || lookups >= MAX_TRIE_NODE_LOOKUPS || clock.now() - started > MAX_TRIE_NODE_TIME_SPENT_MS;
      if (trieNode) {
        sets: for (const { accountPath, storagePaths } of request.paths) {
          // An account trie node, or the listed nodes of that account's storage trie; as geth, a storage node that
          // is missing ends its path set.
          const targets: (Uint8Array | undefined)[] = storagePaths.length === 0 ? [undefined] : [...storagePaths];
          for (const storagePath of targets) {
            if (ctx.signal.aborted) break sets;
            const query: TrieNodeQuery =
              storagePath === undefined ? { root, accountPath } : { root, accountPath, storagePath };
            let node: Uint8Array | undefined;
            try {
              node = await trieNode(query, serving(ctx));
            } catch (error) {
              ctx.log.warn('snap provider failed; answering empty', { what: 'trie node', error: String(error) });
              failed = true;
              break sets;
            }
            lookups++;
            const found = node !== undefined && node.length > 0;
            if (found) {
              nodes.push(node!);
              bytes += node!.length;
            }
            if (spent()) break sets;
            if (!found) break;
          }
        }
      }
      const empty: TrieNodesMessage = { requestId, nodes: [] };
      const reply = failed
        ? empty
        : vetted(ctx, 'trie nodes', trieNodesCodec, { requestId, nodes }, empty, () => undefined);
      ctx.state.served++;
      await ctx.send('TrieNodes', reply);
    },
  };

  return defineProtocol<Snap1Messages, SnapState, Snap1Requests>({
    name: SNAP_PROTOCOL_NAME,
    version: SNAP_VERSION,
    length: SNAP1_LENGTH,
    maxMessageSize: MAX_MESSAGE_SIZE,
    messages: snap1Messages,
    // Nothing to exchange on the wire: the handshake only creates this peer's state.
    handshake: () => ({ version: SNAP_VERSION, served: 0 }),
    handlers,
    requests: SNAP1_REQUESTS,
    requestTimeoutMs: timeoutMs,
    maxPendingRequests: maxPending,
    // Geth's snap NodeInfo is an empty struct, and its peer info the version.
    nodeInfo: (): JsonValue => ({}),
    peerInfo: ({ state }): JsonValue => ({ version: state.version }),
    // Geth advertises snap in its node record with an empty `snap` entry (`enrEntry{}`, encoded as an empty list).
    enrEntries: () => ({ snap: [] }),
  });
}

/**
 * snap/1 without state data: every request is answered empty, as geth answers for a state it does not have. Hand it
 * to a server to make requests of snap peers.
 * @example const server = createServer({ privateKey, protocols: [...protocols, snap] })
 */
export const snap: SnapProtocol = createSnapProtocol();

// ---------------------------------------------------------------------------------------------------------
// Request helpers

/** Options of the request helpers. */
export interface SnapRequestOptions {
  /** Aborting it rejects the request with an AbortError; a reply that still comes is dropped. */
  readonly signal?: AbortSignal;
}

/** An account range to ask for. */
export interface AccountRangeRequest {
  /** State root (32 bytes), of a block at most 128 blocks old: peers keep no older snapshot. */
  readonly root: Uint8Array;
  /** First account hash (default: zero). */
  readonly origin?: Uint8Array;
  /** Last account hash of interest (default: all 0xff). */
  readonly limit?: Uint8Array;
  /** Soft limit of the reply (default {@link MAX_REQUEST_SIZE}; servers cap it at {@link SOFT_RESPONSE_LIMIT}). */
  readonly responseBytes?: number;
}

/** Storage ranges to ask for. */
export interface StorageRangesRequest {
  readonly root: Uint8Array;
  /** Hashes of the accounts (at least one). */
  readonly accounts: readonly Uint8Array[];
  /** First slot hash of the first account (default: its whole storage). */
  readonly origin?: Uint8Array;
  /** Slot hash after which the first account's range may stop (default: its whole storage). */
  readonly limit?: Uint8Array;
  readonly responseBytes?: number;
}

/** Bytecodes to ask for. */
export interface ByteCodesRequest {
  /** Code hashes, 1 to {@link MAX_CODE_LOOKUPS}. */
  readonly hashes: readonly Uint8Array[];
  readonly responseBytes?: number;
}

/** Trie nodes to ask for. */
export interface TrieNodesRequest {
  readonly root: Uint8Array;
  /** Path sets asking for 1 to {@link MAX_TRIE_NODE_LOOKUPS} nodes in all ({@link trieNodeCount}). */
  readonly paths: readonly TrieNodePathSet[];
  readonly responseBytes?: number;
}

function ready(ctx: SnapContext): SnapContext {
  const state = ctx.state as SnapState | undefined;
  if (!state) throw new Devp2pError(ERR_NOT_READY, 'snap protocol has not started for this peer');
  return ctx;
}

/** A request's check, from a function that returns the violation. */
function throwing<T>(violation: (reply: T) => SnapResponseError | undefined): (reply: T) => void {
  return (reply) => {
    const error = violation(reply);
    if (error) throw error;
  };
}

function hashArg(value: Uint8Array | undefined, label: string, fallback?: Uint8Array): Uint8Array {
  if (value === undefined && fallback !== undefined) return fallback.slice();
  if (!(value instanceof Uint8Array) || value.length !== 32) throw new TypeError(`${label}: expected 32 bytes`);
  return value;
}

function bytesArg(value: number | undefined, label: string): bigint {
  const bytes = value ?? MAX_REQUEST_SIZE;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`${label}: expected a positive integer`);
  return BigInt(bytes);
}

/**
 * Asks the peer for the accounts of the state trie `root` from `origin`, with the proofs of the range's ends.
 * Resolves with the accounts (consensus form) in ascending hash order, possibly none (the peer lacks that state).
 * The proof is not verified here (that needs keccak-256 and a trie). Rejects with a TimeoutError, an AbortError, the
 * peer's DisconnectError, a Devp2pError (`ERR_TOO_MANY_REQUESTS`), a TypeError / RangeError for bad arguments, or a
 * {@link SnapResponseError} when the reply breaks the request (the peer is then disconnected).
 * @example const { accounts, proof } = await getAccountRange(ctx, { root: header.stateRoot }, { signal: AbortSignal.timeout(10_000) })
 */
export async function getAccountRange(
  ctx: SnapContext,
  request: AccountRangeRequest,
  options: SnapRequestOptions = {},
): Promise<AccountRangeResult> {
  const message = {
    root: hashArg(request.root, 'getAccountRange.root'),
    origin: hashArg(request.origin, 'getAccountRange.origin', ZERO_HASH),
    limit: hashArg(request.limit, 'getAccountRange.limit', MAX_HASH),
    responseBytes: bytesArg(request.responseBytes, 'getAccountRange.responseBytes'),
  };
  const reply = await ready(ctx).request('GetAccountRange', message, 'AccountRange', {
    signal: options.signal,
    check: throwing((response) => checkAccountRange(message, response)),
  });
  return { accounts: reply.accounts, proof: reply.proof };
}

/**
 * Asks the peer for the storage of these accounts (the first one from `origin` when given). Resolves with one list
 * of slots per account served, in request order (fewer lists than accounts when the reply filled up), and the proof
 * of the last list when it is incomplete. Rejects as {@link getAccountRange}.
 * @example const { slots } = await getStorageRanges(ctx, { root, accounts: [accountHash] })
 */
export async function getStorageRanges(
  ctx: SnapContext,
  request: StorageRangesRequest,
  options: SnapRequestOptions = {},
): Promise<StorageRangesResult> {
  if (!Array.isArray(request.accounts) || request.accounts.length === 0) {
    throw new RangeError('getStorageRanges.accounts: at least one account');
  }
  const message = {
    root: hashArg(request.root, 'getStorageRanges.root'),
    accounts: request.accounts.map((hash, i) => hashArg(hash, `getStorageRanges.accounts[${i}]`)),
    origin: hashArg(request.origin, 'getStorageRanges.origin', EMPTY),
    limit: hashArg(request.limit, 'getStorageRanges.limit', EMPTY),
    responseBytes: bytesArg(request.responseBytes, 'getStorageRanges.responseBytes'),
  };
  const reply = await ready(ctx).request('GetStorageRanges', message, 'StorageRanges', {
    signal: options.signal,
    check: throwing((response) => checkStorageRanges(message, response)),
  });
  return { slots: reply.slots, proof: reply.proof };
}

/**
 * Asks the peer for contract codes by hash. Resolves with the codes it has, in request order, unknown ones skipped
 * (so a code's hash is the way to match it). Rejects as {@link getAccountRange}, with a SnapResponseError when the
 * reply holds more codes than asked.
 * @example const [code] = await getByteCodes(ctx, { hashes: [account.codeHash] })
 */
export async function getByteCodes(
  ctx: SnapContext,
  request: ByteCodesRequest,
  options: SnapRequestOptions = {},
): Promise<readonly Uint8Array[]> {
  const { hashes } = request;
  if (!Array.isArray(hashes) || hashes.length === 0 || hashes.length > MAX_CODE_LOOKUPS) {
    throw new RangeError(`getByteCodes.hashes: between 1 and ${MAX_CODE_LOOKUPS} hashes`);
  }
  const message = {
    hashes: hashes.map((hash, i) => hashArg(hash, `getByteCodes.hashes[${i}]`)),
    responseBytes: bytesArg(request.responseBytes, 'getByteCodes.responseBytes'),
  };
  const reply = await ready(ctx).request('GetByteCodes', message, 'ByteCodes', {
    signal: options.signal,
    check: throwing((response) => tooMany('bytecodes', response.codes.length, hashes.length)),
  });
  return reply.codes;
}

/**
 * Asks the peer for state trie nodes by path. Resolves with the nodes in request order (possibly fewer). Rejects as
 * {@link getAccountRange}, with a SnapResponseError when the reply holds more nodes than the paths ask for.
 * @example const [rootNode] = await getTrieNodes(ctx, { root, paths: [{ accountPath: new Uint8Array(0), storagePaths: [] }] })
 */
export async function getTrieNodes(
  ctx: SnapContext,
  request: TrieNodesRequest,
  options: SnapRequestOptions = {},
): Promise<readonly Uint8Array[]> {
  const { paths } = request;
  if (!Array.isArray(paths)) throw new TypeError('getTrieNodes.paths: expected an array');
  const count = trieNodeCount(paths);
  if (paths.length === 0 || count > MAX_TRIE_NODE_LOOKUPS) {
    throw new RangeError(`getTrieNodes.paths: between 1 and ${MAX_TRIE_NODE_LOOKUPS} nodes`);
  }
  const message = {
    root: hashArg(request.root, 'getTrieNodes.root'),
    paths,
    responseBytes: bytesArg(request.responseBytes, 'getTrieNodes.responseBytes'),
  };
  // Encoding checks the path sets before anything is tracked.
  getTrieNodesCodec.encode({ requestId: 0n, ...message });
  const reply = await ready(ctx).request('GetTrieNodes', message, 'TrieNodes', {
    signal: options.signal,
    check: throwing((response) => tooMany('trie nodes', response.nodes.length, count)),
  });
  return reply.nodes;
}
