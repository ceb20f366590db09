/**
 * `devp2p dns sync|sign|to-txt` as a user runs them: a child process on this test's runtime, asking a real UDP DNS
 * server on 127.0.0.1 (test-utils, on dns-packet) through `--resolver`. Every command here passes `--resolver`:
 * the test runner's loopback-only switch ends any process that asks the system's resolver.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bytesToHex, type RlpValue, rlpDecode, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import {
  buildTree,
  entryHash,
  formatEnrTreeUrl,
  formatRoot,
  signRoot,
  signTree,
  type Tree,
  treeToTxt,
} from '@devp2p/dnsdisc';
import { base64UrlDecode, base64UrlEncode, Enr, Node } from '@devp2p/enode';
import { type DnsTestServer, startDnsServer } from '@devp2p/test-utils/dns';
import { DNS_ENTRY_TTL_S, DNS_ROOT_TTL_S } from '../src/commands/dns.ts';
import { type CommandResult, runCommand } from './node-process.ts';

/** Per-query deadline of the commands: the server is local, a lost answer should not stall a test for 5 s. */
const QUERY_TIMEOUT = '2s';
/** Queries per second: geth's 3/s would make each sync take seconds. */
const RATE = '1000';

const dir = mkdtempSync(join(tmpdir(), 'devp2p-dns-'));
let dns: DnsTestServer;
before(async () => {
  dns = await startDnsServer();
});
after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `devp2p dns <sub> --resolver <the test server> <args>`. */
function devp2pDns(sub: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return runCommand(['dns', sub, '--resolver', dns.address, ...args], timeoutMs);
}

function syncTo(url: string, into: string, extra: readonly string[] = []): Promise<CommandResult> {
  return devp2pDns('sync', ['--rate', RATE, '--timeout', QUERY_TIMEOUT, ...extra, url, into]);
}

/** A tree publisher: its key (also written as a geth nodekey file), domain and URL. */
interface List {
  readonly key: Uint8Array;
  readonly keyFile: string;
  readonly domain: string;
  readonly url: string;
}

function makeList(domain: string): List {
  const key = generatePrivateKey();
  const keyFile = join(dir, `${domain}.key`);
  writeFileSync(keyFile, bytesToHex(key));
  return { key, keyFile, domain, url: formatEnrTreeUrl(publicKeyFromPrivate(key), domain) };
}

/** `count` nodes with signed records at 10.<net>.0.<i>. */
function makeNodes(count: number, net: number): Node[] {
  return Array.from({ length: count }, (_, i) =>
    Node.fromRecord(Enr.create({ ip: `10.${net}.0.${i}`, tcp: 30303, udp: 30303 }, 1n).sign(generatePrivateKey())),
  );
}

/** Builds, signs and serves a tree; returns its TXT records as served. */
function publish(list: List, nodes: readonly Node[], links: readonly string[] = [], seq = 1): Record<string, string> {
  const tree: Tree = signTree(buildTree(nodes, links, seq), list.key);
  const records = treeToTxt(tree, list.domain);
  serve(records);
  return records;
}

