import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePrivateKey } from '@devp2p/crypto';
import { LocalNode } from '@devp2p/enode';
import { countingClock } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { Discv4, Discv5 } from '../src/index.ts';

/** discv4 and discv5 on one socket, one record: what `createNode` assembles with both on. */
async function startBoth(clock = countingClock()): Promise<{ v4: Discv4; v5: Discv5; clock: typeof clock }> {
  const privateKey = generatePrivateKey();
  const localNode = new LocalNode(privateKey);
  let v5: Discv5 | undefined;
  const v4 = await Discv4.start({
    privateKey,
    transport: udpTransport,
    host: '127.0.0.1',
    localNode,
    clock,
    unhandled: (data, from) => v5?.receive(data, from),
  });
  v5 = await Discv5.start({ privateKey, socket: v4.socket, localNode, clock });
  return { v4, v5, clock };
}

describe('discv4 and discv5 on one UDP socket', () => {
  it('talks v4 to a v4-only peer and v5 to a v5-only peer at once, with one port and one record', async () => {
    const { v4, v5, clock } = await startBoth();
    assert.equal(v5.address.port, v4.address.port);
    assert.equal(v5.self, v4.self, 'one record for both');
    assert.equal(v4.self.udp, v4.address.port);
    const p4 = await Discv4.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    const p5 = await Discv5.start({ privateKey: generatePrivateKey(), transport: udpTransport, host: '127.0.0.1' });
    const [pong4, pong5, back4, back5] = await Promise.all([
      v4.ping(p4.self),
      v5.ping(p5.self),
      p4.ping(v4.self),
      p5.ping(v5.self),
    ]);
    assert.ok(pong4.replyToken.length > 0);
    assert.equal(pong5.port, v5.address.port);
    assert.ok(back4.replyToken.length > 0);
    assert.equal(back5.enrSeq, v5.self.seq);
    // Each protocol answers lookups over the shared port.
    assert.ok((await p5.findNode(v5.self, [0]))[0]!.id.equals(v5.self.id));
    assert.ok((await p4.requestENR(v4.self)).id.equals(v4.self.id));
    // What v4 could not decode went to v5, and nothing else did.
    assert.ok(v4.stats.unhandled > 0);
    assert.equal(v5.stats.received, v4.stats.unhandled);
    assert.equal(v5.stats.dropped['bad-protocol-id'], 0);
    // v5 closing leaves the shared socket to v4.
    await v5.close();
    await p4.ping(v4.self);
    await v4.close();
    assert.equal(clock.active, 0, 'no timer left');
    const again = await udpTransport.bind({ host: '127.0.0.1', port: v4.self.udp }, () => undefined);
    await again.close();
    await Promise.all([p4.close(), p5.close()]);
  });

  it('finds v5-only nodes through a shared-socket bootnode, and v4-only ones through the same port', async () => {
    const { v4, v5 } = await startBoth();
    // discv4 takes nodes that ping it into its table only once its first refresh is over.
    await v4.refresh();
    const v5peers = await Promise.all(
      [0, 1, 2].map(() =>
        Discv5.start({
          privateKey: generatePrivateKey(),
          transport: udpTransport,
          host: '127.0.0.1',
          bootnodes: [v5.self],
        }),
      ),
    );
    const v4peers = await Promise.all(
      [0, 1].map(() =>
        Discv4.start({
          privateKey: generatePrivateKey(),
          transport: udpTransport,
          host: '127.0.0.1',
          bootnodes: [v4.self],
        }),
      ),
    );
    await Promise.all([...v5peers, ...v4peers].map((p) => p.refresh()));
    const found5 = await v5peers[0]!.lookup(v5peers[1]!.self.id);
    assert.ok(found5.some((n) => n.id.equals(v5peers[1]!.self.id)));
    const found4 = await v4peers[0]!.lookup(v4peers[1]!.self);
    assert.ok(found4.some((n) => n.id.equals(v4peers[1]!.self.id)));
    await Promise.all([...v5peers, ...v4peers].map((p) => p.close()));
    await v5.close();
    await v4.close();
  });
});
