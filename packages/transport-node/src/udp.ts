import { createSocket, type Socket } from 'node:dgram';
import {
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  Devp2pError,
  ERR_LISTEN,
  formatHostPort,
} from '@devp2p/core';
import { checkLoopbackOnly } from './loopback.ts';

/** Strips the `%zone` of a scoped IPv6 address (`fe80::1%eth0`), which node ids and records never carry. */
function stripZone(host: string): string {
  const zone = host.indexOf('%');
  return zone === -1 ? host : host.slice(0, zone);
}

class NodeDatagramSocket implements DatagramSocket {
  readonly address: DatagramAddress;
  readonly #socket: Socket;
  #closed: Promise<void> | undefined;

  constructor(socket: Socket, address: DatagramAddress) {
    this.#socket = socket;
    this.address = address;
  }

  send(data: Uint8Array, host: string, port: number): void {
    if (this.#closed) return;
    try {
      checkLoopbackOnly('UDP send to', host);
      // The callback swallows asynchronous send errors (unreachable host, EPERM, ...): UDP is lossy, except one.
      this.#socket.send(data, port, host, (error) => {
        // On Bun, the kernel's report that an earlier datagram found no listener (ICMP port unreachable, from any
        // destination) fails the next send on the socket as ECONNREFUSED, and that datagram is not sent: a node
        // that just pinged a peer gone away would lose its next packet to anyone. The failed send consumed the
        // report, so sending once more delivers it (at worst a second datagram to an address that has no listener).
        if ((error as { code?: string } | null)?.code === 'ECONNREFUSED' && !this.#closed) {
          this.#socket.send(data, port, host, () => undefined);
        }
      });
    } catch {
      // Synchronous errors (bad address for this socket's family) drop the datagram too.
    }
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#socket.removeAllListeners('message');
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.#closed;
  }
}

/**
 * UDP on `node:dgram`, the same on Node, Bun and Deno: IPv4 for IPv4 hosts, IPv6 (`ipv6Only` off, so it also
 * carries IPv4 where the system allows) for IPv6 hosts such as `::`.
 * @example
 * const socket = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, (data, from) => console.log(data, from))
 * socket.send(Uint8Array.of(1, 2, 3), '127.0.0.1', socket.address.port)
 * await socket.close()
 */
export const udpTransport: DatagramTransport = {
  bind(
    options: { host: string; port: number },
    onMessage: (data: Uint8Array, from: DatagramAddress) => void,
  ): Promise<DatagramSocket> {
    return new Promise((resolve, reject) => {
      const ipv6 = options.host.includes(':');
      let socket: Socket;
      try {
        socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', ipv6Only: false });
      } catch (error) {
        reject(new Devp2pError(ERR_LISTEN, `cannot create a UDP socket: ${String(error)}`, { cause: error }));
        return;
      }
      const onError = (error: Error): void => {
        try {
          socket.close();
        } catch {
          // Already closed.
        }
        reject(
          new Devp2pError(
            ERR_LISTEN,
            `cannot bind UDP ${formatHostPort(options.host, options.port)}: ${error.message}`,
            {
              cause: error,
            },
          ),
        );
      };
      socket.once('error', onError);
      socket.bind(options.port, options.host, () => {
        socket.off('error', onError);
        // Errors after binding (ICMP unreachable reports on some systems) must not crash the process.
        socket.on('error', () => undefined);
        socket.on('message', (msg: Uint8Array, rinfo: { address: string; port: number }) => {
          onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
            host: stripZone(rinfo.address),
            port: rinfo.port,
          });
        });
        const bound = socket.address();
        resolve(new NodeDatagramSocket(socket, { host: options.host, port: bound.port }));
      });
    });
  },
};

/**
 * An in-memory datagram network for tests: sockets bound on it reach each other by `host:port`, delivery is
 * asynchronous (a macrotask), and datagrams to an unbound address vanish, as UDP ones do.
 * @example
 * const net = new MemoryDatagramNetwork()
 * const a = await net.bind({ host: '10.0.0.1', port: 30303 }, () => {})
 * const b = await net.bind({ host: '10.0.0.2', port: 0 }, (data, from) => console.log(data, from))
 * a.send(Uint8Array.of(1), '10.0.0.2', b.address.port)
 */
export class MemoryDatagramNetwork implements DatagramTransport {
  readonly #sockets = new Map<string, (data: Uint8Array, from: DatagramAddress) => void>();
  #nextPort = 40_000;

  bind(
    options: { host: string; port: number },
    onMessage: (data: Uint8Array, from: DatagramAddress) => void,
  ): Promise<DatagramSocket> {
    const port = options.port === 0 ? this.#nextPort++ : options.port;
    const key = formatHostPort(options.host, port);
    if (this.#sockets.has(key)) {
      return Promise.reject(new Devp2pError(ERR_LISTEN, `cannot bind ${key}: address in use`));
    }
    this.#sockets.set(key, onMessage);
    const address: DatagramAddress = { host: options.host, port };
    const sockets = this.#sockets;
    let closed = false;
    return Promise.resolve({
      address,
      send(data: Uint8Array, host: string, toPort: number): void {
        if (closed) return;
        const copy = data.slice();
        setTimeout(() => {
          const deliver = sockets.get(formatHostPort(host, toPort));
          if (deliver) deliver(copy, address);
        }, 0);
      },
      close(): Promise<void> {
        if (!closed) {
          closed = true;
          sockets.delete(key);
        }
        return Promise.resolve();
      },
    });
  }
}
