import type { Files } from '@devp2p/core';
import { defaultFiles } from './adapters/node-files.ts';

/** Owner only: a data directory holds the node key. */
const DIRECTORY_MODE = 0o700;

/**
 * Options of {@link ensureDirectory}.
 * @example ensureDirectory(datadir, { mode: 0o750, files: nodeFiles })
 */
export interface EnsureDirectoryOptions {
  /** Permission bits of the directories created (default 0700). */
  readonly mode?: number;
  /** File system (default `nodeFiles` from `@devp2p/transport-node`). */
  readonly files?: Files;
}

/**
 * Creates `path` and any missing parents, like `mkdir -p`, and throws at once where that is not possible (ENOENT,
 * ENOTDIR, EACCES, ...), a path under `/proc` included.
 * @example ensureDirectory('/var/lib/devp2p')
 */
export function ensureDirectory(path: string, options: EnsureDirectoryOptions = {}): void {
  (options.files ?? defaultFiles).mkdir(path, options.mode ?? DIRECTORY_MODE);
}
