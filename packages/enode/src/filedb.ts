/**
 * The file-backed node database: one append-only journal of checksummed changes, replayed into memory on
 * open and compacted by writing a snapshot to a temporary file and renaming it over the journal. It needs no
 * server, and reaches the disk only through a {@link Files} (`options.files`, default `nodeFiles` on `node:fs`, on
 * Node, Bun and Deno): the format and its crash safety live here, the runtime's file system in an adapter.
 *
 * Journal layout (all integers big-endian):
 *   header  = magic "devp2pdb" (8) ‖ schema version u32 ‖ crc32(magic ‖ version) u32
 *   entry   = crc32(length ‖ payload) u32 ‖ length u32 ‖ payload
 *   payload = rlp([type, id, ...fields])
 * A crash can leave a torn entry only at the end; replay stops at the first entry that is short, fails its
 * checksum or does not decode, and truncates the file there. Everything before it is intact.
 */

import {
  bytesToNumber,
  concatBytes,
  crc32,
  type FileHandle,
  type FileLock,
  type Files,
  type RlpValue,
  rlpDecode,
  rlpEncode,
  utf8ToBytes,
} from '@devp2p/core';
import { defaultFiles } from './adapters/node-files.ts';
import { ensureDirectory } from './directory.ts';
import { ERR_NODEDB_FORMAT, ERR_NODEDB_LOCKED, ERR_NODEDB_VERSION, NodeDatabaseError } from './errors.ts';
import { formatIp, parseIp } from './ip.ts';
import { MemoryNodeDatabase, type NodeDatabase, type NodeDatabaseChange, type NodeDatabaseOptions } from './nodedb.ts';

/**
 * Journal format version this build writes and reads. A newer version is refused; an older one is discarded.
 * @example if (err.code === ERR_NODEDB_VERSION) console.error(`this build reads v${NODEDB_SCHEMA_VERSION}`)
 */
export const NODEDB_SCHEMA_VERSION = 1;
/**
 * Buffered changes are written at least this often: a crash loses at most about this much (ms).
 * @example FileNodeDatabase.open(dir, { flushInterval: NODEDB_FLUSH_INTERVAL_MS / 2 })
 */
export const NODEDB_FLUSH_INTERVAL_MS = 1000;
/**
 * ...or as soon as this many changes are buffered, so bursts (a full lookup) don't pile up in memory.
 * @example FileNodeDatabase.open(dir, { flushMaxChanges: NODEDB_FLUSH_MAX_CHANGES })
 */
export const NODEDB_FLUSH_MAX_CHANGES = 1024;
/**
 * The journal is compacted once it holds this many changes and twice as many as there are live facts.
 * @example FileNodeDatabase.open(dir, { compactMinChanges: NODEDB_COMPACT_MIN_CHANGES })
 */
export const NODEDB_COMPACT_MIN_CHANGES = 10_000;

/** File names inside the database directory. */
const JOURNAL_FILE = 'nodes.db';
const TEMP_FILE = 'nodes.db.tmp';
const LOCK_FILE = 'LOCK';

const MAGIC = utf8ToBytes('devp2pdb');
const HEADER_LENGTH = 16;
const ENTRY_HEADER_LENGTH = 8;
/** No change encodes to more than this (a record is at most 300 bytes); a longer length means corruption. */
const MAX_PAYLOAD_LENGTH = 1024;
/** Compaction writes the snapshot in chunks of about this size. */
const WRITE_CHUNK_BYTES = 1 << 20;

const CHANGE_TYPES = ['node', 'deleteNode', 'endpoint', 'deleteEndpoint', 'localSeq'] as const;

/** Directories open in this process, so a second open of the same one fails like one from another process. */
const openInProcess = new Set<string>();

/** Owner read/write only. */
const FILE_MODE = 0o600;

/**
 * Options for {@link FileNodeDatabase.open}; the defaults suit a running node, tests shrink them.
 * @example FileNodeDatabase.open(dir, { flushMaxChanges: 1 }) // write every change at once
 */
export interface FileNodeDatabaseOptions extends NodeDatabaseOptions {
  /** Flush period in ms (default {@link NODEDB_FLUSH_INTERVAL_MS}). */
  flushInterval?: number;
  /** Buffered changes that trigger a flush (default {@link NODEDB_FLUSH_MAX_CHANGES}). */
  flushMaxChanges?: number;
  /** Journal size (in changes) below which it is never compacted (default {@link NODEDB_COMPACT_MIN_CHANGES}). */
  compactMinChanges?: number;
  /** File system (default `nodeFiles` from `@devp2p/transport-node`, on `node:fs`). */
  files?: Files;
}

function u32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function putU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

