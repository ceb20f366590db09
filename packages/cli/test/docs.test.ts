import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '@devp2p/test-utils';
import { renderCliDocs } from '../scripts/cli-docs.ts';

it("docs/cli.md is the commands' --help text (run `npm run docs:cli` after changing a flag)", () => {
  assert.equal(readFileSync(join(repoRoot, 'docs', 'cli.md'), 'utf8'), renderCliDocs());
});
