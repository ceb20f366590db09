import { type Clock, systemClock } from './clock.ts';
import { DisconnectError, DisconnectReason } from './disconnect.ts';
import {
  AbortError,
  ERR_MESSAGE_DECODE,
  ERR_PROTOCOL_HANDSHAKE,
  ERR_UNEXPECTED_MESSAGE,
  ERR_UNKNOWN_MESSAGE,
  ProtocolError,
  TooLargeError,
  throwIfAborted,
} from './errors.ts';
import type { Logger } from './logger.ts';
import { RequestTracker } from './request.ts';
import type { RlpInput } from './rlp.ts';

/**
 * A capability: a subprotocol name and version, as carried in the Hello message.
 * @example const eth68: Cap = { name: 'eth', version: 68 }
 */
export interface Cap {
  readonly name: string;
  readonly version: number;
}

/**
 * Turns one message's payload into bytes and back. `decode` throws on malformed input (any error: the
 * server treats it as a breach of protocol and disconnects the peer), or throws a DisconnectError to end the peer
 * with a reason of its own (eth's per-message limits, which geth answers with "subprotocol error").
 * @example const textCodec: MessageCodec<string> = { encode: utf8ToBytes, decode: bytesToUtf8 }
 */
export interface MessageCodec<T> {
  encode(value: T): Uint8Array;
  decode(payload: Uint8Array): T;
}

/** One message of a protocol: its code (relative to the protocol's offset) and codec. */
export interface MessageSpec<T> {
  readonly code: number;
  readonly codec: MessageCodec<T>;
}

/** The constraint every message spec satisfies, whatever its payload type. */
export interface AnyMessageSpec {
  readonly code: number;
  readonly codec: { encode(value: never): Uint8Array; decode(payload: Uint8Array): unknown };
}

/** A protocol's messages by name. */
export type MessageMap = { readonly [name: string]: AnyMessageSpec };

/** The payload type of a message spec. */
export type PayloadOf<S extends AnyMessageSpec> = ReturnType<S['codec']['decode']>;

/** The message names of a protocol. */
export type MessageName<M extends MessageMap> = keyof M & string;

/** A JSON value, as `nodeInfo()` / `peerInfo()` return for the admin API. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What a protocol sees of the remote peer. */
export interface PeerDescription {
  /** Node id, lowercase hex without 0x. */
  readonly id: string;
  /** 64-byte public key (x ‖ y). */
  readonly publicKey: Uint8Array;
  /** The client name from the remote's Hello. */
  readonly clientName: string;
  /** The remote's advertised capabilities. */
  readonly caps: readonly Cap[];
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly inbound: boolean;
}

/** Sending typed messages of protocol `M`. */
export interface ProtocolSender<M extends MessageMap> {
  /** Encodes and sends a message; resolves once it is handed to the socket (honouring backpressure). */
  send<K extends MessageName<M>>(name: K, payload: PayloadOf<M[K]>): Promise<void>;
}

/** Options for {@link HandshakeContext.receive}. */
export interface ReceiveOptions {
  /** Deadline for the message (default: the server's handshake deadline). */
  timeoutMs?: number;
}

/** What a protocol's handshake runs with: send, and receive the next message of this protocol. */
export interface HandshakeContext<M extends MessageMap> extends ProtocolSender<M> {
  readonly peer: PeerDescription;
  /** Aborted when the peer goes away. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The server's clock: set the handshake's own deadlines on it (a test's ManualClock then drives them). */
  readonly clock: Clock;
  /**
   * The next message of this protocol, which must be `name`; any other message of this protocol during the
   * handshake ends the peer with a breach of protocol.
   */
  receive<K extends MessageName<M>>(name: K, options?: ReceiveOptions): Promise<PayloadOf<M[K]>>;
}