function header(version: number): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH);
  out.set(MAGIC, 0);
  putU32(out, 8, version);
  putU32(out, 12, crc32(out.subarray(0, 12)));
  return out;
}

function ipBytes(ip: string): Uint8Array {
  const bytes = parseIp(ip);
  if (!bytes) throw new TypeError(`node database: invalid IP ${ip}`);
  return bytes;
}

function encodeChange(change: NodeDatabaseChange): Uint8Array {
  const type = CHANGE_TYPES.indexOf(change.type) + 1;
  let payload: Uint8Array;
  switch (change.type) {
    case 'node':
      payload = rlpEncode([type, change.id, change.record, change.time]);
      break;
    case 'deleteNode':
      payload = rlpEncode([type, change.id]);
      break;
    case 'endpoint':
      payload = rlpEncode([type, change.id, ipBytes(change.ip), change.lastPing, change.lastPong, change.findFails]);
      break;
    case 'deleteEndpoint':
      payload = rlpEncode([type, change.id, ipBytes(change.ip)]);
      break;
    case 'localSeq':
      payload = rlpEncode([type, change.id, change.seq]);
      break;
  }
  const entry = new Uint8Array(ENTRY_HEADER_LENGTH + payload.length);
  putU32(entry, 4, payload.length);
  entry.set(payload, ENTRY_HEADER_LENGTH);
  putU32(entry, 0, crc32(entry.subarray(4)));
  return entry;
}

/** A byte-string field, as a view into the journal buffer (copy what is kept). */
function bytesField(value: RlpValue | undefined, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array) || (length !== undefined && value.length !== length)) {
    throw new TypeError('malformed field');
  }
  return value;
}

function numberField(value: RlpValue | undefined): number {
  return bytesToNumber(bytesField(value));
}

function ipField(value: RlpValue | undefined): string {
  const bytes = bytesField(value);
  if (bytes.length !== 4 && bytes.length !== 16) throw new TypeError('malformed IP');
  return formatIp(bytes);
}

/** Decodes a payload; throws (anything) when it is not a change this version writes. */
function decodeChange(payload: Uint8Array): NodeDatabaseChange {
  const items = rlpDecode(payload);
  if (!Array.isArray(items)) throw new TypeError('not a list');
  const type = CHANGE_TYPES[numberField(items[0]) - 1];
  const id = bytesField(items[1], 32);
  switch (type) {
    case 'node':
      return { type, id, record: bytesField(items[2]).slice(), time: numberField(items[3]) };
    case 'deleteNode':
      return { type, id };
    case 'endpoint':
      return {
        type,
        id,
        ip: ipField(items[2]),
        lastPing: numberField(items[3]),
        lastPong: numberField(items[4]),
        findFails: numberField(items[5]),
      };
    case 'deleteEndpoint':
      return { type, id, ip: ipField(items[2]) };
    case 'localSeq': {
      const seq = bytesField(items[2]);
      if (seq.length > 8) throw new TypeError('seq exceeds 64 bits');
      let value = 0n;
      for (const b of seq) value = (value << 8n) | BigInt(b);
      return { type, id, seq: value };
    }
    default:
      throw new TypeError('unknown change type');
  }
}

/**
 * The default node database: a journal file in a directory, safe against `kill -9` at any moment (at worst
 * the last second of changes is lost), refusing files from a newer schema, and holding the working set in
 * memory so reads and {@link MemoryNodeDatabase.seeds} never touch the disk. One process at a time: a `LOCK`
 * file names the owner, and a lock left by a dead process is taken over.
 *
 * @example
 * const db = FileNodeDatabase.open(join(datadir, 'nodes'))
 * db.updateNode(node)
 * db.close() // flushes
 */
export class FileNodeDatabase extends MemoryNodeDatabase {
  /** The database directory (absolute). */
  readonly directory: string;
  readonly #files: Files;
  readonly #lock: FileLock;
  readonly #journalPath: string;
  readonly #flushMaxChanges: number;
  readonly #compactMinChanges: number;
  #journal: FileHandle;
  #fileSize: number;
  #journalChanges = 0;
  #pending: Uint8Array[] = [];
  readonly #stopFlushing: () => void;

