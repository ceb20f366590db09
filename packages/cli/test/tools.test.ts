import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { Discv4, Discv5 } from '@devp2p/discovery';
import { Enr, logDistance, Node, parseNode } from '@devp2p/enode';
import { ping } from '@devp2p/plugin-ping';
import { createServer } from '@devp2p/server';
import { readVectorJson, repoRoot, runtime, until } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { startDevnet } from '../src/commands/devnet.ts';
import { exitedCleanly, runCommand, startCommand } from './node-process.ts';

/** Runs `devp2p <args>` on this test's runtime without blocking the event loop (in-test servers must answer). */
const devp2p = runCommand;

const dir = mkdtempSync(join(tmpdir(), 'devp2p-tools-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('devp2p key', () => {
  it('generates a key file (0600) and inspects it: the same node id, an enode URL on 127.0.0.1:30303', async () => {
    const file = join(dir, 'nodekey');
    const generated = await devp2p(['key', 'generate', file]);
    assert.equal(generated.code, 0, generated.stderr);
    assert.match(readFileSync(file, 'utf8'), /^[0-9a-f]{64}$/);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    const id = /Node ID: ([0-9a-f]{64})/.exec(generated.stdout)?.[1];
    assert.ok(id, generated.stdout);
    const inspected = await devp2p(['key', 'inspect', file]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.match(inspected.stdout, new RegExp(`Node ID: +${id}`));
    assert.match(inspected.stdout, /Enode URL: +enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:30303\n/);
    assert.match(inspected.stdout, /Record: +enr:/);
    const again = await devp2p(['key', 'generate', file]);
    assert.equal(again.code, 1, 'an existing key file is not replaced');
  });

  it('the launcher in bin/ runs from any working directory, not only inside the clone', () => {
    const launcher = join(repoRoot, 'packages', 'cli', 'bin', 'devp2p.mjs');
    const args = runtime === 'deno' ? ['run', '-A', launcher, '--version'] : [launcher, '--version'];
    const result = spawnSync(process.execPath, args, { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^devp2p \d+\.\d+\.\d+/);
  });

  it('rejects bad usage with exit code 2 and the usage', async () => {
    const result = await devp2p(['key', 'frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /devp2p key <generate\|inspect>/);
  });
});

interface Eip778Vector {
  readonly source_values: { readonly text: string; readonly node_id: string };
}

describe('devp2p enr decode', () => {
  it('prints the EIP-778 example record: node id, seq, valid signature, fields', async () => {
    const vector = readVectorJson<Eip778Vector>('enr/eip778-example.json').source_values;
    const text = await devp2p(['enr', 'decode', vector.text]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`Node ID: ${vector.node_id}`));
    assert.match(text.stdout, /sequence number 1 and 4 key\/value pairs/);
    assert.match(text.stdout, /Signature: valid/);
    assert.match(text.stdout, /"ip" +127\.0\.0\.1/);
    assert.match(text.stdout, /"udp" +30303/);
    const json = await devp2p(['enr', 'decode', '--json', vector.text]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(parsed.nodeId, vector.node_id);
    assert.equal(parsed.seq, 1);
    assert.equal(parsed.signatureValid, true);
    assert.deepEqual(parsed.fields, {
      id: 'v4',
      ip: '127.0.0.1',
      secp256k1: '03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138',
      udp: 30303,
    });
  });
});

describe('devp2p rlpx ping', () => {
  it("prints an in-test server's client name and png/1", async () => {
    const server = createServer({
      privateKey: generatePrivateKey(),
      name: 'tools-test-server',
      listenAddr: '127.0.0.1:0',
      protocols: [ping],
    });
    await server.start();
    try {
      const result = await devp2p(['rlpx', 'ping', '--timeout', '5s', server.self.toEnodeUrl()]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Client: +tools-test-server/);
      assert.match(result.stdout, /png\/1/);
    } finally {
      await server.close();
    }
  });

  it('reports "too many peers" from a server with maxPeers 0, with a non-zero exit code', async () => {
    const server = createServer({ privateKey: generatePrivateKey(), listenAddr: '127.0.0.1:0', maxPeers: 0 });
    await server.start();
    try {
      const result = await devp2p(['rlpx', 'ping', server.self.toEnodeUrl()]);
      assert.notEqual(result.code, 0);
      assert.match(result.stdout + result.stderr, /too many peers/);
    } finally {
      await server.close();
    }
  });
});

describe('devp2p discv5', () => {
  it('ping, requestenr, resolve, findnode and talk against an in-test discv5 node', async () => {
    const disc = await Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    disc.registerTalkProtocol('echo', (request) => Uint8Array.of(...request, 0xff));
    const neighbour = await Discv5.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
    });
    try {
      await neighbour.ping(disc.self); // the handshake puts it in disc's table, live
      const distance = logDistance(disc.self.id, neighbour.self.id);
      const target = disc.self.record.toText();
      const run = (...args: string[]) => devp2p(['discv5', args[0]!, '--addr', '127.0.0.1:0', ...args.slice(1)]);
      const pinged = await run('ping', target);
      assert.equal(pinged.code, 0, pinged.stderr);
      assert.match(
        pinged.stdout,
        new RegExp(
          `responded to ping \\(RTT [\\d.]+ ms, record seq ${disc.self.seq}, saw us at 127\\.0\\.0\\.1:\\d+\\)`,
        ),
      );
      const requested = await run('requestenr', target);
      assert.equal(requested.code, 0, requested.stderr);
      assert.equal(requested.stdout.trim(), target);
      const resolved = await run('resolve', disc.self.toEnodeUrl());
      assert.equal(resolved.code, 0, resolved.stderr);
      assert.equal(resolved.stdout.trim(), target, 'the record, found from the enode URL alone');
      const found = await run('findnode', target, `${distance},0`);
      assert.equal(found.code, 0, found.stderr);
      // Itself for distance 0, and the neighbour (the CLI's own earlier instances may be there too).
      const lines = found.stdout.trim().split('\n');
      assert.ok(lines.includes(target), found.stdout);
      assert.ok(lines.includes(neighbour.self.record.toText()), found.stdout);
      const echoed = await run('talk', target, 'echo', '0x0102');
      assert.equal(echoed.stdout.trim(), '0x0102ff', echoed.stderr);
      const unknown = await run('talk', target, 'nobody');
      assert.equal(unknown.stdout.trim(), '0x');
      const bad = await run('findnode', target, '257');
      assert.equal(bad.code, 2, 'a usage error');
    } finally {
      await Promise.all([disc.close(), neighbour.close()]);
    }
  });

  it("crawl --timeout 5s finds every node of a 5-node network and writes them in geth's nodes.json format", async () => {
    const start = (bootnodes: Discv5[]): Promise<Discv5> =>
      Discv5.start({
        privateKey: generatePrivateKey(),
        transport: udpTransport,
        host: '127.0.0.1',
        bootnodes: bootnodes.map((b) => b.self),
      });
    const a = await start([]);
    const network = [a, ...(await Promise.all([start([a]), start([a]), start([a]), start([a])]))];
    try {
      // The bootnode knows the others once their first lookups reached it.
      await until(() => a.table.size >= 4, 10_000, "the bootnode's table");
      const out = join(dir, 'nodes-v5.json');
      const result = await devp2p([
        'discv5',
        'crawl',
        '--timeout',
        '5s',
        '--addr',
        '127.0.0.1:0',
        '--out',
        out,
        '--bootnodes',
        a.self.record.toText(),
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Crawling: found \d+, checked \d+, responded \d+, table \d+, \ds/);
      assert.match(result.stderr, /Crawl done: 5 nodes with a record written to /);
      const text = readFileSync(out, 'utf8');
      const set = JSON.parse(text) as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(set), network.map((n) => n.self.id.hex).sort(), 'every node, sorted by id');
      for (const node of network) {
        const entry = set[node.self.id.hex]!;
        assert.deepEqual(Object.keys(entry), ['seq', 'record', 'score', 'firstResponse', 'lastResponse', 'lastCheck']);
        assert.equal(entry.record, node.self.record.toText());
        assert.equal(entry.seq, Number(node.self.seq));
        assert.equal(entry.score, 1);
        for (const field of ['firstResponse', 'lastResponse', 'lastCheck']) {
          assert.match(String(entry[field]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        }
      }
      assert.match(text, /^\{\n {4}"/, "geth's four-space indent");

      // A second crawl from the file alone raises every score.
      const again = await devp2p(['discv5', 'crawl', '--timeout', '2s', '--addr', '127.0.0.1:0', '--out', out]);
      assert.equal(again.code, 0, again.stderr);
      const rescored = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { score: number }>;
      for (const node of network) assert.equal(rescored[node.self.id.hex]?.score, 2);
      const none = await devp2p(['discv5', 'crawl', '--out', join(dir, 'missing.json')]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no bootnodes/);
    } finally {
      await Promise.all(network.map((n) => n.close()));
    }
  });

  it('listen prints its record, answers requests, and stops on Ctrl-C', async () => {
    const peer = await Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    const listen = startCommand([
      'discv5',
      'listen',
      '--addr',
      '127.0.0.1:0',
      '--bootnodes',
      peer.self.record.toText(),
    ]);
    try {
      await until(
        () => /^enr:\S+\n/.test(listen.stdout()) && /Listening on/.test(listen.stderr()),
        30_000,
        'the record',
        {
          context: () => listen.stderr(),
        },
      );
      const listener = Node.fromRecord(Enr.decodeText(listen.stdout().split('\n')[0]!));
      assert.equal(listener.ip, '127.0.0.1');
      const pong = await peer.ping(listener);
      assert.equal(pong.enrSeq, listener.seq);
      assert.equal((await peer.requestENR(listener)).id.hex, listener.id.hex);
      assert.equal((await peer.talkRequest(listener, 'echo', Uint8Array.of(1))).length, 0, 'no talk protocols');
      // It joined through its bootnode: the bootnode has it in its table.
      await until(() => peer.table.get(listener.id) !== undefined, 10_000, "the bootnode's table");
      const code = await listen.interrupt();
      assert.match(listen.stderr(), /Stopped/);
      assert.ok(exitedCleanly(code), `exit code ${code}:\n${listen.stderr()}`);
    } finally {
      listen.child.kill('SIGKILL');
      await peer.close();
    }
  });

  it('crawl stops on Ctrl-C and still writes what it found', async () => {
    const a = await Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    const out = join(dir, 'interrupted.json');
    const crawl = startCommand([
      'discv5',
      'crawl',
      '--timeout',
      '10m',
      '--addr',
      '127.0.0.1:0',
      '--out',
      out,
      '--bootnodes',
      a.self.record.toText(),
    ]);
    try {
      await until(() => /responded 1,/.test(crawl.stderr()), 30_000, 'a progress line', {
        context: () => crawl.stderr(),
      });
      const interrupted = Date.now();
      const code = await crawl.interrupt();
      assert.ok(Date.now() - interrupted < 5_000, 'it stopped at once');
      assert.ok(exitedCleanly(code), `exit code ${code}:\n${crawl.stderr()}`);
      assert.match(crawl.stderr(), /Crawl done: 1 nodes with a record written to /);
      assert.deepEqual(Object.keys(JSON.parse(readFileSync(out, 'utf8'))), [a.self.id.hex]);
    } finally {
      crawl.child.kill('SIGKILL');
      await a.close();
    }
  });

  it('says when nothing answers within --timeout', async () => {
    const silent = await udpTransport.bind({ host: '127.0.0.1', port: 0 }, () => undefined);
    try {
      const node = Enr.create({ ip: '127.0.0.1', udp: silent.address.port }, 1n).sign(generatePrivateKey());
      const result = await devp2p(['discv5', 'ping', '--addr', '127.0.0.1:0', '--timeout', '300ms', node.toText()]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /no answer from .* within --timeout 300 ms/);
    } finally {
      await silent.close();
    }
  });
});

describe('devp2p discv4', () => {
  it('ping and requestenr against an in-test discv4 node', async () => {
    const disc = await Discv4.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    try {
      const target = disc.self.toEnodeUrl();
      const pinged = await devp2p(['discv4', 'ping', '--addr', '127.0.0.1:0', target]);
      assert.equal(pinged.code, 0, pinged.stderr);
      assert.match(pinged.stdout, /responded to ping \(RTT [\d.]+ ms/);
      const requested = await devp2p(['discv4', 'requestenr', '--addr', '127.0.0.1:0', target]);
      assert.equal(requested.code, 0, requested.stderr);
      const decoded = await devp2p(['enr', 'decode', requested.stdout.trim()]);
      assert.match(decoded.stdout, new RegExp(`Node ID: ${disc.self.id.hex}`));
      const resolved = await devp2p(['discv4', 'resolve', '--addr', '127.0.0.1:0', target]);
      assert.equal(resolved.code, 0, resolved.stderr);
      assert.match(resolved.stdout, /^enr:/);
    } finally {
      await disc.close();
    }
  });

  it('crawl --timeout 5s writes a nodes.json (geth format) holding a 3-node network', async () => {
    const start = (bootnodes: Discv4[]): Promise<Discv4> =>
      Discv4.start({
        privateKey: generatePrivateKey(),
        transport: udpTransport,
        host: '127.0.0.1',
        bootnodes: bootnodes.map((b) => b.self),
      });
    const a = await start([]);
    const b = await start([a]);
    const c = await start([a]);
    try {
      const deadline = Date.now() + 10_000;
      while (a.table.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const out = join(dir, 'nodes.json');
      const result = await devp2p([
        'discv4',
        'crawl',
        '--timeout',
        '5s',
        '--addr',
        '127.0.0.1:0',
        '--out',
        out,
        '--bootnodes',
        a.self.toEnodeUrl(),
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Crawling: found/);
      const set = JSON.parse(readFileSync(out, 'utf8')) as Record<string, Record<string, unknown>>;
      for (const node of [a, b, c]) {
        const entry = set[node.self.id.hex];
        assert.ok(entry, `${node.self.id.short()} in nodes.json:\n${JSON.stringify(set, null, 2)}\n${result.stderr}`);
        assert.match(String(entry.record), /^enr:/);
        assert.equal(typeof entry.seq, 'number');
        assert.ok(Number(entry.score) >= 1);
        for (const field of ['firstResponse', 'lastResponse', 'lastCheck']) {
          assert.match(String(entry[field]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        }
      }
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('devp2p devnet', () => {
  it('forms the full mesh through its bootnode, whose enode carries a usable discovery port', async () => {
    const devnet = await startDevnet({ nodes: 5, logger: createLogger({ level: 'error', sink: () => undefined }) });
    try {
      // Each pair connected, seen from both ends.
      await until(
        () => devnet.fullMesh() && devnet.members.every((m) => m.node.peers().length === 4),
        20_000,
        'the full mesh',
      );
      const bootnode = parseNode(devnet.members[0]!.node.nodeInfo().enode);
      assert.ok(bootnode.udp > 0 && bootnode.udp === bootnode.tcp, `discv4 on the TCP port: ${bootnode.toEnodeUrl()}`);
      for (const member of devnet.members) {
        assert.equal(member.node.peers().length, 4);
        for (const peer of member.node.peers()) assert.ok(peer.caps.some((c) => c.name === 'eth'));
      }
    } finally {
      await devnet.close();
    }
  });

  it('--nodes 3 --duration 8 --full-ids --http: logs each connection and the full mesh, ends by itself', async () => {
    const result = await devp2p(['devnet', '--nodes', '3', '--duration', '8', '--full-ids', '--http'], 40_000);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /devnet: bootnode enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+\n/);
    assert.match(result.stdout, /devnet: full mesh of 3 nodes after/);
    const last = result.stdout.slice(result.stdout.lastIndexOf('devnet: 3 nodes on 127.0.0.1'));
    assert.match(last, /3 of 3 links/);
    const rows = [...last.matchAll(/^ {2}(\d+) +([0-9a-f]{64}) +([\d,]+) +(\d+)\/(\d+) +(\d+)$/gm)];
    assert.equal(rows.length, 3, last);
    for (const row of rows) assert.equal(row[3]!.split(',').length, 2, `node ${row[1]} sees both others:\n${last}`);
  });

  it('rejects an unknown --runtime', async () => {
    const result = await devp2p(['devnet', '--runtime', 'java'], 20_000);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--runtime: expected node, bun or deno/);
  });
});
