#!/usr/bin/env node
// Generates the WebAssembly keccak-f[1600] absorber used by src/keccak-wasm.ts and writes it, base64-encoded,
// to src/keccak-wasm-binary.ts. Run it after changing this file: `node scripts/gen-keccak-wasm.mjs`.
// test/keccak.test.ts fails when the committed binary differs from what this script produces.
//
// The module exports one function and its memory:
//   absorb(state: i32, input: i32, blocks: i32, out: i32)
//                        loads the 200-byte state at `state`, XORs `blocks` consecutive 136-byte blocks read from
//                        `input` into it, running keccak-f[1600] after each block, and stores the result at `out`
//                        (`state` itself for an update; elsewhere for a digest, which leaves the running state as it
//                        was). Lanes are little-endian i64, which is also WebAssembly's memory order, so a lane is
//                        one i64.load.
//   memory               two fixed 64 KiB pages: a scratch state at 0 and input blocks from 256 to the end of the
//                        first page; the second page is where src/keccak-wasm.ts keeps hashers' states between calls.
// The 25 lanes live in i64 locals for the whole call; the 24 rounds are unrolled with their constants inline, each
// round going from one set of 25 lane locals to the other (θ, then ρ+π+χ one output row at a time, so only five
// temporaries are live), with some lanes held inverted to save NOTs in χ (see INVERTED).
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

/** Byte offset of the 200-byte state in the module's memory. */
export const STATE_OFFSET = 0;
/** Byte offset of the first input block (the state is followed by padding to a 256-byte boundary). */
export const INPUT_OFFSET = 256;
/** keccak-256's rate: 1600 - 2·256 bits = 136 bytes = 17 lanes. */
export const RATE = 136;
/** WebAssembly's page size. */
const PAGE_BYTES = 65536;
/** Memory size in 64 KiB pages; fixed, so views over it stay valid. */
export const PAGES = 2;
/** Whole blocks that fit between INPUT_OFFSET and the end of the first page (480 · 136 = 65,280 bytes). */
export const MAX_BLOCKS = Math.floor((PAGE_BYTES - INPUT_OFFSET) / RATE);
/** The second page: running states kept in the module between calls (laid out by src/keccak-wasm.ts). */
export const STATES_OFFSET = PAGE_BYTES;
export const STATES_BYTES = (PAGES - 1) * PAGE_BYTES;

const ROUNDS = 24;
const lane = (x, y) => (x % 5) + 5 * (y % 5);

/** Round constants from the spec's LFSR x⁸ + x⁶ + x⁵ + x⁴ + 1: bit 2^j − 1 of round i is rc(7i + j). */
export function roundConstants() {
  let lfsr = 1;
  const out = [];
  for (let round = 0; round < ROUNDS; round++) {
    let rc = 0n;
    for (let j = 0; j < 7; j++) {
      if (lfsr & 1) rc |= 1n << BigInt(2 ** j - 1);
      lfsr = ((lfsr << 1) ^ (lfsr & 0x80 ? 0x171 : 0)) & 0xff;
    }
    out.push(rc);
  }
  return out;
}

/** ρ offsets: walking (x, y) ← (y, 2x + 3y) from (1, 0), step t rotates by (t + 1)(t + 2)/2 mod 64. */
export function rotationOffsets() {
  const out = new Array(25).fill(0);
  let x = 1;
  let y = 0;
  for (let t = 0; t < 24; t++) {
    out[lane(x, y)] = (((t + 1) * (t + 2)) / 2) % 64;
    [x, y] = [y, (2 * x + 3 * y) % 5];
  }
  return out;
}

/**
 * Lane complementing: these lanes are held inverted in the locals while the permutation runs, which lets χ
 * (a ^ (~b & c) on every lane) be computed with 6 NOTs per round instead of 25 by picking, per lane,
 * ~b & c or its De Morgan twin b | ~c. The set was found by searching lane sets for the fewest NOTs as chiLane()
 * counts them (6 is the least found); the state in memory is never inverted (lanes flip on load and store).
 */
