/**
 * The shape of the house (docs/architecture.md): dependencies between our packages run one way, and the portable
 * packages reach runtime APIs (`node:*`, or the runtime adapter package) only from their `src/adapters/` files.
 * Both checks read the sources and the manifests; each is first run on samples with a violation, so it cannot
 * pass by finding nothing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@devp2p/test-utils';

/** Which of our packages each package may import (by directory name), from docs/architecture.md. */
export const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  crypto: ['core'],
  enode: ['core', 'crypto'],
  rlpx: ['core', 'crypto'],
  'transport-node': ['core'],
  discovery: ['core', 'crypto', 'enode'],
  dial: ['core', 'enode'],
  dnsdisc: ['core', 'crypto', 'enode'],
  // Not in the graph's "server → core, crypto, enode, rlpx": the Server builds a dial scheduler when none is given,
  // as geth's p2p.Server does, and takes its DialScheduler/DialHost types from dial. Moving those types to core and
  // the default Dialer to @devp2p/node changes the server's API; kept for a later step.
  server: ['core', 'crypto', 'enode', 'rlpx', 'dial'],
  node: ['core', 'crypto', 'enode', 'rlpx', 'dial', 'discovery', 'dnsdisc', 'server', 'transport-node'],
  // Crafts discv4 packets (discovery's wire codec), RLPx handshakes and frames (rlpx's pure functions) and eth Status
  // and requests. 'eth' (@devp2p/plugin-eth) for its message codecs and chain presets: the plugin imports core alone,
  // so the edge closes no cycle, and writing the eth codecs a second time would let the two drift apart. Not
  // 'server': the cases craft Hellos and Disconnects themselves (core RLP), including ones a server never sends.
  conformance: ['core', 'crypto', 'enode', 'rlpx', 'discovery', 'eth'],
  cli: [
    'core',
    'crypto',
    'enode',
    'rlpx',
    'dial',
    'discovery',
    'dnsdisc',
    'server',
    'node',
    'transport-node',
    'eth',
    'ping',
    // For `devp2p snap`; the snap plugin imports core alone, so the edge closes no cycle.
    'snap',
    'conformance',
  ],
  eth: ['core'],
  ping: ['core'],
  snap: ['core'],
};

/**
 * Runtime adapter packages a portable package may import from its `src/adapters/` files only: the default used when
 * the caller passes none (enode's `files`, dial's `resolveHost`, the server's `transport`), so today's API keeps
 * working. `@devp2p/transport-node` imports core alone, so these edges close no cycle; one implementation of each
 * runtime API lives there instead of a copy per package.
 */
export const ADAPTER_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  enode: ['transport-node'],
  dial: ['transport-node'],
  server: ['transport-node'],
  // The cases' default UDP and TCP (`udp` and `tcp` in their options replace them).
  conformance: ['transport-node'],
};

/** Packages that run wherever their adapters do (every plugin too): no runtime module outside `src/adapters/`. */
export const PORTABLE: readonly string[] = [
  'core',
  'enode',
  'rlpx',
  'server',
  'dial',
  'discovery',
  'dnsdisc',
  'conformance',
];

/** The package directory names behind our npm names. */
const DIR_OF: Readonly<Record<string, string>> = {
  'plugin-eth': 'eth',
  'plugin-ping': 'ping',
  'plugin-snap': 'snap',
};

interface Source {
  readonly file: string;
  readonly text: string;
}

interface Violation {
  readonly file: string;
  readonly problem: string;
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"`]([^'"`]+)['"`]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** A runtime module: `node:*`, or a Node built-in by its bare name (`fs`, `fs/promises`). */
function isRuntimeModule(spec: string): boolean {
  return spec.startsWith('node:') || builtinModules.includes(spec);
}

const isAdapterFile = (file: string): boolean => /(^|\/)src\/adapters\//.test(file);

/** Where one of our packages may be imported from in `pkg`: anywhere, only in adapters, or not at all. */
function allowedFrom(pkg: string, dir: string): 'anywhere' | 'adapters' | 'nowhere' {
  if ((ALLOWED_IMPORTS[pkg] ?? []).includes(dir)) return 'anywhere';
  return (ADAPTER_IMPORTS[pkg] ?? []).includes(dir) ? 'adapters' : 'nowhere';
}

function allowedText(pkg: string): string {
  const adapters = (ADAPTER_IMPORTS[pkg] ?? []).map((dir) => `${dir} (in src/adapters/)`);
  return [...(ALLOWED_IMPORTS[pkg] ?? []), ...adapters].join(', ') || 'nothing of ours';
}

/** Checks one package's sources: its imports of ours against the graph, and runtime modules outside adapters. */
export function checkSources(pkg: string, sources: readonly Source[], portable: boolean): Violation[] {
  const violations: Violation[] = [];
  for (const { file, text } of sources) {
    const adapter = isAdapterFile(file);
    for (const spec of specifiers(text)) {
      if (spec.startsWith('@devp2p/')) {
        const name = spec.slice('@devp2p/'.length).split('/')[0]!;
        const where = allowedFrom(pkg, DIR_OF[name] ?? name);
        if (where === 'nowhere') {
          violations.push({ file, problem: `imports ${spec}: ${pkg} may import ${allowedText(pkg)}` });
        } else if (where === 'adapters' && !adapter) {
          violations.push({ file, problem: `imports ${spec} outside src/adapters/` });
        }
      } else if (portable && isRuntimeModule(spec) && !adapter) {
        violations.push({ file, problem: `imports ${spec} outside src/adapters/` });
      }
    }
  }
  return violations;
}

