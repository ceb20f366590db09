// Our side of the rlpx bench: two @devp2p/rlpx RLPxConnections over node:net sockets on 127.0.0.1.
import { connect } from 'node:net';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { RLPxConnection } from '@devp2p/rlpx';
import { nodeSocketStream } from '@devp2p/transport-node';
import {
  BENCH_CODE,
  type ConnectionPair,
  deferred,
  type HandshakeServer,
  HOST,
  listen,
  type RlpxSide,
} from './loopback.ts';

/** The sender waits while this much is queued: node:net's default socket buffer, ethjs's pause in this bench. */
const SENDER_PAUSE_BYTES = 16 * 1024;

async function handshakeServer(): Promise<HandshakeServer> {
  const serverKey = generatePrivateKey();
  const serverPublicKey = publicKeyFromPrivate(serverKey);
  const dialerKey = generatePrivateKey();
  const listener = await listen((socket) => {
    const conn = new RLPxConnection(nodeSocketStream(socket), { privateKey: serverKey });
    // The dialer sees any failure here as its own handshake failing.
    conn.handshake().then(
      () => conn.close(),
      () => undefined,
    );
  });
  return {
    async handshake() {
      const conn = new RLPxConnection(nodeSocketStream(connect(listener.port, HOST)), {
        privateKey: dialerKey,
        remotePublicKey: serverPublicKey,
      });
      try {
        await conn.handshake();
      } finally {
        conn.close();
      }
    },
    close: listener.close,
  };
}

async function connectPair(snappy: boolean): Promise<ConnectionPair> {
  const listenerKey = generatePrivateKey();
  const accepted = deferred<RLPxConnection>();
  const listener = await listen((socket) =>
    accepted.resolve(new RLPxConnection(nodeSocketStream(socket), { privateKey: listenerKey })),
  );
  const dialer = new RLPxConnection(nodeSocketStream(connect(listener.port, HOST)), {
    privateKey: generatePrivateKey(),
    remotePublicKey: publicKeyFromPrivate(listenerKey),
  });
  const dialed = dialer.handshake();
  const receiver = await accepted.promise;
  await Promise.all([dialed, receiver.handshake()]);
  dialer.setSnappy(snappy);
  receiver.setSnappy(snappy);
  const close = async (): Promise<void> => {
    dialer.close();
    receiver.close();
    await listener.close();
  };
  return {
    async run(payload, onMessage) {
      let stopped = false;
      const received = (async () => {
        while (onMessage((receiver.readBufferedMessage() ?? (await receiver.readMessage())).payload.length));
        stopped = true;
      })();
      // When the sender fails first, closing makes the pending read reject too: that outcome is not the one reported.
      received.catch(() => undefined);
      // As ethjs's sender does (rlpx-ethjs.ts): write without waiting for each message, and wait while the queue holds
      // more than a socket's usual buffer. `sendMessage` with `writable()` is our API for that; frames sent in one turn
      // then go to the socket together, where awaiting each `writeMessage` makes one turn and one write per message.
      const sent = (async () => {
        while (!stopped) {
          dialer.sendMessage(BENCH_CODE, payload);
          if (dialer.queuedBytes >= SENDER_PAUSE_BYTES) await dialer.writable(SENDER_PAUSE_BYTES);
        }
      })();
      // The sender may be waiting for the socket to drain when the receiver stops: closing settles it.
      await Promise.race([received, sent.then(() => received)]);
      await close();
      await sent.catch(() => undefined);
    },
    close,
  };
}

/**
 * @devp2p/rlpx as the rlpx bench drives it.
 * @example await handshakesPerSecond(await ours.handshakeServer(), 1)
 */
export const ours: RlpxSide = { handshakeServer, connect: connectPair };
