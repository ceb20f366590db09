/**
 * The few file operations the node key, the node database and its directory lock need, so that the packages using
 * them run wherever an implementation does. `@devp2p/transport-node` provides `nodeFiles` on `node:fs` (Node, Bun
 * and Deno). Synchronous, as those callers are: they run once at start-up, and on the database's flush timer.
 */

/** A file opened for writing at explicit positions. */
export interface FileHandle {
  /** Writes all of `bytes` at byte offset `position` (a short write is retried until done). */
  write(bytes: Uint8Array, position: number): void;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): void;
  /** Flushes the file's data to the storage device (`fsync`). */
  sync(): void;
  /** Closes the handle. */
  close(): void;
}

/** A lock file held by this process. */
export interface FileLock {
  /** Removes the lock file if it still names this process; never throws. */
  release(): void;
}

/** The answer of {@link Files.lock} when another live process holds the lock. */
export interface FileLockHeld {
  /** The process id written in the lock file. */
  readonly heldBy: number;
}

/**
 * File system access. Paths are the runtime's own (joined and resolved by {@link Files.resolve}). Failures throw the
 * runtime's error (with its `code`, such as `EACCES`), except where a method says otherwise.
 *
 * @example
 * const db = FileNodeDatabase.open(dir, { files: nodeFiles })
 * const key = loadNodeKey(path, { files: nodeFiles })
 */
export interface Files {
  /** `segments` joined and made absolute against the working directory, as `path.resolve`. */
  resolve(...segments: string[]): string;
  /** The whole file, or undefined when nothing exists at `path`. */
  readFile(path: string): Uint8Array | undefined;
  /**
   * Opens `path` for writing: `'create'` creates it (with `mode`, reduced by the umask) or empties an existing one;
   * `'update'` opens an existing file as it is.
   */
  open(path: string, how: 'create' | 'update', mode?: number): FileHandle;
  /** Renames `from` to `to`, atomically replacing `to`. */
  rename(from: string, to: string): void;
  /** Removes the file at `path`; nothing when there is none. */
  remove(path: string): void;
  /** Sets the permission bits of `path`. */
  chmod(path: string, mode: number): void;
  /** Creates the directory `path` and any missing parents with `mode` (`mkdir -p`); nothing when it exists. */
  mkdir(path: string, mode: number): void;
  /** Makes renames inside directory `path` durable where the runtime can (`fsync` of the directory); never throws. */
  syncDirectory(path: string): void;
  /**
   * Takes the lock file `path` for this process: creates it naming our process id, taking over one left by a
   * process that no longer runs. Answers {@link FileLockHeld} when a live process (another one) holds it.
   */
  lock(path: string): FileLock | FileLockHeld;
}
