/**
 * A NAT-PMP client (RFC 6886): asks a gateway for its external IPv4 address and for port mappings. Written here
 * rather than taken from `@achingbrain/nat-port-mapper` because that library sends lifetimes in milliseconds where
 * the protocol wants seconds, and keys its mappings by port alone, so a TCP and a UDP mapping of one port (a node's
 * usual 30303) replace each other and the UDP one is never removed.
 */
import {
  AbortError,
  type Clock,
  type DatagramSocket,
  type DatagramTransport,
  Devp2pError,
  systemClock,
  TimeoutError,
} from '@devp2p/core';

/** The UDP port a NAT-PMP gateway listens on (RFC 6886 §3.1). */
export const NAT_PMP_PORT = 5351;

/** First retransmission delay; each retry doubles it (RFC 6886 §3.1: 250 ms). */
export const NAT_PMP_INITIAL_RETRY_MS = 250;

/** Sends of one request before giving up (RFC 6886 §3.1: 9, about 64 s in all). */
export const NAT_PMP_MAX_SENDS = 9;

/** Error code of a NAT-PMP request the gateway refused or never answered. */
export const ERR_NAT_PMP = 'ERR_NAT_PMP';

const OP_EXTERNAL_ADDRESS = 0;
const OP_MAP_UDP = 1;
const OP_MAP_TCP = 2;
const RESPONSE_BIT = 128;

/** Result codes of RFC 6886 §3.5. */
const RESULT_TEXT: Readonly<Record<number, string>> = {
  1: 'unsupported version',
  2: 'not authorized or refused',
  3: 'network failure',
  4: 'out of resources',
  5: 'unsupported opcode',
};

/** A mapping the gateway granted: the external port may differ from the one asked for. */
export interface PmpMapping {
  readonly protocol: 'tcp' | 'udp';
  readonly internalPort: number;
  readonly externalPort: number;
  /** Seconds the gateway keeps it. */
  readonly lifetime: number;
}

/** Options of {@link PmpClient}. */
export interface PmpClientOptions {
  /** Where the gateway listens (default {@link NAT_PMP_PORT}). */
  readonly port?: number;
  readonly clock?: Clock;
}

interface Pending {
  readonly opcode: number;
  readonly resolve: (response: Uint8Array) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One gateway's NAT-PMP client over a UDP socket of its own. Requests go one at a time, each retransmitted as RFC
 * 6886 says until answered; `close()` releases the socket and fails what is waiting.
 * @example
 * const pmp = await PmpClient.open(udpTransport, '192.168.1.1')
 * const ip = await pmp.externalAddress()
 * await pmp.map('tcp', 30303, 30303, 600)
 */
export class PmpClient {
  readonly gateway: string;
  readonly #port: number;
  readonly #clock: Clock;
  readonly #socket: DatagramSocket;
  #pending: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(gateway: string, port: number, clock: Clock, socket: DatagramSocket) {
    this.gateway = gateway;
    this.#port = port;
    this.#clock = clock;
    this.#socket = socket;
  }

  /** Binds a UDP socket for talking to `gateway`. */
  static async open(transport: DatagramTransport, gateway: string, options: PmpClientOptions = {}): Promise<PmpClient> {
    let client: PmpClient | undefined;
    const socket = await transport.bind({ host: '0.0.0.0', port: 0 }, (data, from) => {
      if (client) client.#onMessage(data, from);
    });
    client = new PmpClient(gateway, options.port ?? NAT_PMP_PORT, options.clock ?? systemClock, socket);
    return client;
  }

  /** The gateway's external IPv4 address. */
  async externalAddress(signal?: AbortSignal): Promise<string> {
    const response = await this.#request(Uint8Array.of(0, OP_EXTERNAL_ADDRESS), OP_EXTERNAL_ADDRESS, 12, signal);
    return `${response[8]}.${response[9]}.${response[10]}.${response[11]}`;
  }

  /**
   * Maps `internalPort` for `lifetime` seconds, asking for `externalPort`; lifetime 0 removes the mapping
   * (RFC 6886 §3.4).
   */
  async map(
    protocol: 'tcp' | 'udp',
    internalPort: number,
    externalPort: number,
    lifetime: number,
    signal?: AbortSignal,
  ): Promise<PmpMapping> {
    const opcode = protocol === 'udp' ? OP_MAP_UDP : OP_MAP_TCP;
    const request = new Uint8Array(12);
    const view = new DataView(request.buffer);
    request[1] = opcode;
    view.setUint16(4, internalPort);
    view.setUint16(6, externalPort);
    view.setUint32(8, lifetime);
    const response = await this.#request(request, opcode, 16, signal);
    const answer = new DataView(response.buffer, response.byteOffset, response.length);
    return {
      protocol,
      internalPort: answer.getUint16(8),
      externalPort: answer.getUint16(10),
      lifetime: answer.getUint32(12),
    };
  }

  /** Releases the socket; requests waiting fail. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.reject(new AbortError('NAT-PMP client closed'));
    this.#pending = undefined;
    await this.#socket.close();
  }

  /** Queues a request behind the one in flight (the protocol matches responses by opcode only). */
  #request(request: Uint8Array, opcode: number, size: number, signal?: AbortSignal): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#exchange(request, opcode, size, signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #exchange(request: Uint8Array, opcode: number, size: number, signal?: AbortSignal): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.#closed) return reject(new AbortError('NAT-PMP client closed'));
      if (signal?.aborted) return reject(new AbortError('NAT-PMP request aborted', { cause: signal.reason }));
      let sends = 0;
      let timer: unknown;
      const finish = (): void => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending = undefined;
      };
      const onAbort = (): void => {
        finish();
        reject(new AbortError('NAT-PMP request aborted', { cause: signal?.reason }));
      };
      const send = (): void => {
        if (sends === NAT_PMP_MAX_SENDS) {
          finish();
          reject(new TimeoutError(`NAT-PMP reply from ${this.gateway}`, NAT_PMP_INITIAL_RETRY_MS * (2 ** sends - 1)));
          return;
        }
        this.#socket.send(request, this.gateway, this.#port);
        timer = this.#clock.setTimeout(send, NAT_PMP_INITIAL_RETRY_MS * 2 ** sends);
        sends++;
      };
      this.#pending = {
        opcode,
        resolve: (response) => {
          finish();
          if (response.length < size) {
            reject(new Devp2pError(ERR_NAT_PMP, `NAT-PMP reply of ${response.length} bytes, expected ${size}`));
            return;
          }
          const result = (response[2]! << 8) | response[3]!;
          if (result !== 0) {
            const why = RESULT_TEXT[result] ?? `result code ${result}`;
            reject(new Devp2pError(ERR_NAT_PMP, `NAT-PMP gateway ${this.gateway}: ${why}`));
            return;
          }
          resolve(response);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      send();
    });
  }

  /** Takes a reply from the gateway to the request in flight; anything else (other hosts, stray opcodes) is dropped. */
  #onMessage(data: Uint8Array, from: { host: string; port: number }): void {
    const pending = this.#pending;
    if (!pending || from.host !== this.gateway || from.port !== this.#port) return;
    if (data.length < 4 || data[0] !== 0 || data[1] !== RESPONSE_BIT + pending.opcode) return;
    pending.resolve(data.slice());
  }
}
