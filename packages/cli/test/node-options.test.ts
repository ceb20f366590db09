import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseNode } from '@devp2p/enode';
import { ETH_VERSIONS, hoodi, mainnet, sepolia } from '@devp2p/plugin-eth';
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
      api: ['admin', 'net', 'rpc', 'web3'],
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

  it('serves admin,net,rpc,web3 by default; --http.api and --ws.api choose the modules, discv5 among them', () => {
    assert.deepEqual(parse('--ws').ws?.api, ['admin', 'net', 'rpc', 'web3']);
    assert.deepEqual(parse('--http', '--http.api', 'discv5, admin,discv5').http?.api, ['discv5', 'admin']);
    assert.deepEqual(parse('--ws', '--ws.api', 'net,discv5').ws?.api, ['net', 'discv5']);
    assert.throws(
      () => parse('--http', '--http.api', 'admin,eth'),
      (e: unknown) =>
        e instanceof UsageError && /--http\.api: unknown API module "eth" \(known: admin,discv5/.test(e.message),
    );
    assert.throws(() => parse('--ws.api', ''), /--ws\.api: empty item/, 'checked without --ws too');
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

describe('devp2p node flags: where discovery starts', () => {
  it("starts from the network preset's bootnodes, as geth; --bootnodes replaces them, even when empty", () => {
    const sepoliaNodes = parse('--network', 'sepolia').discovery?.bootnodes.map((n) => n.toEnodeUrl());
    assert.deepEqual(sepoliaNodes, [...sepolia.discovery.bootnodes]);
    assert.equal(parse().discovery?.bootnodes.length, mainnet.discovery.bootnodes.length, 'mainnet by default');
    assert.equal(parse('--network', 'hoodi').discovery?.bootnodes.length, hoodi.discovery.bootnodes.length);
    assert.deepEqual(parse('--network', 'sepolia', '--bootnodes', '').discovery?.bootnodes, []);
    const own = mainnet.discovery.bootnodes[0]!.replace(/@.*$/, '@127.0.0.1:30303');
    const given = parse('--network', 'sepolia', '--bootnodes', own).discovery?.bootnodes;
    assert.deepEqual(
      given?.map((n) => n.id.hex),
      [parseNode(own).id.hex],
    );
    assert.equal(parse('--network', 'sepolia', '--nodiscover').discovery, undefined);
    // discv5 starts from geth's V5Bootnodes, or from --bootnodes when given (geth's rule).
    assert.equal(parse('--network', 'sepolia').discovery?.bootnodesV5.length, sepolia.discovery.bootnodesV5.length);
    assert.ok(parse().discovery?.bootnodesV5.every((n) => n.record.signed));
    assert.deepEqual(
      given?.map((n) => n.id.hex),
      parse('--network', 'sepolia', '--bootnodes', own).discovery?.bootnodesV5.map((n) => n.id.hex),
    );
  });
});

describe('devp2p node flags: --nat', () => {
  it("takes geth's forms and refuses the rest with the reason", () => {
    assert.equal(parse().nat, 'none');
    assert.deepEqual(parse('--nat', 'extip:203.0.113.7').nat, { extIp: '203.0.113.7' });
    assert.deepEqual(parse('--nat', 'extip:2001:db8::7').nat, { extIp: '2001:db8::7' });
    assert.deepEqual(parse('--nat', 'pmp:192.168.1.1').nat, { pmp: '192.168.1.1' });
    assert.equal(parse('--nat', 'pmp').nat, 'pmp');
    assert.equal(parse('--nat', 'any').nat, 'any');
    assert.equal(parse('--nat', 'upnp').nat, 'upnp');
    for (const [bad, why] of [
      ['extip:', /extip needs an IP/],
      ['extip:host.example', /extip needs an IP/],
      ['pmp:2001:db8::1', /pmp needs an IPv4/],
      ['stun', /expected none, extip/],
    ] as const) {
      assert.throws(
        () => parse('--nat', bad),
        (error: unknown) => error instanceof UsageError && why.test(error.message),
      );
    }
  });
});

describe('devp2p node flags: DNS discovery and metrics', () => {
  it("reads the network's DNS tree unless --discovery.dns replaces it, and checks each URL and the resolver", () => {
    assert.deepEqual(parse('--network', 'sepolia').discovery?.dnsTrees, [...sepolia.discovery.dnsTrees]);
    assert.deepEqual(parse('--network', 'sepolia', '--discovery.dns', '').discovery?.dnsTrees, []);
    const own = 'enrtree://AKA3AM6LPBYEUDMVNU3BSVQJ5AD45Y7YPOHJLEF6W26QOE4VTUDPE@nodes.example.org';
    assert.deepEqual(parse('--discovery.dns', own).discovery?.dnsTrees, [own]);
    assert.throws(() => parse('--discovery.dns', 'enrtree://nope@x'), /--discovery\.dns:/);
    assert.equal(parse('--discovery.dns.resolver', '127.0.0.1:5353').discovery?.dnsResolver, '127.0.0.1:5353');
    assert.equal(parse('--discovery.dns.resolver', '10.0.0.53').discovery?.dnsResolver, '10.0.0.53:53');
    assert.throws(() => parse('--discovery.dns.resolver', 'dns.example:53'), /--discovery\.dns\.resolver/);
    assert.equal(parse().metrics, undefined);
    assert.deepEqual(parse('--metrics').metrics, { host: '127.0.0.1', port: 6060 });
    assert.throws(() => parse('--metrics', '--metrics.port', '70000'), /--metrics\.port/);
  });
});

describe('devp2p node flags: --eth.versions', () => {
  it('runs eth/72 to eth/68 by default; the flag picks versions, newest first', () => {
    assert.deepEqual(parse().ethVersions, ETH_VERSIONS);
    assert.deepEqual(parse().ethVersions, [72, 71, 70, 69, 68]);
    assert.deepEqual(parse('--eth.versions', '68,69').ethVersions, [69, 68]);
    assert.deepEqual(parse('--eth.versions', 'eth/70, 72,70').ethVersions, [72, 70]);
  });

  it('refuses versions this node does not speak, naming the flag', () => {
    for (const [value, message] of [
      ['67', /--eth\.versions: unsupported eth version "67" \(supported: 72, 71, 70, 69, 68\)/],
      ['73,72', /unsupported eth version "73"/],
      ['', /unsupported eth version ""/],
      ['70,,69', /unsupported eth version ""/],
      ['seventy', /unsupported eth version "seventy"/],
    ] as const) {
      assert.throws(
        () => parse('--eth.versions', value),
        (e: Error) => e instanceof UsageError && message.test(e.message),
      );
    }
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
