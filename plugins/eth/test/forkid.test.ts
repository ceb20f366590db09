// EIP-2124 fork ids: the EIP's published vectors (creation and validation, with mainnet capped at Petersburg
// as when the EIP was written), go-ethereum's current vectors for mainnet, Sepolia and Hoodi (core/forkid
// forkid_test.go), and the fork id RLP encoding vectors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, crc32, hexToBytes, utf8ToBytes } from '@devp2p/core';
import {
  type ChainConfig,
  customChain,
  type ForkIdCheck,
  forkHashUpdate,
  forkId,
  forkIdCodec,
  hoodi,
  mainnet,
  sepolia,
  validateForkId,
} from '../src/index.ts';

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;

/** Mainnet as the EIP knew it: block forks up to Petersburg. */
const mainnetPetersburg = customChain({
  name: 'mainnet-petersburg',
  networkId: 1,
  genesisHash: mainnet.genesisHash,
  forks: mainnet.forks.filter((fork) => 'block' in fork && fork.block <= 7_280_000),
});

/** Mainnet without timestamp forks (geth's `legacyConfig`). */
const mainnetLegacy = customChain({
  name: 'mainnet-legacy',
  networkId: 1,
  genesisHash: mainnet.genesisHash,
  forks: mainnet.forks.filter((fork) => 'block' in fork),
});

type Creation = [number: number, time: number, hash: number, next: number];

function checkCreation(chain: ChainConfig, cases: Creation[]): void {
  for (const [number, time, hash, next] of cases) {
    const id = forkId(chain, { number: BigInt(number), time });
    assert.deepEqual(
      { hash: id.hash.toString(16), next: id.next },
      { hash: hash.toString(16), next: BigInt(next) },
      `${chain.name} at block ${number}, time ${time}`,
    );
  }
}

