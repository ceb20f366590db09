import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generatePrivateKey } from '@devp2p/crypto';
import {
  Enr,
  FileNodeDatabase,
  MemoryNodeDatabase,
  NODEDB_CLEANUP_CYCLE_MS,
  NODEDB_FLUSH_INTERVAL_MS,
  NODEDB_NODE_EXPIRATION_MS,
  NODEDB_SCHEMA_VERSION,
  Node,
  type NodeDatabase,
  NodeDatabaseError,
  openNodeDatabase,
} from '../src/index.ts';
import { cheapNode, fakeClock, idFor, tempDir } from './helpers.ts';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const temp = tempDir();
after(temp.cleanup);
let dirCount = 0;
const freshDir = () => join(temp.dir, `db${dirCount++}`);

/** The same behavioural tests run against both implementations. */
const implementations: [string, (now: () => number) => NodeDatabase][] = [
  ['memory', (now) => new MemoryNodeDatabase({ clock: fakeClock(now) })],
  ['file', (now) => FileNodeDatabase.open(freshDir(), { clock: fakeClock(now) })],
];

for (const [name, open] of implementations) {
  describe(`node database (${name})`, () => {
    it('stores records, keeps the newest seq, and resolves', () => {
      const db = open(() => 1000);
      try {
        const v2 = cheapNode(1, 2n);
        assert.equal(db.node(v2.id), undefined);
        assert.equal(db.nodeSeq(v2.id), 0n);
        assert.ok(db.updateNode(v2));
        assert.equal(db.size, 1);
        assert.equal(db.nodeSeq(v2.id), 2n);
        assert.equal(db.node(v2.id)!.record.toText(), v2.record.toText());
        assert.equal(db.node(v2.id)!.ip, v2.ip);
        const v1 = cheapNode(1, 1n);
        assert.equal(db.updateNode(v1), false, 'a lower seq is ignored');
        assert.equal(db.nodeSeq(v2.id), 2n);
        assert.equal(db.resolve(v1).seq, 2n);
        const v3 = cheapNode(1, 3n);
        assert.equal(db.resolve(v3), v3);
        assert.ok(db.updateNode(v3));
        assert.equal(db.nodeSeq(v3.id), 3n);
        db.deleteNode(v3.id);
        assert.equal(db.node(v3.id), undefined);
        assert.equal(db.size, 0);
      } finally {
        db.close();
      }
    });

    it('keeps ping, pong and find-node failures per node and endpoint', () => {
      const db = open(() => 1000);
      try {
        const id = idFor(7);
        assert.equal(db.lastPingReceived(id, '10.0.0.1'), 0);
        db.updateLastPingReceived(id, '10.0.0.1', 111);
        db.updateLastPongReceived(id, '10.0.0.1', 222);
        db.updateFindFails(id, '10.0.0.1', 3);
        db.updateLastPongReceived(id, '2001:DB8::1', 333);
        assert.equal(db.lastPingReceived(id, '10.0.0.1'), 111);
        assert.equal(db.lastPongReceived(id, '10.0.0.1'), 222);
        assert.equal(db.findFails(id, '10.0.0.1'), 3);
        assert.equal(db.lastPongReceived(id, '2001:db8::1'), 333, 'IPv6 keys are canonical');
        assert.equal(db.lastPingReceived(id, '2001:db8::1'), 0);
        assert.equal(db.findFails(idFor(8), '10.0.0.1'), 0);
        assert.equal(db.lastPongReceived(id, 'not an ip'), 0);
        assert.throws(() => db.updateLastPongReceived(id, 'not an ip', 1), TypeError);
        assert.throws(() => db.updateFindFails(id, '10.0.0.1', -1), RangeError);
        assert.equal(db.size, 0, 'endpoint data alone is not a node');
      } finally {
        db.close();
      }
    });

    it('stores the local sequence number', () => {
      const db = open(() => 1000);
      try {
        assert.equal(db.localSeq(idFor(1)), undefined);
        db.storeLocalSeq(idFor(1), 1234567890123n);
        assert.equal(db.localSeq(idFor(1)), 1234567890123n);
      } finally {
        db.close();
      }
    });

    it('returns random seeds with a recent pong at their endpoint', () => {
      const now = 100 * DAY;
      const db = open(() => now);
      try {
        for (let i = 0; i < 200; i++) {
          const node = cheapNode(i);
          db.updateNode(node);
          // Even nodes ponged an hour ago; odd ones 10 days ago; node 0 ponged on another IP only.
          const ip = i === 0 ? '192.0.2.1' : node.ip!;
          db.updateLastPongReceived(node.id, ip, now - (i % 2 === 0 ? HOUR : 10 * DAY));
        }
        const seeds = db.seeds(30, 2 * DAY);
        assert.equal(seeds.length, 30);
        assert.equal(new Set(seeds.map((n) => n.id.hex)).size, 30, 'distinct');
        for (const seed of seeds) {
          assert.ok(now - db.lastPongReceived(seed.id, seed.ip!) <= 2 * DAY, 'meets the age criterion');
          assert.notEqual(seed.id.hex, idFor(0).hex);
        }
        // Asking for more than qualify returns all that qualify (99 even nodes besides node 0), once each.
        const all = db.seeds(1000, 2 * DAY);
        assert.equal(all.length, 99);
        assert.equal(new Set(all.map((n) => n.id.hex)).size, 99);
        assert.equal(db.seeds(10, 20 * DAY).length, 10);
        assert.equal(db.seeds(0, DAY).length, 0);
        // Different calls give different samples.
        const samples = new Set(
          Array.from({ length: 5 }, () =>
            db
              .seeds(5, 2 * DAY)
              .map((n) => n.id.hex)
              .join(),
          ),
        );
        assert.ok(samples.size > 1);
      } finally {
        db.close();
      }
    });

    it('expires endpoints and nodes without a pong for 24 hours', () => {
      let now = 10 * DAY;
      const db = open(() => now);
      try {
        const fresh = cheapNode(1);
        const stale = cheapNode(2);
        const mixed = cheapNode(3);
        const unponged = cheapNode(4);
        for (const n of [fresh, stale, mixed, unponged]) db.updateNode(n);
        db.updateLastPongReceived(fresh.id, fresh.ip!, now - HOUR);
        db.updateLastPongReceived(stale.id, stale.ip!, now - 25 * HOUR);
        db.updateLastPongReceived(mixed.id, mixed.ip!, now - HOUR);
        db.updateLastPongReceived(mixed.id, '192.0.2.9', now - 30 * HOUR);
        db.updateLastPingReceived(mixed.id, '192.0.2.9', now - 30 * HOUR);
        assert.equal(db.expireNodes(), 1);
        assert.equal(db.node(stale.id), undefined);
        assert.ok(db.node(fresh.id));
        assert.ok(db.node(mixed.id));
        assert.equal(db.lastPongReceived(mixed.id, '192.0.2.9'), 0, 'the stale endpoint is gone');
        assert.equal(db.lastPingReceived(mixed.id, '192.0.2.9'), 0);
        assert.ok(db.node(unponged.id), 'a node stored an hour ago is kept until it had 24 hours to answer');
        now += NODEDB_NODE_EXPIRATION_MS + 1;
        assert.equal(db.expireNodes(), 3);
        assert.equal(db.size, 0);
      } finally {
        db.close();
      }
    });

    it('runs expiry hourly once pongs are asked for, as geth', () => {
      let now = 10 * DAY;
      const timers = fakeClock(() => now);
      const db: NodeDatabase =
        name === 'memory'
          ? new MemoryNodeDatabase({ clock: timers })
          : FileNodeDatabase.open(freshDir(), { clock: timers });
      try {
        const node = cheapNode(1);
        db.updateNode(node);
        db.updateLastPongReceived(node.id, node.ip!, now);
        assert.ok(!timers.active().includes(NODEDB_CLEANUP_CYCLE_MS), 'not before discovery runs');
        db.lastPongReceived(node.id, node.ip!);
        assert.ok(timers.active().includes(NODEDB_CLEANUP_CYCLE_MS));
        now += 2 * DAY;
        timers.fire(NODEDB_CLEANUP_CYCLE_MS);
        assert.equal(db.size, 0);
      } finally {
        db.close();
      }
      assert.ok(!timers.active().includes(NODEDB_CLEANUP_CYCLE_MS), 'close stops it');
    });

    it('refuses writes after close', () => {
      const db = open(() => 1);
      db.close();
      db.close();
      assert.throws(
        () => db.updateNode(cheapNode(1)),
        (err: unknown) => err instanceof NodeDatabaseError && err.code === 'ERR_NODEDB_CLOSED',
      );
    });
  });
}

