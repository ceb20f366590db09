import {
  type AnyProtocol,
  type Cap,
  type Clock,
  ConnectionClosedError,
  DisconnectError,
  type DisconnectInitiator,
  DisconnectReason,
  ERR_UNEXPECTED_MESSAGE,
  ERR_UNKNOWN_MESSAGE,
  type JsonValue,
  type Logger,
  type MessageMap,
  type PeerDescription,
  type Protocol,
  type ProtocolContext,
  ProtocolError,
  type ProtocolInstance,
  type RawMessage,
  type RequestPairs,
  systemClock,
  TimeoutError,
  TypedEventTarget,
} from '@devp2p/core';
import type { RLPxConnection } from '@devp2p/rlpx';
import {
  BaseMessageCode,
  decodeDisconnect,
  EMPTY_LIST_PAYLOAD,
  encodeDisconnect,
  type Hello,
  P2P_VERSION,
} from './hello.ts';
import {
  MAX_QUEUED_MESSAGES_PER_PROTOCOL,
  MESSAGES_PER_TURN,
  PING_INTERVAL_MS,
  PROTOCOL_HANDSHAKE_TIMEOUT_MS,
  READ_PAUSE_QUEUED_BYTES,
} from './limits.ts';
import { findProtocol, type MatchedProtocol } from './registry.ts';
import { nextTurn } from './turn.ts';

/** How and why a peer ended. */
export interface PeerEnd {
  readonly reason: DisconnectReason | number;
  /** `local`: we ended it (including for the remote's misbehaviour); `remote`: it sent Disconnect or went away. */
  readonly initiator: DisconnectInitiator;
  readonly error: DisconnectError;
}

/** A message event, emitted when the server's `enableMsgEvents` is on. */
export interface PeerMessageEvent {
  readonly direction: 'sent' | 'received';
  /** Capability name (`p2p` for the base protocol). */
  readonly protocol: string;
  /** Capability version (the base protocol's is the Hello's, {@link P2P_VERSION}). */
  readonly version: number;
  /** Code relative to the protocol's offset. */
  readonly code: number;
  readonly size: number;
}

/** The base protocol as message events name it. */
const BASE_CAP: Cap = { name: 'p2p', version: P2P_VERSION };

/** Events of a {@link Peer}. */
export interface PeerEvents {
  message: PeerMessageEvent;
  closed: PeerEnd;
}

/** Options the server creates a {@link Peer} with. */
export interface PeerOptions {
  readonly connection: RLPxConnection;
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly hello: Hello;
  readonly matched: readonly MatchedProtocol[];
  readonly inbound: boolean;
  readonly trusted: boolean;
  readonly static: boolean;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly logger: Logger;
  /**
   * Whether to emit a `message` event for every message sent and received; or a function asked before each one
   * (the server's: whether anybody listens to its `peer:message`), so that nobody listening costs no event object.
   */
  readonly messageEvents: boolean | (() => boolean);
  readonly pingIntervalMs?: number;
  readonly protocolHandshakeTimeoutMs?: number;
  /** Clock for deadlines and timers (tests inject counting ones); {@link systemClock} by default. */
  readonly clock?: Clock;
}

/** One shared protocol running on a peer: its inbound queue and instance. */
interface RunningProtocol {
  readonly matched: MatchedProtocol;
  readonly instance: ProtocolInstance;
  readonly queue: RawMessage[];
  /** Wakes the worker (or a handshake `receive`) when a message is queued. */
  wake: (() => void) | undefined;
  /** Wakes the read loop when the queue drains below the limit. */
  drained: (() => void) | undefined;
  started: boolean;
  /** Settles when the protocol's handshake is done (true) or the peer ended before it (false). */
  readonly ready: Promise<boolean>;
  markReady(ok: boolean): void;
}

/**
 * A connected peer: the base protocol (Ping / Pong / Disconnect) and every shared subprotocol over one RLPx
 * connection. One read loop dispatches messages by code; every plugin writes through the connection's single
 * writer; the first failure of read, write, plugin or Disconnect ends the peer and records who ended it and why.
 */
export class Peer extends TypedEventTarget<PeerEvents> {
  /** Node id, lowercase hex. */
  readonly id: string;
  /** 64-byte public key. */
  readonly publicKey: Uint8Array;
  /** The remote's Hello. */
  readonly hello: Hello;
  readonly inbound: boolean;
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** The shared protocols, in code order. */
  readonly matched: readonly MatchedProtocol[];
  /** Resolves once the peer has ended (never rejects). */
  readonly closed: Promise<PeerEnd>;
  /** Trusted peers bypass the peer limits; the server flips this with add/removeTrustedPeer. */
  trusted: boolean;
  /** Static peers are kept connected by the dialer; the server sets this with addPeer. */
  static: boolean;

