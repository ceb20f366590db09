#!/usr/bin/env node
// The `devp2p` command. An installed package runs its built CLI (dist/). In a clone of the repository it runs the
// TypeScript sources, on the runtime that started it (Node through the tsx loader from the workspace's
// devDependencies; Bun and Deno natively): `npx devp2p` works right after `npm ci`, and never runs a stale build.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/bin.js', import.meta.url);
const source = new URL('../src/bin.ts', import.meta.url);

/** Whether this package sits in the devp2p.ts repository (packages/cli), rather than in a node_modules folder. */
function inClone() {
  try {
    const root = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8'));
    return root.name === 'devp2p-ts';
  } catch {
    return false;
  }
}

/**
 * The tsx loader as a file URL, resolved from this launcher rather than from the working directory, so that the
 * command also runs from outside the clone (`/path/to/clone/node_modules/.bin/devp2p` in any directory).
 */
function tsxLoader() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

if (!inClone() && existsSync(fileURLToPath(dist))) {
  await import(dist.href);
} else if (existsSync(fileURLToPath(source))) {
  const script = fileURLToPath(source);
  const condition = ['--conditions', 'devp2p-source'];
  const args =
    'Deno' in globalThis
      ? ['run', '-A', ...condition, script]
      : 'Bun' in globalThis
        ? [...condition, script]
        : ['--import', tsxLoader(), ...condition, script];
  const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal; SIGTERM is passed on. We exit as it does.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  console.error('devp2p: neither dist/bin.js nor src/bin.ts found next to this launcher; reinstall @devp2p/cli');
  process.exit(1);
}
