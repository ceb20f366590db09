// The sockets bench's optional RLPx figures (SOCKETS_BENCH_RLPX=1): our RLPx connection over a Transport, so that a
// faster socket layer can be weighed against everything RLPx does per message (framing, AES-256-CTR, keccak MACs).
import type { ByteStream, Transport } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { RLPxConnection } from '@devp2p/rlpx';
import { BENCH_CODE } from './loopback.ts';
import { deferred, HOST } from './sockets.ts';

const ignore = (): void => undefined;

/** Two handshaken RLPx connections (snappy off) over `transport` on 127.0.0.1. */
async function rlpxPair(
  transport: Transport,
): Promise<{ dialer: RLPxConnection; listener: RLPxConnection; close(): Promise<void> }> {
  const listenerKey = generatePrivateKey();
  const accepted = deferred<ByteStream>();
  const listener = await transport.listen({ host: HOST, port: 0 }, (stream) => accepted.resolve(stream));
  const dialed = await transport.dial(HOST, listener.address.port);
  const receiver = new RLPxConnection(await accepted.promise, { privateKey: listenerKey });
  const dialer = new RLPxConnection(dialed, {
    privateKey: generatePrivateKey(),
    remotePublicKey: publicKeyFromPrivate(listenerKey),
  });
  await Promise.all([receiver.handshake(), dialer.handshake()]);
  return {
    dialer,
    listener: receiver,
    close: async () => {
      dialer.close();
      receiver.close();
      await listener.close();
    },
  };
}

/**
 * One-way RLPx messages of `payload`: `writeMessage()` awaited in a loop on the dialer, `readMessage()` in a loop on
 * the listener, calling `onReceived` with each payload's length until it returns false.
 * @example await measureRate((onEvent) => rlpxOneWay(tcpTransport, payload, (n) => onEvent(n / 1e6)), 200, 500)
 */
export async function rlpxOneWay(
  transport: Transport,
  payload: Uint8Array,
  onReceived: (bytes: number) => boolean,
): Promise<void> {
  const { dialer, listener, close } = await rlpxPair(transport);
  let stopped = false;
  const sending = (async () => {
    while (!stopped) await dialer.writeMessage(BENCH_CODE, payload);
  })();
  sending.catch(ignore);
  try {
    while (onReceived((await listener.readMessage()).payload.length));
  } finally {
    stopped = true;
    await close();
    await sending.catch(ignore);
  }
}

/**
 * RLPx round trips: the dialer writes `payload` as a message, the listener writes each message back, the dialer
 * reads it and calls `onRoundTrip` until it returns false.
 * @example await measureRate((onEvent) => rlpxPingPong(tcpTransport, message, () => onEvent(1)), 150, 400)
 */
export async function rlpxPingPong(
  transport: Transport,
  payload: Uint8Array,
  onRoundTrip: () => boolean,
): Promise<void> {
  const { dialer, listener, close } = await rlpxPair(transport);
  const echoing = (async () => {
    for (;;) await listener.writeMessage(BENCH_CODE, (await listener.readMessage()).payload);
  })();
  echoing.catch(ignore);
  try {
    do {
      await dialer.writeMessage(BENCH_CODE, payload);
      await dialer.readMessage();
    } while (onRoundTrip());
  } finally {
    await close();
    await echoing.catch(ignore);
  }
}
