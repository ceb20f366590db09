/**
 * `png/1`: a minimal devp2p subprotocol. Each side answers a Ping with a Pong carrying the same nonce, and
 * {@link measureRtt} times that round trip. It is the running example of the plugin guide (`docs/plugins.md`).
 */
import {
  AbortError,
  DisconnectReason,
  defineProtocol,
  type MessageCodec,
  type MessageSpec,
  type Protocol,
  type ProtocolContext,
  RequestTracker,
  rlpBigUint,
  rlpDecode,
  rlpEncode,
  rlpList,
  throwIfAborted,
} from '@devp2p/core';

/** The capability name, as it goes into Hello. */
export const PING_PROTOCOL_NAME = 'png';

/** The protocol version this package speaks. */
export const PING_VERSION = 1;

/** Message codes the protocol reserves: Ping (0) and Pong (1). */
export const PING_PROTOCOL_LENGTH = 2;

/**
 * How long a Ping waits for its Pong before {@link measureRtt} rejects with a TimeoutError: 10 s. Devp2p has
 * no RTT deadline of its own (geth's base-protocol ping only keeps the connection alive, every 15 s); a peer
 * that takes longer than this to echo eight bytes is not worth measuring.
 */
export const PING_TIMEOUT_MS: number = 10_000;

/** Most pings outstanding per peer: 16. Bounds the state a caller can pile up for one peer. */
export const MAX_PENDING_PINGS: number = 16;

/**
 * How many timed-out or aborted pings per peer are remembered, so that their late Pongs are dropped instead
 * of being taken for unsolicited ones (which end the peer): 16, as many as can be pending at once.
 */
export const MAX_ABANDONED_PINGS: number = 16;

/** Largest nonce: a uint64. */
export const MAX_NONCE: bigint = 0xffff_ffff_ffff_ffffn;

/** Ping (code 0): asks the peer to echo `nonce` in a Pong. */
export interface PingMessage {
  readonly nonce: bigint;
}

/** Pong (code 1): the answer to the Ping with the same `nonce`. */
export interface PongMessage {
  readonly nonce: bigint;
}

function nonceCodec(label: string): MessageCodec<{ readonly nonce: bigint }> {
  return {
    encode({ nonce }) {
      if (typeof nonce !== 'bigint') throw new TypeError(`${label}.nonce: expected a bigint, got ${typeof nonce}`);
      if (nonce < 0n || nonce > MAX_NONCE) throw new RangeError(`${label}.nonce: ${nonce} is outside uint64`);
      return rlpEncode([nonce]);
    },
    decode(payload) {
      // At least one item; later items are ignored, so a future version may append fields.
      const [nonce] = rlpList(rlpDecode(payload), label, 1);
      return { nonce: rlpBigUint(nonce, `${label}.nonce`, 8) };
    },
  };
}

/**
 * Codec of {@link PingMessage}: the RLP list `[nonce]`. Decoding accepts only a canonical uint64 and ignores
 * extra list items; it throws an RlpError otherwise. Encoding throws a TypeError / RangeError for a nonce
 * that is not a uint64 bigint.
 * @example pingCodec.encode({ nonce: 1n }) // c101
 */
export const pingCodec: MessageCodec<PingMessage> = nonceCodec('ping');

/**
 * Codec of {@link PongMessage}: the RLP list `[nonce]`, with the same rules as {@link pingCodec}.
 * @example pongCodec.decode(Uint8Array.of(0xc1, 0x01)) // { nonce: 1n }
 */
export const pongCodec: MessageCodec<PongMessage> = nonceCodec('pong');

/** The messages of `png/1` by name. */
export type PingMessages = {
  readonly Ping: MessageSpec<PingMessage>;
  readonly Pong: MessageSpec<PongMessage>;
};

/**
 * The message table of `png/1`: codes relative to the protocol's offset, and codecs.
 * @example pingMessages.Pong.code // 1
 */
export const pingMessages: PingMessages = {
  Ping: { code: 0, codec: pingCodec },
  Pong: { code: 1, codec: pongCodec },
};

/**
 * Per-peer state, created when the peer connects. The plugin updates it; read it, don't write it.
 * @example const { lastRttMs } = ctx.state
 */
export interface PingState {
  /** Our pings waiting for their Pong, by nonce; each resolves with the Pong's arrival time (`performance.now()`). */
  readonly pending: RequestTracker<number>;
  /** Nonces of pings that timed out or were aborted, oldest first (at most {@link MAX_ABANDONED_PINGS}). */
  readonly abandoned: Set<bigint>;
  /** Pings handed to the connection. */
  pingsSent: number;
  /** Pongs that answered one of our pings (late ones included). */
  pongsReceived: number;
  /** The last measured round trip in milliseconds, or null before the first. */
  lastRttMs: number | null;
}

