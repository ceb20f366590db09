import { createECDH } from 'node:crypto';

/**
 * secp256k1 ECDH through `node:crypto` (OpenSSL on Node, Rust on Deno), many times faster than pure JS.
 * Bun's `node:crypto` has no secp256k1 curve, so this is probed once at load instead of picked by runtime
 * name: whichever runtime has the curve gets the native path, the rest get `undefined` and use noble.
 * Returns the 32-byte x coordinate of the shared point; throws if the public key is not on the curve.
 */
export const nativeEcdhX: ((privateKey: Uint8Array, publicKey65: Uint8Array) => Uint8Array) | undefined = probe();

function probe(): ((privateKey: Uint8Array, publicKey65: Uint8Array) => Uint8Array) | undefined {
  const ecdhX = (privateKey: Uint8Array, publicKey65: Uint8Array): Uint8Array => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(privateKey);
    const secret = ecdh.computeSecret(publicKey65);
    return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
  };
  try {
    const peer = createECDH('secp256k1');
    peer.generateKeys();
    const self = createECDH('secp256k1');
    self.generateKeys();
    const a = ecdhX(new Uint8Array(self.getPrivateKey()), new Uint8Array(peer.getPublicKey()));
    const b = ecdhX(new Uint8Array(peer.getPrivateKey()), new Uint8Array(self.getPublicKey()));
    return a.length === 32 && Buffer.compare(a, b) === 0 ? ecdhX : undefined;
  } catch {
    return undefined;
  }
}
