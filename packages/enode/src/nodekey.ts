/**
 * The node key file: the private key as 64 hex characters, as geth's `<datadir>/geth/nodekey` (so the files
 * are interchangeable), readable by the owner only. File access goes through a {@link Files} (`options.files`,
 * default `nodeFiles` on `node:fs`).
 */

import { bytesToHex, type Files, hexToBytes, utf8ToBytes } from '@devp2p/core';
import { generatePrivateKey, isValidPrivateKey } from '@devp2p/crypto';
import { defaultFiles } from './adapters/node-files.ts';
import { NodeKeyError } from './errors.ts';

/** Hex characters in a key file. */
const KEY_HEX_LENGTH = 64;
/** Line breaks tolerated after the key (geth accepts a trailing newline, CRLF included). */
const MAX_TRAILING_NEWLINES = 2;
/** Owner read/write only: the key is the node's identity. */
const KEY_FILE_MODE = 0o600;

/** Bytes per `String.fromCharCode` call when decoding a key file (its argument list must stay short). */
const LATIN1_CHUNK = 8192;

/**
 * Options of the node key file functions.
 * @example loadNodeKey(path, { files: nodeFiles })
 */
export interface NodeKeyFileOptions {
  /** File system (default `nodeFiles` from `@devp2p/transport-node`, on `node:fs`). */
  readonly files?: Files;
}

/** One character per byte (latin1), so a parse error can name any byte of a malformed file. */
function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += LATIN1_CHUNK) {
    text += String.fromCharCode(...bytes.subarray(i, i + LATIN1_CHUNK));
  }
  return text;
}

/** The key file's text, or undefined when it does not exist; a NodeKeyError when it cannot be read. */
function readKeyFile(path: string, files: Files): string | undefined {
  let bytes: Uint8Array | undefined;
  try {
    bytes = files.readFile(path);
  } catch (cause) {
    throw new NodeKeyError(path, `cannot be read (${(cause as Error).message})`, { cause });
  }
  return bytes && latin1(bytes);
}

/**
 * A new random node key (a secp256k1 private key).
 * @example const key = generateNodeKey()
 */
export function generateNodeKey(): Uint8Array {
  return generatePrivateKey();
}

/**
 * Parses key file contents: 64 hex characters, optionally followed by up to two line breaks. Throws a
 * {@link NodeKeyError} naming `path` and what is wrong.
 * @example parseNodeKey(text, 'nodekey')
 */
export function parseNodeKey(text: string, path = '<input>'): Uint8Array {
  let end = text.length;
  let newlines = 0;
  while (end > 0 && (text[end - 1] === '\n' || text[end - 1] === '\r')) {
    end--;
    newlines++;
  }
  const body = text.slice(0, end);
  if (newlines > MAX_TRAILING_NEWLINES || body.includes('\n') || body.includes('\r')) {
    throw new NodeKeyError(path, `too long, want ${KEY_HEX_LENGTH} hex characters`);
  }
  if (body.length < KEY_HEX_LENGTH) {
    throw new NodeKeyError(path, `too short, want ${KEY_HEX_LENGTH} hex characters, got ${body.length}`);
  }
  if (body.length > KEY_HEX_LENGTH) {
    throw new NodeKeyError(path, `too long, want ${KEY_HEX_LENGTH} hex characters, got ${body.length}`);
  }
  const bad = body.search(/[^0-9a-fA-F]/);
  if (bad !== -1) {
    throw new NodeKeyError(path, `invalid character ${JSON.stringify(body[bad])} at offset ${bad}, want hex`);
  }
  const key = hexToBytes(body);
  if (!isValidPrivateKey(key)) throw new NodeKeyError(path, 'not a valid secp256k1 private key (zero or too large)');
  return key;
}

/**
 * Reads a node key file. Throws a {@link NodeKeyError} when it is missing, unreadable or malformed.
 * @example const key = loadNodeKey(join(datadir, 'nodekey'))
 */
export function loadNodeKey(path: string, options: NodeKeyFileOptions = {}): Uint8Array {
  const text = readKeyFile(path, options.files ?? defaultFiles);
  if (text === undefined) throw new NodeKeyError(path, 'does not exist');
  return parseNodeKey(text, path);
}

/**
 * Writes `key` as 64 hex characters with mode 0600, replacing the file atomically (written beside it, then
 * renamed).
 * @example saveNodeKey(join(datadir, 'nodekey'), generateNodeKey())
 */
export function saveNodeKey(path: string, key: Uint8Array, options: NodeKeyFileOptions = {}): void {
  if (!isValidPrivateKey(key)) throw new TypeError('saveNodeKey: not a valid secp256k1 private key');
  const files = options.files ?? defaultFiles;
  const temp = `${path}.tmp`;
  try {
    const file = files.open(temp, 'create', KEY_FILE_MODE);
    try {
      file.write(utf8ToBytes(bytesToHex(key)), 0);
      file.sync();
    } finally {
      file.close();
    }
    // The mode given to open() is reduced by the umask, and a pre-existing temp file keeps its old mode.
    files.chmod(temp, KEY_FILE_MODE);
    files.rename(temp, path);
  } catch (cause) {
    files.remove(temp);
    throw new NodeKeyError(path, `cannot be written (${(cause as Error).message})`, { cause });
  }
}

/**
 * Loads the key at `path`, or generates and saves one when the file does not exist. A malformed file is an
 * error, never silently replaced: it would change the node's identity.
 * @example const key = loadOrCreateNodeKey(join(datadir, 'nodekey'))
 */
export function loadOrCreateNodeKey(path: string, options: NodeKeyFileOptions = {}): Uint8Array {
  const text = readKeyFile(path, options.files ?? defaultFiles);
  if (text !== undefined) return parseNodeKey(text, path);
  const key = generateNodeKey();
  saveNodeKey(path, key, options);
  return key;
}
