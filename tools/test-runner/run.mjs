#!/usr/bin/env node
// Runs every workspace's tests (node:test + node:assert) unchanged on Node, Bun and Deno,
// prints a runtime × package table, and ends with the line `N passed, N failed`.
// Usage: node tools/test-runner/run.mjs [--runtime node,bun,deno] [--filter <package dir substring>]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** Per-test timeout: generous, because multi-node tests wait on real protocol deadlines. */
const TEST_TIMEOUT_MS = 180_000;
/** Source condition: packages resolve each other to `src/*.ts`, so no build is needed to test. */
const SOURCE_CONDITION = 'devp2p-source';

const runtimes = {
  node: (files, junit) => [
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions',
      SOURCE_CONDITION,
      '--test',
      '--test-concurrency=1',
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      '--test-reporter=junit',
      `--test-reporter-destination=${junit}`,
      '--test-reporter=dot',
      '--test-reporter-destination=stdout',
      ...files,
    ],
  ],
  bun: (files, junit) => [
    bin('bun'),
    [
      'test',
      '--conditions',
      SOURCE_CONDITION,
      '--timeout',
      String(TEST_TIMEOUT_MS),
      '--reporter=junit',
      `--reporter-outfile=${junit}`,
      ...files.map((f) => `./${f}`),
    ],
  ],
  deno: (files, junit) => [
    bin('deno'),
    ['test', '-A', '--no-check', '--conditions', SOURCE_CONDITION, '--reporter=dot', `--junit-path=${junit}`, ...files],
  ],
};

function parseArgs(argv) {
  const opts = { runtimes: Object.keys(runtimes), filter: '' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runtime') opts.runtimes = argv[++i].split(',');
    else if (argv[i] === '--filter') opts.filter = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  for (const r of opts.runtimes) if (!(r in runtimes)) throw new Error(`unknown runtime ${r}`);
  return opts;
}

function testFiles(dir) {
  const testDir = join(dir, 'test');
  if (!existsSync(testDir)) return [];
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts')) out.push(relative(dir, p));
    }
  };
  walk(testDir);
  return out;
}

function suites() {
  const dirs = [];
  for (const group of ['packages', 'plugins', 'tools']) {
    const g = join(root, group);
    if (!existsSync(g)) continue;
    for (const name of readdirSync(g).sort()) dirs.push(join(g, name));
  }
  dirs.push(root);
  return dirs
    .map((dir) => ({ dir, name: dir === root ? 'test/' : relative(root, dir), files: testFiles(dir) }))
    .filter((s) => s.files.length > 0);
}

const unescapeXml = (s) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/**
 * Counts leaf test cases in a JUnit report. Deno reports a `describe` both as a case and as its
 * steps (`group > case`), so a case whose name prefixes another case's name is a group, not a test.
 */
export function countJunit(xml) {
  const cases = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const name = unescapeXml(/\bname="([^"]*)"/.exec(m[1])?.[1] ?? '');
    const body = m[3] ?? '';
    const failedAttr = /\bfailure="/.test(m[1]);
    const state =
      /<failure\b|<error\b/.test(body) || failedAttr ? 'failed' : /<skipped\b/.test(body) ? 'skipped' : 'passed';
    cases.push({ name, state, body });
  }
  const leaves = cases.filter((c) => !cases.some((o) => o !== c && o.name.startsWith(`${c.name} > `)));
  const count = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const c of leaves) {
    count[c.state]++;
    if (c.state === 'failed') count.failures.push(c.name);
  }
  return count;
}

function run(cmd, args, cwd) {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', DEVP2P_LOOPBACK_ONLY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', (err) => done({ code: -1, output: `${output}\n${err.message}` }));
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 128 : 1), output }));
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'devp2p-test-'));
  const all = suites().filter((s) => s.name.includes(opts.filter));
  const results = [];
  try {
    for (const runtime of opts.runtimes) {
      for (const suite of all) {
        const junit = join(work, `${runtime}-${suite.name.replace(/\W+/g, '_')}.xml`);
        const [cmd, args] = runtimes[runtime](suite.files, junit);
        const started = Date.now();
        const { code, output } = await run(cmd, args, suite.dir);
        const count = existsSync(junit)
          ? countJunit(readFileSync(junit, 'utf8'))
          : { passed: 0, failed: 0, skipped: 0, failures: [] };
        // A runtime that exits non-zero without reporting a failed case (a crash, a load error,
        // an unhandled rejection after the tests) still fails the suite.
        if (code !== 0 && count.failed === 0) {
          count.failed++;
          count.failures.push(`${runtime} exited with code ${code} outside any test`);
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        results.push({ runtime, suite: suite.name, ...count, seconds });
        const mark = count.failed ? 'FAIL' : 'ok';
        process.stdout.write(
          `${mark.padEnd(4)} ${runtime.padEnd(5)} ${suite.name.padEnd(26)} ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped (${seconds}s)\n`,
        );
        if (count.failed) {
          for (const f of count.failures) process.stdout.write(`       ✖ ${f}\n`);
          process.stdout.write(
            `${output
              .split('\n')
              .slice(-80)
              .map((l) => `       | ${l}`)
              .join('\n')}\n`,
          );
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  printTable(
    results,
    opts.runtimes,
    all.map((s) => s.name),
  );
  const total = results.reduce(
    (t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  process.stdout.write(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  process.exitCode = total.failed > 0 || total.passed === 0 ? 1 : 0;
}

function printTable(results, runtimeNames, suiteNames) {
  const cell = (r) => (r ? `${r.passed}/${r.failed}/${r.skipped}` : '-');
  const width = Math.max(...suiteNames.map((s) => s.length), 7);
  process.stdout.write(
    `\npassed/failed/skipped\n${'package'.padEnd(width)}  ${runtimeNames.map((r) => r.padStart(12)).join('')}\n`,
  );
  for (const s of suiteNames) {
    const row = runtimeNames.map((rt) => cell(results.find((r) => r.runtime === rt && r.suite === s)).padStart(12));
    process.stdout.write(`${s.padEnd(width)}  ${row.join('')}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
