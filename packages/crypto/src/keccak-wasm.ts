import { checkDigestOut, type Keccak256Hasher } from './hash.ts';
import {
  KECCAK_WASM_INPUT_OFFSET as INPUT,
  KECCAK_WASM_BASE64,
  KECCAK_WASM_MAX_BLOCKS as MAX_BLOCKS,
  KECCAK_WASM_STATE_OFFSET as SCRATCH,
  KECCAK_WASM_STATES_OFFSET as STATES,
  KECCAK_WASM_STATES_BYTES as STATES_BYTES,
} from './keccak-wasm-binary.ts';

/** keccak-256's rate in bytes: the block size absorbed per permutation. */
const RATE = 136;
/** keccak-f[1600] state: 25 lanes of 8 bytes. */
const STATE_LENGTH = 200;
/** The state in 32-bit words: 50. */
const STATE_WORDS = STATE_LENGTH / 4;
/**
 * A hasher out of the module keeps its slot as 32-bit words: the state, then its pending bytes four to a word (RATE is
 * a multiple of 4 and a slot's pending bytes start word-aligned). 84 numbers: about 0.7 KB, where a number per
 * pending byte took 1.5 KB.
 */
const SAVED_WORDS = STATE_WORDS + RATE / 4;
const DIGEST_LENGTH = 32;
/** keccak256('') — checked once after instantiation, so a misbehaving engine falls back to noble. */
const EMPTY_DIGEST_HEX = 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';
/**
 * A hasher's slot in the module's states region: its state, then room for its pending bytes (fewer than RATE),
 * where its last block is also padded for a digest. 336 bytes, a multiple of 8, so every state is lane-aligned.
 */
const SLOT_BYTES = STATE_LENGTH + RATE;
/**
 * How many hashers keep their state in the module at once: 195 in the 64 KiB region. A connection's two MAC states
 * stay there between frames as long as fewer than about a hundred connections are busy; past that, hashers take
 * turns and each turn costs one copy out and one copy in, which is what every call cost before.
 */
const SLOTS = Math.floor(STATES_BYTES / SLOT_BYTES);

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

/** A hasher whose state is in a slot: told to copy it out when another hasher takes the slot. */
interface Resident {
  evict(): void;
}