/** What a protocol's handlers run with, once its handshake (if any) is done. */
export interface ProtocolContext<M extends MessageMap, State, R extends RequestPairs<M> = NoRequests>
  extends ProtocolSender<M> {
  readonly peer: PeerDescription;
  /** The value the handshake returned (undefined without a handshake). */
  readonly state: State;
  /** Aborted when the peer goes away: pass it to anything the protocol starts for this peer. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The server's clock, which request deadlines run on: set the protocol's own timers on it too. */
  readonly clock: Clock;
  /** Ends the peer with `reason` (default: subprotocol error). */
  disconnect(reason?: DisconnectReason): void;
  /**
   * Sends request `name` with a fresh request id and resolves with its declared response carrying that id. Only the
   * pairs of the spec's `requests` type-check: the request name, its payload (without `requestId`) and the response
   * name. Rejects with a TimeoutError after the spec's `requestTimeoutMs`, an AbortError when `signal` aborts, the
   * error `check` throws, a failed send's error, and the peer's DisconnectError when it goes away.
   * @example const { headers } = await ctx.request('GetBlockHeaders', query, 'BlockHeaders', { signal })
   */
  request<Req extends RequestName<R>>(
    name: Req,
    payload: RequestPayload<M, Req>,
    response: ResponseName<M, R, Req>,
    options?: RequestOptions<PayloadOf<M[ResponseName<M, R, Req>]>>,
  ): Promise<PayloadOf<M[ResponseName<M, R, Req>]>>;
}

/** Options of {@link ProtocolContext.request}. */
export interface RequestOptions<Response = unknown> {
  readonly signal?: AbortSignal;
  /**
   * Checks the response against its request before the request resolves (e.g. no more items than asked). What it
   * throws rejects the request and ends the peer as a handler's error does: a DisconnectError with its own reason,
   * a ProtocolError with "breach of protocol".
   */
  readonly check?: (response: Response) => void;
}

/**
 * Request/response pairs of a protocol whose payloads carry `requestId: bigint` (eth/66 and later, snap):
 * request message name → response message name.
 */
export type RequestPairs<M extends MessageMap> = { readonly [K in MessageName<M>]?: MessageName<M> };

/** The pairs of a protocol without requests: its context has no request to make. */
export type NoRequests = Record<never, never>;

/** The request names of pairs `R` (those mapped to a response). */
export type RequestName<R> = { [K in keyof R]-?: undefined extends R[K] ? never : K }[keyof R] & string;

/** The response name that pairs `R` declare for request `Req`. */
export type ResponseName<M extends MessageMap, R, Req extends keyof R> = Extract<R[Req], MessageName<M>>;

/** What `ctx.request` takes for request `Req`: its payload without the `requestId` it fills in. */
export type RequestPayload<M extends MessageMap, Req extends MessageName<M>> = Omit<PayloadOf<M[Req]>, 'requestId'>;

/** How long a request made with `ctx.request` waits for its response by default (geth's eth `requestTimeout`: 10 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Requests one peer may have outstanding per response kind by default: enough to pipeline, small enough that a
 * peer that never answers holds little.
 */
export const DEFAULT_MAX_PENDING_REQUESTS = 64;

/** Request ids given up on (timed out, aborted) whose late answers are still dropped quietly, per peer. */
export const MAX_ABANDONED_REQUESTS = 16;

/** A protocol's message handlers by message name; a message without a handler is decoded and dropped. */
export type MessageHandlers<M extends MessageMap, State, R extends RequestPairs<M> = NoRequests> = {
  readonly [K in MessageName<M>]?: (
    payload: PayloadOf<M[K]>,
    ctx: ProtocolContext<M, State, R>,
  ) => void | Promise<void>;
};

