import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bytesToHex, utf8ToBytes } from '@devp2p/core';
import { compileKeccakWasm, OUTPUT_PATH, renderBinaryModule } from '../scripts/gen-keccak-wasm.mjs';
import {
  createKeccak256,
  createKeccak256Portable,
  type Keccak256Hasher,
  keccak256,
  keccak256Backend,
  keccak256Portable,
  randomBytes,
} from '../src/index.ts';
import { loadKeccakWasm, type WebAssemblyApi } from '../src/keccak-wasm.ts';
import { KECCAK_WASM_MAX_BLOCKS } from '../src/keccak-wasm-binary.ts';

const RATE = 136;
/** Bytes one WebAssembly call absorbs at most: inputs around multiples of it cross the chunking seams. */
const CHUNK = KECCAK_WASM_MAX_BLOCKS * RATE;

/** A small seeded generator (xorshift32), so a failing chunking can be replayed from its seed. */
function prng(seed: number): (below: number) => number {
  let x = seed >>> 0 || 1;
  return (below) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % below;
  };
}

/** Random chunk lengths covering `total`: mostly small (MAC-sized), sometimes around a block or a chunk. */
function chunking(total: number, next: (below: number) => number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; ) {
    const kind = next(10);
    const size =
      kind < 4 ? next(40) : kind < 7 ? RATE - 2 + next(5) : kind < 9 ? next(4 * RATE) : CHUNK - 3 + next(2 * RATE);
    const take = Math.min(left, size);
    sizes.push(take);
    left -= take;
  }
  return sizes;
}

const hex = (bytes: Uint8Array): string => bytesToHex(bytes);

