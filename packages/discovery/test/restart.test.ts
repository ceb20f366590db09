import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generatePrivateKey } from '@devp2p/crypto';
import { FileNodeDatabase, Node } from '@devp2p/enode';
import { until } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { Discv4, SEED_COUNT, SEED_MAX_AGE_MS } from '../src/index.ts';
import { Harness, nowSeconds } from './helpers.ts';

const HOST = '127.0.0.1';

/**
 * A bootnode and `count` nodes that joined through it, on `host`. The bootnode finishes its first refresh before
 * anyone joins: until then a table takes in no inbound nodes (geth's `isInitDone`).
 */
async function network(count: number, host = HOST): Promise<Discv4[]> {
  // No random lookups: on an empty table each would wait out EMPTY_TABLE_SLOWDOWN_MS.
  const boot = await Discv4.start({
    privateKey: generatePrivateKey(),
    transport: udpTransport,
    host,
    refreshRandomLookups: 0,
  });
  await boot.refresh();
  const members = await Promise.all(
    Array.from({ length: count }, () =>
      Discv4.start({ privateKey: generatePrivateKey(), transport: udpTransport, host, bootnodes: [boot.self] }),
    ),
  );
  await Promise.all(members.map((member) => member.refresh()));
  members.unshift(boot);
  return members;
}

