/**
 * Cryptographically secure random bytes from the runtime's Web Crypto (Node, Bun and Deno all expose it).
 * @example randomBytes(32)
 */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)));
  }
  return out;
}
