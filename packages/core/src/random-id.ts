/** A random 64-bit starting request id (as geth starts from a random uint64), so ids are not guessable. */
export function randomRequestIdSeed(): bigint {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (BigInt(words[0]!) << 32n) | BigInt(words[1]!);
}
