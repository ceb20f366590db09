/**
 * The node key and the node database reach the file system only through the `Files` they are given: here an
 * in-memory one, so nothing is written to disk and every call is seen.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ensureDirectory,
  FileNodeDatabase,
  generateNodeKey,
  loadNodeKey,
  loadOrCreateNodeKey,
  NodeDatabaseError,
  NodeKeyError,
  saveNodeKey,
} from '../src/index.ts';
import { cheapNode, fakeClock, memoryFiles } from './helpers.ts';

describe('files adapter', () => {
  it('the node key is saved, loaded and created through the given files', () => {
    const files = memoryFiles();
    const key = generateNodeKey();
    saveNodeKey('/nowhere/nodekey', key, { files });
    assert.deepEqual([...files.data.keys()], ['/nowhere/nodekey']);
    assert.deepEqual(loadNodeKey('/nowhere/nodekey', { files }), key);
    assert.throws(() => loadNodeKey('/nowhere/other', { files }), NodeKeyError);
    const created = loadOrCreateNodeKey('/nowhere/other', { files });
    assert.deepEqual(loadOrCreateNodeKey('/nowhere/other', { files }), created);
    assert.ok(files.calls.includes('chmod /nowhere/nodekey.tmp'), 'the mode is set whatever the umask');
    assert.ok(!existsSync('/nowhere'), 'nothing reached the disk');
  });

  it('the node database journals, compacts, reopens and locks through the given files', () => {
    const files = memoryFiles();
    const options = { files, clock: fakeClock(), compactMinChanges: 4, flushMaxChanges: 1 };
    const db = FileNodeDatabase.open('nodes', options);
    assert.equal(db.directory, '/memory/nodes');
    assert.throws(
      () => FileNodeDatabase.open('nodes', { files: memoryFiles() }),
      (err: unknown) => err instanceof NodeDatabaseError && err.code === 'ERR_NODEDB_LOCKED',
      'open twice in this process',
    );
    for (let i = 0; i < 6; i++) db.updateNode(cheapNode(i));
    for (let i = 0; i < 5; i++) db.deleteNode(cheapNode(i).id);
    db.close();
    assert.ok(files.calls.includes('rename /memory/nodes/nodes.db.tmp /memory/nodes/nodes.db'), 'compacted');
    assert.ok(files.calls.includes('mkdir /memory/nodes'));
    const reopened = FileNodeDatabase.open('/memory/nodes', options);
    assert.equal(reopened.size, 1);
    assert.ok(reopened.node(cheapNode(5).id));
    reopened.close();
    // The lock file is taken through the files adapter: one held by another process is refused, naming it.
    const other = memoryFiles();
    other.lock('/memory/nodes/LOCK');
    assert.throws(
      () => FileNodeDatabase.open('nodes', { files: other }),
      (err: unknown) => err instanceof NodeDatabaseError && /in use by process 1\b/.test(err.message),
    );
    assert.ok(!existsSync('/memory'), 'nothing reached the disk');
  });

  it('ensureDirectory creates through the given files', () => {
    const files = memoryFiles();
    ensureDirectory('/memory/data', { files, mode: 0o750 });
    assert.deepEqual(files.calls, ['mkdir /memory/data']);
  });
});
