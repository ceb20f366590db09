import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { until } from '@devp2p/test-utils';
import { startServer } from './helpers.ts';

describe('Server: two nodes dialing each other at once', () => {
  it('keep one connection (the one the lower id dialed) instead of refusing both as already connected', async () => {
    for (let round = 0; round < 10; round++) {
      const a = await startServer();
      const b = await startServer();
      try {
        // Both dial at once: each side completes one connection first and then sees the other one.
        a.addPeer(b.self);
        b.addPeer(a.self);
        await until(() => a.peerCount === 1 && b.peerCount === 1, 5_000, 'both to have a peer');
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(a.peerCount, 1, `round ${round}: a still connected`);
        assert.equal(b.peerCount, 1, `round ${round}: b still connected`);
        const [pa] = a.peers();
        const [pb] = b.peers();
        // The same TCP connection on both sides: one end inbound, the other outbound, dialed by the lower id.
        assert.notEqual(pa!.inbound, pb!.inbound);
        const dialer = pa!.inbound ? b : a;
        assert.equal(dialer.id < (dialer === a ? b : a).id, true, `round ${round}: the lower id's dial was kept`);
      } finally {
        await a.close();
        await b.close();
      }
    }
  });
});
