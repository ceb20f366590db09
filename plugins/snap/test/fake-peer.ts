// A stand-in for the server in unit tests of the snap plugin: it attaches the protocol to a fake ProtocolIO, links
// two of them so that each one's sends reach the other a macrotask later, and maps errors to the disconnect reasons
// the server sends. Snap has no wire handshake, so `start` only creates the state. Tests over real sockets are in
// tcp.test.ts.
import {
  ConnectionClosedError,
  DisconnectError,
  type DisconnectInitiator,
  DisconnectReason,
  type PeerDescription,
  ProtocolError,
  type ProtocolInstance,
  type RawMessage,
  silentLogger,
  TimeoutError,
} from '@devp2p/core';
import type { SnapContext, SnapProtocol } from '../src/index.ts';

const PEER: PeerDescription = {
  id: 'cd'.repeat(32),
  publicKey: new Uint8Array(64),
  clientName: 'fake/v0',
  caps: [{ name: 'snap', version: 1 }],
  remoteAddress: '127.0.0.1:30303',
  localAddress: '127.0.0.1:30304',
  inbound: false,
};

/** The reason the server ends a peer with when a delivery throws `error`. */
export function reasonFor(error: unknown): number {
  if (error instanceof DisconnectError) return error.reason;
  if (error instanceof ProtocolError) return DisconnectReason.ProtocolError;
  if (error instanceof TimeoutError) return DisconnectReason.ReadTimeout;
  return DisconnectReason.SubprotocolError;
}

export class FakePeer {
  /** What the protocol sent: relative codes and payloads. */
  readonly sent: RawMessage[] = [];
  /** Reasons the peer ended with, in order. */
  readonly disconnects: number[] = [];
  /** Errors deliveries threw, in order. */
  readonly errors: unknown[] = [];
  /** When false, sends are recorded but not passed on (a silent remote). */
  forward = true;
  closed: DisconnectError | undefined = undefined;
  readonly instance: ProtocolInstance;
  readonly #protocol: SnapProtocol;
  readonly #abort = new AbortController();
  #remote: FakePeer | undefined = undefined;

  constructor(protocol: SnapProtocol) {
    this.#protocol = protocol;
    this.instance = protocol.attach({
      peer: PEER,
      signal: this.#abort.signal,
      log: silentLogger,
      send: async (code, payload) => {
        if (this.closed) throw new ConnectionClosedError();
        this.sent.push({ code, payload });
        const remote = this.#remote;
        if (remote && this.forward) setTimeout(() => void remote.receive(code, payload), 0);
      },
      receive: () => Promise.reject(new Error('snap has no wire handshake')),
      disconnect: (reason) => {
        this.disconnects.push(reason);
        this.close(reason);
      },
    });
  }

  get ctx(): SnapContext {
    return this.#protocol.context(this.instance)!;
  }

  /** Hands a message to the protocol as the server does; an error ends the peer with the matching reason. */
  async receive(code: number, payload: Uint8Array): Promise<void> {
    if (this.closed) return;
    try {
      await this.instance.deliver({ code, payload });
    } catch (error) {
      this.errors.push(error);
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

  /** Two started, linked fakes: `left` (usually the client) and `right` (usually the server). */
  static async pair(left: SnapProtocol, right: SnapProtocol): Promise<{ left: FakePeer; right: FakePeer }> {
    const a = new FakePeer(left);
    const b = new FakePeer(right);
    a.#remote = b;
    b.#remote = a;
    await Promise.all([a.instance.start(), b.instance.start()]);
    return { left: a, right: b };
  }
}
