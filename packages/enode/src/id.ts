import { bytesToHex, hexToBytes } from '@devp2p/core';
import { decompressPublicKey, keccak256 } from '@devp2p/crypto';

/** The bytes behind a NodeId, without copying: for this module's distance functions only. */
let rawBytes: (id: NodeId) => Uint8Array;

/**
 * Length of a node id: a keccak-256 digest.
 * @example assertBytes(id, 'node id', NODE_ID_LENGTH)
 */
export const NODE_ID_LENGTH = 32;

/**
 * A node's identity on the network: keccak-256 of its 64-byte public key (the "v4" identity scheme).
 * Immutable; compare with {@link NodeId.equals}, key maps with {@link NodeId.hex}.
 *
 * @example
 * const id = NodeId.fromPublicKey(publicKeyFromPrivate(key))
 * console.log(id.hex, id.short())
 */
export class NodeId {
  readonly #bytes: Uint8Array;
  #hex: string | undefined;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /**
   * A node id from its 32 bytes (copied).
   * @example NodeId.fromBytes(new Uint8Array(32))
   */
  static fromBytes(bytes: Uint8Array): NodeId {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('node id: expected Uint8Array');
    if (bytes.length !== NODE_ID_LENGTH) {
      throw new RangeError(`node id: expected ${NODE_ID_LENGTH} bytes, got ${bytes.length}`);
    }
    return new NodeId(bytes.slice());
  }

  /**
   * Parses 64 hex characters (an optional `0x` prefix is accepted, as geth's `ParseID` does).
   * @example NodeId.fromHex('a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7')
   */
  static fromHex(text: string): NodeId {
    const bytes = hexToBytes(text, 'node id');
    if (bytes.length !== NODE_ID_LENGTH) {
      throw new RangeError(`node id: wrong length, want ${NODE_ID_LENGTH * 2} hex chars, got ${bytes.length * 2}`);
    }
    return new NodeId(bytes);
  }

  /**
   * The id of a secp256k1 public key in any form (33-byte compressed, 64-byte x ‖ y, 65-byte 0x04 ‖ x ‖ y).
   * @example NodeId.fromPublicKey(publicKeyFromPrivate(privateKey))
   */
  static fromPublicKey(publicKey: Uint8Array): NodeId {
    const xy = publicKey.length === 64 ? publicKey : decompressPublicKey(publicKey);
    return new NodeId(keccak256(xy));
  }

  /**
   * The 32 bytes (a copy; use {@link NodeId.equals} and {@link logDistance} to compare without copying).
   * @example socket.send(concatBytes(header, id.bytes))
   */
  get bytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /**
   * Lowercase hex without `0x` (64 characters): the text form and a good map key.
   * @example peers.set(id.hex, peer)
   */
  get hex(): string {
    this.#hex ??= bytesToHex(this.#bytes);
    return this.#hex;
  }

  /**
   * The first 8 bytes in hex, for logs (as geth's `TerminalString`).
   * @example log.debug('ping', { id: id.short() })
   */
  short(): string {
    return this.hex.slice(0, 16);
  }

  /**
   * Byte `index` of the id (0..31), without copying.
   * @example const bucketByte = id.at(0)
   */
  at(index: number): number {
    const b = this.#bytes[index];
    if (b === undefined) throw new RangeError(`node id: byte index ${index} out of range`);
    return b;
  }

  /**
   * True when both ids are the same 32 bytes.
   * @example if (node.id.equals(self.id)) return
   */
  equals(other: NodeId): boolean {
    for (let i = 0; i < NODE_ID_LENGTH; i++) if (this.#bytes[i] !== other.#bytes[i]) return false;
    return true;
  }

  /**
   * The hex form.
   * @example `${id}` // 'a448f24c...'
   */
  toString(): string {
    return this.hex;
  }

  /**
   * The hex form, so ids serialise as strings in JSON.
   * @example JSON.stringify({ id }) // '{"id":"a448..."}'
   */
  toJSON(): string {
    return this.hex;
  }

  static {
    rawBytes = (id) => id.#bytes;
  }
}

/**
 * The logarithmic XOR distance between two ids, log2(a ⊕ b) + 1, in 0..256 (0 for equal ids): the Kademlia
 * bucket metric as geth's `LogDist` computes it.
 * @example logDistance(self, other) // 256 when the first bits differ
 */
export function logDistance(a: NodeId, b: NodeId): number {
  const x = rawBytes(a);
  const y = rawBytes(b);
  for (let i = 0; i < NODE_ID_LENGTH; i++) {
    const d = x[i]! ^ y[i]!;
    if (d !== 0) return (NODE_ID_LENGTH - i) * 8 - (Math.clz32(d) - 24);
  }
  return 0;
}

/**
 * Compares the XOR distances a→target and b→target: -1 when `a` is closer, 1 when `b` is closer, 0 when equal.
 * @example nodes.sort((a, b) => compareDistance(target, a.id, b.id))
 */
export function compareDistance(target: NodeId, a: NodeId, b: NodeId): -1 | 0 | 1 {
  const t = rawBytes(target);
  const x = rawBytes(a);
  const y = rawBytes(b);
  for (let i = 0; i < NODE_ID_LENGTH; i++) {
    const da = x[i]! ^ t[i]!;
    const db = y[i]! ^ t[i]!;
    if (da !== db) return da < db ? -1 : 1;
  }
  return 0;
}
