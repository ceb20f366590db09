import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { after, describe, it } from 'node:test';
import { nodeFiles } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'transport-node-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('nodeFiles (node:fs on every runtime)', () => {
  it('writes at positions, truncates, reads back, renames and removes', () => {
    const path = nodeFiles.resolve(dir, 'a');
    assert.equal(nodeFiles.readFile(path), undefined, 'a missing file reads as undefined');
    const file = nodeFiles.open(path, 'create', 0o600);
    file.write(new Uint8Array([1, 2, 3]), 0);
    file.write(new Uint8Array([9]), 5);
    file.sync();
    file.close();
    assert.deepEqual(nodeFiles.readFile(path), new Uint8Array([1, 2, 3, 0, 0, 9]));
    assert.equal(statSync(path).mode & 0o077, 0, 'no access for group or others');
    const again = nodeFiles.open(path, 'update');
    again.truncate(2);
    again.close();
    nodeFiles.rename(path, join(dir, 'b'));
    assert.deepEqual(nodeFiles.readFile(join(dir, 'b')), new Uint8Array([1, 2]));
    nodeFiles.chmod(join(dir, 'b'), 0o640);
    assert.equal(statSync(join(dir, 'b')).mode & 0o777, 0o640);
    nodeFiles.remove(join(dir, 'b'));
    nodeFiles.remove(join(dir, 'b'));
    assert.ok(!existsSync(join(dir, 'b')));
    assert.throws(() => nodeFiles.open(join(dir, 'missing'), 'update'), { code: 'ENOENT' });
    nodeFiles.syncDirectory(dir);
    nodeFiles.syncDirectory(join(dir, 'missing'));
  });

  it('mkdir creates missing parents, and fails at once where a parent is a file', () => {
    nodeFiles.mkdir(join(dir, 'x', 'y', 'z'), 0o700);
    assert.ok(statSync(join(dir, 'x', 'y', 'z')).isDirectory());
    nodeFiles.mkdir(join(dir, 'x', 'y'), 0o700);
    writeFileSync(join(dir, 'file'), '');
    assert.throws(() => nodeFiles.mkdir(join(dir, 'file', 'sub'), 0o700), { code: 'ENOTDIR' });
  });

  it('lock: names our process, refuses a live holder, takes over a dead one, releases only its own', () => {
    const path = join(dir, 'LOCK');
    const lock = nodeFiles.lock(path);
    assert.ok('release' in lock);
    assert.equal(readFileSync(path, 'utf8'), String(process.pid));
    lock.release();
    assert.ok(!existsSync(path));
    // The parent process (the test runner) is alive.
    writeFileSync(path, String(process.ppid));
    assert.deepEqual(nodeFiles.lock(path), { heldBy: process.ppid });
    // No process has this id (above Linux's pid_max).
    writeFileSync(path, '2147483646');
    const taken = nodeFiles.lock(path);
    assert.ok('release' in taken);
    writeFileSync(path, String(process.ppid));
    taken.release();
    assert.equal(readFileSync(path, 'utf8'), String(process.ppid), 'a lock taken by another since is left alone');
  });
});
