// The shared fake server side (@devp2p/test-utils/fake-peer) typed for the snap plugin. Snap has no wire handshake,
// so `start` only creates the state. Tests over real sockets are in tcp.test.ts.
import * as core from '@devp2p/core';
import { FAKE_PEER, FakePeer as SharedFakePeer, startLinked } from '@devp2p/test-utils/fake-peer';
import type { SnapContext, SnapProtocol } from '../src/index.ts';

export class FakePeer extends SharedFakePeer<SnapContext> {
  constructor(protocol: SnapProtocol) {
    super(core, protocol, { peer: { ...FAKE_PEER, id: 'cd'.repeat(32), caps: [{ name: 'snap', version: 1 }] } });
  }

  /** Two started, linked fakes: `left` (usually the client) and `right` (usually the server). */
  static async pair(left: SnapProtocol, right: SnapProtocol): Promise<{ left: FakePeer; right: FakePeer }> {
    const a = new FakePeer(left);
    const b = new FakePeer(right);
    for (const result of await startLinked(a, b)) if (result.status === 'rejected') throw result.reason;
    return { left: a, right: b };
  }
}
