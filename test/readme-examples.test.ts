/**
 * Every code block marked `<!-- runnable -->` (the line before its opening fence) in a README or in docs/ runs as
 * written, on the runtime running this test, from the package sources, and type-checks: an example that stops
 * working or compiling fails the suite.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, runtime, runtimeCommand } from '@devp2p/test-utils';

/** How long one example may run: they start nodes on 127.0.0.1 and stop them. */
const EXAMPLE_TIMEOUT_MS = 60_000;

const MARKER = '<!-- runnable -->';

interface Example {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

/** How long the type check of every block may take. */
const TYPECHECK_TIMEOUT_MS = 120_000;

function readmes(): string[] {
  const files = [join(repoRoot, 'README.md')];
  for (const group of ['packages', 'plugins']) {
    for (const name of readdirSync(join(repoRoot, group)).sort()) {
      const readme = join(repoRoot, group, name, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  for (const name of readdirSync(join(repoRoot, 'docs')).sort()) {
    if (name.endsWith('.md')) files.push(join(repoRoot, 'docs', name));
  }
  return files;
}

/** The marked blocks of one Markdown file: the marker line, then a ```ts or ```js fence. */
export function runnableBlocks(file: string, text: string): Example[] {
  const lines = text.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    if (lines[i]!.trim() !== MARKER) continue;
    const fence = lines[i + 1]!.trim();
    if (!/^```(ts|js)$/.test(fence))
      throw new Error(`${file}:${i + 1}: ${MARKER} must precede a \`\`\`ts or \`\`\`js block`);
    const end = lines.indexOf('```', i + 2);
    if (end < 0) throw new Error(`${file}:${i + 2}: unclosed code block`);
    out.push({ file, line: i + 2, code: lines.slice(i + 2, end).join('\n') });
  }
  return out;
}

describe('README examples marked runnable', () => {
  it('finds marked blocks (and rejects a marker without a code block)', () => {
    assert.equal(runnableBlocks('x.md', `${MARKER}\n\`\`\`ts\nconsole.log(1)\n\`\`\`\n`).length, 1);
    assert.throws(() => runnableBlocks('x.md', `${MARKER}\ntext\n`), /must precede/);
  });

  const examples = readmes().flatMap((file) => runnableBlocks(file, readFileSync(file, 'utf8')));
  it('there is at least one', () => assert.ok(examples.length > 0));

  const dir = join(repoRoot, 'test', '.examples');

  it('every one type-checks (tsc, with the sources as the packages)', () => {
    const checkDir = join(dir, `typecheck-${runtime}`);
    rmSync(checkDir, { recursive: true, force: true });
    mkdirSync(checkDir, { recursive: true });
    examples.forEach((example, index) => {
      // `export {}`: a module even without imports, so top-level await type-checks.
      writeFileSync(join(checkDir, `example-${index}.ts`), `${example.code}\nexport {};\n`);
    });
    // The compiler options of test/tsconfig.json: the packages resolve to their sources.
    writeFileSync(
      join(checkDir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'] }),
    );
    const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', checkDir], { cwd: repoRoot, encoding: 'utf8', timeout: TYPECHECK_TIMEOUT_MS });
    // tsc names `…/example-3.ts(5,12)`: name the Markdown file and line instead.
    const where = (text: string): string =>
      text.replace(/\S*example-(\d+)\.ts\((\d+),(\d+)\)/g, (_, i: string, line: string, column: string) => {
        const example = examples[Number(i)]!;
        return `${relative(repoRoot, example.file)}:${example.line + Number(line)}:${column}`;
      });
    assert.equal(result.status, 0, `the examples do not type-check:\n${where(result.stdout)}\n${result.stderr}`);
  });
  examples.forEach((example, index) => {
    const where = `${relative(repoRoot, example.file)}:${example.line}`;
    it(`${where} runs`, () => {
      mkdirSync(dir, { recursive: true });
      const script = join(dir, `${runtime}-${index}.ts`);
      writeFileSync(script, example.code);
      const [cmd, args] = runtimeCommand(script, { source: true });
      const result = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', timeout: EXAMPLE_TIMEOUT_MS });
      assert.equal(result.status, 0, `${where} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
    });
  });
});
