/**
 * The public test vectors live in `test/vectors/`, so a clone runs every vector test. This checks that copy: each
 * file names its source, and it matches the workspace's shared vectors byte for byte where those sit beside the
 * clone (`../shared/vectors`, as in the project's CI).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, vectorsDir } from '@devp2p/test-utils';

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out;
}

describe('test/vectors', () => {
  const ours = files(vectorsDir);

  it('holds the vectors, each JSON file naming its source', () => {
    assert.ok(ours.includes('README.md'), 'the README lists every file and its source');
    for (const file of ours.filter((f) => f.endsWith('.json'))) {
      const parsed = JSON.parse(readFileSync(join(vectorsDir, file), 'utf8')) as { source?: unknown };
      const folder = file.slice(0, file.lastIndexOf('/'));
      const sourceFile = join(vectorsDir, folder, 'SOURCE.json');
      const listed =
        existsSync(sourceFile) &&
        (JSON.parse(readFileSync(sourceFile, 'utf8')) as { files?: string[] }).files?.includes(
          file.slice(folder.length + 1),
        );
      assert.ok(
        typeof parsed.source === 'string' || listed || file.endsWith('SOURCE.json'),
        `${file} names its source`,
      );
    }
  });

  it("matches the workspace's shared vectors where they sit beside the clone", () => {
    const shared = join(repoRoot, '..', 'shared', 'vectors');
    if (!existsSync(shared)) return; // a lone clone: the copy is the reference
    const theirs = files(shared);
    assert.deepEqual(ours, theirs, 'the same files');
    for (const file of theirs) {
      assert.ok(readFileSync(join(vectorsDir, file)).equals(readFileSync(join(shared, file))), `${file} is identical`);
    }
  });
});