const INVERTED = new Set([lane(1, 0), lane(2, 1), lane(3, 1), lane(4, 2), lane(2, 3), lane(2, 4)]);
const inverted = (i) => (INVERTED.has(i) ? 1 : 0);
/** NOTs per round χ must spend with INVERTED; the generator refuses to emit anything else. */
const CHI_NOTS = 6;

const get = (name) => `(local.get $${name})`;
const set = (name, value) => `(local.set $${name} ${value})`;
const xor = (a, b) => `(i64.xor ${a} ${b})`;
const not = (value) => `(i64.xor ${value} (i64.const -1))`;
const rotl = (value, by) => (by === 0 ? value : `(i64.rotl ${value} (i64.const ${by}))`);

/** Whether θ's d[x] comes out inverted, given how many inverted lanes each column holds. */
function invertedD() {
  const column = [0, 1, 2, 3, 4].map((x) => [0, 1, 2, 3, 4].reduce((p, y) => p ^ inverted(lane(x, y)), 0));
  return [0, 1, 2, 3, 4].map((x) => column[(x + 4) % 5] ^ column[(x + 1) % 5]);
}

/**
 * χ for one lane: out = b0 ^ (~b1 & b2), where each b (and out) may be held inverted (flags f0, f1, f2, fo).
 * Returns the cheapest expression and how many NOTs it spends.
 */
function chiLane(b0, b1, b2, f0, f1, f2, fo) {
  const lit = (name, invert) => (invert ? not(get(name)) : get(name));
  // ~b1 & b2 directly, or as ~(b1 | ~b2): whichever needs fewer NOTs on the held values.
  const options = [
    { term: `(i64.and ${lit(b1, !f1)} ${lit(b2, f2)})`, nots: (f1 ? 0 : 1) + f2, flip: f0 ^ fo },
    { term: `(i64.or ${lit(b1, f1)} ${lit(b2, !f2)})`, nots: f1 + (f2 ? 0 : 1), flip: f0 ^ fo ^ 1 },
  ].map((o) => ({ ...o, nots: o.nots + o.flip }));
  const best = options[0].nots <= options[1].nots ? options[0] : options[1];
  const value = xor(get(b0), best.term);
  return { value: best.flip ? not(value) : value, nots: best.nots };
}

/**
 * One round from lane set `from` into lane set `to`: θ into c/d; then per output row, ρ and π into b0..b4 and
 * χ (plus ι on lane 0) into `to`. Alternating the two sets keeps only five b temporaries alive at a time.
 */
function round(rc, rho, dInverted, from, to) {
  const lines = [];
  for (let x = 0; x < 5; x++) {
    const column = [0, 1, 2, 3, 4].map((y) => get(`${from}${lane(x, y)}`));
    lines.push(
      set(
        `c${x}`,
        column.reduce((acc, value) => xor(acc, value)),
      ),
    );
  }
  for (let x = 0; x < 5; x++) lines.push(set(`d${x}`, xor(get(`c${(x + 4) % 5}`), rotl(get(`c${(x + 1) % 5}`), 1))));
  let nots = 0;
  for (let y = 0; y < 5; y++) {
    // Output lane (x, y) of π comes from input lane (x + 3y, x).
    const source = [0, 1, 2, 3, 4].map((x) => lane(x + 3 * y, x));
    const flags = source.map((i) => inverted(i) ^ dInverted[i % 5]);
    for (let x = 0; x < 5; x++) {
      lines.push(set(`b${x}`, rotl(xor(get(`${from}${source[x]}`), get(`d${source[x] % 5}`)), rho[source[x]])));
    }
    for (let x = 0; x < 5; x++) {
      const [i1, i2] = [(x + 1) % 5, (x + 2) % 5];
      const chi = chiLane(`b${x}`, `b${i1}`, `b${i2}`, flags[x], flags[i1], flags[i2], inverted(lane(x, y)));
      nots += chi.nots;
      const value = x === 0 && y === 0 ? xor(chi.value, `(i64.const ${BigInt.asIntN(64, rc)})`) : chi.value;
      lines.push(set(`${to}${lane(x, y)}`, value));
    }
  }
  if (nots !== CHI_NOTS) throw new Error(`chi spends ${nots} NOTs per round, expected ${CHI_NOTS}`);
  return lines;
}