describe('keccak-256: WebAssembly and @noble/hashes give identical bytes', () => {
  it('runs on WebAssembly in this runtime', () => {
    assert.equal(keccak256Backend(), 'wasm');
  });

  it('hashes the known vectors on both paths', () => {
    const vectors: [string, string][] = [
      ['', 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'],
      ['abc', '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'],
      [
        'The quick brown fox jumps over the lazy dog',
        '4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15',
      ],
    ];
    for (const [text, digest] of vectors) {
      const data = utf8ToBytes(text);
      assert.equal(hex(keccak256(data)), digest, text);
      assert.equal(hex(keccak256Portable(data)), digest, text);
      assert.equal(hex(createKeccak256().update(data).digest()), digest, text);
      assert.equal(hex(createKeccak256Portable().update(data).digest()), digest, text);
    }
  });

  it('agrees for every length from 0 to 600, one-shot and incremental', () => {
    const data = randomBytes(600);
    for (let length = 0; length <= 600; length++) {
      const input = data.subarray(0, length);
      const expected = hex(keccak256Portable(input));
      assert.equal(hex(keccak256(input)), expected, `one-shot, ${length} bytes`);
      assert.equal(hex(createKeccak256().update(input).digest()), expected, `one update, ${length} bytes`);
      const split = createKeccak256()
        .update(input.subarray(0, length >> 1))
        .update(input.subarray(length >> 1));
      assert.equal(hex(split.digest()), expected, `two updates, ${length} bytes`);
    }
  });

  it('agrees on large inputs (up to 2 MiB) for random chunkings', () => {
    const next = prng(0x6b656363);
    const lengths = [CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + RATE - 1, 1 << 20, 2 << 20];
    for (let i = 0; i < 4; i++) lengths.push(next(2 << 20));
    const data = randomBytes(2 << 20);
    for (const length of lengths) {
      const input = data.subarray(0, length);
      const expected = hex(keccak256Portable(input));
      assert.equal(hex(keccak256(input)), expected, `one-shot, ${length} bytes`);
      for (let round = 0; round < 3; round++) {
        const sizes = chunking(length, next);
        const h = createKeccak256();
        let at = 0;
        for (const size of sizes) {
          h.update(input.subarray(at, at + size));
          at += size;
        }
        assert.equal(hex(h.digest()), expected, `${length} bytes in ${sizes.length} chunks`);
      }
    }
  });

  it('hashes views with a byte offset into a larger buffer', () => {
    const data = randomBytes(5000);
    for (const [start, end] of [
      [1, 33],
      [7, 7 + RATE],
      [3, 4999],
    ] as const) {
      const view = data.subarray(start, end);
      assert.equal(hex(keccak256(view)), hex(keccak256Portable(view)));
      assert.equal(hex(createKeccak256().update(view).digest()), hex(keccak256Portable(view)));
    }
  });

  it('digest() and copy() behave the same on both paths, step for step', () => {
    const next = prng(0xd16e57);
    const stream = randomBytes(20_000);
    let wasm: Keccak256Hasher[] = [createKeccak256()];
    let noble: Keccak256Hasher[] = [createKeccak256Portable()];
    for (let step = 0; step < 400; step++) {
      const which = next(wasm.length);
      const action = next(6);
      if (action < 3) {
        const at = next(stream.length - 300);
        const chunk = stream.subarray(at, at + next(300));
        // update returns the hasher itself on both paths.
        assert.equal(wasm[which]!.update(chunk), wasm[which]);
        assert.equal(noble[which]!.update(chunk), noble[which]);
      } else if (action < 5) {
        const digest = wasm[which]!.digest();
        assert.equal(hex(digest), hex(noble[which]!.digest()), `step ${step}`);
        // A digest is a fresh array: changing it affects neither the hasher nor later digests.
        digest.fill(0);
        assert.equal(hex(wasm[which]!.digest()), hex(noble[which]!.digest()), `step ${step}, again`);
      } else {
        wasm.push(wasm[which]!.copy());
        noble.push(noble[which]!.copy());
        if (wasm.length > 12) {
          wasm = wasm.slice(6);
          noble = noble.slice(6);
        }
      }
    }
    for (let i = 0; i < wasm.length; i++) assert.equal(hex(wasm[i]!.digest()), hex(noble[i]!.digest()));
  });

  it('digestInto() writes the digest() bytes into a given array, on both paths, leaving the state usable', () => {
    const next = prng(0xd16e58);
    const stream = randomBytes(5_000);
    for (const create of [createKeccak256, createKeccak256Portable]) {
      const hasher = create();
      const out = new Uint8Array(40).fill(0xee);
      for (let step = 0; step < 200; step++) {
        const at = next(stream.length - 200);
        hasher.update(stream.subarray(at, at + next(200)));
        hasher.digestInto?.(out);
        assert.equal(hex(out.subarray(0, 32)), hex(hasher.digest()), `step ${step}`);
        assert.deepEqual([...out.subarray(32)], new Array(8).fill(0xee), 'nothing written past 32 bytes');
      }
      assert.ok(hasher.digestInto, 'both hashers made here have digestInto');
      assert.throws(() => hasher.digestInto?.(new Uint8Array(31)), RangeError);
    }
  });

  it('keeps many interleaved hashers independent (one shared WebAssembly instance)', () => {
    const next = prng(0x5eed);
    const count = 64;
    const streams = Array.from({ length: count }, () => randomBytes(4000 + next(4000)));
    const offsets = new Array<number>(count).fill(0);
    const hashers = streams.map(() => createKeccak256());
    // Two MAC-like states per "connection" in lockstep with one-shot hashes in between.
    for (let done = 0; done < count; ) {
      const i = next(count);
      const stream = streams[i]!;
      if (offsets[i]! >= stream.length) continue;
      const size = Math.min(stream.length - offsets[i]!, next(3) === 0 ? next(600) : 16);
      hashers[i]!.update(stream.subarray(offsets[i]!, offsets[i]! + size));
      offsets[i]! += size;
      if (offsets[i] === stream.length) done++;
      if (next(4) === 0) {
        assert.equal(hex(hashers[i]!.digest()), hex(keccak256Portable(stream.subarray(0, offsets[i]!))));
        keccak256(stream.subarray(0, next(300)));
      }
    }
    for (let i = 0; i < count; i++) assert.equal(hex(hashers[i]!.digest()), hex(keccak256Portable(streams[i]!)));
  });

  it('keeps more hashers than the module has state slots correct as they take turns (copy() in and out of a slot)', () => {
    // 195 slots: 400 hashers evict one another over and over, with pending bytes at every length.
    const next = prng(0x51075);
    const count = 400;
    const ours = Array.from({ length: count }, () => createKeccak256());
    const noble = Array.from({ length: count }, () => createKeccak256Portable());
    for (let step = 0; step < 20_000; step++) {
      const i = next(count);
      const kind = next(20);
      if (kind === 0) {
        // A copy taken now (in a slot or not) must go on independently of the original.
        const j = next(count);
        ours[j] = ours[i]!.copy();
        noble[j] = noble[i]!.copy();
      } else if (kind < 4) {
        assert.equal(hex(ours[i]!.digest()), hex(noble[i]!.digest()), `hasher ${i} at step ${step}`);
      } else {
        const data = randomBytes(next(3) === 0 ? next(3 * RATE) : next(40));
        ours[i]!.update(data);
        noble[i]!.update(data);
      }
    }
    for (let i = 0; i < count; i++) assert.equal(hex(ours[i]!.digest()), hex(noble[i]!.digest()));
  });

  it('rejects non-bytes with a TypeError on both paths', () => {
    const text = 'abc' as unknown as Uint8Array;
    assert.throws(() => keccak256(text), TypeError);
    assert.throws(() => keccak256Portable(text), TypeError);
    assert.throws(() => createKeccak256().update(text), TypeError);
    assert.throws(() => createKeccak256Portable().update(text), TypeError);
  });
});

describe('keccak-256 WebAssembly loader', () => {
  it('loads from the runtime WebAssembly and declines a missing or broken one', () => {
    const real = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    assert.ok(loadKeccakWasm(real));
    assert.equal(loadKeccakWasm(undefined), undefined);
    const throwing: WebAssemblyApi = {
      Module: class {
        constructor() {
          throw new Error('no compiler');
        }
      },
      Instance: real!.Instance,
    };
    assert.equal(loadKeccakWasm(throwing), undefined);
    // Instantiates, but the absorb function does nothing: the known-digest check catches it.
    const inert: WebAssemblyApi = {
      Module: class {},
      Instance: class {
        readonly exports: Record<string, unknown> = {
          absorb: () => {},
          memory: { buffer: new ArrayBuffer(2 * 65536) },
        };
      },
    };
    assert.equal(loadKeccakWasm(inert), undefined);
  });

  it('the committed binary is what scripts/gen-keccak-wasm.mjs produces', async () => {
    // wabt (an Emscripten build) loads on Node, Bun and Deno alike, so this compiles in-process everywhere.
    const generated = renderBinaryModule(await compileKeccakWasm());
    assert.equal(readFileSync(OUTPUT_PATH, 'utf8'), generated, 'run `node scripts/gen-keccak-wasm.mjs`');
  });
});
