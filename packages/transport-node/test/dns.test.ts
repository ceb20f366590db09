import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortError, Devp2pError, TimeoutError } from '@devp2p/core';
import { runtime } from '@devp2p/test-utils';
import { startDnsServer } from '@devp2p/test-utils/dns';
import { joinTxtRecords } from '../src/dns.ts';
import { createTxtResolver, type TxtResolverBackend } from '../src/index.ts';

const isDnsError = (error: unknown): boolean => error instanceof Devp2pError && error.code === 'ERR_DNS';
const LONG = `enr:${'x'.repeat(400)}`;

/**
 * The runtime's default, and each backend. Bun's own `resolveTxt` returns each character-string of a record as a
 * record of its own (see TxtResolverOptions.backend), so its `system` backend is not tested there.
 */
const backends: (TxtResolverBackend | undefined)[] =
  runtime === 'bun' ? [undefined, 'udp'] : [undefined, 'system', 'udp'];

describe('TXT resolver against a DNS server on 127.0.0.1', () => {
  for (const backend of backends) {
    it(`${backend ?? 'default'}: joins each record's character-strings, keeps records apart, [] for missing names`, async () => {
      const dns = await startDnsServer({
        'a.test': [['hello ', 'world'], 'second', LONG],
        'empty.test': [],
      });
      try {
        const resolver = createTxtResolver({ server: dns.address, ...(backend ? { backend } : {}) });
        const got = await resolver.resolveTxt('A.test.');
        assert.deepEqual([...got].sort(), [LONG, 'hello world', 'second'].sort());
        assert.deepEqual(await resolver.resolveTxt('missing.test'), []);
        assert.deepEqual(await resolver.resolveTxt('empty.test'), []);
        assert.ok(dns.queries.includes('a.test'));
      } finally {
        await dns.close();
      }
    });

    it(`${backend ?? 'default'}: a server that never answers times out; an abort ends the lookup`, async () => {
      const dns = await startDnsServer({ 'a.test': ['x'] });
      dns.setDefaultBehaviour('silent');
      try {
        const resolver = createTxtResolver({ server: dns.address, ...(backend ? { backend } : {}), timeoutMs: 300 });
        const started = Date.now();
        await assert.rejects(resolver.resolveTxt('a.test'), (e: unknown) => e instanceof TimeoutError);
        assert.ok(Date.now() - started < 3_000);
        const controller = new AbortController();
        const pending = resolver.resolveTxt('a.test', { signal: controller.signal });
        setTimeout(() => controller.abort(), 20);
        await assert.rejects(pending, (e: unknown) => e instanceof AbortError);
        await assert.rejects(resolver.resolveTxt('a.test', { signal: AbortSignal.abort() }), AbortError);
      } finally {
        await dns.close();
      }
    });

    it(`${backend ?? 'default'}: server failures and garbled answers reject with ERR_DNS`, async () => {
      const dns = await startDnsServer({ 'fail.test': ['x'], 'garbled.test': [LONG] });
      dns.setBehaviour('fail.test', 'servfail');
      dns.setBehaviour('garbled.test', 'garbled');
      try {
        const resolver = createTxtResolver({ server: dns.address, ...(backend ? { backend } : {}), timeoutMs: 1_000 });
        if (backend !== 'udp' && runtime === 'deno') {
          // Deno's resolver reports SERVFAIL as ENOTFOUND, which cannot be told from a missing name.
          assert.deepEqual(await resolver.resolveTxt('fail.test'), []);
        } else {
          await assert.rejects(resolver.resolveTxt('fail.test'), isDnsError);
        }
        await assert.rejects(
          resolver.resolveTxt('garbled.test'),
          (e: unknown) => isDnsError(e) || e instanceof TimeoutError,
        );
      } finally {
        await dns.close();
      }
    });
  }

  it('udp: a truncated answer (TC) rejects with ERR_DNS', async () => {
    const dns = await startDnsServer({ 'a.test': ['x'] });
    dns.setBehaviour('a.test', 'truncated');
    try {
      const resolver = createTxtResolver({ server: dns.address, backend: 'udp' });
      await assert.rejects(resolver.resolveTxt('a.test'), /truncated/);
    } finally {
      await dns.close();
    }
  });

  it('refuses bad server addresses and names that cannot be asked', async () => {
    assert.throws(() => createTxtResolver({ server: 'dns.example.org:53' }), TypeError);
    assert.throws(() => createTxtResolver({ server: '127.0.0.1:0' }), TypeError);
    assert.throws(() => createTxtResolver({ timeoutMs: 0 }), RangeError);
    const resolver = createTxtResolver({ server: '[::1]:5353', backend: 'udp' });
    await assert.rejects(resolver.resolveTxt('a..b'), isDnsError);
    await assert.rejects(resolver.resolveTxt(`${'a'.repeat(64)}.test`), isDnsError);
    await assert.rejects(resolver.resolveTxt('with space.test'), isDnsError);
  });

  it('joins record chunks the way each runtime may return them', () => {
    assert.deepEqual(joinTxtRecords([['a', 'b'], ['c'], 'd']), ['ab', 'c', 'd']);
  });
});
