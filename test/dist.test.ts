import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot, runtimeCommand } from '@devp2p/test-utils';
import { publishablePackages } from './packages.ts';

describe('built output (dist/), as npm users get it', () => {
  it('the built devp2p command runs (what npx / bunx / deno run start)', () => {
    const [cmd, args] = runtimeCommand(join(repoRoot, 'packages', 'cli', 'dist', 'bin.js'));
    const result = spawnSync(cmd, [...args, 'node', '--help'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /devp2p node \[flags\]/);
    assert.match(result.stdout, /--bootnodes/);
  });

  for (const pkg of publishablePackages()) {
    it(`${pkg.name}: dist exports exactly what the source exports`, async () => {
      const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'));
      for (const [entry, conditions] of Object.entries(manifest.exports as Record<string, Record<string, string>>)) {
        // A command's entry (`@devp2p/cli/bin`) runs when imported: the built command is run above instead.
        if (entry === './bin') continue;
        const distFile = join(pkg.dir, conditions.default!);
        assert.ok(
          existsSync(distFile),
          `${pkg.name}${entry.slice(1)}: ${conditions.default} missing; run the build first`,
        );
        assert.ok(existsSync(join(pkg.dir, conditions.types!)), `${pkg.name}: ${conditions.types} missing`);
        const dist = await import(pathToFileURL(distFile).href);
        const source = await import(pathToFileURL(join(pkg.dir, conditions['devp2p-source']!)).href);
        assert.deepEqual(Object.keys(dist).sort(), Object.keys(source).sort());
      }
    });
  }

  it('a plain-JavaScript consumer resolves every package to dist/ and gets correct results', () => {
    const [cmd, args] = runtimeCommand(join(repoRoot, 'test', 'fixtures', 'dist-smoke.mjs'));
    const result = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    assert.equal(out.rlp, 'c883646f67820400c0');
    assert.equal(out.keccak, 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    assert.equal(out.ecies, 'devp2p');
    assert.equal(out.snappy, true);
    assert.deepEqual(out.serverCaps, ['png/1']);
    for (const [name, url] of Object.entries(out.resolved as Record<string, string>)) {
      assert.match(url, /\/dist\/index\.js$/, `${name} resolved to ${url}`);
    }
  });
});
