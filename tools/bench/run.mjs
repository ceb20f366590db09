#!/usr/bin/env node
// Runs benches on Node, Bun and Deno, one process after another (never in parallel: figures would compete for
// the CPU), and prints one table per bench: a row per figure, a column per runtime.
// Usage: node tools/bench/run.mjs [bench ...] [--runtime node,bun,deno]
// A bench is a file src/<name>.ts that ends in runBench() from src/lib/harness.ts; with no names, all of them run.
// Each runs from source (the devp2p-source condition), so no build is needed.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTable } from './table.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const SOURCE_CONDITION = 'devp2p-source';

/** How each runtime runs a TypeScript file from source; `--json` makes the bench print its report as JSON. */
const runtimes = {
  node: (file) => [process.execPath, ['--import', 'tsx', '--conditions', SOURCE_CONDITION, file, '--json']],
  bun: (file) => [bin('bun'), ['--conditions', SOURCE_CONDITION, file, '--json']],
  deno: (file) => [bin('deno'), ['run', '-A', '--conditions', SOURCE_CONDITION, file, '--json']],
};

const available = () =>
  readdirSync(join(here, 'src'))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => name.slice(0, -3))
    .sort();

const usage = () =>
  `usage: node tools/bench/run.mjs [bench ...] [--runtime node,bun,deno]\nbenches: ${available().join(', ')} (all when none is named)`;

/** A mistake on the command line: the runner prints it with the usage and exits with status 2. */
class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { runtimes: Object.keys(runtimes), benches: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') opts.help = true;
    else if (argv[i] === '--runtime') opts.runtimes = (argv[++i] ?? '').split(',');
    else if (argv[i].startsWith('-')) throw new UsageError(`unknown option ${argv[i]}`);
    else opts.benches.push(argv[i]);
  }
  for (const r of opts.runtimes) if (!(r in runtimes)) throw new UsageError(`unknown runtime ${r}`);
  const all = available();
  if (opts.benches.length === 0) opts.benches = all;
  for (const b of opts.benches) if (!all.includes(b)) throw new UsageError(`no bench ${b}`);
  return opts;
}

/** Runs one bench on one runtime; progress goes to our stderr, the JSON report is its last stdout line. */
function runOne(runtime, bench) {
  const [cmd, args] = runtimes[runtime](join('src', `${bench}.ts`));
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: here,
      env: { ...process.env, NO_COLOR: '1', DEVP2P_LOOPBACK_ONLY: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.on('error', (err) => done({ error: err.message }));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exited with code ${code}`);
        done({ report: JSON.parse(last) });
      } catch (err) {
        done({ error: `${err.message}${stdout ? `\n${stdout}` : ''}` });
      }
    });
  });
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${usage()}\n`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  let failed = false;
  for (const bench of opts.benches) {
    const results = [];
    for (const runtime of opts.runtimes) {
      process.stderr.write(`${bench} on ${runtime}…\n`);
      const result = await runOne(runtime, bench);
      failed ||= Boolean(result.error);
      results.push({ runtime, ...result });
    }
    process.stdout.write(`\n${renderTable(bench, results)}`);
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
