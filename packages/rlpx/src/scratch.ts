/**
 * An array shared by every connection of the process for bytes used up within one synchronous call (a message
 * compressed and then encrypted, a frame body copied out of its chunks and then hashed and decrypted), so that such a
 * call costs no new zeroed array. It grows to the largest size asked for, up to `maxBytes`, and stays that large; a
 * larger request gets an array of its own. The returned array may be longer than asked for.
 * @example const compressTarget = sharedScratch(64 * 1024, 2.5 * 1024 * 1024); const out = compressTarget(room);
 */
export function sharedScratch(initialBytes: number, maxBytes: number): (bytes: number) => Uint8Array {
  let shared = new Uint8Array(initialBytes);
  return (bytes) => {
    if (bytes > maxBytes) return new Uint8Array(bytes);
    if (bytes > shared.length) shared = new Uint8Array(bytes);
    return shared;
  };
}
