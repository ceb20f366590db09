import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@devp2p/test-utils';
import { publishablePackages } from './packages.ts';

const SOURCE_CONDITION = 'devp2p-source';

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

describe('package manifests: npm and JSR stay in sync', () => {
  const versions = new Map(publishablePackages().map((p) => [p.name, readJson(join(p.dir, 'package.json')).version]));
  const denoWorkspace = readJson(join(repoRoot, 'deno.json')).workspace as string[];

  for (const pkg of publishablePackages()) {
    it(pkg.name, () => {
      const npm = readJson(join(pkg.dir, 'package.json'));
      const jsrPath = join(pkg.dir, 'jsr.json');
      assert.ok(existsSync(jsrPath), `${pkg.name} has no jsr.json`);
      const jsr = readJson(jsrPath);
      assert.equal(jsr.name, npm.name, 'jsr.json name');
      assert.equal(jsr.version, npm.version, 'jsr.json version');
      assert.equal(jsr.license, npm.license, 'jsr.json license');
      assert.equal(npm.type, 'module', 'ESM only');
      assert.equal(npm.sideEffects, false, 'sideEffects: false');
      assert.ok(denoWorkspace.includes(pkg.rel), `deno.json workspace lists ${pkg.rel}`);
      // What users need and nothing else: a description and keywords for the registries; no tests published.
      assert.ok(typeof npm.description === 'string' && npm.description.length > 20, 'description');
      assert.ok(Array.isArray(npm.keywords) && npm.keywords.includes('devp2p'), 'keywords');
      for (const file of npm.files as string[])
        assert.ok(['bin', 'dist', 'src', 'README.md'].includes(file), `npm files: ${file}`);
      assert.deepEqual(
        jsr.publish,
        { include: ['src', 'README.md'] },
        'jsr.json publishes the sources and README only',
      );

      const npmExports = npm.exports as Record<string, Record<string, string>>;
      const jsrExports = jsr.exports as Record<string, string>;
      assert.deepEqual(Object.keys(jsrExports).sort(), Object.keys(npmExports).sort(), 'same entry points');
      for (const [entry, conditions] of Object.entries(npmExports)) {
        assert.deepEqual(Object.keys(conditions), [SOURCE_CONDITION, 'types', 'default'], `${entry}: condition order`);
        assert.equal(jsrExports[entry], conditions[SOURCE_CONDITION], `${entry}: JSR points at the source`);
        assert.ok(existsSync(join(pkg.dir, conditions[SOURCE_CONDITION]!)), `${entry}: source file exists`);
        const stem = conditions[SOURCE_CONDITION]!.replace(/^\.\/src\//, '').replace(/\.ts$/, '');
        assert.equal(conditions.types, `./dist/${stem}.d.ts`, `${entry}: types path`);
        assert.equal(conditions.default, `./dist/${stem}.js`, `${entry}: default path`);
      }

      for (const field of ['dependencies', 'devDependencies', 'peerDependencies'] as const) {
        const deps = (npm[field] ?? {}) as Record<string, string>;
        for (const [name, range] of Object.entries(deps)) {
          if (versions.has(name)) assert.equal(range, versions.get(name), `${field}.${name} matches its version`);
        }
      }
      const tsconfig = readJson(join(pkg.dir, 'tsconfig.json'));
      const options = tsconfig.compilerOptions as { customConditions?: string[] };
      assert.deepEqual(options.customConditions, [SOURCE_CONDITION], 'typecheck resolves siblings to source');
    });
  }
});
