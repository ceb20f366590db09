// A stand-in for the server, for unit tests of a plugin. It attaches the protocol to a fake ProtocolIO (the
// seam a server drives a protocol through), so handlers run with the real typed context; it records what the
// protocol sends and how it disconnects, and feeds it messages as bytes, mapping errors to disconnect reasons
// as the server does. Two linked fakes carry each other's messages. The server package tests protocols
// between real peers over RLPx.
import {
  ConnectionClosedError,
  DisconnectError,
  type DisconnectInitiator,
  DisconnectReason,
  type MessageMap,
  type MessageName,
  type PayloadOf,
  type Protocol,
  type ProtocolContext,
  ProtocolError,
  type ProtocolInstance,
  type ProtocolIO,
  silentLogger,
} from '@devp2p/core';
import { FAKE_PEER } from '@devp2p/test-utils/fake-peer';

export interface SentMessage<M extends MessageMap> {
  readonly code: number;
  readonly name: MessageName<M>;
  /** The bytes on the wire, decoded again with the protocol's codec. */
  readonly payload: PayloadOf<M[MessageName<M>]>;
}

/** The reason the server ends a peer with when delivering a message throws `error`. */
function reasonFor(error: unknown): number {
  if (error instanceof DisconnectError) return error.reason;
  if (error instanceof ProtocolError) return DisconnectReason.ProtocolError;
  return DisconnectReason.SubprotocolError;
}

export class FakePeer<M extends MessageMap, State> {
  readonly sent: SentMessage<M>[] = [];
  /** Reasons the protocol (or a failed delivery) ended the peer with, in order. */
  readonly disconnects: number[] = [];
  /** When set, sends reject with it (a broken connection). */
  sendError: Error | undefined = undefined;
  /** Set once the peer ended: what `onClose` received. */
  closed: DisconnectError | undefined = undefined;
  readonly instance: ProtocolInstance;
  readonly #protocol: Protocol<M, State>;
  readonly #abort = new AbortController();
  #remote: FakePeer<M, State> | undefined = undefined;

  constructor(protocol: Protocol<M, State>) {
    this.#protocol = protocol;
    const io: ProtocolIO = {
      peer: FAKE_PEER,
      signal: this.#abort.signal,
      log: silentLogger,
      send: async (code, payload) => {
        if (this.closed) throw new ConnectionClosedError();
        if (this.sendError) throw this.sendError;
        const name = protocol.messageNames.get(code)!;
        this.sent.push({
          code,
          name,
          payload: protocol.messages[name]!.codec.decode(payload) as SentMessage<M>['payload'],
        });
        const remote = this.#remote;
        if (remote) setTimeout(() => void remote.receive(code, payload), 0);
      },
      receive: () => Promise.reject(new Error('FakePeer: no handshake messages to receive')),
      disconnect: (reason) => {
        this.disconnects.push(reason);
        this.close(reason);
      },
    };
    this.instance = protocol.attach(io);
  }

  /** A fake peer whose handshake has run. */
  static async connect<M extends MessageMap, State>(protocol: Protocol<M, State>): Promise<FakePeer<M, State>> {
    const peer = new FakePeer(protocol);
    await peer.instance.start();
    return peer;
  }

  /** Two connected fakes that deliver each other's messages one macrotask later. */
  static async pair<M extends MessageMap, State>(
    protocol: Protocol<M, State>,
  ): Promise<[FakePeer<M, State>, FakePeer<M, State>]> {
    const a = await FakePeer.connect(protocol);
    const b = await FakePeer.connect(protocol);
    a.#remote = b;
    b.#remote = a;
    return [a, b];
  }

  /** The typed context the protocol's handlers run with. */
  get ctx(): ProtocolContext<M, State> {
    return this.#protocol.context(this.instance)!;
  }

  /** Encodes a message with the protocol's codec and receives it. */
  deliver<K extends MessageName<M>>(name: K, payload: PayloadOf<M[K]>): Promise<void> {
    const { code, codec } = this.#protocol.messages[name]!;
    return this.receive(code, codec.encode(payload as never));
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

  /** Ends the peer: aborts the signal and calls `onClose`, here and (as a remote disconnect) on the linked fake. */
  close(reason: number = DisconnectReason.Requested, initiator: DisconnectInitiator = 'local'): void {
    if (this.closed) return;
    const error = new DisconnectError(reason, initiator);
    this.closed = error;
    this.#abort.abort(error);
    this.instance.close(error);
    if (initiator === 'local') this.#remote?.close(reason, 'remote');
  }
}
