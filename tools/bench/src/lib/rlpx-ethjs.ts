// The @ethereumjs/devp2p side of the rlpx bench. It drives ethjs's `Peer`, the class that owns an RLPx socket
// (its `RLPx` class only adds discovery, peer bookkeeping and the Hello exchange around it), so both ends run
// ethjs's own socket-data loop, its ECIES handshake and its frame codec:
// - handshake: the dialer's Peer sends the EIP-8 auth from its constructor, the listener's Peer parses it and
//   answers with the ack, both derive the frame secrets; `_sendHello` (which Peer calls right after, on both ends)
//   is overridden to mark the handshake done instead of sending a Hello, so no more work is counted than ours does.
// - messages: the dialer sends through `Peer._sendMessage` (rlp(code) ‖ payload, header and body encrypted and
//   MAC'd); the listener's socket-data loop checks the MACs, decrypts, decompresses (snappy when the Hello it
//   holds says p2p version 5 or later) and hands the payload to a one-code subprotocol at offset 0x10. The Hello
//   exchange is skipped by giving both ends the Hello they would have received. Snappy compression on send is
//   `snappyjs.compress`, as ethjs's own subprotocols (ETH, SNAP) call it.
import { connect, type Socket } from 'node:net';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Peer, type PeerOptions } from '@ethereumjs/devp2p';
import * as snappyjs from 'snappyjs';
import {
  BENCH_CODE,
  type ConnectionPair,
  type Deferred,
  deferred,
  type HandshakeServer,
  HOST,
  listen,
  type RlpxSide,
} from './loopback.ts';

/** The p2p version from which ethjs snappy-compresses payloads (EIP-706), and the one before it. */
const SNAPPY_VERSION = 5;
const PLAIN_VERSION = 4;

/** What Peer hands a subprotocol's messages to (ethjs does not export its `Protocol` class). */
type SubProtocol = Peer['_protocols'][number]['protocol'];

/** ethjs only reads `common` for custom crypto hooks (`common?.customCrypto`) and to build a Hello: none here. */
const NO_COMMON = undefined as unknown as PeerOptions['common'];

/** A Peer whose handshake ends where ethjs would send its Hello, with a direct line to its socket. */
class BenchPeer extends Peer {
  readonly #handshaken: Deferred<void>;

  constructor(privateKey: Uint8Array, socket: Socket, remoteId: Uint8Array | null) {
    const handshaken = deferred<void>();
    super({
      clientId: new TextEncoder().encode('devp2p-bench'),
      capabilities: [],
      common: NO_COMMON,
      port: 0,
      id: publicKeyFromPrivate(privateKey),
      remoteId: remoteId as Uint8Array,
      privateKey,
      socket,
      timeout: 10_000,
    });
    this.#handshaken = handshaken;
    this.events.on('error', (err: unknown) => handshaken.reject(err));
    socket.once('close', () => handshaken.reject(new Error('socket closed during the ethjs handshake')));
  }

  /** Settles once auth and ack are exchanged and the frame secrets derived. */
  get handshaken(): Promise<void> {
    return this.#handshaken.promise;
  }

  get socket(): Socket {
    return this._socket;
  }

  /** Called by Peer on both ends right after the handshake, to send a Hello: the handshake is done. */
  override _sendHello(): void {
    this.#handshaken.resolve();
  }

  /**
   * Sets up what the Hello exchange would: the remote's Hello (its p2p version decides whether ethjs decompresses
   * what it receives) and one shared subprotocol at offset {@link BENCH_CODE} whose messages go to `onMessage`.
   */
  openTransport(snappy: boolean, onMessage: (payload: Uint8Array) => void): void {
    this._hello = {
      protocolVersion: snappy ? SNAPPY_VERSION : PLAIN_VERSION,
      clientId: 'devp2p-bench',
      capabilities: [],
      port: 0,
      id: this._remoteId ?? new Uint8Array(64),
    };
    const sink = { _handleMessage: (_code: number, payload: Uint8Array) => onMessage(payload) };
    this._protocols.push({ protocol: sink as unknown as SubProtocol, offset: BENCH_CODE, length: 1 });
  }
}

/** Resolves once `socket` can take more bytes (or is closed). */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

async function handshakeServer(): Promise<HandshakeServer> {
  const serverKey = generatePrivateKey();
  const serverId = publicKeyFromPrivate(serverKey);
  const dialerKey = generatePrivateKey();
  const listener = await listen((socket) => {
    const peer = new BenchPeer(serverKey, socket, null);
    // The dialer sees any failure here as its own handshake failing.
    peer.handshaken.then(
      () => socket.end(),
      () => socket.destroy(),
    );
  });
  return {
    async handshake() {
      const socket = connect(listener.port, HOST);
      const peer = new BenchPeer(dialerKey, socket, serverId);
      try {
        await peer.handshaken;
      } finally {
        socket.end();
      }
    },
    close: listener.close,
  };
}

async function connectPair(snappy: boolean): Promise<ConnectionPair> {
  const listenerKey = generatePrivateKey();
  const accepted = deferred<BenchPeer>();
  const listener = await listen((socket) => accepted.resolve(new BenchPeer(listenerKey, socket, null)));
  const dialer = new BenchPeer(generatePrivateKey(), connect(listener.port, HOST), publicKeyFromPrivate(listenerKey));
  const receiver = await accepted.promise;
  await Promise.all([dialer.handshaken, receiver.handshaken]);
  const close = async (): Promise<void> => {
    dialer.socket.destroy();
    receiver.socket.destroy();
    await listener.close();
  };
  return {
    async run(payload, onMessage) {
      let stopped = false;
      const done = deferred<void>();
      const fail = (err: unknown): void => done.reject(err);
      dialer.events.on('error', fail);
      receiver.events.on('error', fail);
      dialer.openTransport(snappy, () => undefined);
      receiver.openTransport(snappy, (message) => {
        if (stopped || onMessage(message.length)) return;
        stopped = true;
        done.resolve();
      });
      const socket = dialer.socket;
      const sent = (async () => {
        while (!stopped) {
          if (dialer._sendMessage(BENCH_CODE, snappy ? snappyjs.compress(payload) : payload) !== true) {
            throw new Error('ethjs refused to send (connection closed)');
          }
          // ethjs writes without waiting; the bench keeps it within the socket's buffer, as ours does.
          if (socket.writableLength >= socket.writableHighWaterMark) await drained(socket);
        }
      })();
      sent.catch(fail);
      await done.promise;
      await close();
    },
    close,
  };
}

/**
 * @ethereumjs/devp2p as the rlpx bench drives it (see the top of this file).
 * @example await handshakesPerSecond(await ethjs.handshakeServer(), 1)
 */
export const ethjs: RlpxSide = { handshakeServer, connect: connectPair };
