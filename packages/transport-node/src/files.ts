import {
  chmodSync,
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import process from 'node:process';
import type { FileHandle, FileLock, FileLockHeld, Files } from '@devp2p/core';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** Writes all of `bytes` at `position` (writeSync may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/**
 * `mkdir -p`, throwing at once where that is not possible (ENOENT, ENOTDIR, EACCES, ...). Written out instead of
 * `mkdirSync(path, { recursive: true })`, which on Node 20 loops forever for a path under a special file system such
 * as `/proc`.
 */
function makeDirectory(path: string, mode: number): void {
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

function lockFile(path: string): FileLock | FileLockHeld {
  const pid = String(process.pid);
  try {
    writeFileSync(path, pid, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
      return { heldBy: owner };
    }
    // Left behind by a process that died without releasing it (or an earlier run with our pid): take it over.
    writeFileSync(path, pid, { mode: 0o600 });
  }
  return {
    release: () => {
      try {
        if (readFileSync(path, 'utf8') === pid) rmSync(path, { force: true });
      } catch {
        // Already gone: nothing to release.
      }
    },
  };
}

function openFile(path: string, how: 'create' | 'update', mode?: number): FileHandle {
  const fd = openSync(path, how === 'create' ? 'w' : 'r+', mode);
  return {
    write: (bytes, position) => writeAll(fd, bytes, position),
    truncate: (length) => ftruncateSync(fd, length),
    sync: () => fsyncSync(fd),
    close: () => closeSync(fd),
  };
}

/**
 * The `Files` of `@devp2p/core` on `node:fs`, which Node, Bun and Deno all provide. The lock file holds the owner's
 * process id; a lock whose process no longer runs (`kill(pid, 0)` fails) is taken over.
 * @example const db = FileNodeDatabase.open('/var/lib/devp2p/nodes', { files: nodeFiles })
 */
export const nodeFiles: Files = {
  resolve: (...segments) => resolve(...segments),
  readFile: (path) => {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  },
  open: openFile,
  rename: (from, to) => renameSync(from, to),
  remove: (path) => rmSync(path, { force: true }),
  chmod: (path, mode) => chmodSync(path, mode),
  mkdir: makeDirectory,
  syncDirectory: (path) => {
    try {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Not supported on this platform: a rename is still atomic, only its durability on power loss is weaker.
    }
  },
  lock: lockFile,
};
