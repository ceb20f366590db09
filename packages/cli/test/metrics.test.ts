import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { until } from '@devp2p/test-utils';
import { startNodeProcess } from './node-process.ts';

describe('devp2p node --metrics', () => {
  it("serves Prometheus metrics with geth's names at /debug/metrics/prometheus, and nothing elsewhere", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devp2p-metrics-'));
    const proc = await startNodeProcess([
      '--datadir',
      dir,
      '--port',
      '0',
      '--bootnodes',
      '',
      '--discovery.dns',
      '',
      '--metrics',
      '--metrics.port',
      '0',
    ]);
    try {
      await until(() => /devp2p:cli:metrics HTTP server started/.test(proc.output()), 10_000, 'the metrics server');
      const endpoint = /devp2p:cli:metrics HTTP server started endpoint="?([\d.]+:\d+)/.exec(proc.output())![1];
      const res = await fetch(`http://${endpoint}/debug/metrics/prometheus`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (const name of ['p2p_peers 0', 'p2p_dials 0', 'p2p_serves 0', 'p2p_ingress ', 'discover_egress ']) {
        assert.ok(text.includes(`\n${name}`), `${name} in:\n${text.slice(0, 400)}`);
      }
      assert.equal((await fetch(`http://${endpoint}/`)).status, 404);
      assert.equal((await fetch(`http://${endpoint}/debug/metrics/prometheus`, { method: 'POST' })).status, 405);
    } finally {
      assert.ok(await proc.stop(), proc.output());
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
