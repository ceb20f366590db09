#!/usr/bin/env node
// `npm start`: the embedded default, `devp2p devnet` (a local network on 127.0.0.1), or any devp2p command given
// after `--` (`npm start -- node --network sepolia`).
if (process.argv.length <= 2) process.argv.push('devnet');
await import('../../packages/cli/bin/devp2p.mjs');
