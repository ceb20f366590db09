/**
 * docs/cli.md from the commands' own `--help` texts, so the reference cannot drift: `npm run docs:cli` rewrites
 * it, and `packages/cli/test/docs.test.ts` fails when it differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { ATTACH_USAGE } from '../src/commands/attach.ts';
import { DEVNET_USAGE } from '../src/commands/devnet.ts';
import { DISCV4_USAGE } from '../src/commands/discv4.ts';
import { DISCV5_USAGE } from '../src/commands/discv5.ts';
import { DNS_USAGE } from '../src/commands/dns.ts';
import { ENR_USAGE } from '../src/commands/enr.ts';
import { ETH_USAGE } from '../src/commands/eth.ts';
import { KEY_USAGE } from '../src/commands/key.ts';
import { RLPX_USAGE } from '../src/commands/rlpx.ts';
import { SNAP_USAGE } from '../src/commands/snap.ts';
import { TEST_USAGE } from '../src/commands/test.ts';
import { NODE_USAGE } from '../src/node-command.ts';

const SECTIONS: readonly [string, string][] = [
  ['devp2p node', NODE_USAGE],
  ['devp2p key', KEY_USAGE],
  ['devp2p enr', ENR_USAGE],
  ['devp2p rlpx', RLPX_USAGE],
  ['devp2p discv4', DISCV4_USAGE],
  ['devp2p discv5', DISCV5_USAGE],
  ['devp2p dns', DNS_USAGE],
  ['devp2p eth', ETH_USAGE],
  ['devp2p snap', SNAP_USAGE],
  ['devp2p test', TEST_USAGE],
  ['devp2p devnet', DEVNET_USAGE],
  ['devp2p attach', ATTACH_USAGE],
];

/** The whole of docs/cli.md. */
export function renderCliDocs(): string {
  const head = [
    '# devp2p CLI reference',
    '',
    "Generated from the commands' own `--help` output (`devp2p <command> --help`) by `npm run docs:cli`. The package",
    'README (`packages/cli/README.md`) explains discovery, the admin JSON-RPC and the genesis file format.',
  ];
  const body = SECTIONS.flatMap(([title, usage]) => ['', `## ${title}`, '', '```text', usage, '```']);
  return `${[...head, ...body].join('\n')}\n`;
}

if (process.argv.includes('--write')) {
  writeFileSync(new URL('../../../docs/cli.md', import.meta.url), renderCliDocs());
}