/** Checks one package's `dependencies` (what npm installs with it) against the same graph. */
export function checkManifest(pkg: string, file: string, manifest: { dependencies?: object }): Violation[] {
  const violations: Violation[] = [];
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    if (!dep.startsWith('@devp2p/')) continue;
    const name = dep.slice('@devp2p/'.length);
    if (allowedFrom(pkg, DIR_OF[name] ?? name) === 'nowhere') {
      violations.push({
        file,
        problem: `depends on ${dep}: ${pkg} may import ${allowedText(pkg)}`,
      });
    }
  }
  return violations;
}

function packageDirs(): { name: string; dir: string; portable: boolean }[] {
  const out: { name: string; dir: string; portable: boolean }[] = [];
  for (const group of ['packages', 'plugins']) {
    for (const name of readdirSync(join(repoRoot, group)).sort()) {
      out.push({ name, dir: join(repoRoot, group, name), portable: group === 'plugins' || PORTABLE.includes(name) });
    }
  }
  return out;
}

function sourcesOf(dir: string): Source[] {
  const out: Source[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) out.push({ file: relative(repoRoot, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(join(dir, 'src'));
  return out;
}

describe('architecture', () => {
  it('the checks catch violations (self-test)', () => {
    const problems = (pkg: string, file: string, text: string): string[] =>
      checkSources(pkg, [{ file, text }], true).map((v) => v.problem);
    const rlpx = 'packages/rlpx/src/x.ts';
    assert.deepEqual(problems('rlpx', rlpx, "import { Server } from '@devp2p/server';"), [
      'imports @devp2p/server: rlpx may import core, crypto',
    ]);
    assert.deepEqual(problems('rlpx', rlpx, "import {\n  readFileSync,\n} from 'node:fs';"), [
      'imports node:fs outside src/adapters/',
    ]);
    assert.deepEqual(problems('rlpx', rlpx, "const fs = await import('node:fs');"), [
      'imports node:fs outside src/adapters/',
    ]);
    assert.deepEqual(problems('rlpx', rlpx, "import { lookup } from 'dns/promises';"), [
      'imports dns/promises outside src/adapters/',
    ]);
    assert.deepEqual(problems('rlpx', rlpx, "export { x } from '@devp2p/enode';"), [
      'imports @devp2p/enode: rlpx may import core, crypto',
    ]);
    assert.deepEqual(problems('eth', 'plugins/eth/src/a.ts', "import '@devp2p/server';"), [
      'imports @devp2p/server: eth may import core',
    ]);
    // The runtime adapter package: from src/adapters/ of the packages listed only.
    assert.deepEqual(
      problems('enode', 'packages/enode/src/filedb.ts', "import { nodeFiles } from '@devp2p/transport-node';"),
      ['imports @devp2p/transport-node outside src/adapters/'],
    );
    assert.deepEqual(
      problems('rlpx', 'packages/rlpx/src/adapters/tcp.ts', "export { t } from '@devp2p/transport-node';"),
      ['imports @devp2p/transport-node: rlpx may import core, crypto'],
    );
    assert.deepEqual(
      problems('server', 'packages/server/src/adapters/node-tcp.ts', "export { t } from '@devp2p/transport-node';"),
      [],
    );
    assert.deepEqual(
      problems('dial', 'packages/dial/src/adapters/node-dns.ts', "import { lookup } from 'node:dns';"),
      [],
    );
    assert.deepEqual(problems('rlpx', rlpx, "import { rlpEncode } from '@devp2p/core';\n// import 'node:fs'"), []);
    assert.deepEqual(
      checkManifest('dial', 'packages/dial/package.json', {
        dependencies: { '@devp2p/server': '0.0.0', '@noble/hashes': '2' },
      }),
      [
        {
          file: 'packages/dial/package.json',
          problem: 'depends on @devp2p/server: dial may import core, enode, transport-node (in src/adapters/)',
        },
      ],
    );
    assert.deepEqual(
      checkManifest('server', 'packages/server/package.json', { dependencies: { '@devp2p/transport-node': '0.0.0' } }),
      [],
    );
  });

  it('every package imports only what the dependency graph allows, and portable ones reach runtime APIs only through adapters', () => {
    const violations: Violation[] = [];
    let files = 0;
    for (const { name, dir, portable } of packageDirs()) {
      assert.ok(name in ALLOWED_IMPORTS, `${name} is not in the dependency graph (add it to docs/architecture.md)`);
      const sources = sourcesOf(dir);
      files += sources.length;
      violations.push(...checkSources(name, sources, portable));
    }
    assert.ok(files > 50, `read ${files} source files`);
    assert.deepEqual(violations, []);
  });

  it("every package's dependencies in package.json follow the same graph", () => {
    const violations: Violation[] = [];
    for (const { name, dir } of packageDirs()) {
      const file = join(dir, 'package.json');
      violations.push(...checkManifest(name, relative(repoRoot, file), JSON.parse(readFileSync(file, 'utf8'))));
    }
    assert.deepEqual(violations, []);
  });
});