/** What a plugin author writes: the typed form of geth's `Protocol{Name, Version, Length, Run}`. */
export interface ProtocolSpec<M extends MessageMap, State, R extends RequestPairs<M> = NoRequests> {
  /** Capability name: 1 to 8 ASCII letters or digits. */
  readonly name: string;
  readonly version: number;
  /** How many message codes the protocol reserves (every message code is below it). */
  readonly length: number;
  readonly messages: M;
  /**
   * Largest message payload accepted (e.g. eth's 10 MiB, geth's `maxMessageSize`): a larger one ends the peer with a
   * TooLargeError before it is decoded. Default: only the transport's own limit (16 MiB).
   */
  readonly maxMessageSize?: number;
  /**
   * Runs once per peer before any handler (e.g. eth's Status exchange); its result becomes `ctx.state`.
   * Throwing ends the peer: a DisconnectError with its own reason; a ProtocolError (an unexpected or undecodable
   * message, as `receive` throws) with "breach of protocol"; a TimeoutError with "read timeout"; anything else
   * with "subprotocol error".
   */
  readonly handshake?: (ctx: HandshakeContext<M>) => State | Promise<State>;
  readonly handlers?: MessageHandlers<M, State, R>;
  /** Called once when the peer ends, after the handshake succeeded. */
  readonly onClose?: (ctx: ProtocolContext<M, State, R>, error: DisconnectError) => void;
  /** This protocol's entry in `admin_nodeInfo().protocols`. */
  readonly nodeInfo?: () => JsonValue;
  /** This protocol's entry in a peer's `admin_peers()[i].protocols`. */
  readonly peerInfo?: (ctx: ProtocolContext<M, State, R>) => JsonValue;
  /**
   * Request/response pairs for `ctx.request` (payloads carrying `requestId`), declared `as const` or inline so that
   * `ctx.request` accepts exactly these pairs. A response whose id matches a pending request resolves it (after the
   * request's `check`) and is not passed to a handler; one that matches none goes to its handler if there is one,
   * and otherwise ends the peer as a breach of protocol.
   */
  readonly requests?: R;
  /** Deadline of each `ctx.request` ({@link DEFAULT_REQUEST_TIMEOUT_MS} by default). */
  readonly requestTimeoutMs?: number;
  /** Outstanding `ctx.request`s per response kind ({@link DEFAULT_MAX_PENDING_REQUESTS} by default). */
  readonly maxPendingRequests?: number;
  /** Entries this protocol puts in our node record (geth's `Protocol.Attributes`), e.g. eth's fork id. */
  readonly enrEntries?: () => Readonly<Record<string, RlpInput>>;
  /**
   * Whether a discovered node is worth dialing for this protocol, judged from its record (geth's eth
   * `NodeFilter`: a compatible fork id). A node is dialed when at least one protocol that has this filter accepts
   * it; protocols without one do not filter.
   */
  readonly acceptsNode?: (record: NodeRecordEntries) => boolean;
}

/**
 * The part of a node record a protocol's {@link ProtocolSpec.acceptsNode} reads: the exact RLP encoding of the value
 * under `key` (`Enr` of `@devp2p/enode` has this shape).
 * @example const raw = record.get('eth') // RLP of [[forkHash, forkNext], ...] or undefined
 */
export interface NodeRecordEntries {
  get(key: string): Uint8Array | undefined;
}

/** One received message of a protocol: its code relative to the protocol's offset, and its raw payload. */
export interface RawMessage {
  readonly code: number;
  readonly payload: Uint8Array;
}

/**
 * What the server gives one protocol for one peer: untyped message I/O with codes relative to the protocol's
 * offset. Plugin authors never see it; {@link Protocol.attach} builds the typed contexts on top of it.
 */
export interface ProtocolIO {
  readonly peer: PeerDescription;
  /** Aborted when the peer goes away. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The server's clock, handed to the protocol's contexts (default {@link systemClock}). */
  readonly clock?: Clock;
  send(code: number, payload: Uint8Array): Promise<void>;
  /** The next message of this protocol, during the handshake only; rejects on timeout or when the peer ends. */
  receive(timeoutMs?: number): Promise<RawMessage>;
  /** Ends the peer with `reason`. */
  disconnect(reason: DisconnectReason): void;
}

/** One protocol running for one peer, as the server drives it. */
export interface ProtocolInstance {
  /** Runs the protocol's handshake, if it has one; the peer is not handed messages before it resolves. */
  start(): Promise<void>;
  /**
   * Decodes one message and runs its handler. Throws a ProtocolError for a code the protocol does not define
   * or a payload its codec rejects (the server answers with "breach of protocol"); errors from the handler
   * propagate as they are (the server answers with "subprotocol error", or a DisconnectError's own reason).
   */
  deliver(message: RawMessage): Promise<void>;
  /** Tells the protocol the peer ended (calls `onClose` once, if the handshake had completed). */
  close(error: DisconnectError): void;
  /** This peer's entry for the admin API (`peerInfo`), or null. */
  info(): JsonValue;
}

/**
 * What a server accepts: any protocol, whatever its message and state types (a `Protocol<M, State>` is one).
 */
