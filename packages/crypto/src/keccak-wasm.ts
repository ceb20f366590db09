import { checkDigestOut, type Keccak256Hasher } from './hash.ts';
import {
  KECCAK_WASM_INPUT_OFFSET as INPUT,
  KECCAK_WASM_BASE64,
  KECCAK_WASM_MAX_BLOCKS as MAX_BLOCKS,
  KECCAK_WASM_STATE_OFFSET as STATE,
} from './keccak-wasm-binary.ts';

/** keccak-256's rate in bytes: the block size absorbed per permutation. */
const RATE = 136;
/** keccak-f[1600] state: 25 lanes of 8 bytes. */
const STATE_LENGTH = 200;
/** The state as hashers hold it: 50 32-bit words. */
const STATE_WORDS = STATE_LENGTH / 4;
const DIGEST_LENGTH = 32;
/** keccak256('') — checked once after instantiation, so a misbehaving engine falls back to noble. */
const EMPTY_DIGEST_HEX = 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';

/** The part of the WebAssembly JS API used here (the project's `lib` carries no WebAssembly types). */
export interface WebAssemblyApi {
  /** Synchronous compilation (`new WebAssembly.Module(bytes)`). */
  Module: new (
    bytes: Uint8Array,
  ) => object;
  /** Synchronous instantiation (`new WebAssembly.Instance(module, imports)`). */
  Instance: new (
    module: object,
    imports: Record<string, never>,
  ) => { readonly exports: Record<string, unknown> };
}

