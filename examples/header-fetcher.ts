/**
 * A header fetcher: one node serves a small chain's headers from a provider, another connects to it and asks for
 * them with eth's GetBlockHeaders, whatever eth version the two agree on. Everything stays on 127.0.0.1.
 * Run: node --import tsx examples/header-fetcher.ts (or bun / deno run -A)
 */
import { bytesToHex, rlpEncode } from '@devp2p/core';
import { createNode } from '@devp2p/node';
import { customChain, eth, getBlockHeaders } from '@devp2p/plugin-eth';

const chain = customChain({ name: 'example', networkId: 4242, genesisHash: `0x${'42'.repeat(32)}` });
// Stand-in headers (a real provider returns each block's RLP header); block n is [n, "header n"].
const headers = [0n, 1n, 2n].map((n) => rlpEncode([n, `header ${n}`]));

const server = createNode({
  listenAddr: '127.0.0.1:0',
  discovery: false,
  protocols: eth({
    chain,
    provider: {
      head: () => ({ hash: chain.genesisHash, number: 2n, time: 0 }),
      getHeaders: (query, limit) => ('number' in query.origin ? headers.slice(Number(query.origin.number), limit) : []),
    },
  }).protocols,
});
const client = eth({ chain });
const fetcher = createNode({ listenAddr: null, discovery: false, protocols: client.protocols });
await server.start();
await fetcher.start();

const added = fetcher.once('peer:added');
fetcher.server.addPeer(server.nodeInfo().enode);
const ctx = await client.contextReady((await added).peer);
if (!ctx) throw new Error('no eth version in common');
const got = await getBlockHeaders(ctx, { origin: { number: 0n }, amount: 3n, skip: 0n, reverse: false });
console.log(
  `eth/${ctx.state.version}: fetched ${got.length} headers: ${got.map((h) => bytesToHex(h).slice(0, 12)).join(' ')}`,
);

await fetcher.close();
await server.close();
