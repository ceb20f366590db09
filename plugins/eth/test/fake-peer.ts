// A stand-in for the server, for unit tests of the eth plugin, after plugins/ping/test/fake-peer.ts. It
// attaches a protocol to a fake ProtocolIO and links two of them, so that each one's sends reach the other a
// macrotask later: during the handshake through `receive` (as the server's handshake reads), afterwards through
// `deliver`. Errors map to disconnect reasons as the server maps them.
import {
  ConnectionClosedError,
  DisconnectError,
  type DisconnectInitiator,
  DisconnectReason,
  type MessageMap,
  type PeerDescription,
  type Protocol,
  type ProtocolContext,
  ProtocolError,
  type ProtocolInstance,
  type ProtocolIO,
  type RawMessage,
  silentLogger,
  TimeoutError,
} from '@devp2p/core';

const FAKE_PEER: PeerDescription = {
  id: 'ab'.repeat(32),
  publicKey: new Uint8Array(64),
  clientName: 'fake/v0',
  caps: [],
  remoteAddress: '127.0.0.1:30303',
  localAddress: '127.0.0.1:30304',
  inbound: false,
};

/** The reason the server ends a peer with when the handshake or a delivery throws `error`. */
export function reasonFor(error: unknown): number {
  if (error instanceof DisconnectError) return error.reason;
  if (error instanceof ProtocolError) return DisconnectReason.ProtocolError;
  if (error instanceof TimeoutError) return DisconnectReason.ReadTimeout;
  return DisconnectReason.SubprotocolError;
}

export class FakePeer<M extends MessageMap, State> {
  /** What the protocol sent, as relative codes and bytes. */
  readonly sent: RawMessage[] = [];
  /** Reasons the peer ended with, in order. */
  readonly disconnects: number[] = [];
  closed: DisconnectError | undefined = undefined;
  /** When false, sends are recorded but not passed on (a silent remote). */
  forward = true;
  readonly instance: ProtocolInstance;
  readonly #protocol: Protocol<M, State>;
  readonly #abort = new AbortController();
  readonly #inbox: RawMessage[] = [];
  #waiter: ((message: RawMessage) => void) | undefined = undefined;
  #handshaking = true;
  #remote: FakePeer<M, State> | undefined = undefined;

  constructor(protocol: Protocol<M, State>) {
    this.#protocol = protocol;
    const io: ProtocolIO = {
      peer: FAKE_PEER,
      signal: this.#abort.signal,
      log: silentLogger,
      send: async (code, payload) => {
        if (this.closed) throw new ConnectionClosedError();
        this.sent.push({ code, payload });
        const remote = this.#remote;
        if (remote && this.forward) setTimeout(() => remote.incoming({ code, payload }), 0);
      },
      receive: (timeoutMs = 5_000) =>
        new Promise<RawMessage>((resolve, reject) => {
          const next = this.#inbox.shift();
          if (next) return resolve(next);
          const onAbort = (): void => {
            clearTimeout(timer);
            this.#waiter = undefined;
            reject(new ConnectionClosedError());
          };
          const timer = setTimeout(() => {
            this.#waiter = undefined;
            this.#abort.signal.removeEventListener('abort', onAbort);
            reject(new TimeoutError('fake receive', timeoutMs));
          }, timeoutMs);
          this.#abort.signal.addEventListener('abort', onAbort, { once: true });
          this.#waiter = (message) => {
            clearTimeout(timer);
            this.#abort.signal.removeEventListener('abort', onAbort);
            this.#waiter = undefined;
            resolve(message);
          };
        }),
      disconnect: (reason) => {
        this.disconnects.push(reason);
        this.close(reason);
      },
    };
    this.instance = protocol.attach(io);
  }

  /** Links two fakes: each one's sends reach the other. */
  static link<M extends MessageMap, State>(a: FakePeer<M, State>, b: FakePeer<M, State>): void {
    a.#remote = b;
    b.#remote = a;
  }

  /** Runs the handshake; on failure records the reason the server would send, ends the peer and rethrows. */
  async start(): Promise<void> {
    try {
      await this.instance.start();
    } catch (error) {
      this.disconnects.push(reasonFor(error));
      this.close(reasonFor(error));
      throw error;
    }
    this.#handshaking = false;
    for (const message of this.#inbox.splice(0)) await this.receive(message.code, message.payload);
  }

  get ctx(): ProtocolContext<M, State> {
    return this.#protocol.context(this.instance)!;
  }

  /** A message from the remote: to the handshake's receive while it runs, to `deliver` afterwards. */
  incoming(message: RawMessage): void {
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
      this.disconnects.push(reasonFor(error));
      this.close(reasonFor(error));
    }
  }

  close(reason: number = DisconnectReason.Requested, initiator: DisconnectInitiator = 'local'): void {
    if (this.closed) return;
    const error = new DisconnectError(reason, initiator);
    this.closed = error;
    this.#abort.abort(error);
    this.instance.close(error);
    if (initiator === 'local') this.#remote?.close(reason, 'remote');
  }
}

/** Two linked fakes running `a` and `b`, both handshakes started; resolves with their outcomes. */
export async function connect<M extends MessageMap, S>(
  a: Protocol<M, S>,
  b: Protocol<M, S>,
): Promise<{ left: FakePeer<M, S>; right: FakePeer<M, S>; results: PromiseSettledResult<void>[] }> {
  const left = new FakePeer(a);
  const right = new FakePeer(b);
  FakePeer.link(left, right);
  const results = await Promise.allSettled([left.start(), right.start()]);
  return { left, right, results };
}
