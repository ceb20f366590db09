// A stand-in for the server, for unit tests of a plugin. It attaches a protocol to a fake ProtocolIO (the seam a
// server drives a protocol through) and links two of them, so that each one's sends reach the other a macrotask
// later: during the handshake through `receive` (as the server's handshake reads), afterwards through `deliver`.
// Errors map to disconnect reasons as the server maps them. The server package tests protocols between real peers
// over RLPx.
//
// The types here are structural: @devp2p/core's own tests import this package, so it cannot import core (turbo
// refuses the cycle). A plugin's test passes core's module, and its protocol fits `FakeProtocol`.

import type { ClockFunctions } from './index.ts';

/** What the fake takes from `@devp2p/core`: pass the module itself (`import * as core from '@devp2p/core'`). */
export interface FakeCore {
  readonly ConnectionClosedError: new () => Error;
  readonly DisconnectError: new (reason: number, initiator: 'local' | 'remote') => FakeDisconnect;
  readonly ProtocolError: abstract new (...args: never[]) => Error;
  readonly TimeoutError: new (what: string, timeoutMs: number) => Error;
  readonly DisconnectReason: {
    readonly Requested: number;
    readonly ProtocolError: number;
    readonly ReadTimeout: number;
    readonly SubprotocolError: number;
  };
  readonly silentLogger: unknown;
}

/** A `DisconnectError` of core. */
export interface FakeDisconnect extends Error {
  readonly reason: number;
}

/** A message as the IO carries it (core's `RawMessage`). */
export interface FakeMessage {
  readonly code: number;
  readonly payload: Uint8Array;
}

/** The remote the fake describes (core's `PeerDescription`). */
export interface FakePeerDescription {
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly clientName: string;
  readonly caps: readonly { readonly name: string; readonly version: number }[];
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly inbound: boolean;
}

/** The ProtocolIO the fake hands the protocol. */
export interface FakeIO {
  readonly peer: FakePeerDescription;
  readonly signal: AbortSignal;
  readonly log: unknown;
  readonly clock?: ClockFunctions;
  send(code: number, payload: Uint8Array): Promise<void>;
  receive(timeoutMs?: number): Promise<FakeMessage>;
  disconnect(reason: number): void;
}

/** What the fake calls on an attached instance (core's `ProtocolInstance`). */
export interface FakeInstance {
  start(): Promise<void>;
  deliver(message: FakeMessage): Promise<void>;
  close(error: FakeDisconnect): void;
  /** The peer's admin-API entry (JSON). */
  info(): unknown;
}

/** A protocol the fake can attach (any core `Protocol`), its typed context `Context`. */
export interface FakeProtocol<Context> {
  attach(io: FakeIO): FakeInstance;
  context(instance: FakeInstance): Context | undefined;
}

/** The fake's default remote: an outbound peer on 127.0.0.1 announcing no caps. */
export const FAKE_PEER: FakePeerDescription = {
  id: 'ab'.repeat(32),
  publicKey: new Uint8Array(64),
  clientName: 'fake/v0',
  caps: [],
  remoteAddress: '127.0.0.1:30303',
  localAddress: '127.0.0.1:30304',
  inbound: false,
};

/** Options of a {@link FakePeer}. */
export interface FakePeerOptions {
  /** The remote it describes (default {@link FAKE_PEER}). */
  readonly peer?: FakePeerDescription;
  /** The clock the protocol's contexts get, as the server's (default: core's system clock). */
  readonly clock?: ClockFunctions;
}

/**
 * One side of a fake connection running `protocol`; link two with {@link FakePeer.link} or {@link startLinked}.
 * @example const peer = new FakePeer(core, eth({ chain: mainnet }).eth69); await peer.receive(0x00, statusBytes);
 */
export class FakePeer<Context> {
  /** What the protocol sent, as relative codes and bytes. */
  readonly sent: FakeMessage[] = [];
  /** Reasons the peer ended with, in order. */
  readonly disconnects: number[] = [];
  /** Errors the handshake or deliveries threw, in order. */
  readonly errors: unknown[] = [];
  closed: FakeDisconnect | undefined = undefined;
  /** When false, sends are recorded but not passed on (a silent remote). */
  forward = true;
  readonly instance: FakeInstance;
  readonly #core: FakeCore;
  readonly #protocol: FakeProtocol<Context>;
  readonly #abort = new AbortController();
  readonly #inbox: FakeMessage[] = [];
  #waiter: ((message: FakeMessage) => void) | undefined = undefined;
  #handshaking = true;
  #remote: FakePeer<Context> | undefined = undefined;

