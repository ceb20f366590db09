// The Status handshake between two attached instances, through linked fake ProtocolIOs (test/fake-peer.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DisconnectReason,
  HandshakeMismatchError,
  ManualClock,
  type MessageMap,
  type Protocol,
  TimeoutError,
} from '@devp2p/core';
import { until } from '@devp2p/test-utils';
import {
  type ChainProvider,
  customChain,
  ETH_VERSIONS,
  type Eth69Protocol,
  EthLimitError,
  type EthProtocols,
  EthStatusError,
  eth,
  forkId,
  hoodi,
  MAX_MESSAGE_SIZE,
  mainnet,
  sepolia,
  status68Codec,
  status69Codec,
} from '../src/index.ts';
import { connect, FakePeer } from './fake-peer.ts';

/** The EthStatusError one of the two sides failed with (the other then sees the connection close). */
function statusError(results: PromiseSettledResult<void>[]): EthStatusError {
  for (const result of results) {
    if (result.status === 'rejected' && result.reason instanceof EthStatusError) return result.reason;
  }
  throw new assert.AssertionError({ message: 'no EthStatusError', actual: results });
}

/** The Status a protocol sends to a silent remote. */
async function statusSent<M extends MessageMap, S>(protocol: Protocol<M, S>): Promise<Uint8Array> {
  const peer = new FakePeer(protocol);
  await peer.start().catch(() => undefined);
  const sent = peer.sent[0]!;
  assert.equal(sent.code, 0);
  return sent.payload;
}

const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** A mainnet node at a post-BPO2 head. */
const synced: ChainProvider = {
  head: () => ({
    hash: hash(9),
    number: 23_000_000n,
    time: 1_800_000_000,
    td: 58_750_000_000_000_000_000_000n,
    earliest: 0n,
  }),
};

