import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bytesToHex } from '@devp2p/core';
import { isValidPrivateKey } from '@devp2p/crypto';
import { generateNodeKey, loadNodeKey, loadOrCreateNodeKey, NodeKeyError, saveNodeKey } from '../src/index.ts';
import { tempDir } from './helpers.ts';

const temp = tempDir();
after(temp.cleanup);

function assertKeyError(fn: () => unknown, includes: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NodeKeyError, String(err));
    assert.equal(err.code, 'ERR_NODEKEY');
    assert.ok(err.message.includes(includes), `"${err.message}" should include "${includes}"`);
    return true;
  });
}

describe('node key file', () => {
  it('saves 64 hex characters with mode 0600 and loads them back', () => {
    const path = join(temp.dir, 'nodekey');
    const key = generateNodeKey();
    assert.ok(isValidPrivateKey(key));
    saveNodeKey(path, key);
    assert.equal(readFileSync(path, 'utf8'), bytesToHex(key), "geth's format: hex, no newline");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadNodeKey(path), key);
    // Overwriting keeps the mode (and leaves no temporary file).
    saveNodeKey(path, generateNodeKey());
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(!existsSync(`${path}.tmp`));
  });

  it('accepts a trailing newline, as geth does', () => {
    const path = join(temp.dir, 'newline');
    const key = generateNodeKey();
    writeFileSync(path, `${bytesToHex(key)}\r\n`);
    assert.deepEqual(loadNodeKey(path), key);
  });

  it('rejects a malformed key file with a clear message', () => {
    const path = join(temp.dir, 'bad');
    const good = bytesToHex(generateNodeKey());
    const cases: [string, string][] = [
      ['', 'too short, want 64 hex characters, got 0'],
      [good.slice(0, 63), 'too short'],
      [`${good}00`, 'too long'],
      [`${good}\n\n\n`, 'too long'],
      [`0x${good.slice(2)}`, 'invalid character "x" at offset 1'],
      [`${good.slice(0, 60)} abc`, 'invalid character " "'],
      ['00'.repeat(32), 'not a valid secp256k1 private key'],
      ['ff'.repeat(32), 'not a valid secp256k1 private key'],
    ];
    for (const [content, message] of cases) {
      writeFileSync(path, content);
      assertKeyError(() => loadNodeKey(path), message);
      assertKeyError(() => loadNodeKey(path), path);
    }
    assertKeyError(() => loadNodeKey(join(temp.dir, 'missing')), 'does not exist');
  });

  it('creates a key when none exists, and never replaces a malformed one', () => {
    const path = join(temp.dir, 'created');
    const key = loadOrCreateNodeKey(path);
    assert.deepEqual(loadOrCreateNodeKey(path), key);
    writeFileSync(path, 'garbage');
    assertKeyError(() => loadOrCreateNodeKey(path), 'too short');
    assert.equal(readFileSync(path, 'utf8'), 'garbage');
    assert.throws(() => saveNodeKey(path, new Uint8Array(32)), TypeError);
  });
});
