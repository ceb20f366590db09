#!/usr/bin/env node
// Checks that every publishable package would publish cleanly: publint on the npm package (needs dist/,
// so run after the build), `deno publish --dry-run` for JSR, and deno.json listing every package.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

const publishable = [];
for (const group of ['packages', 'plugins']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) {
    const manifest = join(dir, name, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (!pkg.private) publishable.push({ dir: join(dir, name), rel: `./${group}/${name}`, name: pkg.name });
  }
}

let failures = 0;
const fail = (message) => {
  failures++;
  console.error(`✖ ${message}`);
};

const denoJson = JSON.parse(readFileSync(join(root, 'deno.json'), 'utf8'));
for (const p of publishable) {
  if (!denoJson.workspace.includes(p.rel)) fail(`deno.json workspace does not list ${p.rel}`);
}
for (const member of denoJson.workspace) {
  if (!publishable.some((p) => p.rel === member)) fail(`deno.json lists ${member}, which is not a publishable package`);
}

for (const p of publishable) {
  const result = spawnSync(bin('publint'), ['--strict', '--level', 'warning'], { cwd: p.dir, encoding: 'utf8' });
  if (result.status !== 0) fail(`publint ${p.name}:\n${result.stdout}${result.stderr}`);
}

const deno = spawnSync(bin('deno'), ['publish', '--dry-run', '--allow-dirty', '--quiet'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, NO_COLOR: '1' },
});
if (deno.status !== 0) fail(`deno publish --dry-run:\n${deno.stdout}${deno.stderr}`);

if (failures > 0) {
  console.error(`publish checks: ${failures} problem(s)`);
  process.exit(1);
}
console.log(`publish checks: ${publishable.length} packages pass publint and deno publish --dry-run`);