describe('Discv4 across restarts and lookups', () => {
  it('a restarted node with no bootnodes reseeds its table from its file node database', async () => {
    const others = await network(4);
    const dir = mkdtempSync(join(tmpdir(), 'devp2p-discv4-'));
    const key = generatePrivateKey();
    const opened: { close(): unknown }[] = [];
    try {
      const db = FileNodeDatabase.open(dir);
      opened.push(db);
      // Fast revalidation, so nodes proven live reach the database within the test.
      const first = await Discv4.start({
        privateKey: key,
        transport: udpTransport,
        host: HOST,
        db,
        bootnodes: [others[0]!.self],
        pingIntervalMs: 50,
      });
      opened.push(first);
      await first.refresh();
      await until(() => db.seeds(SEED_COUNT, SEED_MAX_AGE_MS).length >= 3, 10_000, 'three seeds in the database');
      await first.close();
      db.close();

      const reopened = FileNodeDatabase.open(dir);
      opened.push(reopened);
      const seeds = reopened.seeds(SEED_COUNT, SEED_MAX_AGE_MS);
      assert.ok(seeds.length >= 3, `the journal kept ${seeds.length} seeds`);
      const second = await Discv4.start({ privateKey: key, transport: udpTransport, host: HOST, db: reopened });
      opened.push(second);
      // No bootnodes: whatever the table holds came from the database (start() runs the first refresh).
      await second.refresh();
      const memberIds = new Set(others.map((d) => d.localNode.id.hex));
      const known = second.table.nodes().filter((n) => memberIds.has(n.id.hex));
      assert.ok(known.length >= 3, `the table holds ${known.length} members after reseeding`);
      // The reseeded table is usable: a lookup for a member that was not a seed still finds it.
      const target = others.find((d) => !seeds.some((s) => s.id.equals(d.localNode.id))) ?? others[1]!;
      const found = await second.lookup(target.self);
      assert.ok(found.some((n) => n.id.equals(target.localNode.id)));
    } finally {
      // Closing twice is a no-op for both, so whatever the test got to is released.
      for (const resource of opened.reverse()) await resource.close();
      await Promise.all(others.map((d) => d.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolve() of a node known only by its key finds its current record through a lookup', async () => {
    const members = await network(5);
    const [, asker, , , , wanted] = members as [Discv4, Discv4, Discv4, Discv4, Discv4, Discv4];
    try {
      // The record moves on after the others learnt it: only asking the node itself gives the newest.
      wanted.localNode.set({ tcp: 30_999 });
      const keyOnly = Node.fromPublicKey(wanted.localNode.publicKey);
      assert.equal(keyOnly.udpEndpoint(), undefined);
      const resolved = await asker.resolve(keyOnly);
      assert.ok(resolved.id.equals(wanted.localNode.id));
      assert.equal(resolved.seq, wanted.localNode.node.seq);
      assert.equal(resolved.tcp, 30_999);
      assert.ok(resolved.record.verify());
    } finally {
      await Promise.all(members.map((d) => d.close()));
    }
  });

  it('runs over IPv6 (::1): bonding, FindNode, ENR requests and lookups', async () => {
    const members = await network(3, '::1');
    try {
      const [, a, , c] = members as [Discv4, Discv4, Discv4, Discv4];
      assert.equal(a.self.ip, '::1');
      assert.equal(a.self.udpEndpoint()?.ip, '::1');
      const found = await a.lookup(c.self);
      assert.ok(found.some((n) => n.id.equals(c.localNode.id)));
      assert.ok(found.every((n) => n.ip === '::1'));
      const record = await a.requestENR(c.self);
      assert.ok(record.id.equals(c.localNode.id));
      assert.equal((await a.ping(c.self)).type, 'pong');
    } finally {
      await Promise.all(members.map((d) => d.close()));
    }
  });

  it('a FindNode answered by exactly 12 nodes ends without waiting out the reply timeout; a follow-up packet still counts', async () => {
    const known = await Promise.all(
      Array.from({ length: 14 }, () =>
        Discv4.start({
          privateKey: generatePrivateKey(),
          transport: udpTransport,
          host: HOST,
          refreshRandomLookups: 0,
        }),
      ),
    );
    const wire = known.map((d) => ({ ip: HOST, udp: d.address.port, tcp: 0, publicKey: d.localNode.publicKey }));
    const h = await Harness.create();
    const harnessNode = Node.fromPublicKey(h.publicKey, { ip: HOST, udp: h.socket.address.port });
    const queriers: Discv4[] = [];
    /** Starts a node whose only bootnode is the harness, and answers its FindNode with `packets` of nodes. */
    const lookupThroughHarness = async (packets: (typeof wire)[]): Promise<Discv4> => {
      const querier = await Discv4.start({
        privateKey: generatePrivateKey(),
        transport: udpTransport,
        host: HOST,
        refreshRandomLookups: 0,
        // Far beyond the test's bound below: a query that waits for it makes the refresh miss that bound.
        respTimeoutMs: 20_000,
        bootnodes: [harnessNode],
      });
      queriers.push(querier);
      const ping = await h.next('ping', 5_000);
      assert.ok(ping, 'the querier pings the harness before asking it anything');
      const to = { ip: HOST, udp: querier.address.port, tcp: 0 };
      h.send({ type: 'pong', to, replyToken: ping.hash, expiration: nowSeconds() + 20 }, querier.address);
      h.ping(querier.address);
      assert.ok(await h.next('findnode', 5_000), 'FindNode');
      for (const nodes of packets) h.send({ type: 'neighbors', nodes, expiration: nowSeconds() + 20 }, querier.address);
      let bound: ReturnType<typeof setTimeout> | undefined;
      const stuck = new Promise<string>((resolve) => {
        bound = setTimeout(() => resolve('stuck'), 10_000);
      });
      const outcome = await Promise.race([querier.refresh().then(() => 'done'), stuck]);
      clearTimeout(bound);
      assert.equal(outcome, 'done');
      return querier;
    };
    try {
      const exactly12 = await lookupThroughHarness([wire.slice(0, 12)]);
      assert.equal(known.slice(0, 12).filter((d) => exactly12.table.get(d.localNode.id)).length, 12);
      h.clear();
      const twelvePlusTwo = await lookupThroughHarness([wire.slice(0, 12), wire.slice(12)]);
      assert.equal(known.filter((d) => twelvePlusTwo.table.get(d.localNode.id)).length, 14);
    } finally {
      await Promise.all([...queriers, ...known].map((d) => d.close()));
      await h.close();
    }
  });
});