/** The module's text. */
export function keccakWat() {
  const rho = rotationOffsets();
  const dInverted = invertedD();
  const lanes = Array.from({ length: 25 }, (_, i) => i);
  const five = [0, 1, 2, 3, 4];
  const locals = [
    ...lanes.map((i) => `a${i}`),
    ...lanes.map((i) => `e${i}`),
    ...five.map((i) => `b${i}`),
    ...five.map((i) => `c${i}`),
    ...five.map((i) => `d${i}`),
  ];
  const load = (i) => `(i64.load offset=${8 * i} (local.get $state))`;
  const held = (i, value) => (INVERTED.has(i) ? not(value) : value);
  const body = [
    ...lanes.map((i) => set(`a${i}`, held(i, load(i)))),
    set('p', '(local.get $input)'),
    set('end', `(i32.add (local.get $input) (i32.mul (local.get $blocks) (i32.const ${RATE})))`),
    '(block $done',
    '(loop $next',
    '(br_if $done (i32.ge_u (local.get $p) (local.get $end)))',
    ...lanes
      .slice(0, RATE / 8)
      .map((i) => set(`a${i}`, xor(get(`a${i}`), `(i64.load offset=${8 * i} (local.get $p))`))),
    // 24 rounds, an even number, so the state ends up back in the a lanes.
    ...roundConstants().flatMap((rc, i) =>
      i % 2 ? round(rc, rho, dInverted, 'e', 'a') : round(rc, rho, dInverted, 'a', 'e'),
    ),
    set('p', `(i32.add (local.get $p) (i32.const ${RATE}))`),
    '(br $next)))',
    ...lanes.map((i) => `(i64.store offset=${8 * i} (local.get $out) ${held(i, get(`a${i}`))})`),
  ];
  return [
    '(module',
    `(memory (export "memory") ${PAGES} ${PAGES})`,
    '(func (export "absorb") (param $state i32) (param $input i32) (param $blocks i32) (param $out i32)',
    '(local $p i32) (local $end i32)',
    ...locals.map((name) => `(local $${name} i64)`),
    ...body,
    '))',
    '',
  ].join('\n');
}

/** Compiles the module text to wasm bytes with wabt (MVP features only, no names section). */
export async function compileKeccakWasm(wat = keccakWat()) {
  const wabt = await wabtInit();
  const module = wabt.parseWat('keccak.wat', wat, {});
  try {
    module.validate();
    return new Uint8Array(module.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}

/** The text of src/keccak-wasm-binary.ts for the given module bytes. */
export function renderBinaryModule(bytes) {
  return [
    '// generated by scripts/gen-keccak-wasm.mjs; do not edit',
    '',
    '/** Byte offset of the 200-byte keccak state in the module memory. */',
    `export const KECCAK_WASM_STATE_OFFSET: number = ${STATE_OFFSET};`,
    '/** Byte offset of the first input block in the module memory. */',
    `export const KECCAK_WASM_INPUT_OFFSET: number = ${INPUT_OFFSET};`,
    '/** Most 136-byte blocks one `absorb` call can read from the input offset. */',
    `export const KECCAK_WASM_MAX_BLOCKS: number = ${MAX_BLOCKS};`,
    '/** Where the region for running states starts in the module memory, and its size in bytes. */',
    `export const KECCAK_WASM_STATES_OFFSET: number = ${STATES_OFFSET};`,
    `export const KECCAK_WASM_STATES_BYTES: number = ${STATES_BYTES};`,
    '/** The module: `absorb(state, input, blocks, out)` and a fixed two-page `memory`. */',
    'export const KECCAK_WASM_BASE64: string =',
    `  '${Buffer.from(bytes).toString('base64')}';`,
    '',
  ].join('\n');
}

/** Where the generated TypeScript goes. */
export const OUTPUT_PATH = fileURLToPath(new URL('../src/keccak-wasm-binary.ts', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = await compileKeccakWasm();
  writeFileSync(OUTPUT_PATH, renderBinaryModule(bytes));
  process.stdout.write(`wrote ${OUTPUT_PATH} (${bytes.length} bytes of wasm)\n`);
}