  constructor(core: FakeCore, protocol: FakeProtocol<Context>, options: FakePeerOptions = {}) {
    this.#core = core;
    this.#protocol = protocol;
    const io: FakeIO = {
      peer: options.peer ?? FAKE_PEER,
      signal: this.#abort.signal,
      log: core.silentLogger,
      ...(options.clock && { clock: options.clock }),
      send: async (code, payload) => {
        if (this.closed) throw new core.ConnectionClosedError();
        this.sent.push({ code, payload });
        const remote = this.#remote;
        if (remote && this.forward) setTimeout(() => remote.incoming({ code, payload }), 0);
      },
      receive: (timeoutMs = 5_000) => this.#nextHandshakeMessage(timeoutMs),
      disconnect: (reason) => {
        this.disconnects.push(reason);
        this.close(reason);
      },
    };
    this.instance = protocol.attach(io);
  }

  /** Links two fakes: each one's sends reach the other. */
  static link<C>(a: FakePeer<C>, b: FakePeer<C>): void {
    a.#remote = b;
    b.#remote = a;
  }

  /** The reason the server ends a peer with when the handshake or a delivery throws `error`. */
  reasonFor(error: unknown): number {
    const core = this.#core;
    if (error instanceof core.DisconnectError) return error.reason;
    if (error instanceof core.ProtocolError) return core.DisconnectReason.ProtocolError;
    if (error instanceof core.TimeoutError) return core.DisconnectReason.ReadTimeout;
    return core.DisconnectReason.SubprotocolError;
  }

  /** Runs the handshake; on failure records the reason the server would send, ends the peer and rethrows. */
  async start(): Promise<void> {
    try {
      await this.instance.start();
    } catch (error) {
      this.#fail(error);
      throw error;
    }
    this.#handshaking = false;
    for (const message of this.#inbox.splice(0)) await this.receive(message.code, message.payload);
  }

  /** The protocol's typed context (once the handshake has completed). */
  get ctx(): Context {
    return this.#protocol.context(this.instance)!;
  }

  /** A message from the remote: to the handshake's receive while it runs, to `deliver` afterwards. */
  incoming(message: FakeMessage): void {
    if (this.closed) return;
    if (!this.#handshaking) {
      void this.receive(message.code, message.payload);
    } else if (this.#waiter) {
      this.#waiter(message);
    } else {
      this.#inbox.push(message);
    }
  }

  /** Hands a message to the protocol as the server does; an error ends the peer with the matching reason. */
  async receive(code: number, payload: Uint8Array): Promise<void> {
    if (this.closed) return;
    try {
      await this.instance.deliver({ code, payload });
    } catch (error) {
      this.#fail(error);
    }
  }

  close(reason: number = this.#core.DisconnectReason.Requested, initiator: 'local' | 'remote' = 'local'): void {
    if (this.closed) return;
    const error = new this.#core.DisconnectError(reason, initiator);
    this.closed = error;
    this.#abort.abort(error);
    this.instance.close(error);
    if (initiator === 'local') this.#remote?.close(reason, 'remote');
  }

  #fail(error: unknown): void {
    this.errors.push(error);
    this.disconnects.push(this.reasonFor(error));
    this.close(this.reasonFor(error));
  }

  /** The handshake's read: the next message from the remote, a TimeoutError after `timeoutMs`. */
  #nextHandshakeMessage(timeoutMs: number): Promise<FakeMessage> {
    return new Promise<FakeMessage>((resolve, reject) => {
      const next = this.#inbox.shift();
      if (next) return resolve(next);
      const onAbort = (): void => {
        clearTimeout(timer);
        this.#waiter = undefined;
        reject(new this.#core.ConnectionClosedError());
      };
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        this.#abort.signal.removeEventListener('abort', onAbort);
        reject(new this.#core.TimeoutError('fake receive', timeoutMs));
      }, timeoutMs);
      this.#abort.signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = (message) => {
        clearTimeout(timer);
        this.#abort.signal.removeEventListener('abort', onAbort);
        this.#waiter = undefined;
        resolve(message);
      };
    });
  }
}

/**
 * Links `left` and `right` and runs both handshakes; resolves with their outcomes (a failed one has ended its peer).
 * @example const results = await startLinked(new EthFake(a), new EthFake(b)); // [{ status: 'fulfilled' }, ...]
 */
export function startLinked<C>(left: FakePeer<C>, right: FakePeer<C>): Promise<PromiseSettledResult<void>[]> {
  FakePeer.link(left, right);
  return Promise.allSettled([left.start(), right.start()]);
}
