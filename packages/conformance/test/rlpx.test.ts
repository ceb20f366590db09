/**
 * The RLPx cases against our own node (all pass), against a correct test node (all pass), and each against a node
 * that breaks the one rule it checks (each fails), over real TCP connections on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseNode } from '@devp2p/enode';
import { createNode, type DevP2PNode } from '@devp2p/node';
import { eth, mainnet, sepolia } from '@devp2p/plugin-eth';
import { type NamedCaseResult, rlpxCases, runCases } from '../src/index.ts';
import { FakeRlpx, type RlpxBreak } from './fake-rlpx.ts';

/** The rule each case checks, as the fake node breaks it. */
const BREAKS: Readonly<Record<string, RlpxBreak>> = {
  'RLPx/HandshakeEIP8': 'reject-eip8',
  'RLPx/HandshakeLegacy': 'reject-legacy',
  'RLPx/HandshakeWrongKey': 'hang-on-bad-auth',
  'RLPx/BadMAC': 'skip-mac-check',
  'Hello/UnsortedDuplicateCaps': 'first-cap-version',
  'Hello/OldVersion': 'accept-any-version',
  'Hello/FutureVersion': 'strict-hello',
  'Hello/WrongIdentity': 'no-identity-check',
  'Base/PingPong': 'no-pong',
  'Base/DisconnectHonoured': 'ignore-disconnect',
  'RLPx/OversizeMessage': 'no-size-limit',
  'Snappy/Negotiated': 'never-snappy',
  'Snappy/NotWithVersion4': 'always-snappy',
  'Eth/StatusMatching': 'reject-status',
  'Eth/StatusForkIdMismatch': 'ignore-fork-id',
  'Eth/UnservableRequest': 'ignore-unknown-request',
};

function failures(results: readonly NamedCaseResult[]): string[] {
  return results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.reason}`);
}

describe('RLPx cases', () => {
  it('each names a broken rule the tests break', () => {
    const names = rlpxCases.map((c) => c.name);
    assert.deepEqual(names.slice().sort(), Object.keys(BREAKS).sort());
    assert.equal(new Set(names).size, names.length, 'unique names');
    for (const c of rlpxCases) {
      assert.equal(c.suite, 'rlpx');
      assert.ok(c.description.length > 20 && c.spec.length > 5, `${c.name} is described`);
    }
  });

  describe('against our node (createNode with the eth plugin, sepolia)', () => {
    let node: DevP2PNode;
    before(async () => {
      node = createNode({
        listenAddr: '127.0.0.1:0',
        protocols: eth({ chain: sepolia }).protocols,
        discovery: false,
      });
      await node.start();
    });
    after(() => node.close());

    it('every case passes, the eth ones checking the Status names sepolia', async () => {
      const results = await runCases(rlpxCases, parseNode(node.nodeInfo().enode), { chain: sepolia });
      assert.equal(results.length, rlpxCases.length);
      assert.deepEqual(failures(results), []);
    });

    it('the eth cases fail when the node is expected on another network', async () => {
      const results = await runCases(rlpxCases, parseNode(node.nodeInfo().enode), { chain: mainnet, filter: /^Eth\// });
      assert.equal(results.length, 3);
      for (const r of results) {
        assert.equal(r.pass, false, r.name);
        assert.match(r.reason, /not mainnet/);
      }
    });
  });

  it('every case passes against the test node when it breaks nothing', async () => {
    const fake = await FakeRlpx.start();
    try {
      assert.deepEqual(failures(await runCases(rlpxCases, fake.node, { chain: sepolia })), []);
    } finally {
      await fake.close();
    }
  });

  it('every case fails against a node that breaks the rule it checks', async () => {
    const outcomes = await Promise.all(
      rlpxCases.map(async (c) => {
        const fake = await FakeRlpx.start([BREAKS[c.name]!]);
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
      assert.doesNotMatch(
        result.reason,
        /^error:|deadline/,
        `${name} failed on the rule, not by crashing: ${result.reason}`,
      );
    }
  });
});