/** An instantiated keccak module: `absorb(blocks)` over its memory (see scripts/gen-keccak-wasm.mjs). */
export interface KeccakWasmEngine {
  /** Absorbs `blocks` 136-byte blocks staged at the input offset into the state at the state offset. */
  readonly absorb: (blocks: number) => void;
  /** A view over the module's whole (fixed-size) memory. */
  readonly memory: Uint8Array;
  /** The state as 32-bit words (platform order; JS only copies them in and out, never interprets them). */
  readonly words: Int32Array;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Pads the last block, whose first `length` bytes are staged: keccak's domain byte 0x01, then pad10*1. */
function padFinalBlock(memory: Uint8Array, length: number): void {
  memory.fill(0, INPUT + length, INPUT + RATE);
  memory[INPUT + length]! ^= 0x01;
  memory[INPUT + RATE - 1]! ^= 0x80;
}

/**
 * Absorbs every whole block of `data` from `offset` into the state already in the engine's memory, in runs of
 * at most MAX_BLOCKS; `staged` blocks are already in place at the input offset. Returns where the tail starts.
 */
function absorbBlocks(engine: KeccakWasmEngine, data: Uint8Array, offset: number, staged: number): number {
  const { absorb, memory } = engine;
  let at = offset;
  let blocks = staged;
  for (;;) {
    const take = Math.min(Math.floor((data.length - at) / RATE), MAX_BLOCKS - blocks);
    if (take > 0) {
      memory.set(data.subarray(at, at + take * RATE), INPUT + blocks * RATE);
      at += take * RATE;
      blocks += take;
    }
    if (blocks > 0) absorb(blocks);
    blocks = 0;
    if (data.length - at < RATE) return at;
  }
}

/** Same check and error type as `@noble/hashes`, so both paths reject the same inputs the same way. */
function assertBytes(data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw new TypeError(`keccak-256: expected Uint8Array, got type=${typeof data}`);
}

function oneShot(engine: KeccakWasmEngine, data: Uint8Array): Uint8Array {
  const { absorb, memory } = engine;
  memory.fill(0, STATE, STATE + STATE_LENGTH);
  if (data.length < RATE) {
    memory.set(data, INPUT);
    padFinalBlock(memory, data.length);
  } else {
    const tail = absorbBlocks(engine, data, 0, 0);
    memory.set(data.subarray(tail), INPUT);
    padFinalBlock(memory, data.length - tail);
  }
  absorb(1);
  return memory.slice(STATE, STATE + DIGEST_LENGTH);
}

/**
 * Compiles and instantiates the keccak module synchronously and checks it against a known digest; undefined
 * when the runtime has no WebAssembly or the module does not load or misbehaves.
 * @example loadKeccakWasm(globalThis.WebAssembly)?.absorb // a function on Node, Bun and Deno
 */
export function loadKeccakWasm(api: WebAssemblyApi | undefined): KeccakWasmEngine | undefined {
  if (api === undefined) return undefined;
  try {
    const { exports } = new api.Instance(new api.Module(decodeBase64(KECCAK_WASM_BASE64)), {});
    const absorb = exports['absorb'];
    const buffer = (exports['memory'] as { buffer?: unknown } | undefined)?.buffer;
    if (typeof absorb !== 'function' || !(buffer instanceof ArrayBuffer)) return undefined;
    const engine: KeccakWasmEngine = {
      absorb: absorb as (blocks: number) => void,
      memory: new Uint8Array(buffer),
      words: new Int32Array(buffer, STATE, STATE_WORDS),
    };
    const check = oneShot(engine, new Uint8Array(0));
    let hex = '';
    for (const byte of check) hex += byte.toString(16).padStart(2, '0');
    return hex === EMPTY_DIGEST_HEX ? engine : undefined;
  } catch {
    return undefined;
  }
}

/** The shared engine: undefined until first use, null when WebAssembly is unavailable. */
let shared: KeccakWasmEngine | null | undefined;

function sharedEngine(): KeccakWasmEngine | null {
  if (shared === undefined) {
    shared = loadKeccakWasm((globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly) ?? null;
  }
  return shared;
}

/**
 * A keccak-256 state kept in JS, so any number of hashers can coexist: the 200-byte state as plain numbers
 * and the bytes after the last whole block. The one WebAssembly instance holds a state only during a call.
 * Plain arrays rather than typed arrays because V8 allocates typed arrays over 64 bytes off-heap (and Deno
 * all of them), which made `copy()` and `createKeccak256()` cost microseconds. The pending bytes live in an array
 * of a fixed RATE slots with a count beside it, so that updates (an RLPx MAC takes four per frame) allocate nothing.
 */
class WasmKeccak256 implements Keccak256Hasher {
  readonly #engine: KeccakWasmEngine;
  readonly #state: number[];
  /** Input bytes not yet absorbed: the first #pendingLength (always fewer than RATE) of RATE slots. */
  readonly #pending: number[];
  #pendingLength: number;

  constructor(
    engine: KeccakWasmEngine,
    state: number[] = new Array<number>(STATE_WORDS).fill(0),
    pending: number[] = new Array<number>(RATE).fill(0),
    pendingLength = 0,
  ) {
    this.#engine = engine;
    this.#state = state;
    this.#pending = pending;
    this.#pendingLength = pendingLength;
  }

  update(data: Uint8Array): Keccak256Hasher {
    assertBytes(data);
    const pending = this.#pending;
    const length = this.#pendingLength;
    if (length + data.length < RATE) {
      for (let i = 0; i < data.length; i++) pending[length + i] = data[i]!;
      this.#pendingLength = length + data.length;
      return this;
    }
    const engine = this.#engine;
    const { memory, words } = engine;
    const state = this.#state;
    for (let i = 0; i < STATE_WORDS; i++) words[i] = state[i]!;
    let offset = 0;
    let staged = 0;
    if (length > 0) {
      for (let i = 0; i < length; i++) memory[INPUT + i] = pending[i]!;
      offset = RATE - length;
      for (let i = 0; i < offset; i++) memory[INPUT + length + i] = data[i]!;
      staged = 1;
    }
    offset = absorbBlocks(engine, data, offset, staged);
    for (let i = 0; i < STATE_WORDS; i++) state[i] = words[i]!;
    const tail = data.length - offset;
    for (let i = 0; i < tail; i++) pending[i] = data[offset + i]!;
    this.#pendingLength = tail;
    return this;
  }

  /** Absorbs the padded pending bytes into a copy of the state in the engine; the digest is then at STATE. */
  #finish(): Uint8Array {
    const { absorb, memory, words } = this.#engine;
    const state = this.#state;
    const pending = this.#pending;
    const length = this.#pendingLength;
    for (let i = 0; i < STATE_WORDS; i++) words[i] = state[i]!;
    for (let i = 0; i < length; i++) memory[INPUT + i] = pending[i]!;
    padFinalBlock(memory, length);
    absorb(1);
    return memory;
  }

  digest(): Uint8Array {
    return this.#finish().slice(STATE, STATE + DIGEST_LENGTH);
  }

  digestInto(out: Uint8Array): void {
    checkDigestOut(out);
    const memory = this.#finish();
    for (let i = 0; i < DIGEST_LENGTH; i++) out[i] = memory[STATE + i]!;
  }

  copy(): Keccak256Hasher {
    return new WasmKeccak256(this.#engine, this.#state.slice(), this.#pending.slice(), this.#pendingLength);
  }
}

/**
 * True when the WebAssembly keccak loaded in this runtime (instantiating it on first call).
 * @example keccakWasmAvailable() // true on Node, Bun and Deno
 */
export function keccakWasmAvailable(): boolean {
  return sharedEngine() !== null;
}

/**
 * A WebAssembly-backed incremental keccak-256 hasher, or undefined when WebAssembly is unavailable.
 * @example (createKeccak256Wasm() ?? createKeccak256Portable()).update(data).digest()
 */
export function createKeccak256Wasm(): Keccak256Hasher | undefined {
  const e = sharedEngine();
  return e === null ? undefined : new WasmKeccak256(e);
}

/**
 * keccak-256 of `data` through WebAssembly, or undefined when WebAssembly is unavailable.
 * @example keccak256Wasm(new Uint8Array(32))?.length // 32
 */
export function keccak256Wasm(data: Uint8Array): Uint8Array | undefined {
  const e = sharedEngine();
  if (e === null) return undefined;
  assertBytes(data);
  return oneShot(e, data);
}
