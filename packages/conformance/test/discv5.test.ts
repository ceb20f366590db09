/**
 * The discv5 cases against our node (all pass), against a correct test responder (all pass), and each against a
 * responder that breaks the one rule it checks (each fails), over real UDP sockets on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseNode } from '@devp2p/enode';
import { createNode, type DevP2PNode } from '@devp2p/node';
import { eth, sepolia } from '@devp2p/plugin-eth';
import { discv5Cases, type NamedCaseResult, runCases } from '../src/index.ts';
import { type Discv5Break, FakeDiscv5 } from './fake-discv5.ts';

/** The rule each case checks, as the fake responder breaks it. */
const BREAKS: Readonly<Record<string, Discv5Break>> = {
  Ping: 'pong-wrong-port',
  PingMaxRequestID: 'truncate-request-id',
  PingLargeRequestID: 'accept-long-request-id',
  PingMultiIP: 'session-by-id',
  HandshakeResend: 'new-challenge',
  TalkRequest: 'talk-echo',
  FindnodeZeroDistance: 'zero-distance-empty',
  PingStaleENR: 'pong-stale-seq',
  HandshakeStaleENR: 'whoareyou-seq-zero',
  FindnodeResults: 'no-table',
  FindnodeMultiplePackets: 'nodes-total-one',
};

const GETH_V5TEST = [
  'Ping',
  'PingLargeRequestID',
  'PingMultiIP',
  'HandshakeResend',
  'TalkRequest',
  'FindnodeZeroDistance',
  'FindnodeResults',
];

/** More rules a case checks, each broken on its own as well. */
const MORE_BREAKS: readonly (readonly [string, Discv5Break])[] = [['HandshakeStaleENR', 'keep-old-record']];

/**
 * The breaks a case can only notice at its deadline (it waits for the node's table to change), and what its reason
 * then says.
 */
const DEADLINE_REASONS: Readonly<Partial<Record<Discv5Break, RegExp>>> = {
  'no-table': /bystanders not yet returned/,
  'keep-old-record': /the record of seq 4: \S+ returned with seq 3\)$/,
};
/** Deadline of each case against a broken responder: long enough for every exchange, short for the table case. */
const BROKEN_TIMEOUT_MS = 6_000;

function failures(results: readonly NamedCaseResult[]): string[] {
  return results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.reason}`);
}

describe('discv5 cases', () => {
  it("include geth's seven v5test cases, and each names a broken rule the tests break", () => {
    const names = discv5Cases.map((c) => c.name);
    for (const name of GETH_V5TEST) assert.ok(names.includes(name), `${name} is missing`);
    assert.deepEqual(names.slice().sort(), Object.keys(BREAKS).sort());
    assert.equal(new Set(names).size, names.length, 'unique names');
    for (const c of discv5Cases) {
      assert.equal(c.suite, 'discv5');
      assert.ok(c.description.length > 20 && c.spec.length > 5, `${c.name} is described`);
    }
  });

  describe('against our node (createNode with the eth plugin)', () => {
    let node: DevP2PNode;
    before(async () => {
      node = createNode({ listenAddr: '127.0.0.1:0', protocols: eth({ chain: sepolia }).protocols, bootnodes: [] });
      await node.start();
    });
    after(() => node.close());

    it('every case passes, the target given as its ENR', async () => {
      const results = await runCases(discv5Cases, parseNode(node.nodeInfo().enr));
      assert.equal(results.length, discv5Cases.length);
      assert.deepEqual(failures(results), []);
    });
  });

  it('every case passes against the test responder when it breaks nothing', async () => {
    const fake = await FakeDiscv5.start();
    try {
      const results = await runCases(discv5Cases, fake.node);
      assert.deepEqual(failures(results), []);
    } finally {
      await fake.close();
    }
  });

  it('every case fails against a responder that breaks the rule it checks', async () => {
    const pairs = [...discv5Cases.map((c) => [c.name, BREAKS[c.name]!] as const), ...MORE_BREAKS];
    const outcomes = await Promise.all(
      pairs.map(async ([name, broken]) => {
        const c = discv5Cases.find((d) => d.name === name)!;
        const fake = await FakeDiscv5.start([broken]);
        try {
          return { name, broken, result: await c.run(fake.node, { timeoutMs: BROKEN_TIMEOUT_MS }) };
        } finally {
          await fake.close();
        }
      }),
    );
    const passed = outcomes.filter((o) => o.result.pass).map((o) => `${o.name} passed against '${o.broken}'`);
    assert.deepEqual(passed, []);
    for (const { name, broken, result } of outcomes) {
      const what = `${name} against '${broken}'`;
      assert.ok(result.reason.length > 0, `${what} says why it failed`);
      assert.doesNotMatch(result.reason, /^error:/, `${what} failed on the rule, not by crashing: ${result.reason}`);
      const atDeadline = DEADLINE_REASONS[broken];
      if (atDeadline) assert.match(result.reason, atDeadline, what);
      else assert.doesNotMatch(result.reason, /deadline/, `${what} failed on the rule: ${result.reason}`);
    }
  });
});
