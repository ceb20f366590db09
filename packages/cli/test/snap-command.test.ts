// `devp2p snap range|codes` against a server on 127.0.0.1 that runs eth for Sepolia and snap with a provider holding
// a small fixed account range and one code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { eth, sepolia } from '@devp2p/plugin-eth';
import { type AccountData, compareBytes, createSnapProtocol } from '@devp2p/plugin-snap';
import { createServer } from '@devp2p/server';
import { runCommand } from './node-process.ts';

const fill = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const hex = (bytes: Uint8Array): string => `0x${bytesToHex(bytes)}`;
const ROOT = fill(0x77);
const ACCOUNTS: AccountData[] = [1, 2, 3].map((n) => ({
  hash: fill(n * 16),
  account: { nonce: BigInt(n), balance: 10n ** 18n, storageRoot: fill(0xa0 + n), codeHash: fill(0xc0 + n) },
}));
const PROOF = [fill(0xee)];
const CODE = Uint8Array.of(0x60, 0x80, 0x60, 0x40, 0x52);

describe('devp2p snap', () => {
  it('range and codes print what a snap peer serves; bad flags and an unreachable node fail with the reason', async () => {
    const asked: { origin: string; limit: string; bytes: number }[] = [];
    const snap = createSnapProtocol({
      provider: {
        accountRange: (q) => {
          asked.push({ origin: hex(q.origin), limit: hex(q.limit), bytes: q.bytes });
          if (compareBytes(q.root, ROOT) !== 0) return undefined;
          const accounts = ACCOUNTS.filter((a) => compareBytes(a.hash, q.origin) >= 0);
          return { accounts: accounts.filter((a) => compareBytes(a.hash, q.limit) <= 0), proof: PROOF };
        },
        byteCode: (hash) => (hash[0] === 0xc1 ? CODE : undefined),
      },
    });
    const server = createServer({
      privateKey: generatePrivateKey(),
      listenAddr: '127.0.0.1:0',
      name: 'snap-served',
      protocols: [...eth({ chain: sepolia }).protocols, snap],
    });
    await server.start();
    const enode = server.self.toEnodeUrl();
    try {
      const all = await runCommand(['snap', 'range', '--network', 'sepolia', '--root', hex(ROOT), enode]);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(JSON.parse(all.stdout), {
        accounts: ACCOUNTS.map(({ hash, account }) => ({
          hash: hex(hash),
          account: {
            nonce: account.nonce.toString(),
            balance: account.balance.toString(),
            storageRoot: hex(account.storageRoot),
            codeHash: hex(account.codeHash),
          },
        })),
        proof: PROOF.map(hex),
      });
      assert.deepEqual(asked.at(-1), { origin: hex(fill(0)), limit: hex(fill(0xff)), bytes: 512 * 1024 });

      const some = await runCommand([
        'snap',
        'range',
        '--network',
        'sepolia',
        '--root',
        hex(ROOT),
        '--origin',
        hex(fill(0x11)),
        '--limit',
        hex(fill(0x20)),
        '--bytes',
        '1000',
        '--timeout',
        '5s',
        enode,
      ]);
      assert.equal(some.code, 0, some.stderr);
      const parsed = JSON.parse(some.stdout) as { accounts: { hash: string }[] };
      assert.deepEqual(
        parsed.accounts.map((a) => a.hash),
        [hex(fill(0x20))],
      );
      assert.deepEqual(asked.at(-1), { origin: hex(fill(0x11)), limit: hex(fill(0x20)), bytes: 1000 });

      // A root the peer has no state for: an empty answer.
      const unknown = await runCommand(['snap', 'range', '--network', 'sepolia', '--root', hex(fill(1)), enode]);
      assert.equal(unknown.code, 0, unknown.stderr);
      assert.deepEqual(JSON.parse(unknown.stdout), { accounts: [], proof: [] });

      const codes = await runCommand([
        'snap',
        'codes',
        '--network',
        'sepolia',
        '--hash',
        `${hex(fill(0xc1))},${hex(fill(0xc2))}`,
        enode,
      ]);
      assert.equal(codes.code, 0, codes.stderr);
      assert.deepEqual(JSON.parse(codes.stdout), { codes: [hex(CODE)] });

      // The peer runs eth for Sepolia: on mainnet the Status exchange fails, and the command says why.
      const foreign = await runCommand(['snap', 'range', '--root', hex(ROOT), '--timeout', '5s', enode]);
      assert.equal(foreign.code, 1);
      assert.match(foreign.stderr, /network-id|genesis|subprotocol|fork/);

      const noRoot = await runCommand(['snap', 'range', enode]);
      assert.equal(noRoot.code, 2);
      assert.match(noRoot.stderr, /--root: required/);
      const shortOrigin = await runCommand(['snap', 'range', '--root', hex(ROOT), '--origin', '0x1234', enode]);
      assert.equal(shortOrigin.code, 2);
      assert.match(shortOrigin.stderr, /--origin: a trie hash is 32 bytes/);
      const badBytes = await runCommand(['snap', 'range', '--root', hex(ROOT), '--bytes', '0', enode]);
      assert.equal(badBytes.code, 2);
      assert.match(badBytes.stderr, /--bytes: expected 1 to 2097152/);
      const unknownFlag = await runCommand(['snap', 'range', '--root', hex(ROOT), '--nope', enode]);
      assert.equal(unknownFlag.code, 2);
      const noCodes = await runCommand(['snap', 'codes', enode]);
      assert.equal(noCodes.code, 2);
      assert.match(noCodes.stderr, /--hash: expected code hashes/);
    } finally {
      await server.close();
    }
    // Nobody listens here any more.
    const gone = await runCommand(['snap', 'range', '--root', hex(ROOT), '--timeout', '3s', enode]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /cannot connect|could not connect/);
  });
});
