// The primitives we write ourselves next to the library a user would reach for: RLP (@ethereumjs/rlp), snappy
// (snappyjs) and keccak-256 (@noble/hashes). Speed as ours ÷ theirs in one run, and strictness as cases rejected
// out of the malformed inputs a peer can send. docs/dependencies.md reports a run. Alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/deps.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RlpError, rlpDecode, rlpEncode } from '@devp2p/core';
import { keccak256 } from '@devp2p/crypto';
import { snappyCompress, snappyUncompress } from '@devp2p/rlpx';
import { repoRoot } from '@devp2p/test-utils';
import { RLP } from '@ethereumjs/rlp';
import { keccak_256 } from '@noble/hashes/sha3.js';
import * as snappyjs from 'snappyjs';
import { type BenchRow, megabytesPerSecond, opsPerSecond, runBench } from './lib/harness.ts';

const vectors = join(repoRoot, 'test', 'vectors');
const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** Payloads shaped like devp2p's: a Hello, an eth Status, 1,000 headers' worth of nested lists, a big body. */
function rlpSamples(): { name: string; value: Parameters<typeof rlpEncode>[0] }[] {
  const header = [
    hash(1),
    hash(2),
    new Uint8Array(20),
    hash(3),
    hash(4),
    hash(5),
    new Uint8Array(256),
    1n,
    20_000_000n,
  ];
  return [
    {
      name: 'Hello',
      value: [
        5,
        'devp2p.ts/v0.1.0/linux-x64/node20',
        [
          ['eth', 68],
          ['eth', 69],
          ['snap', 1],
        ],
        0,
        new Uint8Array(64),
      ],
    },
    { name: 'eth Status', value: [69, 1, hash(7), [Uint8Array.of(1, 2, 3, 4), 0], 0, 22_000_000, hash(8)] },
    { name: '1,000 headers', value: [7n, Array.from({ length: 1_000 }, () => header)] },
    { name: '100 KiB body', value: [[Array.from({ length: 100 }, () => new Uint8Array(1_000))], []] },
  ];
}

/** How many of `cases` each decoder rejects (throws on). */
function rejected(cases: readonly Uint8Array[], decode: (input: Uint8Array) => unknown): number {
  let count = 0;
  for (const input of cases) {
    try {
      decode(input);
    } catch {
      count++;
    }
  }
  return count;
}

