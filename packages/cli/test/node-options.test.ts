import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type NodeOptions, parseNodeOptions, UsageError } from '../src/node-command.ts';

const datadir = mkdtempSync(join(tmpdir(), 'devp2p-options-'));
after(() => rmSync(datadir, { recursive: true, force: true }));

function parse(...args: string[]): NodeOptions {
  const options = parseNodeOptions(['--datadir', datadir, ...args]);
  assert.notEqual(options, 'help');
  return options as NodeOptions;
}

describe('devp2p node flags: the admin HTTP endpoint', () => {
  it('answers localhost and no browser origin by default; --http.vhosts and --http.corsdomain widen that', () => {
    assert.deepEqual(parse('--http').http, {
      host: '127.0.0.1',
      port: 8545,
      vhosts: ['localhost'],
      corsOrigins: [],
    });
    const wide = parse(
      '--http',
      '--http.vhosts',
      'localhost, node.lan',
      '--http.corsdomain',
      'http://localhost:3000,*',
    );
    assert.deepEqual(wide.http?.vhosts, ['localhost', 'node.lan']);
    assert.deepEqual(wide.http?.corsOrigins, ['http://localhost:3000', '*']);
    assert.deepEqual(parse('--http', '--http.vhosts', 'devp2p_node').http?.vhosts, ['devp2p_node'], 'Compose names');
  });

  it('keeps --http.corsdomain origins as a browser sends them, so a trailing slash or default port matches', () => {
    const origins = parse('--http', '--http.corsdomain', 'http://localhost:3000/,HTTPS://Node.Example:443').http;
    assert.deepEqual(origins?.corsOrigins, ['http://localhost:3000', 'https://node.example']);
  });

  it('rejects empty and malformed values with a message naming the flag', () => {
    assert.throws(
      () => parse('--http', '--http.vhosts', ''),
      (e: unknown) => e instanceof UsageError && /--http\.vhosts: empty item/.test(e.message),
    );
    assert.throws(() => parse('--http', '--http.vhosts', 'a b'), /--http\.vhosts: "a b" is not a host name/);
    assert.throws(
      () => parse('--http', '--http.corsdomain', 'localhost:3000'),
      /--http\.corsdomain: "localhost:3000" is not an origin/,
    );
    for (const bad of ['http://x.example/path', 'http://x.example/?q', 'http://user@x.example', 'ftp://x.example']) {
      assert.throws(() => parse('--http', '--http.corsdomain', bad), /is not an origin/, bad);
    }
    assert.throws(() => parse('--http.vhosts', 'a b'), /--http\.vhosts/, 'checked without --http too');
    assert.throws(() => parse('--http.corsdomain', 'x'), /--http\.corsdomain/, 'checked without --http too');
  });
});

describe('devp2p node flags: discovery', () => {
  it('runs discv4 and discv5 by default; --discovery.v4 and --discovery.v5 take geth forms', () => {
    assert.deepEqual({ v4: parse().discovery?.v4, v5: parse().discovery?.v5 }, { v4: true, v5: true });
    const noV5 = parse('--discovery.v5=false');
    assert.equal(noV5.discovery?.v4, true);
    assert.equal(noV5.discovery?.v5, false);
    const noV4 = parse('--discovery.v4=false', '--discovery.v5');
    assert.equal(noV4.discovery?.v4, false);
    assert.equal(noV4.discovery?.v5, true);
    assert.equal(parse('--discovery.v5=true').discovery?.v5, true);
    assert.equal(parse('--nodiscover', '--discovery.v5').discovery, undefined);
    assert.throws(() => parse('--discovery.v5=no'), UsageError);
    assert.throws(() => parse('--discovery.v6'), UsageError);
  });
});
