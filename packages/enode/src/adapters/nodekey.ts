/**
 * The node key file: the private key as 64 hex characters, as geth's `<datadir>/geth/nodekey` (so the files
 * are interchangeable), readable by the owner only.
 */

import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@devp2p/core';
import { generatePrivateKey, isValidPrivateKey } from '@devp2p/crypto';
import { NodeKeyError } from '../errors.ts';

/** Hex characters in a key file. */
const KEY_HEX_LENGTH = 64;
/** Line breaks tolerated after the key (geth accepts a trailing newline, CRLF included). */
const MAX_TRAILING_NEWLINES = 2;
/** Owner read/write only: the key is the node's identity. */
const KEY_FILE_MODE = 0o600;

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
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
export function loadNodeKey(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (cause) {
    const reason = errorCode(cause) === 'ENOENT' ? 'does not exist' : `cannot be read (${(cause as Error).message})`;
    throw new NodeKeyError(path, reason, { cause });
  }
  return parseNodeKey(text, path);
}

/**
 * Writes `key` as 64 hex characters with mode 0600, replacing the file atomically (written beside it, then
 * renamed).
 * @example saveNodeKey(join(datadir, 'nodekey'), generateNodeKey())
 */
export function saveNodeKey(path: string, key: Uint8Array): void {
  if (!isValidPrivateKey(key)) throw new TypeError('saveNodeKey: not a valid secp256k1 private key');
  const temp = `${path}.tmp`;
  try {
    const fd = openSync(temp, 'w', KEY_FILE_MODE);
    try {
      const bytes = new TextEncoder().encode(bytesToHex(key));
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The mode given to open() is reduced by the umask, and a pre-existing temp file keeps its old mode.
    chmodSync(temp, KEY_FILE_MODE);
    renameSync(temp, path);
  } catch (cause) {
    rmSync(temp, { force: true });
    throw new NodeKeyError(path, `cannot be written (${(cause as Error).message})`, { cause });
  }
}

/**
 * Loads the key at `path`, or generates and saves one when the file does not exist. A malformed file is an
 * error, never silently replaced: it would change the node's identity.
 * @example const key = loadOrCreateNodeKey(join(datadir, 'nodekey'))
 */
export function loadOrCreateNodeKey(path: string): Uint8Array {
  try {
    return loadNodeKey(path);
  } catch (err) {
    if (!(err instanceof NodeKeyError) || errorCode(err.cause) !== 'ENOENT') throw err;
  }
  const key = generateNodeKey();
  saveNodeKey(path, key);
  return key;
}
