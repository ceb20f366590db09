/**
 * A transaction listener: a node that watches the Transactions its peers broadcast, without writing a plugin
 * (`on('Transactions', ...)` observes every eth version). A second node connects and broadcasts two
 * transactions. Everything stays on 127.0.0.1.
 * Run: node --import tsx examples/tx-listener.ts (or bun / deno run -A)
 */
import { concatBytes, rlpEncode } from '@devp2p/core';
import { createNode } from '@devp2p/node';
import { customChain, eth, sendTransactions } from '@devp2p/plugin-eth';

const chain = customChain({ name: 'example', networkId: 4242, genesisHash: `0x${'42'.repeat(32)}` });
const listenerEth = eth({ chain });
const listener = createNode({ listenAddr: '127.0.0.1:0', discovery: false, protocols: listenerEth.protocols });

const seen = new Promise<number>((resolve) => {
  listenerEth.on('Transactions', ({ transactions }, ctx) => {
    console.log(
      `eth/${ctx.state.version} peer ${ctx.peer.id.slice(0, 8)} broadcast ${transactions.length} transactions`,
    );
    resolve(transactions.length);
  });
});

const senderEth = eth({ chain });
const sender = createNode({ listenAddr: null, discovery: false, protocols: senderEth.protocols });
await listener.start();
await sender.start();
const added = sender.once('peer:added');
sender.server.addPeer(listener.nodeInfo().enode);
const ctx = await senderEth.contextReady((await added).peer);
if (!ctx) throw new Error('no eth version in common');
// Two stand-in EIP-2718 transactions (type 2, a short RLP body): the listener sees them as raw bytes.
const tx = (nonce: bigint): Uint8Array => rlpEncode(concatBytes(Uint8Array.of(2), rlpEncode([1n, nonce])));
await sendTransactions(ctx, [tx(0n), tx(1n)]);

console.log(`received ${await seen} transactions`);
await sender.close();
await listener.close();