  readonly #conn: RLPxConnection;
  readonly #log: Logger;
  readonly #messageEvents: boolean | (() => boolean);
  readonly #pingIntervalMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #abort = new AbortController();
  readonly #running: RunningProtocol[] = [];
  #resolveClosed!: (end: PeerEnd) => void;
  #end: PeerEnd | undefined;
  readonly #clock: Clock;
  #pingTimer: unknown;

  constructor(options: PeerOptions) {
    super();
    this.#conn = options.connection;
    this.id = options.id;
    this.publicKey = options.publicKey;
    this.hello = options.hello;
    this.inbound = options.inbound;
    this.trusted = options.trusted;
    this.static = options.static;
    this.localAddress = options.localAddress;
    this.remoteAddress = options.remoteAddress;
    this.matched = options.matched;
    this.#log = options.logger.child(`peer:${options.id.slice(0, 8)}`);
    this.#messageEvents = options.messageEvents;
    this.#pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
    this.#handshakeTimeoutMs = options.protocolHandshakeTimeoutMs ?? PROTOCOL_HANDSHAKE_TIMEOUT_MS;
    this.#clock = options.clock ?? systemClock;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** The remote's client name from its Hello. */
  get clientName(): string {
    return this.hello.clientName;
  }

  /** The remote's advertised caps. */
  get caps(): readonly Cap[] {
    return this.hello.caps;
  }

  /** How the peer ended, once it has. */
  get end(): PeerEnd | undefined {
    return this.#end;
  }

  /** Aborted when the peer ends. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * The typed context of a protocol running on this peer (undefined when the protocol is not shared).
   * @example const rtt = await measureRtt(peer.protocol(ping)!)
   */
  protocol<M extends MessageMap, State, R extends RequestPairs<M>>(
    protocol: Protocol<M, State, R>,
  ): ProtocolContext<M, State, R> | undefined {
    for (const running of this.#running) {
      if (running.matched.protocol === protocol) return protocol.context(running.instance);
    }
    return undefined;
  }

  /**
   * The typed context of a protocol once its handshake has completed; undefined when the protocol is not shared
   * or the peer ends first. Use it right after `peer:added`, when handshakes may still be running.
   * @example const ctx = await peer.protocolReady(ping); if (ctx) await measureRtt(ctx)
   */
  async protocolReady<M extends MessageMap, State, R extends RequestPairs<M>>(
    protocol: Protocol<M, State, R>,
  ): Promise<ProtocolContext<M, State, R> | undefined> {
    const running = this.#running.find((r) => r.matched.protocol === protocol);
    if (!running || !(await running.ready)) return undefined;
    return protocol.context(running.instance);
  }

  /** Bytes queued for the remote and not yet taken by the socket (bounded by the RLPx write queue). */
  get queuedBytes(): number {
    return this.#conn.queuedBytes;
  }

  /** Each shared protocol's `peerInfo()`, by capability name. */
  protocolsInfo(): Record<string, JsonValue> {
    const info: Record<string, JsonValue> = {};
    for (const running of this.#running) info[running.matched.protocol.cap.name] = running.instance.info();
    return info;
  }

  /** Ends the peer, sending Disconnect with `reason` (default: disconnect requested). Idempotent. */
  disconnect(reason: DisconnectReason = DisconnectReason.Requested): void {
    this.#finish(reason, 'local');
  }

  /**
   * Starts the peer: the read loop, the ping timer and every shared protocol (handshakes concurrently).
   * Called once by the server; failures end the peer, they never reject.
   */
  run(): void {
    const description: PeerDescription = {
      id: this.id,
      publicKey: this.publicKey,
      clientName: this.hello.clientName,
      caps: this.hello.caps,
      remoteAddress: this.remoteAddress,
      localAddress: this.localAddress,
      inbound: this.inbound,
    };
    for (const matched of this.matched) this.#startProtocol(matched, description);
    this.#schedulePing();
    void this.#readLoop();
    for (const running of this.#running) void this.#runProtocol(running);
  }

  #schedulePing(): void {
    this.#pingTimer = this.#clock.setTimeout(() => {
      this.#pingTimer = undefined;
      if (this.#end) return;
      // A full write queue means the remote takes nothing: the write deadline ends it; a Ping would only be refused.
      if (!this.#conn.writeQueueFull) this.#sendBase(BaseMessageCode.Ping, EMPTY_LIST_PAYLOAD);
      this.#schedulePing();
    }, this.#pingIntervalMs);
  }

  #startProtocol(matched: MatchedProtocol, peer: PeerDescription): void {
    const { protocol, offset } = matched;
    const label = `${protocol.cap.name}/${protocol.cap.version}`;
    let markReady!: (ok: boolean) => void;
    const ready = new Promise<boolean>((resolve) => {
      markReady = resolve;
    });
    const running: RunningProtocol = {
      matched,
      instance: undefined as unknown as ProtocolInstance,
      queue: [],
      wake: undefined,
      drained: undefined,
      started: false,
      ready,
      markReady,
    };
    const instance = protocol.attach({
      peer,
      signal: this.#abort.signal,
      log: this.#log.child(protocol.cap.name),
      clock: this.#clock,
      send: (code, payload) => {
        if (!Number.isInteger(code) || code < 0 || code >= protocol.length) {
          return Promise.reject(new RangeError(`${label}: message code ${code} is outside 0..${protocol.length - 1}`));
        }
        this.#emitMessage('sent', protocol.cap, code, payload.length);
        return this.#conn.writeMessage(offset + code, payload);
      },
      receive: (timeoutMs = this.#handshakeTimeoutMs) => this.#receive(running, label, timeoutMs),
      disconnect: (reason) => this.#finish(reason, 'local'),
    });
    (running as { instance: ProtocolInstance }).instance = instance;
    this.#running.push(running);
  }

  /** A message for a protocol still in its handshake. */
  #receive(running: RunningProtocol, label: string, timeoutMs: number): Promise<RawMessage> {
    return new Promise((resolve, reject) => {
      const take = (): boolean => {
        if (this.#end) {
          reject(this.#end.error);
          return true;
        }
        const message = running.queue.shift();
        if (!message) return false;
        this.#afterDequeue(running);
        resolve(message);
        return true;
      };
      if (take()) return;
      const timer = this.#clock.setTimeout(() => {
        running.wake = undefined;
        reject(new TimeoutError(`${label} handshake`, timeoutMs, { remoteAddress: this.remoteAddress }));
      }, timeoutMs);
      running.wake = () => {
        if (take()) {
          this.#clock.clearTimeout(timer);
          running.wake = undefined;
        }
      };
    });
  }

  /** Runs a protocol's handshake, then hands it its queued messages in order, one at a time. */
  async #runProtocol(running: RunningProtocol): Promise<void> {
    try {
      await running.instance.start();
      running.started = true;
      running.markReady(true);
      while (!this.#end) {
        const message = running.queue.shift();
        if (!message) {
          await new Promise<void>((resolve) => {
            running.wake = resolve;
          });
          running.wake = undefined;
          continue;
        }
        this.#afterDequeue(running);
        await running.instance.deliver(message);
      }
    } catch (error) {
      this.#fail(error, running.matched.protocol);
    } finally {
      running.markReady(running.started);
    }
  }

