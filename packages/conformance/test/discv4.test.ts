/**
 * The discv4 cases against our own node (all pass), against a correct test responder (all pass), and each against
 * a responder that breaks the one rule it checks (each fails), over real UDP sockets on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseNode } from '@devp2p/enode';
import { createNode, type DevP2PNode } from '@devp2p/node';
import { eth, sepolia } from '@devp2p/plugin-eth';
import { discv4Cases, type NamedCaseResult, runCases } from '../src/index.ts';
import { type Discv4Break, FakeDiscv4 } from './fake-discv4.ts';

/** The rule each case checks, as the fake responder breaks it. */
const BREAKS: Readonly<Record<string, Discv4Break>> = {
  'Ping/Basic': 'pong-wrong-token',
  'Ping/WrongTo': 'drop-ping-wrong-to',
  'Ping/WrongFrom': 'drop-ping-wrong-from',
  'Ping/ExtraData': 'strict-list',
  'Ping/ExtraDataWrongFrom': 'strict-trailing',
  'Ping/PastExpiration': 'ping-ignores-expiration',
  'Ping/WrongPacketType': 'answer-unknown-type',
  'Ping/BondThenPingWithWrongFrom': 'drop-bonded-ping-wrong-from',
  'Ping/ReplyFromTargetAddress': 'reply-from-other-socket',
  'Pong/Unsolicited': 'unsolicited-pong-bonds',
  'Pong/Bonded': 'pong-stale-seq',
  ENRRequest: 'enr-foreign-record',
  'ENRRequest/WithoutEndpointProof': 'enr-without-bond',
  'ENRRequest/PastExpiration': 'enr-ignores-expiration',
  'Findnode/WithoutEndpointProof': 'findnode-without-bond',
  'Findnode/BasicFindnode': 'no-neighbors',
  'Findnode/UnsolicitedNeighbors': 'accept-unsolicited-neighbors',
  'Findnode/PastExpiration': 'findnode-ignores-expiration',
  'Findnode/NeighborsSizeLimit': 'neighbors-one-packet',
  'Amplification/InvalidPongHash': 'pong-any-token',
  'Amplification/WrongIP': 'bond-by-id',
  'Packet/Oversize': 'accept-oversize',
  'Packet/Malformed': 'ignore-hash',
};

const GETH_V4TEST = [
  'Ping/Basic',
  'Ping/WrongTo',
  'Ping/WrongFrom',
  'Ping/ExtraData',
  'Ping/ExtraDataWrongFrom',
  'Ping/PastExpiration',
  'Ping/WrongPacketType',
  'Ping/BondThenPingWithWrongFrom',
  'ENRRequest',
  'Findnode/WithoutEndpointProof',
  'Findnode/BasicFindnode',
  'Findnode/UnsolicitedNeighbors',
  'Findnode/PastExpiration',
  'Amplification/InvalidPongHash',
  'Amplification/WrongIP',
];

function failures(results: readonly NamedCaseResult[]): string[] {
  return results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.reason}`);
}

describe('discv4 cases', () => {
  it("include geth's fifteen v4test cases, and each names a broken rule the tests break", () => {
    const names = discv4Cases.map((c) => c.name);
    for (const name of GETH_V4TEST) assert.ok(names.includes(name), `${name} is missing`);
    assert.deepEqual(names.slice().sort(), Object.keys(BREAKS).sort());
    assert.equal(new Set(names).size, names.length, 'unique names');
    for (const c of discv4Cases) {
      assert.equal(c.suite, 'discv4');
      assert.ok(c.description.length > 20 && c.spec.length > 5, `${c.name} is described`);
    }
  });

  describe('against our node (createNode with the eth plugin)', () => {
    let node: DevP2PNode;
    before(async () => {
      node = createNode({ listenAddr: '127.0.0.1:0', protocols: eth({ chain: sepolia }).protocols, bootnodes: [] });
      await node.start();
      // Nodes that bond with it join its table only after the first refresh, as in geth.
      await node.discv4?.refresh();
    });
    after(() => node.close());

    it('every case passes', async () => {
      const results = await runCases(discv4Cases, parseNode(node.nodeInfo().enode));
      assert.equal(results.length, discv4Cases.length);
      assert.deepEqual(failures(results), []);
    });
  });

  it('every case passes against the test responder when it breaks nothing', async () => {
    const fake = await FakeDiscv4.start();
    try {
      // Concurrently: each case has its own sockets and key.
      const results = await Promise.all(discv4Cases.map(async (c) => ({ name: c.name, ...(await c.run(fake.node)) })));
      assert.deepEqual(failures(results), []);
    } finally {
      await fake.close();
    }
  });

  it('every case fails against a responder that breaks the rule it checks', async () => {
    const outcomes = await Promise.all(
      discv4Cases.map(async (c) => {
        const fake = await FakeDiscv4.start([BREAKS[c.name]!]);
        try {
          return { name: c.name, result: await c.run(fake.node) };
        } finally {
          await fake.close();
        }
      }),
    );
    const passed = outcomes.filter((o) => o.result.pass).map((o) => `${o.name} passed against '${BREAKS[o.name]}'`);
    assert.deepEqual(passed, []);
    for (const { name, result } of outcomes) {
      assert.ok(result.reason.length > 0, `${name} says why it failed`);
      assert.doesNotMatch(
        result.reason,
        /^error:|deadline/,
        `${name} failed on the rule, not by crashing: ${result.reason}`,
      );
    }
  });
});
