import { concatBytes, type DatagramAddress, type DatagramSocket, type RlpInput, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, keccak256, publicKeyFromPrivate, sign } from '@devp2p/crypto';
import { NodeId } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';
import { type DecodedPacket, decodePacket, encodePacket, type Packet as P, type Packet } from '../src/index.ts';

/** Signs arbitrary packet data (extra elements, trailing bytes): `hash ‖ sig ‖ type ‖ data ‖ trailing`. */
export function encodeRaw(
  type: number,
  data: RlpInput,
  key: Uint8Array,
  trailing: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const body = concatBytes(Uint8Array.of(type), rlpEncode(data), trailing);
  const signature = sign(keccak256(body), key);
  return concatBytes(keccak256(concatBytes(signature, body)), signature, body);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Received {
  readonly decoded: DecodedPacket;
  readonly from: DatagramAddress;
}

/** A scripted remote node: its own key and UDP socket, sending crafted packets and reading replies. */
export class Harness {
  readonly key: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly id: NodeId;
  readonly socket: DatagramSocket;
  readonly #inbox: Received[] = [];
  #wake: (() => void) | undefined;

  private constructor(key: Uint8Array, socket: DatagramSocket, inbox: Received[]) {
    this.key = key;
    this.publicKey = publicKeyFromPrivate(key);
    this.id = NodeId.fromPublicKey(this.publicKey);
    this.socket = socket;
    this.#inbox = inbox;
  }

  static async create(host = '127.0.0.1', key: Uint8Array = generatePrivateKey()): Promise<Harness> {
    const inbox: Received[] = [];
    let harness: Harness | undefined;
    const socket = await udpTransport.bind({ host, port: 0 }, (data, from) => {
      try {
        inbox.push({ decoded: decodePacket(data), from });
        harness?.wakeUp();
      } catch {
        // Not a packet: ignore.
      }
    });
    harness = new Harness(key, socket, inbox);
    return harness;
  }

  wakeUp(): void {
    this.#wake?.();
  }

  get endpoint(): { ip: string; udp: number; tcp: number } {
    return { ip: this.socket.address.host, udp: this.socket.address.port, tcp: 0 };
  }

  send(packet: Packet, to: DatagramAddress): Uint8Array {
    const { bytes, hash } = encodePacket(packet, this.key);
    this.socket.send(bytes, to.host, to.port);
    return hash;
  }

  sendRaw(bytes: Uint8Array, to: DatagramAddress): void {
    this.socket.send(bytes, to.host, to.port);
  }

  ping(to: DatagramAddress, overrides: Partial<Extract<P, { type: 'ping' }>> = {}): Uint8Array {
    return this.send(
      {
        type: 'ping',
        version: 4,
        from: this.endpoint,
        to: { ip: to.host, udp: to.port, tcp: 0 },
        expiration: nowSeconds() + 20,
        ...overrides,
      },
      to,
    );
  }

  /** The next received packet of `type` (others before it are dropped), or undefined after `timeoutMs`. */
  async next<T extends P['type']>(
    type: T,
    timeoutMs = 1_000,
  ): Promise<(DecodedPacket & { packet: Extract<P, { type: T }> }) | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#inbox.findIndex((r) => r.decoded.packet.type === type);
      if (i !== -1) {
        const [got] = this.#inbox.splice(i, 1);
        return got!.decoded as DecodedPacket & { packet: Extract<P, { type: T }> };
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Drops everything received so far. */
  clear(): void {
    this.#inbox.length = 0;
  }

  /** Completes the endpoint proof with `to`: ping, take its pong, answer its ping back. */
  async bond(to: DatagramAddress): Promise<void> {
    this.ping(to);
    const pong = await this.next('pong');
    if (!pong) throw new Error('no pong');
    const pingBack = await this.next('ping');
    if (!pingBack) throw new Error('no ping back');
    this.send(
      {
        type: 'pong',
        to: { ip: to.host, udp: to.port, tcp: 0 },
        replyToken: pingBack.hash,
        expiration: nowSeconds() + 20,
      },
      to,
    );
    await sleep(50);
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}
