/**
 * AES-256 single-block encryption in JavaScript with precomputed round tables (FIPS-197 §5.1, the "T-table" form
 * of §5.2's cipher): the RLPx MAC encrypts one 16-byte block per header and per frame, in each direction. Through
 * `node:crypto` each such block costs a native call and a new Buffer (about 1 µs on Node and Deno, where this takes
 * 0.2–0.4); `tools/bench` `primitives` shows both. Bulk AES (the CTR frame cipher, GCM) stays on `node:crypto`,
 * whose AES-NI path is far faster once there is more than a block.
 *
 * Table lookups indexed by secret state are not constant-time: a process sharing this machine's CPU caches could in
 * principle learn about the key from their timing. docs/security.md weighs this for the RLPx MAC, its one use.
 */

/** The AES S-box, built once from its definition (multiplicative inverse in GF(2^8), then the affine map). */
const SBOX = new Uint8Array(256);
/** Round tables: T0[x] is the MixColumns column of S-box(x) (2·s, s, s, 3·s as one big-endian word); T1–T3 rotate it. */
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);

/** Multiplication by x (0x02) in GF(2^8) modulo the AES polynomial x^8 + x^4 + x^3 + x + 1. */
function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

function rotl8(b: number, n: number): number {
  return ((b << n) | (b >>> (8 - n))) & 0xff;
}

{
  // Walk p over every non-zero element as powers of 3 while q walks the inverses (powers of 3^-1 = 0xf6), so that
  // q = p^-1 at each step; S(p) is the affine map of q.
  let p = 1;
  let q = 1;
  do {
    p ^= xtime(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    SBOX[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x]!;
    const s2 = xtime(s);
    const word = ((s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s)) >>> 0;
    T0[x] = word;
    T1[x] = ((word >>> 8) | (word << 24)) >>> 0;
    T2[x] = ((word >>> 16) | (word << 16)) >>> 0;
    T3[x] = ((word >>> 24) | (word << 8)) >>> 0;
  }
}

/** AES-256: 14 rounds, so 15 round keys of four 32-bit words. */
const ROUNDS = 14;
const SCHEDULE_WORDS = 4 * (ROUNDS + 1);

function subWord(w: number): number {
  return (SBOX[w >>> 24]! << 24) | (SBOX[(w >>> 16) & 0xff]! << 16) | (SBOX[(w >>> 8) & 0xff]! << 8) | SBOX[w & 0xff]!;
}

/** The AES-256 key schedule (FIPS-197 §5.2): 60 words, big-endian as the cipher reads them. */
export function expandAes256Key(key: Uint8Array): Uint32Array {
  const w = new Uint32Array(SCHEDULE_WORDS);
  for (let i = 0; i < 8; i++) {
    w[i] = ((key[4 * i]! << 24) | (key[4 * i + 1]! << 16) | (key[4 * i + 2]! << 8) | key[4 * i + 3]!) >>> 0;
  }
  let rcon = 1;
  for (let i = 8; i < SCHEDULE_WORDS; i++) {
    let t = w[i - 1]!;
    if (i % 8 === 0) {
      t = subWord((t << 8) | (t >>> 24)) ^ (rcon << 24);
      rcon = xtime(rcon);
    } else if (i % 8 === 4) {
      t = subWord(t);
    }
    w[i] = (w[i - 8]! ^ t) >>> 0;
  }
  return w;
}

function readWord(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = word >>> 16;
  out[at + 2] = word >>> 8;
  out[at + 3] = word;
}

/** The last round: SubBytes and ShiftRows without MixColumns, one output word. */
function lastRound(a: number, b: number, c: number, d: number, key: number): number {
  return (
    ((SBOX[a >>> 24]! << 24) | (SBOX[(b >>> 16) & 0xff]! << 16) | (SBOX[(c >>> 8) & 0xff]! << 8) | SBOX[d & 0xff]!) ^
    key
  );
}

/**
 * Encrypts the 16-byte block `input` under the expanded key `w` into `out` (which may be `input`).
 * @example encryptAes256Block(expandAes256Key(key), block, out)
 */
export function encryptAes256Block(w: Uint32Array, input: Uint8Array, out: Uint8Array): void {
  let s0 = readWord(input, 0) ^ w[0]!;
  let s1 = readWord(input, 4) ^ w[1]!;
  let s2 = readWord(input, 8) ^ w[2]!;
  let s3 = readWord(input, 12) ^ w[3]!;
  let k = 4;
  for (let round = 1; round < ROUNDS; round++, k += 4) {
    const t0 = T0[s0 >>> 24]! ^ T1[(s1 >>> 16) & 0xff]! ^ T2[(s2 >>> 8) & 0xff]! ^ T3[s3 & 0xff]! ^ w[k]!;
    const t1 = T0[s1 >>> 24]! ^ T1[(s2 >>> 16) & 0xff]! ^ T2[(s3 >>> 8) & 0xff]! ^ T3[s0 & 0xff]! ^ w[k + 1]!;
    const t2 = T0[s2 >>> 24]! ^ T1[(s3 >>> 16) & 0xff]! ^ T2[(s0 >>> 8) & 0xff]! ^ T3[s1 & 0xff]! ^ w[k + 2]!;
    const t3 = T0[s3 >>> 24]! ^ T1[(s0 >>> 16) & 0xff]! ^ T2[(s1 >>> 8) & 0xff]! ^ T3[s2 & 0xff]! ^ w[k + 3]!;
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  writeWord(out, 0, lastRound(s0, s1, s2, s3, w[k]!));
  writeWord(out, 4, lastRound(s1, s2, s3, s0, w[k + 1]!));
  writeWord(out, 8, lastRound(s2, s3, s0, s1, w[k + 2]!));
  writeWord(out, 12, lastRound(s3, s0, s1, s2, w[k + 3]!));
}
