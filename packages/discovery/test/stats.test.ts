import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePrivateKey } from '@devp2p/crypto';
import { Node } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';
import { Discv4 } from '../src/index.ts';
import { Harness } from './helpers.ts';

describe('Discv4 stats', () => {
  it('counts lookups, and endpoint proofs that fail because the node never answers our Ping', async () => {
    const silent = await Harness.create();
    const discv4 = await Discv4.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host: '127.0.0.1',
      respTimeoutMs: 100,
      refreshRandomLookups: 0,
    });
    try {
      const node = Node.fromPublicKey(silent.publicKey, { ip: '127.0.0.1', udp: silent.socket.address.port });
      const before = discv4.stats.lookups;
      // A lookup asks the silent node for neighbours, which needs an endpoint proof first: the Ping goes unanswered.
      discv4.table.addFoundNode(node);
      await discv4.lookup(silent.publicKey);
      assert.equal(discv4.stats.lookups, before + 1);
      assert.ok(discv4.stats.bondFailures >= 1, `bond failures: ${discv4.stats.bondFailures}`);
    } finally {
      await discv4.close();
      await silent.close();
    }
  });
});
