/**
 * The shape of the house (docs/architecture.md): dependencies between our packages run one way, and the portable
 * packages reach runtime APIs (`node:*`, or the runtime adapter package) only from their `src/adapters/` files.
 * Both checks read the sources and the manifests; each is first run on a sample with a violation, so it cannot
 * pass by finding nothing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
  // The Server owns a dial scheduler as geth's p2p.Server does (its default when none is given).
  server: ['core', 'crypto', 'enode', 'rlpx', 'dial'],
  node: ['core', 'crypto', 'enode', 'rlpx', 'dial', 'discovery', 'server', 'transport-node'],
  cli: ['core', 'crypto', 'enode', 'rlpx', 'dial', 'discovery', 'server', 'node', 'transport-node', 'eth', 'ping'],
  eth: ['core'],
  ping: ['core'],
};

/** Packages that run wherever their adapters do: runtime APIs only in `src/adapters/`. */
export const PORTABLE = ['core', 'enode', 'rlpx', 'server', 'dial', 'discovery', 'dnsdisc', 'eth', 'ping'];

/** The package directory names behind our npm names. */
const DIR_OF: Readonly<Record<string, string>> = { 'plugin-eth': 'eth', 'plugin-ping': 'ping' };

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
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Checks one package's sources: its imports of ours against `allowed`, and runtime APIs outside adapters. */
export function checkSources(pkg: string, sources: readonly Source[], portable: boolean): Violation[] {
  const violations: Violation[] = [];
  const allowed = ALLOWED_IMPORTS[pkg] ?? [];
  for (const { file, text } of sources) {
    const adapter = /(^|\/)src\/adapters\//.test(file);
    for (const spec of specifiers(text)) {
      if (spec.startsWith('@devp2p/')) {
        const name = spec.slice('@devp2p/'.length).split('/')[0]!;
        const dir = DIR_OF[name] ?? name;
        const runtimeAdapter = dir === 'transport-node' && portable;
        if (!allowed.includes(dir) && !(runtimeAdapter && adapter)) {
          violations.push({
            file,
            problem: `imports ${spec}: ${pkg} may import ${allowed.join(', ') || 'nothing of ours'}`,
          });
        } else if (runtimeAdapter && !adapter) {
          violations.push({ file, problem: `imports ${spec} outside src/adapters/` });
        }
      } else if (portable && spec.startsWith('node:') && !adapter) {
        violations.push({ file, problem: `imports ${spec} outside src/adapters/` });
      }
    }
  }
  return violations;
}

function packageDirs(): { name: string; dir: string }[] {
  const out: { name: string; dir: string }[] = [];
  for (const group of ['packages', 'plugins']) {
    for (const name of readdirSync(join(repoRoot, group)).sort()) out.push({ name, dir: join(repoRoot, group, name) });
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
    const sample = (text: string): Source[] => [{ file: 'packages/rlpx/src/x.ts', text }];
    assert.equal(checkSources('rlpx', sample("import { Server } from '@devp2p/server';"), true).length, 1);
    assert.equal(checkSources('rlpx', sample("import { readFileSync } from 'node:fs';"), true).length, 1);
    assert.equal(checkSources('rlpx', sample("const fs = await import('node:fs');"), true).length, 1);
    assert.equal(checkSources('rlpx', sample("export { x } from '@devp2p/enode';"), true).length, 1);
    assert.equal(
      checkSources('eth', [{ file: 'plugins/eth/src/a.ts', text: "import '@devp2p/server';" }], true).length,
      1,
    );
    const adapter = [
      { file: 'packages/server/src/adapters/tcp.ts', text: "export { t } from '@devp2p/transport-node';" },
    ];
    assert.deepEqual(checkSources('server', adapter, true), []);
    assert.deepEqual(checkSources('rlpx', sample("import { rlpEncode } from '@devp2p/core';"), true), []);
  });

  it('every package imports only what the dependency graph allows, and portable ones reach runtime APIs only through adapters', () => {
    const violations: Violation[] = [];
    for (const { name, dir } of packageDirs()) {
      assert.ok(name in ALLOWED_IMPORTS, `${name} is not in the dependency graph (add it to docs/architecture.md)`);
      violations.push(...checkSources(name, sourcesOf(dir), PORTABLE.includes(name)));
    }
    assert.deepEqual(violations, []);
  });

  it("every package's dependencies in package.json follow the same graph", () => {
    for (const { name, dir } of packageDirs()) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object };
      for (const dep of Object.keys(manifest.dependencies ?? {})) {
        if (!dep.startsWith('@devp2p/')) continue;
        const depName = dep.slice('@devp2p/'.length);
        const depDir = DIR_OF[depName] ?? depName;
        const allowed = ALLOWED_IMPORTS[name]!;
        const adapterOnly = depDir === 'transport-node' && PORTABLE.includes(name);
        assert.ok(allowed.includes(depDir) || adapterOnly, `${name} depends on ${dep}, which the graph does not allow`);
      }
    }
  });
});