function hex(text: string): Uint8Array {
  const clean = text.startsWith('0x') ? text.slice(2) : text;
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** Malformed RLP a strict decoder must refuse: ethereum/tests' invalid cases plus devp2p-specific ones. */
function invalidRlp(): Uint8Array[] {
  const tests = JSON.parse(readFileSync(join(vectors, 'rlp', 'invalidRLPTest.json'), 'utf8')) as Record<
    string,
    { out: string }
  >;
  return [
    ...Object.values(tests).map((t) => hex(t.out)),
    Uint8Array.of(0x81, 0x05), // a byte below 0x80 wrapped as a string
    Uint8Array.of(0xb8, 0x05, 1, 2, 3, 4, 5), // long form for a short string
    Uint8Array.of(0xc1, 0x01, 0x02), // trailing bytes after the item
    Uint8Array.of(0xb9, 0x00, 0x40, ...new Uint8Array(64)), // length of length with a leading zero
    Uint8Array.of(0xbb, 0xff, 0xff, 0xff, 0xff), // declares 4 GiB, holds nothing
  ];
}

/** How long snappyjs gets per corrupt input before it counts as hung (one of golang/snappy's cases loops forever). */
const SNAPPYJS_CASE_DEADLINE_MS = 3_000;

/**
 * snappyjs on each input in a child process of this runtime, so an input it never returns from cannot stall the
 * bench: how many it rejects, accepts, and hangs on.
 */
function snappyjsVerdicts(cases: readonly Uint8Array[]): { rejected: number; accepted: number; hung: number } {
  const dir = mkdtempSync(join(tmpdir(), 'devp2p-snappyjs-'));
  const script = join(dir, 'case.mjs');
  const module = join(repoRoot, 'node_modules', 'snappyjs', 'index.js');
  writeFileSync(
    script,
    [
      "import process from 'node:process';",
      "import { createRequire } from 'node:module';",
      `const snappyjs = createRequire(import.meta.url)(${JSON.stringify(module)});`,
      'const input = Uint8Array.from(process.argv.at(-1).match(/../g) ?? [], (b) => Number.parseInt(b, 16));',
      "try { snappyjs.uncompress(input); console.log('accepted'); } catch { console.log('rejected'); }",
    ].join('\n'),
  );
  const deno = 'Deno' in globalThis;
  const verdicts = { rejected: 0, accepted: 0, hung: 0 };
  try {
    for (const input of cases) {
      const hexInput = Array.from(input, (b) => b.toString(16).padStart(2, '0')).join('') || '00';
      const args = deno ? ['run', '-A', script, hexInput] : [script, hexInput];
      const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: SNAPPYJS_CASE_DEADLINE_MS });
      if (run.stdout.includes('rejected')) verdicts.rejected++;
      else if (run.stdout.includes('accepted')) verdicts.accepted++;
      else if (run.signal !== null) verdicts.hung++;
      else throw new Error(`snappyjs check failed: ${run.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return verdicts;
}

/** Corrupt snappy blocks: golang/snappy's failing decode cases, a length mismatch and a 4 GiB declaration. */
function invalidSnappy(): Uint8Array[] {
  const cases = JSON.parse(readFileSync(join(vectors, 'snappy', 'decode-cases.json'), 'utf8')) as {
    cases: { input: string; error?: string | null }[];
  };
  return [
    ...cases.cases.filter((c) => c.error).map((c) => hex(c.input)),
    Uint8Array.of(0x0a, 0x08, 0x61, 0x62, 0x63), // declares 10 bytes, holds 3
    Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x01, 0x00), // declares 256 MiB, holds one byte
  ];
}

async function* deps(): AsyncGenerator<BenchRow> {
  for (const { name, value } of rlpSamples()) {
    const encoded = rlpEncode(value);
    const reference = RLP.encode(value as never);
    if (reference.length !== encoded.length || !encoded.every((b, i) => b === reference[i])) {
      throw new Error(`RLP encodings differ: ${name}`);
    }
    const oursEncode = opsPerSecond(() => rlpEncode(value));
    const theirsEncode = opsPerSecond(() => RLP.encode(value as never));
    yield { name: `RLP encode ${name}: ours ÷ @ethereumjs/rlp`, unit: '×', value: oursEncode / theirsEncode };
    const oursDecode = opsPerSecond(() => rlpDecode(encoded));
    const theirsDecode = opsPerSecond(() => RLP.decode(encoded));
    yield { name: `RLP decode ${name}: ours ÷ @ethereumjs/rlp`, unit: '×', value: oursDecode / theirsDecode };
  }
  const badRlp = invalidRlp();
  const rlpRejectedOurs = rejected(badRlp, (b) => rlpDecode(b));
  const rlpRejectedTheirs = rejected(badRlp, (b) => RLP.decode(b));
  yield { name: `RLP: malformed inputs rejected of ${badRlp.length}, ours`, unit: 'count', value: rlpRejectedOurs };
  yield {
    name: `RLP: malformed inputs rejected of ${badRlp.length}, @ethereumjs/rlp`,
    unit: 'count',
    value: rlpRejectedTheirs,
  };
  if (rejected(badRlp, (b) => rlpDecode(b)) !== rlpRejectedOurs || !(badRlp.length > 0)) throw new Error('unstable');
  const oursTyped = badRlp.every((b) => {
    try {
      rlpDecode(b);
      return false;
    } catch (error) {
      return error instanceof RlpError;
    }
  });
  if (!oursTyped) throw new Error('our RLP decoder rejected a case with an untyped error');

  const opticks = readFileSync(join(vectors, 'snappy', 'Isaac.Newton-Opticks.txt'));
  const text = new Uint8Array(opticks.buffer, opticks.byteOffset, opticks.byteLength);
  for (const [label, input] of [
    ['1 KiB', text.subarray(0, 1_024)],
    ['1 MiB', Uint8Array.from({ length: 1 << 20 }, (_, i) => text[i % text.length]!)],
  ] as const) {
    const ours = snappyCompress(input);
    const theirs = snappyjs.compress(input);
    const oursC = megabytesPerSecond(() => snappyCompress(input), input.length);
    const theirsC = megabytesPerSecond(() => snappyjs.compress(input), input.length);
    yield { name: `snappy compress ${label}: ours ÷ snappyjs`, unit: '×', value: oursC / theirsC };
    yield { name: `snappy ${label} compressed size: ours ÷ snappyjs`, unit: '×', value: ours.length / theirs.length };
    const oursU = megabytesPerSecond(() => snappyUncompress(ours), input.length);
    const theirsU = megabytesPerSecond(() => snappyjs.uncompress(theirs), input.length);
    yield { name: `snappy uncompress ${label}: ours ÷ snappyjs`, unit: '×', value: oursU / theirsU };
  }
  const badSnappy = invalidSnappy();
  yield {
    name: `snappy: corrupt inputs rejected of ${badSnappy.length}, ours`,
    unit: 'count',
    value: rejected(badSnappy, (b) => snappyUncompress(b)),
  };
  const theirs = snappyjsVerdicts(badSnappy);
  yield {
    name: `snappy: corrupt inputs rejected of ${badSnappy.length}, snappyjs`,
    unit: 'count',
    value: theirs.rejected,
  };
  yield { name: 'snappy: corrupt inputs snappyjs accepted (wrong output)', unit: 'count', value: theirs.accepted };
  yield {
    name: `snappy: corrupt inputs snappyjs never returned from (${SNAPPYJS_CASE_DEADLINE_MS / 1000} s)`,
    unit: 'count',
    value: theirs.hung,
  };

  for (const [label, input] of [
    ['32 B', hash(9)],
    ['1 MiB', new Uint8Array(1 << 20).fill(7)],
  ] as const) {
    const ours = megabytesPerSecond(() => keccak256(input), input.length);
    const theirs = megabytesPerSecond(() => keccak_256(input), input.length);
    yield { name: `keccak-256 ${label}: ours (wasm) ÷ @noble/hashes`, unit: '×', value: ours / theirs };
  }
}

await runBench('deps', deps);