  private constructor(directory: string, files: Files, lock: FileLock, options: FileNodeDatabaseOptions) {
    super(options);
    this.directory = directory;
    this.#files = files;
    this.#lock = lock;
    this.#journalPath = files.resolve(directory, JOURNAL_FILE);
    this.#flushMaxChanges = options.flushMaxChanges ?? NODEDB_FLUSH_MAX_CHANGES;
    this.#compactMinChanges = options.compactMinChanges ?? NODEDB_COMPACT_MIN_CHANGES;
    this.#fileSize = this.#load();
    this.#journal = files.open(this.#journalPath, 'update');
    try {
      if (this.#shouldCompact()) this.compact();
    } catch (err) {
      this.#journal.close();
      throw err;
    }
    this.#stopFlushing = this.repeat(options.flushInterval ?? NODEDB_FLUSH_INTERVAL_MS, () => {
      try {
        this.flush();
      } catch (err) {
        this.logger.error('node database flush failed; will retry', { reason: (err as Error).message });
      }
    });
  }

  /**
   * Opens (creating if needed) the database in `directory`. Throws a {@link NodeDatabaseError}:
   * `ERR_NODEDB_VERSION` for a journal from a newer schema, `ERR_NODEDB_FORMAT` for a file that is not a node
   * database, `ERR_NODEDB_LOCKED` when a live process (or this one) has it open.
   * @example const db = FileNodeDatabase.open('/var/lib/devp2p/nodes')
   */
  static open(directory: string, options: FileNodeDatabaseOptions = {}): FileNodeDatabase {
    if (typeof directory !== 'string' || directory === '') throw new TypeError('node database: expected a directory');
    const files = options.files ?? defaultFiles;
    const dir = files.resolve(directory);
    ensureDirectory(dir, { files });
    const lock = acquireLock(files, dir);
    try {
      return new FileNodeDatabase(dir, files, lock, options);
    } catch (err) {
      releaseLock(lock, dir);
      throw err;
    }
  }

  /** Reads and replays the journal (creating or resetting it as needed); returns its valid length. */
  #load(): number {
    this.#files.remove(this.#files.resolve(this.directory, TEMP_FILE));
    const data = this.#files.readFile(this.#journalPath);
    if (!data) return this.#createEmpty();
    if (data.length < HEADER_LENGTH) {
      // A journal is created by rename, so a short one was not written by us: unless it is empty or a prefix of
      // our magic, leave it alone.
      const ours = data.every((b, i) => i >= MAGIC.length || b === MAGIC[i]);
      if (!ours) throw this.#notOurs('file is too short and does not start with the database magic');
      return this.#createEmpty();
    }
    if (!MAGIC.every((b, i) => data[i] === b)) throw this.#notOurs('bad magic');
    if (crc32(data.subarray(0, 12)) !== u32(data, 12)) throw this.#notOurs('header checksum mismatch');
    const version = u32(data, 8);
    if (version > NODEDB_SCHEMA_VERSION) {
      throw new NodeDatabaseError(
        ERR_NODEDB_VERSION,
        `node database ${this.#journalPath} was written by schema version ${version}, newer than the version ${NODEDB_SCHEMA_VERSION} this build reads; upgrade, or remove ${this.directory} to start over`,
      );
    }
    if (version < NODEDB_SCHEMA_VERSION) {
      // As geth does on a version change: the node set is a cache, so an old one is dropped, not migrated.
      this.logger.info('discarding node database from an older schema', { version, path: this.#journalPath });
      return this.#createEmpty();
    }
    return this.#replay(data);
  }

  #notOurs(reason: string): NodeDatabaseError {
    return new NodeDatabaseError(
      ERR_NODEDB_FORMAT,
      `${this.#journalPath} is not a devp2p node database (${reason}); refusing to overwrite it`,
    );
  }

  #createEmpty(): number {
    const temp = this.#files.resolve(this.directory, TEMP_FILE);
    const file = this.#files.open(temp, 'create', FILE_MODE);
    try {
      file.write(header(NODEDB_SCHEMA_VERSION), 0);
    } finally {
      file.close();
    }
    this.#files.rename(temp, this.#journalPath);
    this.#files.syncDirectory(this.directory);
    return HEADER_LENGTH;
  }

  #replay(data: Uint8Array): number {
    let offset = HEADER_LENGTH;
    let reason: string | undefined;
    while (offset < data.length) {
      if (data.length - offset < ENTRY_HEADER_LENGTH) {
        reason = 'torn entry header';
        break;
      }
      const length = u32(data, offset + 4);
      const end = offset + ENTRY_HEADER_LENGTH + length;
      if (length === 0 || length > MAX_PAYLOAD_LENGTH) {
        reason = `implausible entry length ${length}`;
        break;
      }
      if (end > data.length) {
        reason = 'torn entry';
        break;
      }
      if (crc32(data.subarray(offset + 4, end)) !== u32(data, offset)) {
        reason = 'checksum mismatch';
        break;
      }
      let change: NodeDatabaseChange;
      try {
        change = decodeChange(data.subarray(offset + ENTRY_HEADER_LENGTH, end));
      } catch (err) {
        reason = `undecodable entry (${(err as Error).message})`;
        break;
      }
      this.apply(change);
      this.#journalChanges++;
      offset = end;
    }
    if (offset < data.length) {
      this.logger.warn('node database journal ends in a damaged entry; truncating', {
        path: this.#journalPath,
        reason,
        kept: offset,
        dropped: data.length - offset,
      });
      const file = this.#files.open(this.#journalPath, 'update');
      try {
        file.truncate(offset);
        file.sync();
      } finally {
        file.close();
      }
    }
    return offset;
  }

  /** Buffers the change for the next flush. */
  protected override persist(change: NodeDatabaseChange): void {
    this.#pending.push(encodeChange(change));
    if (this.#pending.length >= this.#flushMaxChanges) this.flush();
  }

  /**
   * Changes waiting for the next flush.
   * @example if (db.pendingChanges > 0) db.flush()
   */
  get pendingChanges(): number {
    return this.#pending.length;
  }

  /**
   * Appends buffered changes to the journal (one write), then compacts it if it has grown to more than twice
   * the live data. Runs by itself every second and when {@link NODEDB_FLUSH_MAX_CHANGES} are buffered.
   * @example db.flush()
   */
  override flush(): void {
    if (this.#pending.length === 0 || this.closed) return;
    const batch = this.#pending.length === 1 ? this.#pending[0]! : concatBytes(...this.#pending);
    this.#journal.write(batch, this.#fileSize);
    this.#fileSize += batch.length;
    this.#journalChanges += this.#pending.length;
    this.#pending = [];
    if (this.#shouldCompact()) this.compact();
  }

  #shouldCompact(): boolean {
    return this.#journalChanges >= this.#compactMinChanges && this.#journalChanges > 2 * this.liveFacts;
  }

  /**
   * Rewrites the journal as a snapshot of the live data: written to a temporary file, synced, then renamed
   * over the journal, so a crash at any point leaves either the old journal or the new one.
   * @example db.compact()
   */
  compact(): void {
    const temp = this.#files.resolve(this.directory, TEMP_FILE);
    const file = this.#files.open(temp, 'create', FILE_MODE);
    let size = 0;
    let kept = 0;
    try {
      let chunk: Uint8Array[] = [header(NODEDB_SCHEMA_VERSION)];
      let chunkBytes = HEADER_LENGTH;
      const writeChunk = () => {
        const bytes = concatBytes(...chunk);
        file.write(bytes, size);
        size += bytes.length;
        chunk = [];
        chunkBytes = 0;
      };
      for (const change of this.snapshot()) {
        const entry = encodeChange(change);
        kept++;
        chunk.push(entry);
        chunkBytes += entry.length;
        if (chunkBytes >= WRITE_CHUNK_BYTES) writeChunk();
      }
      writeChunk();
      file.sync();
    } finally {
      file.close();
    }
    this.#files.rename(temp, this.#journalPath);
    this.#files.syncDirectory(this.directory);
    this.#journal.close();
    this.#journal = this.#files.open(this.#journalPath, 'update');
    this.logger.debug('compacted node database', { changes: this.#journalChanges, kept });
    this.#fileSize = size;
    this.#journalChanges = kept;
    this.#pending = [];
  }

  /**
   * Flushes, syncs and closes the journal and releases the directory lock. Idempotent.
   * @example db.close()
   */
  override close(): void {
    if (this.closed) return;
    try {
      super.close();
    } finally {
      this.#stopFlushing();
      try {
        this.#journal.sync();
      } finally {
        this.#journal.close();
        releaseLock(this.#lock, this.directory);
      }
    }
  }
}

/** Locks `directory` against other processes (its `LOCK` file) and against a second open in this one. */
function acquireLock(files: Files, directory: string): FileLock {
  if (openInProcess.has(directory)) {
    throw new NodeDatabaseError(ERR_NODEDB_LOCKED, `node database ${directory} is already open in this process`);
  }
  const lockPath = files.resolve(directory, LOCK_FILE);
  const lock = files.lock(lockPath);
  if ('heldBy' in lock) {
    throw new NodeDatabaseError(
      ERR_NODEDB_LOCKED,
      `node database ${directory} is in use by process ${lock.heldBy} (remove ${lockPath} if that is wrong)`,
    );
  }
  openInProcess.add(directory);
  return lock;
}

function releaseLock(lock: FileLock, directory: string): void {
  openInProcess.delete(directory);
  lock.release();
}

/**
 * Opens the node database for a data directory: file-backed in `directory` when given, in memory otherwise
 * (as geth does without `--datadir`).
 * @example const db = openNodeDatabase(options.datadir && join(options.datadir, 'nodes'))
 */
export function openNodeDatabase(directory?: string, options: FileNodeDatabaseOptions = {}): NodeDatabase {
  return directory ? FileNodeDatabase.open(directory, options) : new MemoryNodeDatabase(options);
}