  #afterDequeue(running: RunningProtocol): void {
    if (running.drained && running.queue.length < MAX_QUEUED_MESSAGES_PER_PROTOCOL) {
      const drained = running.drained;
      running.drained = undefined;
      drained();
    }
  }

  async #readLoop(): Promise<void> {
    try {
      let sinceYield = 0;
      while (!this.#end) {
        // Stop reading from a peer that does not take what we send, as geth's read loop waits for its Pong write:
        // its Pings (or requests) cannot make us queue more than a socket write of replies; the write deadline then
        // drops it.
        if (this.#conn.queuedBytes >= READ_PAUSE_QUEUED_BYTES) await this.#conn.writable(READ_PAUSE_QUEUED_BYTES);
        // A socket can hand us megabytes in one event-loop turn, all decodable without waiting: give the other
        // peers, timers and the admin RPC a turn every so often, and let the socket's read buffer push back.
        if (++sinceYield >= MESSAGES_PER_TURN) {
          sinceYield = 0;
          await nextTurn();
        }
        // What is already buffered is taken without a promise or a timer per message; only an empty buffer waits.
        const { code, payload } = this.#conn.readBufferedMessage() ?? (await this.#conn.readMessage());
        if (code < 0x10) {
          this.#emitMessage('received', BASE_CAP, code, payload.length);
          this.#handleBase(code, payload);
          continue;
        }
        const owner = findProtocol(this.matched, code);
        if (!owner) {
          throw new ProtocolError(ERR_UNKNOWN_MESSAGE, `message code ${code} belongs to no shared protocol`);
        }
        this.#emitMessage('received', owner.protocol.cap, code - owner.offset, payload.length);
        const running = this.#running.find((r) => r.matched === owner)!;
        running.queue.push({ code: code - owner.offset, payload });
        running.wake?.();
        if (running.queue.length >= MAX_QUEUED_MESSAGES_PER_PROTOCOL) {
          await new Promise<void>((resolve) => {
            running.drained = resolve;
          });
        }
      }
    } catch (error) {
      this.#fail(error, undefined);
    }
  }

  #handleBase(code: number, payload: Uint8Array): void {
    switch (code) {
      case BaseMessageCode.Ping:
        this.#sendBase(BaseMessageCode.Pong, EMPTY_LIST_PAYLOAD);
        return;
      case BaseMessageCode.Pong:
        return;
      case BaseMessageCode.Disconnect:
        this.#finish(decodeDisconnect(payload), 'remote');
        return;
      case BaseMessageCode.Hello:
        throw new ProtocolError(ERR_UNEXPECTED_MESSAGE, 'second Hello');
      default:
        // Codes 0x04..0x0f are reserved for the base protocol; a peer using them breaks the protocol.
        throw new ProtocolError(ERR_UNKNOWN_MESSAGE, `unknown base protocol message code ${code}`);
    }
  }

  #sendBase(code: number, payload: Uint8Array): void {
    this.#emitMessage('sent', BASE_CAP, code, payload.length);
    // No promise per Pong: one bound handler hears of a failed write.
    try {
      this.#conn.sendMessage(code, payload, this.#onSendFailure);
    } catch (error) {
      this.#fail(error, undefined);
    }
  }

  readonly #onSendFailure = (error: unknown): void => this.#fail(error, undefined);

  #emitMessage(direction: 'sent' | 'received', cap: Cap, code: number, size: number): void {
    const wanted = this.#messageEvents;
    if (wanted === true || (wanted !== false && wanted())) {
      this.emit('message', { direction, protocol: cap.name, version: cap.version, code, size });
    }
  }

  /**
   * Maps a failure to a disconnect reason, as geth does: a DisconnectError keeps its reason; a protocol breach
   * (unknown code, undecodable message, bad handshake message) is "breach of protocol"; a plugin's timeout is
   * "read timeout"; any other plugin error is "subprotocol error"; a connection failure (closed, bad MAC) is a
   * network error and a silent connection a read timeout, and nothing is sent for either.
   */
  #fail(error: unknown, plugin: AnyProtocol | undefined): void {
    if (this.#end) return;
    if (error instanceof DisconnectError) {
      this.#finish(error.reason, error.initiator, error);
      return;
    }
    // A plugin's send can fail because the connection did (write deadline, full write queue): a connection failure.
    const fromConnection =
      this.#conn.closed || (plugin === undefined && !(error instanceof ProtocolError && isMessageLevel(error)));
    if (fromConnection || error instanceof ConnectionClosedError) {
      // A silent peer is a read timeout; one that does not take our frames is a network error, as in geth.
      const silent = error instanceof TimeoutError && !error.what.endsWith('write');
      const reason = silent ? DisconnectReason.ReadTimeout : DisconnectReason.NetworkError;
      this.#finish(reason, error instanceof ConnectionClosedError ? 'remote' : 'local', error);
      return;
    }
    if (error instanceof ProtocolError) {
      this.#finish(DisconnectReason.ProtocolError, 'local', error);
      return;
    }
    if (error instanceof TimeoutError) {
      // A plugin waited too long for the remote (e.g. eth's Status): geth sends "read timeout" for that.
      this.#finish(DisconnectReason.ReadTimeout, 'local', error);
      return;
    }
    this.#log.debug('protocol failed', { protocol: plugin?.cap.name, error: String(error) });
    this.#finish(DisconnectReason.SubprotocolError, 'local', error);
  }

  #finish(reason: number, initiator: DisconnectInitiator, cause?: unknown): void {
    if (this.#end) return;
    const error = new DisconnectError(reason, initiator, { cause });
    this.#end = { reason, initiator, error };
    this.#log.debug('peer ended', { reason: error.message, cause: cause === undefined ? undefined : String(cause) });
    if (this.#pingTimer !== undefined) this.#clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    // Tell the remote why, unless it told us, or the connection is what failed.
    const sendReason = initiator === 'local' && reason !== DisconnectReason.NetworkError && !this.#conn.closed;
    if (sendReason) {
      this.#emitMessage('sent', BASE_CAP, BaseMessageCode.Disconnect, 2);
      this.#conn.writeMessage(BaseMessageCode.Disconnect, encodeDisconnect(reason)).catch(() => undefined);
    }
    this.#conn.close(error);
    this.#abort.abort(error);
    for (const running of this.#running) {
      running.markReady(running.started);
      running.wake?.();
      running.drained?.();
      try {
        running.instance.close(error);
      } catch (closeError) {
        this.#log.debug('onClose threw', { protocol: running.matched.protocol.cap.name, error: String(closeError) });
      }
    }
    this.emit('closed', this.#end);
    this.#resolveClosed(this.#end);
  }
}

/** Errors about message content (as opposed to the connection): these end the peer with "breach of protocol". */
function isMessageLevel(error: ProtocolError): boolean {
  return error.code === ERR_UNKNOWN_MESSAGE || error.code === ERR_UNEXPECTED_MESSAGE;
}
