import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '@devp2p/test-utils';
import { CLI_VERSION } from '../packages/cli/src/version.ts';
import { clientName, VERSION } from '../packages/server/src/client-name.ts';

const versionOf = (dir: string): string =>
  (JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as { version: string }).version;

it('the versions compiled in (devp2p --version, the Hello client name) are the packages’ own', () => {
  assert.equal(CLI_VERSION, versionOf('packages/cli'));
  assert.equal(VERSION, versionOf('packages/server'));
  assert.match(
    clientName(),
    new RegExp(`^devp2p\\.ts/v${VERSION.replaceAll('.', '\\.')}/[^/]+-[^/]+/(node|bun|deno)\\d`),
  );
  assert.match(clientName('box'), /^devp2p\.ts\/box\/v/);
});