describe('Status handshake', () => {
  for (const version of ETH_VERSIONS) {
    it(`eth/${version}: two nodes on the same chain connect`, async () => {
      const a = eth({ chain: mainnet, provider: synced, handshakeTimeoutMs: 500 });
      const b = eth({ chain: mainnet, handshakeTimeoutMs: 500 }); // no chain data: reports genesis
      // eth/69 to eth/72 share the Status; the fakes run any of them as eth/69 objects.
      const same = (p: EthProtocols): Eth69Protocol => p[`eth${version}`] as unknown as Eth69Protocol;
      const { left, right, results } =
        version === 68 ? await connect(a.eth68, b.eth68) : await connect(same(a), same(b));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled'],
      );
      assert.equal(left.ctx.state.version, version);
      // left learns right's genesis head, right learns left's head.
      assert.deepEqual(left.ctx.state.head.hash, mainnet.genesisHash);
      assert.deepEqual(right.ctx.state.head.hash, hash(9));
      const status = right.ctx.state.status;
      assert.deepEqual(status.forkId, forkId(mainnet, { number: 23_000_000n, time: 1_800_000_000 }));
      if (version === 68) {
        assert.ok('td' in status);
        assert.equal(status.td, 58_750_000_000_000_000_000_000n);
        assert.equal(left.ctx.state.head.td, mainnet.genesisDifficulty);
        assert.deepEqual(left.instance.info(), {
          version: 68,
          head: `0x${'d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3'}`,
          difficulty: '17179869184',
        });
      } else {
        assert.deepEqual(right.ctx.state.range, {
          earliestBlock: 0n,
          latestBlock: 23_000_000n,
          latestBlockHash: hash(9),
        });
        assert.deepEqual(left.ctx.state.range?.latestBlock, 0n);
        assert.deepEqual(JSON.parse(JSON.stringify(right.instance.info())), right.instance.info());
      }
      left.close();
    });
  }

  it("refuses a message over geth's 10 MiB on every version undecoded, ending the peer with 'subprotocol error'", async () => {
    assert.equal(MAX_MESSAGE_SIZE, 10 * 1024 * 1024);
    for (const protocol of eth({ chain: mainnet }).protocols) {
      const peer = new FakePeer(protocol as Eth69Protocol);
      const started = peer.start();
      // The Status itself: geth's readStatusMsg checks the size first too.
      peer.incoming({ code: 0, payload: new Uint8Array(MAX_MESSAGE_SIZE + 1) });
      await assert.rejects(
        started,
        (e: EthLimitError) =>
          e instanceof EthLimitError && e.limit === 'message-size' && e.size === MAX_MESSAGE_SIZE + 1,
      );
      assert.deepEqual(peer.disconnects, [DisconnectReason.SubprotocolError], `eth/${protocol.cap.version}`);
    }
  });

  it('sends the announced Status of each version', async () => {
    const { eth68, eth69 } = eth({ chain: hoodi, handshakeTimeoutMs: 100 });
    const expectedFork = forkId(hoodi, { number: 0n, time: hoodi.genesisTime });
    assert.deepEqual(status68Codec.decode(await statusSent(eth68)), {
      version: 68,
      networkId: 560048n,
      td: 1n,
      head: hoodi.genesisHash,
      genesis: hoodi.genesisHash,
      forkId: expectedFork,
    });
    assert.deepEqual(status69Codec.decode(await statusSent(eth69)), {
      version: 69,
      networkId: 560048n,
      genesis: hoodi.genesisHash,
      forkId: expectedFork,
      earliestBlock: 0n,
      latestBlock: 0n,
      latestBlockHash: hoodi.genesisHash,
    });
  });

  it('refuses a different network id with "subprotocol error", as geth', async () => {
    const { left, right, results } = await connect(
      eth({ chain: mainnet, handshakeTimeoutMs: 500 }).eth69,
      eth({ chain: mainnet, network: 5, handshakeTimeoutMs: 500 }).eth69,
    );
    const error = statusError(results);
    assert.equal(error.mismatch, 'network-id');
    assert.ok(error instanceof HandshakeMismatchError, "core's notion of a handshake mismatch");
    assert.equal(error.protocol, 'eth');
    assert.equal(error.reason, DisconnectReason.SubprotocolError);
    assert.equal(left.closed?.reason, DisconnectReason.SubprotocolError);
    assert.equal(right.closed?.reason, DisconnectReason.SubprotocolError);
  });

  it('refuses a different genesis', async () => {
    const other = customChain({ networkId: 1, genesisHash: hash(1) });
    const { results } = await connect(
      eth({ chain: mainnet, handshakeTimeoutMs: 500 }).eth68,
      eth({ chain: other, handshakeTimeoutMs: 500 }).eth68,
    );
    const error = statusError(results);
    assert.equal(error.mismatch, 'genesis');
    assert.equal(error.reason, DisconnectReason.SubprotocolError);
  });

  it('refuses an incompatible fork id', async () => {
    // Same genesis and network id, but the remote forked at a block we passed without that fork.
    const forked = customChain({
      name: 'forked',
      networkId: 11_155_111,
      genesisHash: sepolia.genesisHash,
      genesisTime: sepolia.genesisTime,
      forks: [{ name: 'gopherium', block: 100 }],
    });
    const remote: ChainProvider = { head: () => ({ hash: hash(2), number: 200n, time: 1_633_300_000 }) };
    const local: ChainProvider = { head: () => ({ hash: hash(3), number: 2_000_000n, time: 1_800_000_000 }) };
    const { results } = await connect(
      eth({ chain: sepolia, provider: local, handshakeTimeoutMs: 500 }).eth69,
      eth({ chain: forked, provider: remote, handshakeTimeoutMs: 500 }).eth69,
    );
    const error = statusError(results);
    assert.equal(error.mismatch, 'fork-id');
    assert.match(error.message, /local incompatible or needs update/);
    assert.equal(error.reason, DisconnectReason.SubprotocolError);
  });

  it('refuses an eth/69 Status with an invalid block range', async () => {
    const peer = new FakePeer(eth({ chain: mainnet, handshakeTimeoutMs: 500 }).eth69);
    const started = peer.start();
    const bad = status69Codec.encode({
      version: 69,
      networkId: 1n,
      genesis: mainnet.genesisHash,
      forkId: forkId(mainnet, { number: 0n, time: 0 }),
      earliestBlock: 10n,
      latestBlock: 5n,
      latestBlockHash: hash(1),
    });
    peer.incoming({ code: 0, payload: bad });
    await assert.rejects(started, (error: EthStatusError) => error.mismatch === 'block-range');
  });

  it('a first message other than Status is a breach of protocol', async () => {
    const peer = new FakePeer(eth({ chain: mainnet, handshakeTimeoutMs: 500 }).eth68);
    const started = peer.start();
    peer.incoming({ code: 3, payload: new Uint8Array([0xc0]) });
    await assert.rejects(started);
    assert.deepEqual(peer.disconnects, [DisconnectReason.ProtocolError]);
  });

  it('times out with a TimeoutError ("read timeout") when the remote stays silent', async () => {
    const peer = new FakePeer(eth({ chain: mainnet, handshakeTimeoutMs: 30 }).eth69);
    await assert.rejects(peer.start(), TimeoutError);
    assert.deepEqual(peer.disconnects, [DisconnectReason.ReadTimeout]);
  });

  it("sets the Status deadline on the server's clock: a ManualClock times it out, no real time passing", async () => {
    const clock = new ManualClock();
    // The fake's own receive waits on real time for far longer than the test runs: only the clock can end it.
    const peer = new FakePeer(eth({ chain: mainnet, handshakeTimeoutMs: 60_000 }).eth69, { clock });
    let outcome: unknown;
    const started = peer.start().then(
      () => 'resolved',
      (error: unknown) => error,
    );
    void started.then((value) => {
      outcome = value;
    });
    await until(() => clock.pendingTimers === 1, 5_000, 'the Status deadline to be set');
    assert.equal(clock.nextTimerAt, 60_000);
    await clock.advance(59_999);
    assert.equal(outcome, undefined, 'not before the deadline');
    await clock.advance(1);
    const error = await started;
    assert.ok(error instanceof TimeoutError);
    assert.match(error.message, /eth status timed out after 60000 ms/);
    assert.deepEqual(peer.disconnects, [DisconnectReason.ReadTimeout]);
    assert.equal(clock.pendingTimers, 0);
  });

  it('nodeInfo is JSON in geth shape, with difficulty on eth/68 only', () => {
    const { eth68, eth69, eth70, eth71, eth72, protocols } = eth({ chain: mainnet });
    assert.deepEqual(protocols, [eth72, eth71, eth70, eth69, eth68]);
    const info68 = eth68.nodeInfo() as Record<string, unknown>;
    assert.equal(info68['network'], 1);
    assert.equal(info68['difficulty'], '17179869184');
    assert.equal(info68['genesis'], '0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3');
    assert.equal(info68['head'], info68['genesis']);
    assert.equal('difficulty' in (eth69.nodeInfo() as Record<string, unknown>), false);
    assert.deepEqual(JSON.parse(JSON.stringify(info68)), info68);
    assert.deepEqual(
      eth({ chain: mainnet, versions: [68] }).protocols.map((p) => p.cap),
      [{ name: 'eth', version: 68 }],
    );
  });
});
