import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function errorCode(error: unknown): string | undefined {
  return (error as { code?: unknown })?.code as string | undefined;
}

/**
 * Creates `path` and any missing parents (mode `mode`), like `mkdir -p`, and throws at once where that is not
 * possible (ENOENT, ENOTDIR, EACCES, ...). Written out instead of `mkdirSync(path, { recursive: true })`, which on
 * Node 20 loops forever for a path under a special file system such as `/proc`.
 * @example ensureDirectory('/var/lib/devp2p')
 */
export function ensureDirectory(path: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      if (statSync(dir).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, '${dir}'`), { code: 'ENOTDIR' });
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
}