/** What the handlers of `png/1` and {@link measureRtt} run with. */
export type PingContext = ProtocolContext<PingMessages, PingState>;

/** The `png/1` protocol, as {@link ping} and {@link createPingProtocol} return it. */
export type PingProtocol = Protocol<PingMessages, PingState>;

/** Options for {@link createPingProtocol}. */
export interface PingProtocolOptions {
  /** How long a ping waits for its Pong (default {@link PING_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Most pings outstanding per peer (default {@link MAX_PENDING_PINGS}). */
  maxPending?: number;
}

/** Options for {@link measureRtt}. */
export interface MeasureRttOptions {
  /** Aborting it rejects the measurement with an AbortError; a Pong that still comes is dropped. */
  signal?: AbortSignal;
}

function remember(abandoned: Set<bigint>, nonce: bigint): void {
  abandoned.add(nonce);
  if (abandoned.size > MAX_ABANDONED_PINGS) abandoned.delete(abandoned.values().next().value!);
}

/**
 * Builds a `png/1` protocol with its own timeout and pending limit; {@link ping} is the one with the defaults.
 * Throws a RangeError for a timeout or limit that is not positive.
 * @example const quickPing = createPingProtocol({ timeoutMs: 2_000 })
 */
export function createPingProtocol(options: PingProtocolOptions = {}): PingProtocol {
  const timeoutMs = options.timeoutMs ?? PING_TIMEOUT_MS;
  const maxPending = options.maxPending ?? MAX_PENDING_PINGS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`createPingProtocol: timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
    throw new RangeError(`createPingProtocol: maxPending must be a positive integer, got ${maxPending}`);
  }
  return defineProtocol<PingMessages, PingState>({
    name: PING_PROTOCOL_NAME,
    version: PING_VERSION,
    length: PING_PROTOCOL_LENGTH,
    messages: pingMessages,
    // Nothing to exchange on the wire: the handshake only creates this peer's state.
    handshake: () => ({
      pending: new RequestTracker<number>({ timeoutMs, maxPending, what: 'ping' }),
      abandoned: new Set<bigint>(),
      pingsSent: 0,
      pongsReceived: 0,
      lastRttMs: null,
    }),
    handlers: {
      Ping: ({ nonce }, ctx) => ctx.send('Pong', { nonce }),
      Pong: ({ nonce }, ctx) => {
        const { state } = ctx;
        if (state.pending.deliver(nonce, performance.now()) || state.abandoned.delete(nonce)) {
          state.pongsReceived++;
          return;
        }
        ctx.log.debug('unsolicited pong', { nonce });
        ctx.disconnect(DisconnectReason.ProtocolError);
      },
    },
    onClose: (ctx, error) => ctx.state.pending.close(error),
    nodeInfo: () => ({ version: PING_VERSION }),
    peerInfo: ({ state }) => ({
      version: PING_VERSION,
      lastRttMs: state.lastRttMs,
      pingsSent: state.pingsSent,
      pongsReceived: state.pongsReceived,
    }),
  });
}

/**
 * The `png/1` protocol with the default timeout and limit: hand it to a server.
 * @example const server = createServer({ privateKey, protocols: [ping] })
 */
export const ping: PingProtocol = createPingProtocol();

/**
 * Sends a Ping with a fresh nonce and resolves with the round-trip time in milliseconds (fractional), from
 * handing the Ping to the connection until its Pong is decoded; also stored as `ctx.state.lastRttMs`.
 * Rejects with a TimeoutError when no Pong comes within the protocol's timeout; an AbortError when
 * `options.signal` aborts; the peer's DisconnectError when the peer ends first; a Devp2pError with code
 * `ERR_TOO_MANY_REQUESTS` when the pending limit is reached.
 * @example const rttMs = await measureRtt(ctx, { signal: AbortSignal.timeout(5_000) })
 */
export async function measureRtt(ctx: PingContext, options: MeasureRttOptions = {}): Promise<number> {
  const { signal } = options;
  throwIfAborted(signal);
  const { state } = ctx;
  const cancel = new AbortController();
  const onAbort = (): void => cancel.abort(new AbortError('ping aborted', { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { id: nonce, response } = state.pending.start(cancel.signal);
    const sentAt = performance.now();
    // Not awaited: the deadline runs from now, even while the Ping waits behind other outgoing messages.
    // Wrapped, so that a send that throws instead of rejecting still cancels this request.
    new Promise<void>((resolve) => resolve(ctx.send('Ping', { nonce }))).then(
      () => {
        state.pingsSent++;
      },
      (error: unknown) => cancel.abort(error),
    );
    try {
      const rttMs = Math.max(0, (await response) - sentAt);
      state.lastRttMs = rttMs;
      return rttMs;
    } catch (error) {
      remember(state.abandoned, nonce);
      throw error;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
