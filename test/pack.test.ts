/**
 * The packages as a user gets them: every publishable package packed with `npm pack` (so `files` and the bin are
 * what npm would publish), installed with `npm install --offline` into an empty project, then the `devp2p` command
 * and `@devp2p/node` used from there on this runtime. Nothing is fetched: the third-party dependencies come from the
 * workspace's own node_modules.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, runtime } from '@devp2p/test-utils';
import { publishablePackages } from './packages.ts';

/** npm pack and an offline install of a dozen tarballs take a few seconds each. */
const STEP_TIMEOUT_MS = 120_000;

function run(cmd: string, args: string[], cwd: string): string {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  assert.equal(result.status, 0, `${cmd} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Runtime dependencies of the published packages outside the workspace, with theirs, as installed here. */
function thirdPartyDependencies(): Record<string, string> {
  const found: Record<string, string> = {};
  const visit = (name: string): void => {
    if (name.startsWith('@devp2p/') || found[name]) return;
    const dir = join(repoRoot, 'node_modules', name);
    assert.ok(existsSync(dir), `${name} is installed in the workspace`);
    found[name] = `file:${dir}`;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep);
  };
  for (const pkg of publishablePackages()) {
    const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) as { dependencies?: object };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep);
  }
  return found;
}

describe('packed tarballs installed into an empty project', () => {
  const project = mkdtempSync(join(tmpdir(), 'devp2p-pack-'));
  const tarballs = join(project, 'tarballs');

  before(() => {
    mkdirSync(tarballs);
    run(
      'npm',
      ['pack', '--silent', '--pack-destination', tarballs, ...publishablePackages().map((p) => p.dir)],
      repoRoot,
    );
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    assert.equal(files.length, publishablePackages().length, 'one tarball per package');
    const ours = Object.fromEntries(
      publishablePackages().map((p) => [
        p.name,
        `file:./tarballs/${files.find((f) => f.startsWith(p.name.slice(1).replace('/', '-')))}`,
      ]),
    );
    // The tarballs' dependencies on each other point at the same tarballs; the rest at the workspace's copies.
    const dependencies = { ...ours, ...thirdPartyDependencies() };
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'devp2p-user', private: true, type: 'module', dependencies, overrides: dependencies }),
    );
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project);
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  it(`devp2p --version runs from the installed bin on ${runtime}`, () => {
    const bin = join(project, 'node_modules', '@devp2p', 'cli', 'bin', 'devp2p.mjs');
    const [cmd, args] =
      runtime === 'deno'
        ? [process.execPath, ['run', '-A', bin]]
        : runtime === 'bun'
          ? [process.execPath, [bin]]
          : ['npx', ['--offline', 'devp2p']];
    const out = run(cmd, [...args, '--version'], project);
    assert.match(out, /^devp2p \d+\.\d+\.\d+\nclient name: devp2p\.ts\/v/);
  });

  it(`@devp2p/node imports and starts a node on 127.0.0.1 on ${runtime}`, () => {
    writeFileSync(
      join(project, 'start.mjs'),
      [
        "import { createNode } from '@devp2p/node';",
        "const node = createNode({ listenAddr: '127.0.0.1:0', discovery: false });",
        'await node.start();',
        'console.log(node.nodeInfo().enode);',
        'await node.close();',
      ].join('\n'),
    );
    const [cmd, args] =
      runtime === 'deno' ? [process.execPath, ['run', '-A', 'start.mjs']] : [process.execPath, ['start.mjs']];
    assert.match(run(cmd, args, project), /^enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+/);
  });
});
