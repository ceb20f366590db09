// The shared fake server side (@devp2p/test-utils/fake-peer) typed for the eth plugin's protocols: a FakePeer runs
// one protocol, `connect` links two and runs both Status handshakes.

import type { MessageMap, Protocol, ProtocolContext } from '@devp2p/core';
import * as core from '@devp2p/core';
import { type FakePeerOptions, FakePeer as SharedFakePeer, startLinked } from '@devp2p/test-utils/fake-peer';

export class FakePeer<M extends MessageMap, State> extends SharedFakePeer<ProtocolContext<M, State>> {
  constructor(protocol: Protocol<M, State>, options: FakePeerOptions = {}) {
    super(core, protocol, options);
  }
}

/** Two linked fakes running `a` and `b`, both handshakes started; resolves with their outcomes. */
export async function connect<M extends MessageMap, S>(
  a: Protocol<M, S>,
  b: Protocol<M, S>,
): Promise<{ left: FakePeer<M, S>; right: FakePeer<M, S>; results: PromiseSettledResult<void>[] }> {
  const left = new FakePeer(a);
  const right = new FakePeer(b);
  const results = await startLinked(left, right);
  return { left, right, results };
}
