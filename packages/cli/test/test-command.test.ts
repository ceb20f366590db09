/**
 * `devp2p test discv4|discv5|rlpx` as a user runs it (a child process on this runtime) against a node started here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createNode, type DevP2PNode } from '@devp2p/node';
import { eth, sepolia } from '@devp2p/plugin-eth';
import { runCommand } from './node-process.ts';

const devp2p = runCommand;

interface JsonReport {
  readonly suite: string;
  readonly target: string;
  readonly passed: number;
  readonly failed: number;
  readonly results: readonly { name: string; pass: boolean; reason: string; ms: number }[];
}

describe('devp2p test', () => {
  let node: DevP2PNode;
  let enode: string;
  before(async () => {
    node = createNode({ listenAddr: '127.0.0.1:0', protocols: eth({ chain: sepolia }).protocols, bootnodes: [] });
    await node.start();
    await node.discv4?.refresh();
    enode = node.nodeInfo().enode;
  });
  after(() => node.close());

  it('discv4: a table of case, result, time and reason, and exit code 0 when all pass', async () => {
    const result = await devp2p(['test', 'discv4', '--run', '^Ping/(Basic|WrongTo)$|^ENRRequest$', enode]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0]!, /^CASE +RESULT +TIME +REASON$/);
    assert.match(result.stdout, /\nPing\/Basic +PASS +\d+ ms +Pong with the Ping hash/);
    assert.match(result.stdout, /\nPing\/WrongTo +PASS /);
    assert.match(result.stdout, /\nENRRequest +PASS /);
    assert.match(lines.at(-1)!, /^3 cases: 3 passed, 0 failed$/);
  });

  it('discv5: every case passes against our node given as its ENR, exit code 0, the table and a summary', async () => {
    const result = await devp2p(['test', 'discv5', node.nodeInfo().enr], 90_000);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0]!, /^CASE +RESULT +TIME +REASON$/);
    for (const name of ['Ping', 'PingLargeRequestID', 'PingMultiIP', 'HandshakeResend', 'TalkRequest']) {
      assert.match(result.stdout, new RegExp(`\\n${name} +PASS +\\d+ ms `));
    }
    assert.match(result.stdout, /\nFindnodeResults +PASS .*all 5 bystanders returned/);
    assert.match(lines.at(-1)!, /^11 cases: 11 passed, 0 failed$/);
  });

  it('discv5 --json --run: an enode works as the target too', async () => {
    const result = await devp2p(['test', 'discv5', '--json', '--run', '^(Ping|TalkRequest)$', enode]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.equal(report.suite, 'discv5');
    assert.deepEqual(
      report.results.map((r) => [r.name, r.pass]),
      [
        ['Ping', true],
        ['TalkRequest', true],
      ],
    );
  });

  it('rlpx --json: every case passes against our node on sepolia', async () => {
    const result = await devp2p(['test', 'rlpx', '--json', '--network', 'sepolia', enode], 60_000);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.equal(report.suite, 'rlpx');
    assert.equal(report.target, enode);
    assert.equal(report.failed, 0);
    assert.equal(report.passed, report.results.length);
    assert.ok(report.results.length >= 16);
    assert.ok(report.results.every((r) => r.pass && r.reason.length > 0 && r.ms >= 0));
  });

  it('exit code 1 when a case fails: the node is not on the network named', async () => {
    const result = await devp2p(['test', 'rlpx', '--network', 'mainnet', '--run', 'Eth/StatusMatching', enode]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Eth\/StatusMatching +FAIL .*not mainnet/);
    assert.match(result.stdout, /1 cases: 0 passed, 1 failed/);
  });

  it('--list prints the cases without running them; bad usage exits with 2', async () => {
    const list = await devp2p(['test', 'discv4', '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^Ping\/Basic\n {4}A Ping from an unknown node/);
    assert.match(list.stdout, /\nAmplification\/WrongIP\n/);
    for (const args of [
      ['test'],
      ['test', 'discv6', enode],
      ['test', 'discv5', '--network', 'sepolia', enode],
      ['test', 'discv5', '--run', 'NoSuchCase', enode],
      ['test', 'discv4', '--run', 'NoSuchCase', enode],
      ['test', 'discv4', '--network', 'sepolia', enode],
      ['test', 'rlpx', 'not-a-node'],
    ]) {
      const bad = await devp2p(args);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stdout}${bad.stderr}`);
      assert.match(bad.stderr, /devp2p test <suite>/);
    }
  });
});
