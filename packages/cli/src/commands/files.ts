/**
 * The JSON files the tools share with geth's `devp2p`: nodes.json (a node set keyed by node id, written by
 * `discv4 crawl` and `dns sync`, read by `dns sign`), and how they are read and written.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Indent of the JSON files, as geth's `devp2p` writes them (`jsonIndent`, four spaces). */
export const JSON_INDENT = 4;

/** One entry of geth's nodes.json (`cmd/devp2p/nodeset.go` nodeJSON). */
export interface NodeJson {
  seq: number;
  record: string;
  score?: number;
  firstResponse?: string;
  lastResponse?: string;
  lastCheck?: string;
}

/** Orders strings by UTF-16 code units, as Go sorts the keys of a JSON object (ASCII keys here). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A plain object of `entries` in key order, the order geth's JSON encoder writes a map in.
 * @example JSON.stringify(sortedObject(set))
 */
export function sortedObject<T>(entries: Iterable<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => compareText(a, b)));
}

/**
 * Writes `value` as JSON indented like geth's files (no trailing newline, as geth), replacing `path` atomically
 * (written beside it, then renamed); `-` prints it to stdout instead.
 * @example writeJsonFile('nodes.json', sortedObject(set))
 */
export function writeJsonFile(path: string, value: unknown): void {
  const text = JSON.stringify(value, null, JSON_INDENT);
  if (path === '-') {
    console.log(text);
    return;
  }
  writeTextFile(path, text);
}

/** Replaces `path` with `text` atomically; an error names the file. */
export function writeTextFile(path: string, text: string): void {
  try {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  } catch (cause) {
    throw new Error(`${path}: cannot be written (${(cause as Error).message})`, { cause });
  }
}

/**
 * The parsed JSON of `path`, or `undefined` when the file does not exist; an error naming the file when it cannot
 * be read or is not JSON.
 * @example const parsed = readJsonFile('nodes.json')
 */
export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(`${path}: cannot be read (${(cause as Error).message})`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new Error(`${path}: not valid JSON (${(cause as Error).message})`, { cause });
  }
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
