/**
 * The README is the front door: its links stay inside the repository and resolve, and the runtime versions it names
 * are the ones the lockfile installs. Every other Markdown file's relative links resolve too.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@devp2p/test-utils';

function markdownFiles(): string[] {
  const files = ['README.md', 'CONTRIBUTING.md'].map((f) => join(repoRoot, f));
  for (const dir of ['docs']) {
    for (const name of readdirSync(join(repoRoot, dir)))
      if (name.endsWith('.md')) files.push(join(repoRoot, dir, name));
  }
  for (const group of ['packages', 'plugins', 'tools']) {
    for (const name of readdirSync(join(repoRoot, group))) {
      const readme = join(repoRoot, group, name, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  return files;
}

/** The targets of `[text](target)` links, outside code blocks. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe('documentation', () => {
  it('the README links only to files inside the repository, and they exist', () => {
    for (const target of links(readFileSync(join(repoRoot, 'README.md'), 'utf8'))) {
      assert.doesNotMatch(target, /^[a-z]+:/i, `README links outside the repository: ${target}`);
      const path = resolve(repoRoot, target.split('#')[0]!);
      assert.ok(!relative(repoRoot, path).startsWith('..'), `README links outside the repository: ${target}`);
      assert.ok(existsSync(path), `README links to a missing file: ${target}`);
    }
  });

  it('every relative link in the Markdown files resolves', () => {
    for (const file of markdownFiles()) {
      for (const target of links(readFileSync(file, 'utf8'))) {
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const path = resolve(dirname(file), target.split('#')[0]!);
        assert.ok(existsSync(path), `${relative(repoRoot, file)} links to a missing file: ${target}`);
      }
    }
  });

  it('the README names the Bun and Deno versions the lockfile installs', () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const runtime of ['bun', 'deno']) {
      const version = lock.packages[`node_modules/${runtime}`]?.version;
      assert.ok(version, `${runtime} is in the lockfile`);
      const row = new RegExp(
        `^\\| ${runtime[0]!.toUpperCase()}${runtime.slice(1)} +\\| ${version.replaceAll('.', '\\.')} `,
        'm',
      );
      assert.match(readme, row, `README's runtime table names ${runtime} ${version}`);
    }
  });
});
