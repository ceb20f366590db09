// The sockets bench on node:net and node:dgram, which Node, Bun and Deno all provide: the modules as they are, and
// through @devp2p/transport-node (tcpTransport and udpTransport), which adds our ByteStream and DatagramSocket
// wrappers.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { tcpTransport, udpTransport } from '@devp2p/transport-node';
import { listen } from './loopback.ts';
import { type DatagramSide, type Deferred, deferred, HOST, type StreamSide, transportSide } from './sockets.ts';

const ignore = (): void => undefined;

/** A loopback listener whose accepted sockets have Nagle off (as tcpTransport sets it) and never crash on error. */
function listenNet(onSocket: (socket: Socket) => void): ReturnType<typeof listen> {
  return listen((socket) => {
    socket.setNoDelay(true);
    socket.on('error', ignore);
    onSocket(socket);
  });
}

/** Dials the listener on `port` with Nagle off; `failed` rejects on any later socket error. */
function dialNet(port: number, failed: Deferred<void>): Socket {
  const socket = connect({ host: HOST, port, noDelay: true });
  socket.on('error', (err) => failed.reject(err));
  return socket;
}

/**
 * `node:net` as it is: `data` events, `write()` until it returns false, then `drain`.
 * @example await nodeNet.pingPong(message, () => more())
 */
export const nodeNet: StreamSide = {
  async oneWay(chunk, onReceived) {
    const done = deferred<void>();
    let stopped = false;
    const listener = await listenNet((socket) =>
      socket.on('data', (data: Uint8Array) => {
        if (!stopped && !onReceived(data.length)) done.resolve();
      }),
    );
    const dialer = dialNet(listener.port, done);
    const pump = (): void => {
      while (!stopped && dialer.write(chunk));
    };
    dialer.on('connect', pump);
    dialer.on('drain', pump);
    try {
      await done.promise;
    } finally {
      stopped = true;
      dialer.destroy();
      await listener.close();
    }
  },

  async pingPong(message, onRoundTrip) {
    const done = deferred<void>();
    const listener = await listenNet((socket) => socket.on('data', (data: Uint8Array) => socket.write(data)));
    const dialer = dialNet(listener.port, done);
    let received = 0;
    dialer.on('data', (data: Uint8Array) => {
      received += data.length;
      if (received < message.length) return;
      received -= message.length;
      if (onRoundTrip()) dialer.write(message);
      else done.resolve();
    });
    dialer.on('connect', () => dialer.write(message));
    try {
      await done.promise;
    } finally {
      dialer.destroy();
      await listener.close();
    }
  },

  async connections(onCycle) {
    let accepted = deferred<Socket>();
    const listener = await listenNet((socket) => accepted.resolve(socket));
    try {
      for (;;) {
        accepted = deferred<Socket>();
        const connected = deferred<void>();
        const dialer = dialNet(listener.port, connected);
        dialer.once('connect', () => connected.resolve());
        const [, socket] = await Promise.all([connected.promise, accepted.promise]);
        dialer.destroy();
        socket.destroy();
        if (!onCycle()) break;
      }
    } finally {
      await listener.close();
    }
  },
};

/**
 * `tcpTransport` of @devp2p/transport-node: `node:net` behind our `ByteStream` (nodeSocketStream), as the server
 * and RLPx use it.
 */
export const ours: StreamSide = transportSide(tcpTransport);

function bindUdp(onMessage: (data: Uint8Array) => void): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.on('message', onMessage);
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      socket.on('error', ignore);
      resolve(socket);
    });
  });
}

const closeUdp = (socket: UdpSocket): Promise<void> => new Promise((resolve) => socket.close(() => resolve()));

/**
 * `node:dgram` as it is: `message` events, `send()` without a callback.
 * @example await runDatagrams(nodeDgram, datagram, onEvent, stats)
 */
export const nodeDgram: DatagramSide = {
  async pair(datagram, onReceived) {
    const receiver = await bindUdp((data) => onReceived(data.length));
    const sender = await bindUdp(ignore);
    const port = receiver.address().port;
    return {
      send: () => sender.send(datagram, port, HOST),
      close: async () => {
        await Promise.all([closeUdp(sender), closeUdp(receiver)]);
      },
    };
  },
};

/** `udpTransport` of @devp2p/transport-node: `node:dgram` behind our `DatagramSocket`, as discovery uses it. */
export const oursUdp: DatagramSide = {
  async pair(datagram, onReceived) {
    const receiver = await udpTransport.bind({ host: HOST, port: 0 }, (data) => onReceived(data.length));
    const sender = await udpTransport.bind({ host: HOST, port: 0 }, ignore);
    const port = receiver.address.port;
    return {
      send: () => sender.send(datagram, HOST, port),
      close: async () => {
        await Promise.all([sender.close(), receiver.close()]);
      },
    };
  },
};