describe('crc32', () => {
  it('matches the IEEE check value and continues across calls', () => {
    assert.equal(crc32(utf8ToBytes('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(utf8ToBytes('6789'), crc32(utf8ToBytes('12345'))), 0xcbf43926);
  });

  it('continues a fork hash over a big-endian uint64', () => {
    assert.equal(forkHashUpdate(0xfc64ec04, 1_150_000n), 0x97c2c34c);
  });
});

describe('EIP-2124 creation vectors (mainnet at Petersburg)', () => {
  it('gives the published fork id at every listed head', () => {
    checkCreation(mainnetPetersburg, [
      [0, 0, 0xfc64ec04, 1150000],
      [1149999, 0, 0xfc64ec04, 1150000],
      [1150000, 0, 0x97c2c34c, 1920000],
      [1919999, 0, 0x97c2c34c, 1920000],
      [1920000, 0, 0x91d1f948, 2463000],
      [2462999, 0, 0x91d1f948, 2463000],
      [2463000, 0, 0x7a64da13, 2675000],
      [2674999, 0, 0x7a64da13, 2675000],
      [2675000, 0, 0x3edd5b10, 4370000],
      [4369999, 0, 0x3edd5b10, 4370000],
      [4370000, 0, 0xa00bc324, 7280000],
      [7279999, 0, 0xa00bc324, 7280000],
      [7280000, 0, 0x668db0af, 0],
      [7987396, 0, 0x668db0af, 0],
    ]);
  });
});

// The EIP's text lists "remote announces Byzantium + knowledge about Petersburg" with Petersburg's hash
// (0x668db0af); that contradicts its own rule 1a and its description, and go-ethereum's test uses Byzantium's
// hash (0xa00bc324), as here.
describe('EIP-2124 validation vectors (local mainnet at Petersburg)', () => {
  const cases: [head: number, hash: number, next: bigint, want: ForkIdCheck, what: string][] = [
    [7987396, 0x668db0af, 0n, 'ok', 'same state, no future fork'],
    [7987396, 0x668db0af, MAX_UINT64, 'ok', 'same state, remote announces an uncertain fork'],
    [7279999, 0xa00bc324, 0n, 'ok', 'both Byzantium, remote unaware of Petersburg'],
    [7279999, 0xa00bc324, 7280000n, 'ok', 'both Byzantium, both aware of Petersburg'],
    [7279999, 0xa00bc324, MAX_UINT64, 'ok', 'both Byzantium, remote aware of a random fork'],
    [7280000, 0xa00bc324, 7280000n, 'ok', 'local exactly on Petersburg, remote syncing'],
    [7987396, 0xa00bc324, 7280000n, 'ok', 'local Petersburg, remote Byzantium syncing'],
    [7987396, 0x3edd5b10, 4370000n, 'ok', 'local Petersburg, remote Spurious syncing'],
    [7279999, 0x668db0af, 0n, 'ok', 'local Byzantium, remote Petersburg: local syncing'],
    [4369999, 0xa00bc324, 0n, 'ok', 'local Spurious, remote Byzantium'],
    [7987396, 0xa00bc324, 0n, 'remote-stale', 'remote Byzantium unaware of further forks'],
    [7987396, 0x5cddc0e1, 0n, 'local-incompatible-or-stale', 'remote passed a fork local does not know'],
    [7279999, 0x5cddc0e1, 0n, 'local-incompatible-or-stale', 'local Byzantium, remote past an unknown fork'],
    [7987396, 0xafec6b27, 0n, 'local-incompatible-or-stale', 'remote is Rinkeby'],
    [7279999, 0xa00bc324, 7279999n, 'local-incompatible-or-stale', 'remote announces a fork before Petersburg'],
  ];
  for (const [head, hash, next, want, what] of cases) {
    it(`${want}: ${what}`, () => {
      assert.equal(validateForkId(mainnetPetersburg, { number: BigInt(head), time: 0 }, { hash, next }), want);
    });
  }
});

describe('go-ethereum creation vectors (current schedules)', () => {
  it('mainnet, from Frontier to BPO2', () => {
    checkCreation(mainnet, [
      [0, 0, 0xfc64ec04, 1150000],
      [1150000, 0, 0x97c2c34c, 1920000],
      [7280000, 0, 0x668db0af, 9069000],
      [9069000, 0, 0x879d6e30, 9200000],
      [9200000, 0, 0xe029e991, 12244000],
      [12244000, 0, 0x0eb440f6, 12965000],
      [12965000, 0, 0xb715077d, 13773000],
      [13773000, 0, 0x20c327fc, 15050000],
      [15049999, 0, 0x20c327fc, 15050000],
      [15050000, 0, 0xf0afd0e3, 1681338455],
      [20000000, 1681338454, 0xf0afd0e3, 1681338455],
      [20000000, 1681338455, 0xdce96c2d, 1710338135],
      [30000000, 1710338134, 0xdce96c2d, 1710338135],
      [30000000, 1710338135, 0x9f3d2254, 1746612311],
      [30000000, 1746612311, 0xc376cf8b, 1764798551],
      [30000000, 1764798551, 0x5167e2a6, 1765290071],
      [30000000, 1765290071, 0xcba2a1c0, 1767747671],
      [30000000, 1767747670, 0xcba2a1c0, 1767747671],
      [30000000, 1767747671, 0x07c9462e, 0],
      [50000000, 2000000000, 0x07c9462e, 0],
    ]);
  });

  it('sepolia, from genesis to BPO2', () => {
    checkCreation(sepolia, [
      [0, 0, 0xfe3366e7, 1735371],
      [1735370, 0, 0xfe3366e7, 1735371],
      [1735371, 0, 0xb96cbd13, 1677557088],
      [1735372, 1677557087, 0xb96cbd13, 1677557088],
      [1735372, 1677557088, 0xf7f9bc08, 1706655072],
      [1735372, 1706655072, 0x88cf81d9, 1741159776],
      [1735372, 1741159776, 0xed88b5fd, 1760427360],
      [1735372, 1760427360, 0xe2ae4999, 1761017184],
      [1735372, 1761017184, 0x56078a1e, 1761607008],
      [1735372, 1761607008, 0x268956b6, 0],
      [1735372, 2000000000, 0x268956b6, 0],
    ]);
  });

  it('hoodi, from genesis (Cancun) to BPO2', () => {
    checkCreation(hoodi, [
      [0, 0, 0xbef71d30, 1742999832],
      [123, 1742999831, 0xbef71d30, 1742999832],
      [123, 1742999832, 0x0929e24e, 1761677592],
      [123, 1761677592, 0xe7e0e7ff, 1762365720],
      [123, 1762365720, 0x3893353e, 1762955544],
      [123, 1762955544, 0x23aa1351, 0],
      [123, 2000000000, 0x23aa1351, 0],
    ]);
  });
});

describe('go-ethereum validation vectors (block and timestamp forks)', () => {
  const cases: [chain: ChainConfig, head: number, time: number, hash: number, next: bigint, want: ForkIdCheck][] = [
    [mainnetLegacy, 15050000, 0, 0xf0afd0e3, 0n, 'ok'],
    [mainnetLegacy, 15050000, 0, 0xf0afd0e3, MAX_UINT64, 'ok'],
    [mainnetLegacy, 88888888, 0, 0xf0afd0e3, 88888888n, 'local-incompatible-or-stale'],
    [mainnet, 15050000, 0, 0xf0afd0e3, 0n, 'ok'],
    [mainnet, 15050000, 0, 0xf0afd0e3, 1681338455n, 'ok'],
    [mainnet, 15050000, 0, 0xf0afd0e3, MAX_UINT64, 'ok'],
    [mainnet, 20000000, 1681338455, 0xf0afd0e3, 1681338455n, 'ok'],
    [mainnet, 20123456, 1681338456, 0xf0afd0e3, 1681338455n, 'ok'],
    [mainnet, 20000000, 1681338455, 0x20c327fc, 15050000n, 'ok'],
    [mainnet, 15050000, 0, 0xdce96c2d, 0n, 'ok'],
    [mainnet, 13773000, 0, 0xf0afd0e3, 0n, 'ok'],
    [mainnet, 20000000, 1681338455, 0xf0afd0e3, 0n, 'remote-stale'],
    [mainnet, 15050000, 0, forkHashUpdate(0xf0afd0e3, MAX_UINT64), 0n, 'local-incompatible-or-stale'],
    [mainnet, 15050000, 0, forkHashUpdate(0xdce96c2d, MAX_UINT64), 0n, 'local-incompatible-or-stale'],
    [mainnet, 888888888, 1660000000, 0xf0afd0e3, 1660000000n, 'local-incompatible-or-stale'],
    [mainnet, 19999999, 1667999999, 0xf0afd0e3, 1667999999n, 'local-incompatible-or-stale'],
    [mainnet, 20000000, 1681338455, 0xdce96c2d, 0n, 'ok'],
    [mainnet, 20000000, 1668000000, 0xdce96c2d, 1710338135n, 'ok'],
    [mainnet, 21000000, 1710338135, 0xdce96c2d, 1710338135n, 'ok'],
    [mainnet, 0, 0, 0x3edd5b10, 1710338135n, 'ok'],
    [mainnet, 21000000, 1700000000, 0x9f3d2254, 0n, 'ok'],
    [mainnet, 21000000, 1678000000, 0xc376cf8b, 0n, 'ok'],
    [mainnet, 21000000, 1710338135, 0xdce96c2d, 0n, 'remote-stale'],
    [mainnet, 20000000, 1681338455, forkHashUpdate(0xdce96c2d, MAX_UINT64), 0n, 'local-incompatible-or-stale'],
    [mainnet, 20000000, 1681338455, 0x12345678, 0n, 'local-incompatible-or-stale'],
    [mainnet, 88888888, 8888888888, 0x07c9462e, 8888888888n, 'local-incompatible-or-stale'],
    [mainnet, 20999999, 1699999999, 0x71147644, 1700000000n, 'local-incompatible-or-stale'],
  ];
  cases.forEach(([chain, head, time, hash, next, want], i) => {
    it(`case ${i}: ${chain.name} at ${head}/${time} vs ${hash.toString(16)}/${next} → ${want}`, () => {
      assert.equal(validateForkId(chain, { number: BigInt(head), time }, { hash, next }), want);
    });
  });
});

describe('fork id encoding', () => {
  it('encodes the hash as 4 bytes and next as a uint64', () => {
    const vectors: [number, bigint, string][] = [
      [0, 0n, 'c6840000000080'],
      [0xdeadbeef, 0xbaddcafen, 'ca84deadbeef84baddcafe'],
      [0xffffffff, MAX_UINT64, 'ce84ffffffff88ffffffffffffffff'],
    ];
    for (const [hash, next, hex] of vectors) {
      assert.equal(bytesToHex(forkIdCodec.encode({ hash, next })), hex);
      assert.deepEqual(forkIdCodec.decode(hexToBytes(hex)), { hash, next });
    }
  });

  it('rejects a hash of the wrong size and a next beyond uint64', () => {
    assert.throws(() => forkIdCodec.decode(hexToBytes('c58300000080')), /forkId.hash/);
    assert.throws(() => forkIdCodec.decode(hexToBytes('cf84ffffffff89010000000000000000')), /forkId.next/);
    assert.throws(() => forkIdCodec.encode({ hash: 2 ** 32, next: 0n }), RangeError);
  });
});

describe('customChain', () => {
  it('drops forks at block 0 and at or before the genesis time', () => {
    const genesisHash = new Uint8Array(32).fill(1);
    const plain = customChain({ networkId: 1337, genesisHash });
    const withGenesisForks = customChain({
      networkId: 1337,
      genesisHash,
      genesisTime: 100,
      forks: [
        { name: 'london', block: 0 },
        { name: 'shanghai', time: 0 },
        { name: 'cancun', time: 100 },
      ],
    });
    assert.deepEqual(forkId(withGenesisForks, { number: 5n, time: 500 }), forkId(plain, { number: 5n, time: 500 }));
    assert.deepEqual(forkId(plain, { number: 0n, time: 0 }), { hash: crc32(genesisHash), next: 0n });
  });

  it('rejects bad input', () => {
    assert.throws(() => customChain({ networkId: -1, genesisHash: new Uint8Array(32) }), RangeError);
    assert.throws(() => customChain({ networkId: 1, genesisHash: new Uint8Array(31) }), TypeError);
    assert.throws(
      () => customChain({ networkId: 1, genesisHash: new Uint8Array(32), forks: [{ name: 'x', block: -1 }] }),
      RangeError,
    );
  });
});