export interface AnyProtocol {
  readonly cap: Cap;
  /** Message codes reserved. */
  readonly length: number;
  /** Starts the protocol for one peer. */
  attach(io: ProtocolIO): ProtocolInstance;
  /** This protocol's entry in the node info, or null. */
  nodeInfo(): JsonValue;
  /** Entries for our node record, when the protocol has any ({@link ProtocolSpec.enrEntries}). */
  readonly enrEntries?: () => Readonly<Record<string, RlpInput>>;
  /** The protocol's dial filter, when it has one ({@link ProtocolSpec.acceptsNode}). */
  readonly acceptsNode?: (record: NodeRecordEntries) => boolean;
}

/** A validated protocol, ready to hand to a server. */
export interface Protocol<M extends MessageMap = MessageMap, State = unknown, R extends RequestPairs<M> = NoRequests>
  extends ProtocolSpec<M, State, R>,
    AnyProtocol {
  /** Message name by relative code. */
  readonly messageNames: ReadonlyMap<number, MessageName<M>>;
  /**
   * The typed context of an instance this protocol attached, once its handshake has completed (undefined before,
   * and for another protocol's instance).
   */
  context(instance: ProtocolInstance): ProtocolContext<M, State, R> | undefined;
  /** This protocol's entry in the node info (`spec.nodeInfo()`, or null without one). */
  nodeInfo(): JsonValue;
  /**
   * Observes message `name` on every peer running this protocol, after its handler: for applications that watch
   * traffic without writing a plugin. A listener that throws is logged, never fatal to the peer. Returns the
   * function that stops observing.
   * @example const off = eth69.on('Transactions', (txs, ctx) => console.log(ctx.peer.id, txs.length))
   */
  on<K extends MessageName<M>>(name: K, listener: MessageListener<M, State, K, R>): () => void;
}

/** A listener of {@link Protocol.on}. */
export type MessageListener<
  M extends MessageMap,
  State,
  K extends MessageName<M>,
  R extends RequestPairs<M> = NoRequests,
> = (payload: PayloadOf<M[K]>, ctx: ProtocolContext<M, State, R>) => void;

/** Longest capability name accepted (geth's caps are 3 letters; 8 leaves room and keeps Hello small). */
export const MAX_CAP_NAME_LENGTH = 8;

/**
 * Validates a protocol definition and returns it with its Cap and code table. Throws a TypeError or
 * RangeError naming the problem: a bad name or version, duplicate codes, a code not below `length`.
 *
 * @example
 * const ping = defineProtocol({
 *   name: 'png', version: 1, length: 2,
 *   messages: { Ping: { code: 0, codec: nonceCodec }, Pong: { code: 1, codec: nonceCodec } },
 *   handlers: { Ping: (nonce, ctx) => ctx.send('Pong', nonce) },
 * })
 */
export function defineProtocol<
  const M extends MessageMap,
  State = undefined,
  const R extends RequestPairs<M> = NoRequests,
