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

/** The cases that wait for the node to take bystanders into its table: they can only fail at their deadline. */
const TABLE_CASES = new Set(['FindnodeResults']);
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
    const outcomes = await Promise.all(
      discv5Cases.map(async (c) => {
        const fake = await FakeDiscv5.start([BREAKS[c.name]!]);
        try {
          return { name: c.name, result: await c.run(fake.node, { timeoutMs: BROKEN_TIMEOUT_MS }) };
        } finally {
          await fake.close();
        }
      }),
    );
    const passed = outcomes.filter((o) => o.result.pass).map((o) => `${o.name} passed against '${BREAKS[o.name]}'`);
    assert.deepEqual(passed, []);
    for (const { name, result } of outcomes) {
      assert.ok(result.reason.length > 0, `${name} says why it failed`);
      assert.doesNotMatch(result.reason, /^error:/, `${name} failed on the rule, not by crashing: ${result.reason}`);
      if (TABLE_CASES.has(name)) assert.match(result.reason, /bystanders not yet returned/);
      else assert.doesNotMatch(result.reason, /deadline/, `${name} failed on the rule: ${result.reason}`);
    }
  });
});
