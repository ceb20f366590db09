/**
 * Bad input from the user (flags, files) and from the network, as the CLI meets it: a clear message and a non-zero
 * exit, promptly, never a hang; and the discv4 tools' deadlines, endpoints and output.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bytesToHex, ProtocolError, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Discv4, decodePacket } from '@devp2p/discovery';
import { decodeHello, MAX_HELLO_CAPS } from '@devp2p/server';
import { udpTransport } from '@devp2p/transport-node';
import { runCommand } from './node-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'devp2p-bad-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const enodeOf = (port: number): string =>
  `enode://${bytesToHex(publicKeyFromPrivate(generatePrivateKey()))}@127.0.0.1:${port}`;

async function timed(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const result = await runCommand(args, 30_000);
  return { ...result, ms: Date.now() - started };
}

describe('devp2p node: unusable flags and files', () => {
  it('a --datadir that cannot be a directory fails at once with the reason (/proc/x hung on Node)', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const datadir of ['/proc/x', join(file, 'sub')]) {
      const result = await timed(['node', '--datadir', datadir, '--port', '0', '--nodiscover']);
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`--datadir ${datadir.replaceAll('/', '\\/')}: cannot create the directory`),
      );
    }
  });

  it('an empty or malformed --netrestrict is a usage error naming the bad item', async () => {
    const empty = await timed(['node', '--datadir', join(dir, 'n1'), '--netrestrict', '']);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--netrestrict: empty list/);
    const bad = await timed(['node', '--datadir', join(dir, 'n1'), '--netrestrict', '10.0.0.0/8,10.0.0.0/33']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--netrestrict: invalid network "10\.0\.0\.0\/33"/);
  });

  it('a bad --http.vhosts or --http.corsdomain is a usage error naming the value', async () => {
    const vhosts = await timed(['node', '--datadir', join(dir, 'h1'), '--http', '--http.vhosts', 'evil example']);
    assert.equal(vhosts.code, 2);
    assert.match(vhosts.stderr, /--http\.vhosts: "evil example" is not a host name/);
    const cors = await timed(['node', '--datadir', join(dir, 'h1'), '--http', '--http.corsdomain', 'localhost:3000']);
    assert.equal(cors.code, 2);
    assert.match(cors.stderr, /--http\.corsdomain: "localhost:3000" is not an origin like http:\/\/localhost:3000/);
  });

  it('a malformed static-nodes.json entry is reported with its entry and line', async () => {
    const datadir = join(dir, 'static');
    rmSync(datadir, { recursive: true, force: true });
    const good = enodeOf(30303);
    mkdirSync(datadir, { recursive: true });
    writeFileSync(join(datadir, 'static-nodes.json'), `[\n  "${good}",\n  "enode://nope@1.2.3.4:30303"\n]\n`);
    const result = await timed(['node', '--datadir', datadir, '--port', '0', '--nodiscover']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /static-nodes\.json: entry 2 \(line 3\): /);
    writeFileSync(join(datadir, 'static-nodes.json'), `["${good}", 42]`);
    const notString = await timed(['node', '--datadir', datadir, '--port', '0', '--nodiscover']);
    assert.equal(notString.code, 2);
    assert.match(notString.stderr, /static-nodes\.json: entry 2: expected an enode URL string, got 42/);
  });
});

describe('Hello: counts and versions out of range', () => {
  const nodeId = publicKeyFromPrivate(generatePrivateKey());
  const hello = (version: number | bigint, caps: [string, number | bigint][]) =>
    rlpEncode([version, 'x', caps, 0, nodeId]);

  it('names caps (not bytes) when a Hello lists too many, and the field when a version is out of range', () => {
    const many = Array.from({ length: MAX_HELLO_CAPS + 1 }, (_, i): [string, number] => [`c${i % 10}`, i]);
    assert.throws(
      () => decodeHello(hello(5, many)),
      (e: unknown) => e instanceof ProtocolError && /lists 257 caps, more than the 256 accepted/.test(e.message),
    );
    assert.throws(
      () => decodeHello(hello(2n ** 33n, [['eth', 68]])),
      (e: unknown) => e instanceof ProtocolError && /Hello version 8589934592 is out of range/.test(e.message),
    );
    assert.throws(
      () =>
        decodeHello(
          hello(5, [
            ['eth', 68],
            ['snap', 2n ** 40n],
          ]),
        ),
      (e: unknown) => e instanceof ProtocolError && /Hello cap 1 version .* out of range/.test(e.message),
    );
    assert.equal(decodeHello(hello(5, [['eth', 68]])).caps[0]!.version, 68);
  });
});

describe('devp2p discv4 tools', () => {
  it('ping and requestenr wait for --timeout (not discv4’s 500 ms) and say so when nothing answers', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const target = enodeOf(silent.address().port);
      for (const command of ['ping', 'requestenr']) {
        const result = await timed(['discv4', command, '--addr', '127.0.0.1:0', '--timeout', '1500ms', target]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /no answer from [0-9a-f]+ within --timeout 1500 ms/);
        assert.ok(result.ms >= 1_400, `${command} waited for the deadline (${result.ms} ms)`);
      }
    } finally {
      silent.close();
    }
  });

  it('a tool bound to 0.0.0.0 puts a real IP in its Ping’s from endpoint', async () => {
    const listener = createSocket('udp4');
    const received = new Promise<Uint8Array>((resolve) =>
      listener.once('message', (msg) => resolve(new Uint8Array(msg))),
    );
    await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
    try {
      const run = timed(['discv4', 'ping', '--timeout', '500ms', enodeOf(listener.address().port)]);
      const { packet } = decodePacket(await received);
      assert.equal(packet.type, 'ping');
      if (packet.type === 'ping') assert.equal(packet.from.ip, '127.0.0.1');
      await run;
    } finally {
      listener.close();
    }
  });

  it('resolve prints the record once; crawl leaves no abort listeners behind (no MaxListenersExceededWarning)', async () => {
    const nodes: Discv4[] = [];
    const start = (bootnodes: Discv4[]) =>
      Discv4.start({
        privateKey: generatePrivateKey(),
        transport: udpTransport,
        host: '127.0.0.1',
        bootnodes: bootnodes.map((b) => b.self),
      });
    nodes.push(await start([]));
    for (let i = 0; i < 7; i++) nodes.push(await start([nodes[0]!]));
    try {
      const resolved = await timed(['discv4', 'resolve', '--addr', '127.0.0.1:0', nodes[0]!.self.toEnodeUrl()]);
      assert.equal(resolved.code, 0, resolved.stderr);
      assert.equal(resolved.stdout.trim().split('\n').length, 1, resolved.stdout);
      const out = join(dir, 'crawl.json');
      const crawl = await timed([
        'discv4',
        'crawl',
        '--timeout',
        '4s',
        '--addr',
        '127.0.0.1:0',
        '--out',
        out,
        '--bootnodes',
        nodes[0]!.self.toEnodeUrl(),
      ]);
      assert.equal(crawl.code, 0, crawl.stderr);
      assert.doesNotMatch(crawl.stderr, /MaxListenersExceeded/);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});