describe('node database (file): persistence', () => {
  it('keeps everything across close and reopen', () => {
    const dir = freshDir();
    const key = generatePrivateKey();
    const signed = Node.fromRecord(Enr.create({ ip: '10.9.9.9', tcp: 1, udp: 2, zz: [1, [2]] }, 5n).sign(key));
    let db = FileNodeDatabase.open(dir, { clock: fakeClock() });
    db.updateNode(signed);
    db.updateNode(cheapNode(1));
    db.updateLastPongReceived(signed.id, '10.9.9.9', 12345);
    db.updateFindFails(signed.id, '10.9.9.9', 2);
    db.storeLocalSeq(idFor(99), 77n);
    db.deleteNode(cheapNode(1).id);
    db.close();
    db = FileNodeDatabase.open(dir, { clock: fakeClock() });
    try {
      assert.equal(db.size, 1);
      const back = db.node(signed.id)!;
      assert.deepEqual(back.record.encode(), signed.record.encode());
      assert.ok(back.record.verify());
      assert.equal(back.toString(), signed.toString());
      assert.equal(db.lastPongReceived(signed.id, '10.9.9.9'), 12345);
      assert.equal(db.findFails(signed.id, '10.9.9.9'), 2);
      assert.equal(db.localSeq(idFor(99)), 77n);
      assert.equal(db.node(cheapNode(1).id), undefined);
    } finally {
      db.close();
    }
  });

  it('batches writes: nothing hits the file until a flush, the timer or the batch limit', () => {
    const dir = freshDir();
    const timers = fakeClock();
    const db = FileNodeDatabase.open(dir, { clock: timers, flushMaxChanges: 50 });
    const journal = join(dir, 'nodes.db');
    const empty = statSync(journal).size;
    db.updateNode(cheapNode(1));
    assert.equal(statSync(journal).size, empty);
    assert.equal(db.pendingChanges, 1);
    timers.fire(NODEDB_FLUSH_INTERVAL_MS);
    assert.ok(statSync(journal).size > empty);
    assert.equal(db.pendingChanges, 0);
    for (let i = 0; i < 49; i++) db.updateNode(cheapNode(100 + i));
    assert.equal(db.pendingChanges, 49);
    db.updateNode(cheapNode(200));
    assert.equal(db.pendingChanges, 0, 'the 50th change flushes');
    db.close();
  });

  it('compacts a journal dominated by overwritten facts', () => {
    const dir = freshDir();
    const db = FileNodeDatabase.open(dir, { clock: fakeClock(), compactMinChanges: 100, flushMaxChanges: 10 });
    const node = cheapNode(1);
    db.updateNode(node);
    for (let t = 1; t <= 1000; t++) db.updateLastPongReceived(node.id, node.ip!, t);
    db.flush();
    const size = statSync(join(dir, 'nodes.db')).size;
    assert.ok(size < 100 * 40, `journal stays small (${size} bytes)`);
    db.close();
    const again = FileNodeDatabase.open(dir, { clock: fakeClock() });
    assert.equal(again.lastPongReceived(node.id, node.ip!), 1000);
    assert.ok(again.node(node.id));
    again.close();
  });

  it('truncates a torn or corrupt tail and keeps everything before it', () => {
    const dir = freshDir();
    const db = FileNodeDatabase.open(dir, { clock: fakeClock() });
    for (let i = 0; i < 10; i++) db.updateNode(cheapNode(i));
    db.close();
    const journal = join(dir, 'nodes.db');
    const good = statSync(journal).size;
    // A torn entry: a plausible header and half a payload.
    appendFileSync(journal, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 40, 1, 2, 3));
    let reopened = FileNodeDatabase.open(dir, { clock: fakeClock() });
    assert.equal(reopened.size, 10);
    reopened.close();
    assert.equal(statSync(journal).size, good, 'the torn tail is cut off');
    // A flipped byte inside the last entry: its checksum fails and only it is dropped.
    const bytes = new Uint8Array(readFileSync(journal));
    bytes[bytes.length - 3]! ^= 0x55;
    writeFileSync(journal, bytes);
    reopened = FileNodeDatabase.open(dir, { clock: fakeClock() });
    assert.equal(reopened.size, 9);
    reopened.updateNode(cheapNode(9));
    reopened.close();
    reopened = FileNodeDatabase.open(dir, { clock: fakeClock() });
    assert.equal(reopened.size, 10, 'writes after a truncation land on a clean journal');
    reopened.close();
  });

  it('refuses a database written by a newer schema, and files that are not one', () => {
    const dir = freshDir();
    FileNodeDatabase.open(dir, { clock: fakeClock() }).close();
    const journal = join(dir, 'nodes.db');
    const bytes = new Uint8Array(readFileSync(journal));
    // Version NODEDB_SCHEMA_VERSION + 1 with a matching header checksum.
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, NODEDB_SCHEMA_VERSION + 1);
    new DataView(newer.buffer).setUint32(12, crc32(newer.subarray(0, 12)));
    writeFileSync(journal, newer);
    assert.throws(
      () => FileNodeDatabase.open(dir),
      (err: unknown) =>
        err instanceof NodeDatabaseError &&
        err.code === 'ERR_NODEDB_VERSION' &&
        err.message.includes(`schema version ${NODEDB_SCHEMA_VERSION + 1}`) &&
        err.message.includes('newer'),
    );
    assert.deepEqual(new Uint8Array(readFileSync(journal)), newer, 'the newer file is left untouched');
    assert.ok(!existsSync(join(dir, 'LOCK')), 'a failed open releases the lock');
    writeFileSync(journal, 'PK\u0003\u0004 not a node database at all');
    assert.throws(
      () => FileNodeDatabase.open(dir),
      (err: unknown) => err instanceof NodeDatabaseError && err.code === 'ERR_NODEDB_FORMAT',
    );
  });

  it('discards a database from an older schema (the node set is a cache, as in geth)', () => {
    const dir = freshDir();
    const db = FileNodeDatabase.open(dir, { clock: fakeClock() });
    db.updateNode(cheapNode(1));
    db.close();
    const journal = join(dir, 'nodes.db');
    const bytes = new Uint8Array(readFileSync(journal));
    new DataView(bytes.buffer).setUint32(8, 0);
    new DataView(bytes.buffer).setUint32(12, crc32(bytes.subarray(0, 12)));
    writeFileSync(journal, bytes);
    const reopened = FileNodeDatabase.open(dir, { clock: fakeClock() });
    assert.equal(reopened.size, 0);
    reopened.updateNode(cheapNode(2));
    reopened.close();
    const again = FileNodeDatabase.open(dir, { clock: fakeClock() });
    assert.equal(again.size, 1);
    again.close();
  });

  it('locks the directory against a second open', () => {
    const dir = freshDir();
    const db = FileNodeDatabase.open(dir, { clock: fakeClock() });
    assert.throws(
      () => FileNodeDatabase.open(dir),
      (err: unknown) => err instanceof NodeDatabaseError && err.code === 'ERR_NODEDB_LOCKED',
    );
    db.close();
    // A lock left by a process that no longer exists is taken over.
    writeFileSync(join(dir, 'LOCK'), '2147483646');
    FileNodeDatabase.open(dir, { clock: fakeClock() }).close();
  });

  it('opens in memory without a directory', () => {
    const db = openNodeDatabase(undefined);
    assert.ok(db instanceof MemoryNodeDatabase && !(db instanceof FileNodeDatabase));
    db.close();
    const file = openNodeDatabase(freshDir(), { clock: fakeClock() });
    assert.ok(file instanceof FileNodeDatabase);
    file.close();
  });

  it('holds 100,000 nodes across a reopen, and seeds() picks among them', () => {
    const COUNT = 100_000;
    const dir = freshDir();
    const now = 50 * DAY;
    let db = FileNodeDatabase.open(dir, { clock: fakeClock(() => now) });
    for (let i = 0; i < COUNT; i++) {
      const node = cheapNode(i);
      db.updateNode(node);
      // A third of the nodes ponged recently, the rest long ago.
      db.updateLastPongReceived(node.id, node.ip!, i % 3 === 0 ? now - HOUR : now - 20 * DAY);
    }
    db.close();
    db = FileNodeDatabase.open(dir, { clock: fakeClock(() => now) });
    try {
      assert.equal(db.size, COUNT);
      for (const i of [0, 1, 4242, 77_777, COUNT - 1]) {
        const node = db.node(cheapNode(i).id)!;
        assert.equal(node.ip, cheapNode(i).ip, `node ${i}`);
      }
      const seeds = db.seeds(50, DAY);
      assert.equal(seeds.length, 50);
      assert.equal(new Set(seeds.map((n) => n.id.hex)).size, 50);
      for (const seed of seeds) assert.ok(now - db.lastPongReceived(seed.id, seed.ip!) <= DAY);
    } finally {
      db.close();
    }
  });
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