function serve(records: Readonly<Record<string, string>>): void {
  for (const [name, text] of Object.entries(records)) dns.setRecords(name, [text]);
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Records as sorted [name, text] pairs, to compare record sets whatever their order. */
function pairs(records: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.entries(records).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const sortedIds = (nodes: readonly Node[]): string[] => nodes.map((n) => n.id.hex).sort();

/** The record text of `node` with its sequence number changed and the old signature kept: a forged record. */
function forgedRecordText(node: Node): string {
  const text = node.record.toText();
  const bytes = base64UrlDecode(text.slice('enr:'.length));
  assert.ok(bytes instanceof Uint8Array);
  const [signature, , ...pairsList] = rlpDecode(bytes) as RlpValue[];
  return `enr:${base64UrlEncode(rlpEncode([signature as Uint8Array, 2, ...(pairsList as Uint8Array[])]))}`;
}

describe('devp2p dns against a DNS server on 127.0.0.1', () => {
  const a = makeList('a.dns.test');
  const b = makeList('b.dns.test');
  const nodesA = makeNodes(20, 1);
  const nodesB = makeNodes(3, 2);
  let servedA: Record<string, string>;
  const dirA = join(dir, 'synced-a');

  before(() => {
    // A tree of 20 nodes (two levels of branches) linking to one of 3 nodes, which links back.
    servedA = publish(a, nodesA, [b.url]);
    publish(b, nodesB, [a.url]);
  });

  it('sync verifies the tree and the tree it links to, and writes enrtree-info.json and nodes.json as geth', async () => {
    const result = await syncTo(a.url, dirA);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^Tree ${a.url}\\n {2}seq 1, 20 nodes, 1 link, 25 records\\n`));
    assert.match(result.stdout, new RegExp(`linked tree ${b.url}: seq 1, 3 nodes, 1 link`));
    assert.match(result.stdout, /Verified 2 trees \(23 nodes\)/);
    assert.ok(dns.queries.includes(b.domain), 'the linked tree was read');

    const info = readJson(join(dirA, 'enrtree-info.json'));
    assert.deepEqual(Object.keys(info), ['url', 'seq', 'signature', 'links', 'lastModified']);
    assert.equal(info.url, a.url);
    assert.equal(info.seq, 1);
    assert.equal(info.signature, /sig=(\S+)$/.exec(servedA[a.domain]!)?.[1]);
    assert.deepEqual(info.links, [b.url]);
    assert.ok(Math.abs(Date.parse(String(info.lastModified)) - Date.now()) < 60_000, String(info.lastModified));

    const nodes = readJson(join(dirA, 'nodes.json'));
    assert.deepEqual(Object.keys(nodes), sortedIds(nodesA), 'keyed by node id, in order');
    for (const node of nodesA) assert.deepEqual(nodes[node.id.hex], { seq: 1, record: node.record.toText() });
  });

  it('to-txt gives back the records the server serves, before and after sign; sign bumps seq and re-serves', async () => {
    // The synced directory carries the signature: its records are the served ones.
    const out = join(dir, 'a-txt.json');
    const written = await devp2pDns('to-txt', [dirA, out]);
    assert.equal(written.code, 0, written.stderr);
    const json = readJson(out);
    assert.deepEqual(Object.keys(json), Object.keys(json).sort(), 'names sorted, as geth writes them');
    assert.deepEqual(pairs(json), pairs(servedA));
    const printed = await devp2pDns('to-txt', [dirA]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(pairs(JSON.parse(printed.stdout) as Record<string, string>), pairs(servedA));

    // Signed again at the same seq with the same key: the same root (signatures are deterministic), the same zone.
    const resigned = await devp2pDns('sign', ['--seq', '1', dirA, a.keyFile]);
    assert.equal(resigned.code, 0, resigned.stderr);
    assert.equal(resigned.stdout.trim(), a.url);
    const again = await devp2pDns('to-txt', [dirA]);
    assert.deepEqual(pairs(JSON.parse(again.stdout) as Record<string, string>), pairs(servedA));

    // Without --seq, sign raises it; the new records, served, sync back with the new seq.
    const bumped = await devp2pDns('sign', [dirA, a.keyFile]);
    assert.equal(bumped.code, 0, bumped.stderr);
    assert.equal(bumped.stdout.trim(), a.url);
    assert.match(bumped.stderr, /Signed tree of 20 nodes and 1 link, seq 2/);
    assert.equal(readJson(join(dirA, 'enrtree-info.json')).seq, 2);
    const next = await devp2pDns('to-txt', [dirA]);
    assert.equal(next.code, 0, next.stderr);
    const nextRecords = JSON.parse(next.stdout) as Record<string, string>;
    assert.match(nextRecords[a.domain]!, / seq=2 sig=/);
    serve(nextRecords);
    const resynced = await syncTo(a.url, join(dir, 'synced-a2'));
    assert.equal(resynced.code, 0, resynced.stderr);
    assert.match(resynced.stdout, /seq 2, 20 nodes, 1 link/);

    // The zone-file form holds the same records: the root at @ for 30 min, the rest for 4 weeks.
    const zone = await devp2pDns('to-txt', ['--zone', dirA]);
    assert.equal(zone.code, 0, zone.stderr);
    assert.match(zone.stdout, new RegExp(`^\\$ORIGIN ${a.domain.replaceAll('.', '\\.')}\\.$`, 'm'));
    const fromZone: Record<string, string> = {};
    for (const line of zone.stdout.split('\n')) {
      if (line === '' || line.startsWith(';') || line.startsWith('$')) continue;
      const match = /^(\S+) +(\d+) IN TXT (.*)$/.exec(line);
      assert.ok(match, line);
      const [, label, ttl, strings] = match;
      const name = label === '@' ? a.domain : `${label}.${a.domain}`;
      assert.equal(Number(ttl), name === a.domain ? DNS_ROOT_TTL_S : DNS_ENTRY_TTL_S);
      const parts = [...strings!.matchAll(/"([^"\\]*)"/g)].map((m) => m[1]!);
      assert.ok(parts.every((part) => part.length <= 255));
      fromZone[name] = parts.join('');
    }
    assert.deepEqual(pairs(fromZone), pairs(nextRecords));
  });

  it('sign names the tree after the directory, as geth; its records sync back to the same nodes', async () => {
    const c = makeList('c.dns.test');
    const nodesC = makeNodes(4, 3);
    const dirC = join(dir, c.domain);
    mkdirSync(dirC);
    const set = Object.fromEntries(nodesC.map((n) => [n.id.hex, { seq: 1, record: n.record.toText() }]));
    writeFileSync(join(dirC, 'nodes.json'), JSON.stringify(set));
    const signed = await devp2pDns('sign', [dirC, c.keyFile]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal(signed.stdout.trim(), c.url);
    const info = readJson(join(dirC, 'enrtree-info.json'));
    assert.equal(info.seq, 1);
    assert.deepEqual(info.links, []);
    const txt = await devp2pDns('to-txt', [dirC]);
    assert.equal(txt.code, 0, txt.stderr);
    serve(JSON.parse(txt.stdout) as Record<string, string>);
    const synced = await syncTo(c.url, join(dir, 'synced-c'));
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(Object.keys(readJson(join(dir, 'synced-c', 'nodes.json'))), sortedIds(nodesC));
  });
});

describe('devp2p dns sync refuses a tree that does not verify, with the reason, and writes nothing', () => {
  /** Serves a tree with one leaf, `leafText` (which need not be valid), signed by `list`'s key. */
  function publishLeaf(list: List, leafText: string): void {
    const emptyLinks = 'enrtree-branch:';
    const root = signRoot({ enrRoot: entryHash(leafText), linkRoot: entryHash(emptyLinks), seq: 1 }, list.key);
    serve({
      [list.domain]: formatRoot(root),
      [`${entryHash(leafText)}.${list.domain}`]: leafText,
      [`${entryHash(emptyLinks)}.${list.domain}`]: emptyLinks,
    });
  }

  async function refused(url: string, reason: RegExp): Promise<void> {
    const into = join(dir, `refused-${Math.random().toString(36).slice(2)}`);
    const result = await syncTo(url, into);
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, reason);
    assert.ok(!existsSync(into), 'nothing written');
  }

  it('a root signed by another key than the URL’s', async () => {
    const list = makeList('forged.dns.test');
    publish(list, makeNodes(3, 4));
    const other = signTree(buildTree(makeNodes(3, 5), [], 1), generatePrivateKey());
    dns.setRecords(list.domain, [formatRoot(other.root)]);
    await refused(
      list.url,
      /tree verification failed: forged\.dns\.test: invalid root entry: signature does not verify against the tree key/,
    );
  });

  it('an entry whose text does not hash to its name', async () => {
    const list = makeList('badhash.dns.test');
    const tree = signTree(buildTree(makeNodes(3, 6), [], 1), list.key);
    serve(treeToTxt(tree, list.domain));
    const leaf = [...tree.entries.keys()].find((hash) => tree.entries.get(hash)?.type === 'enr')!;
    dns.setRecords(`${leaf}.${list.domain}`, [makeNodes(1, 7)[0]!.record.toText()]);
    await refused(list.url, new RegExp(`tree verification failed: ${leaf}\\.badhash\\.dns\\.test: hash mismatch`));
  });

  it('a node record whose signature does not verify, also in a linked tree', async () => {
    const bad = makeList('badenr.dns.test');
    publishLeaf(bad, forgedRecordText(makeNodes(1, 8)[0]!));
    const reason = /tree verification failed: [A-Z2-7]+\.badenr\.dns\.test: invalid enr entry: invalid node record/;
    await refused(bad.url, reason);
    // A good tree linking to it: the link is followed and the bad record found.
    const linking = makeList('linking.dns.test');
    publish(linking, makeNodes(2, 9), [bad.url]);
    await refused(linking.url, reason);
  });

  it('a server that does not answer: the query deadline, not a hang', async () => {
    const list = makeList('silent.dns.test');
    dns.setBehaviour(list.domain, 'silent');
    const started = Date.now();
    const result = await devp2pDns('sync', ['--timeout', '500ms', list.url, join(dir, 'silent')], 20_000);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /DNS TXT lookup of silent\.dns\.test timed out after 500 ms/);
    assert.ok(Date.now() - started < 15_000);
  });
});

describe('devp2p dns: bad input', () => {
  const list = makeList('input.dns.test');
  const nodes = makeNodes(2, 10);
  const treeDir = (name: string, files: Readonly<Record<string, string>>): string => {
    const path = join(dir, 'input', name);
    mkdirSync(path, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
    return path;
  };
  const goodNodes = JSON.stringify(
    Object.fromEntries(nodes.map((n) => [n.id.hex, { seq: 1, record: n.record.toText() }])),
  );

  it('bad usage (URL, resolver, arguments) exits 2 with the reason and the usage', async () => {
    const cases: [string, string[], RegExp][] = [
      ['sync', ['enrtree://nope@x.test'], /<enrtree-url>: invalid link entry: invalid public key/],
      ['sync', ['https://example.org'], /<enrtree-url>: wrong or missing scheme 'enrtree'/],
      [
        'sync',
        ['--resolver', 'localhost:53', list.url],
        /--resolver: expected <ip>:<port> or <ip>, got "localhost:53"/,
      ],
      ['sync', ['--timeout', 'soon', list.url], /--timeout: expected a duration/],
      ['sign', [join(dir, 'x')], /need <dir> and <keyfile>/],
    ];
    for (const [sub, args, reason] of cases) {
      const result = await devp2pDns(sub, args);
      assert.equal(result.code, 2, `${sub} ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /devp2p dns <command>/);
    }
  });

  it('missing or garbled files and a bad key exit 1 naming the file and what is wrong', async () => {
    const other = makeNodes(1, 11)[0]!;
    const cases: [string, string[], RegExp][] = [
      ['sign', [treeDir('empty', {}), list.keyFile], /empty\/nodes\.json: does not exist/],
      ['sign', [treeDir('garbled', { 'nodes.json': '{"a": ' }), list.keyFile], /garbled\/nodes\.json: not valid JSON/],
      [
        'sign',
        [
          treeDir('wrong-id', {
            'nodes.json': JSON.stringify({ [other.id.hex]: JSON.parse(goodNodes)[nodes[0]!.id.hex] }),
          }),
          list.keyFile,
        ],
        /wrong-id\/nodes\.json: node [0-9a-f]{64}: the id does not match id [0-9a-f]{64} of its record/,
      ],
      [
        'sign',
        [
          treeDir('bad-record', { 'nodes.json': JSON.stringify({ [other.id.hex]: { seq: 1, record: 'enr:nope' } }) }),
          list.keyFile,
        ],
        /bad-record\/nodes\.json: node [0-9a-f]{64}: invalid record/,
      ],
      [
        'sign',
        [
          treeDir('bad-link', { 'nodes.json': goodNodes, 'enrtree-info.json': '{"seq": 1, "links": ["nope"]}' }),
          list.keyFile,
        ],
        /bad-link\/enrtree-info\.json: invalid link "nope"/,
      ],
      [
        'sign',
        [treeDir('bad-key', { 'nodes.json': goodNodes }), treeDir('key-dir', { nodekey: 'abcd' }) + '/nodekey'],
        /node key file .*nodekey: too short, want 64 hex characters, got 4/,
      ],
      [
        'to-txt',
        [treeDir('unsigned', { 'nodes.json': goodNodes })],
        /enrtree-info\.json: does not exist: run 'devp2p dns sign' first/,
      ],
    ];
    for (const [sub, args, reason] of cases) {
      const result = await devp2pDns(sub, args);
      assert.equal(result.code, 1, `${sub} ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, reason);
    }
  });

  it('to-txt refuses a tree changed since it was signed', async () => {
    const path = treeDir('changed', { 'nodes.json': goodNodes });
    const signed = await devp2pDns('sign', ['--domain', list.domain, path, list.keyFile]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal(signed.stdout.trim(), list.url);
    const fewer = JSON.parse(goodNodes) as Record<string, unknown>;
    delete fewer[nodes[1]!.id.hex];
    writeFileSync(join(path, 'nodes.json'), JSON.stringify(fewer));
    const result = await devp2pDns('to-txt', [path]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /the signature is not .*'s over this tree \(seq 1\): run 'devp2p dns sign' to update it/,
    );
  });
});
