/**
 * 64 nodes on loopback, bootstrapped from one bootnode, in this process on real UDP sockets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePrivateKey } from '@devp2p/crypto';
import { udpTransport } from '@devp2p/transport-node';
import { Discv4 } from '../src/index.ts';
import { sleep } from './helpers.ts';

const NODES = 64;
const MIN_KNOWN = 16;
const WAVE = 16;
/** Concurrent lookups in the final check: few enough that replies beat the timeout on one shared CPU. */
const LOOKUP_WAVE = 8;
/** The whole simulation must end by itself within this. */
const DEADLINE_MS = 60_000;

describe('discv4 simulation', () => {
  it(`${NODES} nodes from one bootnode: tables of ${MIN_KNOWN}+, and lookups find their targets`, async () => {
    const started = Date.now();
    const options = {
      transport: udpTransport,
      host: '127.0.0.1',
      // Only the self lookup per refresh, and slow revalidation: the test is about convergence, on one CPU.
      refreshRandomLookups: 0,
      pingIntervalMs: 60_000,
      // Sixty-odd nodes sharing one CPU answer slowly: allow late replies as a loaded network would need.
      respTimeoutMs: 1_500,
    };
    const boot = await Discv4.start({ ...options, privateKey: generatePrivateKey() });
    const nodes: Discv4[] = [boot];
    try {
      await boot.refresh();
      // Nodes join in waves (as a network grows), each wave's initial refresh (a self lookup) running together.
      for (let i = 1; i < NODES; i += WAVE) {
        const wave: Discv4[] = [];
        for (let j = i; j < Math.min(NODES, i + WAVE); j++) {
          wave.push(await Discv4.start({ ...options, privateKey: generatePrivateKey(), bootnodes: [boot.self] }));
        }
        nodes.push(...wave);
        await Promise.all(wave.map((n) => n.refresh()));
      }
      // Lookups until every table has MIN_KNOWN nodes (the early joiners saw a small network).
      while (nodes.some((n) => n.table.size < MIN_KNOWN)) {
        assert.ok(Date.now() - started < DEADLINE_MS, 'tables did not fill in time');
        await Promise.all(nodes.filter((n) => n.table.size < MIN_KNOWN).map((n) => n.lookup(n.self)));
        await sleep(10);
      }
      for (const n of nodes) assert.ok(n.table.size >= MIN_KNOWN, `table of ${n.table.size}`);

      // Every node looks up another member (in waves, as the CPU is shared); a lookup that misses (a query
      // lost to load) may be repeated (twice at most).
      let found = 0;
      let retries = 0;
      for (let w = 0; w < NODES; w += LOOKUP_WAVE) {
        await Promise.all(
          nodes.slice(w, w + LOOKUP_WAVE).map(async (n, k) => {
            const i = w + k;
            const wanted = nodes[(i * 7 + 13) % NODES]!;
            const target = wanted === n ? nodes[(i + 1) % NODES]! : wanted;
            for (let attempt = 0; attempt < 3; attempt++) {
              if (attempt > 0) retries++;
              const result = await n.lookup(target.self);
              if (result.some((r) => r.id.equals(target.localNode.id))) {
                found++;
                return;
              }
            }
            const holders = nodes.filter((m) => m.table.get(target.localNode.id)).length;
            const live = nodes.filter((m) =>
              m.table.entries().some((e) => e.isValidatedLive && e.node.id.equals(target.localNode.id)),
            ).length;
            assert.fail(
              `node ${i} did not find ${target.localNode.id.short()} (in ${holders} tables, live in ${live}; unbonded ${nodes.reduce((a, m) => a + m.stats.dropped.unbonded, 0)}; searcher table ${n.table.size} sent ${n.stats.sent} recv ${n.stats.received}; target table ${target.table.size}, sent ${target.stats.sent} recv ${target.stats.received} ${JSON.stringify(target.stats.dropped)})`,
            );
          }),
        );
      }
      assert.ok(retries <= NODES / 8, `${retries} lookups needed a second try`);
      assert.equal(found, NODES);
      assert.ok(Date.now() - started < DEADLINE_MS, `took ${Date.now() - started} ms`);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});