>(spec: ProtocolSpec<M, State, R>): Protocol<M, State, R> {
  const label = `protocol ${JSON.stringify(spec.name)}`;
  if (typeof spec.name !== 'string' || !/^[A-Za-z0-9]+$/.test(spec.name) || spec.name.length > MAX_CAP_NAME_LENGTH) {
    throw new TypeError(`${label}: name must be 1 to ${MAX_CAP_NAME_LENGTH} ASCII letters or digits`);
  }
  if (!Number.isSafeInteger(spec.version) || spec.version < 0) {
    throw new RangeError(`${label}: version must be a non-negative integer, got ${spec.version}`);
  }
  if (!Number.isSafeInteger(spec.length) || spec.length < 1) {
    throw new RangeError(`${label}: length must be a positive integer, got ${spec.length}`);
  }
  const { maxMessageSize } = spec;
  if (maxMessageSize !== undefined && (!Number.isSafeInteger(maxMessageSize) || maxMessageSize < 1)) {
    throw new RangeError(`${label}: maxMessageSize must be a positive integer, got ${maxMessageSize}`);
  }
  const messageNames = new Map<number, MessageName<M>>();
  for (const [name, message] of Object.entries(spec.messages)) {
    const { code } = message;
    if (!Number.isSafeInteger(code) || code < 0 || code >= spec.length) {
      throw new RangeError(`${label}: message ${name} has code ${code}, outside 0..${spec.length - 1}`);
    }
    const clash = messageNames.get(code);
    if (clash !== undefined) throw new RangeError(`${label}: messages ${clash} and ${name} share code ${code}`);
    if (typeof message.codec?.encode !== 'function' || typeof message.codec.decode !== 'function') {
      throw new TypeError(`${label}: message ${name} needs a codec with encode and decode`);
    }
    messageNames.set(code, name as MessageName<M>);
  }
  for (const name of Object.keys(spec.handlers ?? {})) {
    if (!(name in spec.messages)) throw new TypeError(`${label}: handler for unknown message ${name}`);
  }
  const cap = Object.freeze({ name: spec.name, version: spec.version });
  const contexts = new WeakMap<ProtocolInstance, ProtocolContext<M, State, R>>();
  const observers = new Map<string, Set<(payload: unknown, ctx: ProtocolContext<M, State, R>) => void>>();
  const decode = <K extends MessageName<M>>(name: K, payload: Uint8Array): PayloadOf<M[K]> => {
    if (maxMessageSize !== undefined && payload.length > maxMessageSize) {
      throw new TooLargeError(`${cap.name}/${cap.version} ${name} message`, payload.length, maxMessageSize);
    }
    try {
      return spec.messages[name]!.codec.decode(payload) as PayloadOf<M[K]>;
    } catch (cause) {
      // A codec that knows which reason the peer deserves says so with a DisconnectError.
      if (cause instanceof DisconnectError) throw cause;
      throw new ProtocolError(ERR_MESSAGE_DECODE, `${cap.name}/${cap.version} ${name}: ${(cause as Error).message}`, {
        cause,
      });
    }
  };
  const attach = (io: ProtocolIO): ProtocolInstance => {
    const clock = io.clock ?? systemClock;
    let state: State | undefined;
    let started = false;
    let closed = false;
    const send = <K extends MessageName<M>>(name: K, payload: PayloadOf<M[K]>): Promise<void> => {
      const message = spec.messages[name];
      if (!message) return Promise.reject(new TypeError(`${cap.name}/${cap.version} has no message ${name}`));
      let encoded: Uint8Array;
      try {
        encoded = (message.codec.encode as (value: PayloadOf<M[K]>) => Uint8Array)(payload);
      } catch (error) {
        return Promise.reject(error);
      }
      return io.send(message.code, encoded);
    };
    const trackers = new Map<string, RequestTracker<unknown>>();
    // Each pending request by `${response}:${id}`: its check, and the controller that fails it; and the requests given
    // up on. Both made at the first request, as most peers' protocols never send one.
    let pending:
      | Map<string, { check?: ((response: unknown) => void) | undefined; cancel: AbortController }>
      | undefined;
    let abandoned: Set<string> | undefined;
    for (const [requestName, responseName] of Object.entries<MessageName<M> | undefined>(spec.requests ?? {})) {
      if (responseName === undefined) continue;
      trackers.set(
        responseName,
        new RequestTracker<unknown>({
          clock,
          timeoutMs: spec.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
          maxPending: spec.maxPendingRequests ?? DEFAULT_MAX_PENDING_REQUESTS,
          what: `${cap.name}/${cap.version} ${requestName}`,
        }),
      );
    }
    const request = async (
      name: string,
      payload: object,
      responseName: string,
      options: RequestOptions<never> = {},
    ): Promise<unknown> => {
      const requests: Readonly<Record<string, string | undefined>> = spec.requests ?? {};
      const tracker = requests[name] === responseName ? trackers.get(responseName) : undefined;
      if (!tracker) throw new TypeError(`${cap.name}/${cap.version}: ${name} → ${responseName} is not in requests`);
      const { signal, check } = options;
      throwIfAborted(signal);
      // The peer going away closes the tracker, which fails this request too. The id is known before sending: the
      // answer may arrive before send() settles. A failed send cancels the request with the send's error.
      const cancel = new AbortController();
      const onAbort = (): void =>
        cancel.abort(new AbortError(`${cap.name}/${cap.version} ${name} aborted`, { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      let key: string | undefined;
      try {
        const { id, response } = tracker.start(cancel.signal);
        key = `${responseName}:${id}`;
        pending ??= new Map();
        pending.set(key, { check: check as ((response: unknown) => void) | undefined, cancel });
        send(name as MessageName<M>, { ...payload, requestId: id } as PayloadOf<M[MessageName<M>]>).catch(
          (error: unknown) => cancel.abort(error),
        );
        try {
          return await response;
        } catch (error) {
          // A peer may still answer a request we gave up on: its late answer is dropped, not taken for a breach.
          if (pending.has(key)) {
            abandoned ??= new Set();
            abandoned.add(key);
            if (abandoned.size > MAX_ABANDONED_REQUESTS) abandoned.delete(abandoned.values().next().value!);
          }
          throw error;
        }
      } finally {
        if (key !== undefined) pending?.delete(key);
        signal?.removeEventListener('abort', onAbort);
      }
    };
    const context: ProtocolContext<M, State, R> = {
      peer: io.peer,
      get state(): State {
        return state as State;
      },
      signal: io.signal,
      log: io.log,
      clock,
      send,
      disconnect: (reason = DisconnectReason.SubprotocolError) => io.disconnect(reason),
      request: request as ProtocolContext<M, State, R>['request'],
    };
    const observe = (name: MessageName<M>, payload: unknown): void => {
      for (const listener of observers.get(name) ?? []) {
        try {
          listener(payload, context);
        } catch (error) {
          io.log.debug('message listener failed', { message: name, error: (error as Error).message });
        }
      }
    };
    const receive = async <K extends MessageName<M>>(
      name: K,
      options: ReceiveOptions = {},
    ): Promise<PayloadOf<M[K]>> => {
      const message = await io.receive(options.timeoutMs);
      const got = messageNames.get(message.code);
      if (got !== name) {
        throw new ProtocolError(
          ERR_PROTOCOL_HANDSHAKE,
          `${cap.name}/${cap.version} handshake expected ${name}, got ${got ?? `unknown code ${message.code}`}`,
        );
      }
      return decode(name, message.payload);
    };
    const instance: ProtocolInstance = {
      async start(): Promise<void> {
        if (spec.handshake)
          state = await spec.handshake({ peer: io.peer, signal: io.signal, log: io.log, clock, send, receive });
        started = true;
        // Only now is there a state to hand out.
        contexts.set(instance, context);
      },
      async deliver(message: RawMessage): Promise<void> {
        const name = messageNames.get(message.code);
        if (name === undefined) {
          throw new ProtocolError(
            ERR_UNKNOWN_MESSAGE,
            `${cap.name}/${cap.version} has no message code ${message.code}`,
          );
        }
        const payload = decode(name, message.payload);
        const handler = spec.handlers?.[name];
        const tracker = trackers.get(name);
        if (tracker) {
          const requestId = (payload as { readonly requestId?: unknown }).requestId;
          const key = `${name}:${String(requestId)}`;
          const request = typeof requestId === 'bigint' ? pending?.get(key) : undefined;
          if (pending && request) {
            pending.delete(key);
            try {
              request.check?.(payload);
            } catch (error) {
              request.cancel.abort(error);
              throw error;
            }
            tracker.deliver(requestId as bigint, payload);
            observe(name, payload);
            return;
          }
          if (abandoned?.delete(key)) return;
          if (!handler) {
            throw new ProtocolError(ERR_UNEXPECTED_MESSAGE, `${cap.name}/${cap.version} ${name} answers no request`);
          }
        }
        if (handler) await handler(payload, context);
        observe(name, payload);
      },
      close(error: DisconnectError): void {
        for (const tracker of trackers.values()) tracker.close(error);
        if (!started || closed) return;
        closed = true;
        spec.onClose?.(context, error);
      },
      info(): JsonValue {
        return started && spec.peerInfo ? spec.peerInfo(context) : null;
      },
    };
    return instance;
  };
  return Object.freeze({
    ...spec,
    cap,
    messageNames,
    attach,
    context: (instance: ProtocolInstance) => contexts.get(instance),
    nodeInfo: (): JsonValue => spec.nodeInfo?.() ?? null,
    on: <K extends MessageName<M>>(name: K, listener: MessageListener<M, State, K, R>): (() => void) => {
      if (!(name in spec.messages)) throw new TypeError(`${label}: no message ${name}`);
      const set = observers.get(name) ?? new Set();
      observers.set(name, set);
      const entry = listener as (payload: unknown, ctx: ProtocolContext<M, State, R>) => void;
      set.add(entry);
      return () => void set.delete(entry);
    },
  });
}