/** An instantiated keccak module (see scripts/gen-keccak-wasm.mjs) and the hashers whose states live in it. */
export interface KeccakWasmEngine {
  /**
   * Loads the state at byte offset `state`, absorbs `blocks` 136-byte blocks from `input` and stores the result at
   * `out` (`state` itself for an update).
   */
  readonly absorb: (state: number, input: number, blocks: number, out: number) => void;
  /** A view over the module's whole (fixed-size) memory. */
  readonly memory: Uint8Array;
  /** The same memory as 32-bit words (platform order; JS only copies states in and out, never interprets them). */
  readonly words: Int32Array;
  /** The hasher holding each slot, if any. */
  readonly residents: (Resident | undefined)[];
  /** The slot the next hasher to load takes (round robin: the oldest load is evicted first). */
  nextSlot: number;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Pads the block at `at`, whose first `length` bytes are data: keccak's domain byte 0x01, then pad10*1. */
function padFinalBlock(memory: Uint8Array, at: number, length: number): void {
  memory.fill(0, at + length, at + RATE);
  memory[at + length]! ^= 0x01;
  memory[at + RATE - 1]! ^= 0x80;
}

/**
 * Absorbs every whole block of `data` into the state at `state`, staged at the input offset in runs of at most
 * MAX_BLOCKS. Returns where the tail starts.
 */
function absorbBlocks(engine: KeccakWasmEngine, state: number, data: Uint8Array): number {
  const { absorb, memory } = engine;
  let at = 0;
  while (data.length - at >= RATE) {
    const blocks = Math.min(Math.floor((data.length - at) / RATE), MAX_BLOCKS);
    memory.set(data.subarray(at, at + blocks * RATE), INPUT);
    absorb(state, INPUT, blocks, state);
    at += blocks * RATE;
  }
  return at;
}

/** Same check and error type as `@noble/hashes`, so both paths reject the same inputs the same way. */
function assertBytes(data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw new TypeError(`keccak-256: expected Uint8Array, got type=${typeof data}`);
}

function oneShot(engine: KeccakWasmEngine, data: Uint8Array): Uint8Array {
  const { absorb, memory } = engine;
  memory.fill(0, SCRATCH, SCRATCH + STATE_LENGTH);
  const tail = absorbBlocks(engine, SCRATCH, data);
  memory.set(data.subarray(tail), INPUT);
  padFinalBlock(memory, INPUT, data.length - tail);
  absorb(SCRATCH, INPUT, 1, SCRATCH);
  return memory.slice(SCRATCH, SCRATCH + DIGEST_LENGTH);
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
    if (buffer.byteLength < STATES + STATES_BYTES) return undefined;
    const engine: KeccakWasmEngine = {
      absorb: absorb as KeccakWasmEngine['absorb'],
      memory: new Uint8Array(buffer),
      words: new Int32Array(buffer),
      residents: new Array<Resident | undefined>(SLOTS).fill(undefined),
      nextSlot: 0,
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
 * A keccak-256 state kept in the WebAssembly module's memory between calls, in one of SLOTS slots (state and
 * pending bytes), so that an update or a digest copies nothing but its input and output: an RLPx MAC runs four
 * calls a frame, and copying the 200-byte state in and out of JS on each was a tenth of a frame's time. When every
 * slot is taken, the hasher that loaded longest ago copies its slot out to a JS array (allocated on its first
 * eviction, then reused) and gives up its slot; it loads again on its next call. A plain array rather than a typed array
 * for the saved copy because V8 allocates typed arrays over 64 bytes off-heap (and Deno all of them), which made
 * `copy()` and `createKeccak256()` cost microseconds. The slot table holds the hashers in it (at most SLOTS) until
 * they are evicted.
 */
class WasmKeccak256 implements Keccak256Hasher, Resident {
  readonly #engine: KeccakWasmEngine;
  /** Byte offset of this hasher's slot while it holds one, else -1. */
  #slot = -1;
  /**
   * The slot's words while out of the module (SAVED_WORDS: the state, then the pending bytes); undefined: all zero,
   * nothing absorbed yet.
   */
  #saved: number[] | undefined;
  /** Input bytes not yet absorbed (always fewer than RATE), in the slot or in #saved. */
  #pendingLength: number;

  constructor(engine: KeccakWasmEngine, saved?: number[], pendingLength = 0) {
    this.#engine = engine;
    this.#saved = saved;
    this.#pendingLength = pendingLength;
  }

  /** How many of a slot's words hold something: the state and the words its pending bytes reach into. */
  #usedWords(): number {
    return STATE_WORDS + ((this.#pendingLength + 3) >> 2);
  }

  /** This hasher's slot offset, loading its state into a slot first when it has none. */
  #slotted(): number {
    return this.#slot >= 0 ? this.#slot : this.#load();
  }

  #load(): number {
    const engine = this.#engine;
    const index = engine.nextSlot;
    engine.nextSlot = index + 1 === SLOTS ? 0 : index + 1;
    engine.residents[index]?.evict();
    engine.residents[index] = this;
    const at = STATES + index * SLOT_BYTES;
    const saved = this.#saved;
    if (saved === undefined) engine.memory.fill(0, at, at + STATE_LENGTH);
    else for (let i = 0, w = at >> 2, n = this.#usedWords(); i < n; i++) engine.words[w + i] = saved[i]!;
    this.#slot = at;
    return at;
  }

  /** Copies the state and pending bytes out of the slot, which another hasher is taking. */
  evict(): void {
    this.#saved = this.#slotWords(this.#saved ?? new Array<number>(SAVED_WORDS).fill(0));
    this.#slot = -1;
  }

  /** Copies the slot's used words into `saved`. */
  #slotWords(saved: number[]): number[] {
    const { words } = this.#engine;
    for (let i = 0, w = this.#slot >> 2, n = this.#usedWords(); i < n; i++) saved[i] = words[w + i]!;
    return saved;
  }

  update(data: Uint8Array): Keccak256Hasher {
    assertBytes(data);
    const at = this.#slotted();
    const engine = this.#engine;
    const { memory } = engine;
    const pendingAt = at + STATE_LENGTH;
    const length = this.#pendingLength;
    if (length + data.length < RATE) {
      for (let i = 0, p = pendingAt + length; i < data.length; i++) memory[p + i] = data[i]!;
      this.#pendingLength = length + data.length;
      return this;
    }
    // Runs of the pending bytes followed by as much of `data` as the input region holds, each absorbed in one call
    // with its tail moved back to the slot: one copy of `data` and, when it fits in one run (up to 64 KiB), no view of
    // it (a view costs more than copying a kilobyte on Bun).
    let pending = length;
    for (let offset = 0; offset < data.length; ) {
      const take = Math.min(data.length - offset, MAX_BLOCKS * RATE - pending);
      if (pending > 0) memory.copyWithin(INPUT, pendingAt, pendingAt + pending);
      memory.set(take === data.length ? data : data.subarray(offset, offset + take), INPUT + pending);
      const total = pending + take;
      const blocks = Math.floor(total / RATE);
      engine.absorb(at, INPUT, blocks, at);
      memory.copyWithin(pendingAt, INPUT + blocks * RATE, INPUT + total);
      pending = total - blocks * RATE;
      offset += take;
    }
    this.#pendingLength = pending;
    return this;
  }

  /** Absorbs the padded pending block into a copy of the state at the scratch offset, where the digest then is. */
  #finish(): Uint8Array {
    const { absorb, memory } = this.#engine;
    const at = this.#slotted();
    const pendingAt = at + STATE_LENGTH;
    padFinalBlock(memory, pendingAt, this.#pendingLength);
    absorb(at, pendingAt, 1, SCRATCH);
    return memory;
  }

  digest(): Uint8Array {
    return this.#finish().slice(SCRATCH, SCRATCH + DIGEST_LENGTH);
  }

  digestInto(out: Uint8Array): void {
    checkDigestOut(out);
    const memory = this.#finish();
    for (let i = 0; i < DIGEST_LENGTH; i++) out[i] = memory[SCRATCH + i]!;
  }

  copy(): Keccak256Hasher {
    const saved = this.#slot < 0 ? this.#saved?.slice() : this.#slotWords(new Array<number>(SAVED_WORDS).fill(0));
    return new WasmKeccak256(this.#engine, saved, this.#pendingLength);
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
