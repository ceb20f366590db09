import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@devp2p/test-utils';

/** A publishable workspace package (under packages/ or plugins/, not private). */
export interface WorkspacePackage {
  name: string;
  dir: string;
  /** Path relative to the repo root, as deno.json lists it: `./packages/core`. */
  rel: string;
}

export function publishablePackages(): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'plugins']) {
    const groupDir = join(repoRoot, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir).sort()) {
      const manifest = join(groupDir, name, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; private?: boolean };
      if (!pkg.private) out.push({ name: pkg.name, dir: join(groupDir, name), rel: `./${group}/${name}` });
    }
  }
  return out;
}
