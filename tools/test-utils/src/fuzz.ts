/**
 * Property tests for decoders of network bytes (fast-check): valid messages mutated the ways a hostile or buggy
 * peer would (bit flips, truncation, extension, insertions, deletions, length-prefix bytes), plus random bytes.
 * Each input must decode or throw the package's typed error, within a time bound, on every runtime.
 *
 * Reproducible by default: the seed is fixed; `DEVP2P_FUZZ_SEED=<n>` explores another, `DEVP2P_FUZZ_RUNS=<n>`
 * runs more inputs per property.
 */
import fc from 'fast-check';

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

/** The seed every property starts from (override with DEVP2P_FUZZ_SEED). */
export const FUZZ_SEED: number = Number(env.DEVP2P_FUZZ_SEED ?? 20_261_204);

/** Inputs per property (override with DEVP2P_FUZZ_RUNS): a few hundred keep the whole set to seconds. */
export const FUZZ_RUNS: number = Number(env.DEVP2P_FUZZ_RUNS ?? 300);

/**
 * How long one input may take to decode. Generous for a 2-core machine running three test suites, but far below
 * what a quadratic or exponential blow-up on a crafted input would take.
 */
export const FUZZ_MAX_MS_PER_INPUT = 250;

/** Bytes that matter to length-prefixed formats: RLP string and list markers, zeros, all-ones. */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xbf, 0xc0, 0xc1, 0xf7, 0xf8, 0xff];

type Mutation = (input: Uint8Array) => fc.Arbitrary<Uint8Array>;

const index = (input: Uint8Array): fc.Arbitrary<number> => fc.nat({ max: Math.max(0, input.length - 1) });

const MUTATIONS: readonly Mutation[] = [
  // flip one bit
  (input) =>
    fc.tuple(index(input), fc.nat({ max: 7 })).map(([i, bit]) => {
      const out = input.slice();
      if (out.length > 0) out[i] = out[i]! ^ (1 << bit);
      return out;
    }),
  // truncate
  (input) => index(input).map((n) => input.slice(0, n)),
  // extend with random bytes
  (input) => fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => Uint8Array.from([...input, ...tail])),
  // insert a byte
  (input) =>
    fc
      .tuple(fc.nat({ max: input.length }), fc.integer({ min: 0, max: 255 }))
      .map(([i, b]) => Uint8Array.from([...input.slice(0, i), b, ...input.slice(i)])),
  // delete a byte
  (input) => index(input).map((i) => Uint8Array.from([...input.slice(0, i), ...input.slice(i + 1)])),
  // overwrite a byte with a length marker
  (input) =>
    fc.tuple(index(input), fc.constantFrom(...INTERESTING)).map(([i, b]) => {
      const out = input.slice();
      if (out.length > 0) out[i] = b;
      return out;
    }),
];

/**
 * Inputs for a decoder: each valid sample, mutated once or several times, and random bytes up to `maxLength`.
 * @example fc.assert(fc.property(fuzzInputs([encoded]), (bytes) => ...))
 */
export function fuzzInputs(valid: readonly Uint8Array[], maxLength = 1_024): fc.Arbitrary<Uint8Array> {
  const mutated = (depth: number): fc.Arbitrary<Uint8Array> =>
    fc.constantFrom(...valid).chain((sample) => {
      const once = fc.constantFrom(...MUTATIONS).chain((mutate) => mutate(sample));
      return depth <= 1 ? once : once.chain((m) => fc.constantFrom(...MUTATIONS).chain((mutate) => mutate(m)));
    });
  return fc.oneof(
    { weight: 3, arbitrary: mutated(1) },
    { weight: 2, arbitrary: mutated(2) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength }) },
  );
}

/**
 * Asserts that `decode` either returns or throws an error `isTyped` accepts, within {@link FUZZ_MAX_MS_PER_INPUT},
 * for every input `inputs` generates. A failure reports the shrunk input as hex and the seed.
 * @example fuzzDecoder(fuzzInputs([rlpEncode(['a'])]), (b) => rlpDecode(b), (e) => e instanceof RlpError)
 */
export function fuzzDecoder(
  inputs: fc.Arbitrary<Uint8Array>,
  decode: (input: Uint8Array) => unknown,
  isTyped: (error: unknown) => boolean,
): void {
  fc.assert(
    fc.property(inputs, (input) => {
      const started = performance.now();
      try {
        decode(input);
      } catch (error) {
        if (!isTyped(error)) {
          throw new Error(`untyped error for input ${hex(input)}: ${String(error)}`, { cause: error });
        }
      }
      const ms = performance.now() - started;
      if (ms > FUZZ_MAX_MS_PER_INPUT) throw new Error(`decoding took ${ms.toFixed(0)} ms for input ${hex(input)}`);
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
}

function hex(bytes: Uint8Array): string {
  const text = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return text.length > 400 ? `${text.slice(0, 400)}… (${bytes.length} bytes)` : text;
}
