/**
 * Chain configurations: what the eth handshake needs to know about a network (its id, genesis and fork
 * schedule). The presets follow go-ethereum's `params/config.go` and `core/genesis.go`.
 */
import { hexToBytes } from '@devp2p/core';

/**
 * One hard fork of a chain's schedule: activated at a block number (forks up to the Merge) or at a block
 * timestamp in seconds (Shanghai and later). Only the activation point enters the fork id; the name is for
 * humans.
 * @example const shanghai: Fork = { name: 'shanghai', time: 1681338455 }
 */
export type Fork = { readonly name: string; readonly block: number } | { readonly name: string; readonly time: number };

/**
 * A network as the eth protocol sees it.
 * @example const cfg: ChainConfig = mainnet; console.log(cfg.networkId) // 1n
 */
export interface ChainConfig {
  /** For logs and `nodeInfo` only. */
  readonly name: string;
  /** The network id in Status (uint64). */
  readonly networkId: bigint;
  /** Hash of the genesis block (32 bytes). */
  readonly genesisHash: Uint8Array;
  /** Timestamp of the genesis block; timestamp forks at or before it are not part of the fork id. */
  readonly genesisTime: number;
  /** Total difficulty of the genesis block: what a node with no chain reports in eth/68's Status. */
  readonly genesisDifficulty: bigint;
  /** The hard forks, in any order; those at block 0 or at / before the genesis time are not counted. */
  readonly forks: readonly Fork[];
}

/** Options of {@link customChain}. */
export interface CustomChainOptions {
  readonly name?: string;
  readonly networkId: number | bigint;
  /** 32 bytes, or their hex (with or without 0x). */
  readonly genesisHash: Uint8Array | string;
  /** Default 0. */
  readonly genesisTime?: number;
  /** Default 1 (a typical local proof-of-stake genesis). */
  readonly genesisDifficulty?: bigint;
  /** Default none: every rule active from genesis. */
  readonly forks?: readonly Fork[];
}

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;

/**
 * A chain configuration for a network without a preset (a local devnet, a private network). Throws a
 * TypeError or RangeError for a network id outside uint64, a genesis hash that is not 32 bytes, or a fork
 * whose block or time is not a non-negative safe integer.
 * @example
 * const devnet = customChain({ networkId: 1337, genesisHash: '0x' + 'ab'.repeat(32), forks: [{ name: 'prague', time: 0 }] })
 */
export function customChain(options: CustomChainOptions): ChainConfig {
  const networkId = BigInt(options.networkId);
  if (networkId < 0n || networkId > MAX_UINT64)
    throw new RangeError(`customChain: networkId ${networkId} is outside uint64`);
  const genesisHash =
    typeof options.genesisHash === 'string' ? hexToBytes(options.genesisHash, 'genesisHash') : options.genesisHash;
  if (!(genesisHash instanceof Uint8Array) || genesisHash.length !== 32) {
    throw new TypeError('customChain: genesisHash must be 32 bytes');
  }
  const genesisTime = options.genesisTime ?? 0;
  checkPoint(genesisTime, 'genesisTime');
  const genesisDifficulty = options.genesisDifficulty ?? 1n;
  if (typeof genesisDifficulty !== 'bigint' || genesisDifficulty < 0n) {
    throw new RangeError('customChain: genesisDifficulty must be a non-negative bigint');
  }
  const forks = (options.forks ?? []).map((fork) => {
    if ('block' in fork) checkPoint(fork.block, `fork ${fork.name}.block`);
    else checkPoint(fork.time, `fork ${fork.name}.time`);
    return Object.freeze({ ...fork });
  });
  return Object.freeze({
    name: options.name ?? 'custom',
    networkId,
    genesisHash: Uint8Array.from(genesisHash),
    genesisTime,
    genesisDifficulty,
    forks: Object.freeze(forks),
  });
}

function checkPoint(value: number, label: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`customChain: ${label} must be a non-negative safe integer`);
}

const block = (name: string, at: number): Fork => ({ name, block: at });
const time = (name: string, at: number): Fork => ({ name, time: at });

/**
 * Ethereum mainnet: network id 1, the Frontier genesis, forks from Homestead (block 1,150,000) to BPO2
 * (time 1767747671), as in go-ethereum's `MainnetChainConfig`.
 * @example forkId(mainnet, { number: 0n, time: 0 }) // { hash: 0xfc64ec04, next: 1150000n }
 */
export const mainnet: ChainConfig = customChain({
  name: 'mainnet',
  networkId: 1,
  genesisHash: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
  genesisTime: 0,
  genesisDifficulty: 17_179_869_184n,
  forks: [
    block('homestead', 1_150_000),
    block('dao', 1_920_000),
    block('tangerineWhistle', 2_463_000),
    block('spuriousDragon', 2_675_000),
    block('byzantium', 4_370_000),
    block('constantinople', 7_280_000),
    block('petersburg', 7_280_000),
    block('istanbul', 9_069_000),
    block('muirGlacier', 9_200_000),
    block('berlin', 12_244_000),
    block('london', 12_965_000),
    block('arrowGlacier', 13_773_000),
    block('grayGlacier', 15_050_000),
    time('shanghai', 1_681_338_455),
    time('cancun', 1_710_338_135),
    time('prague', 1_746_612_311),
    time('osaka', 1_764_798_551),
    time('bpo1', 1_765_290_071),
    time('bpo2', 1_767_747_671),
  ],
});

/**
 * The Sepolia testnet: network id 11155111; every block fork at genesis, the Merge netsplit block 1,735,371,
 * then timestamp forks from Shanghai to BPO2.
 * @example forkId(sepolia, { number: 0n, time: 0 }) // { hash: 0xfe3366e7, next: 1735371n }
 */
export const sepolia: ChainConfig = customChain({
  name: 'sepolia',
  networkId: 11_155_111,
  genesisHash: '25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9',
  genesisTime: 1_633_267_481,
  genesisDifficulty: 0x20000n,
  forks: [
    block('mergeNetsplit', 1_735_371),
    time('shanghai', 1_677_557_088),
    time('cancun', 1_706_655_072),
    time('prague', 1_741_159_776),
    time('osaka', 1_760_427_360),
    time('bpo1', 1_761_017_184),
    time('bpo2', 1_761_607_008),
  ],
});

/**
 * The Hoodi testnet: network id 560048; Shanghai and Cancun active at genesis, then Prague to BPO2.
 * @example forkId(hoodi, { number: 0n, time: 0 }) // { hash: 0xbef71d30, next: 1742999832n }
 */
export const hoodi: ChainConfig = customChain({
  name: 'hoodi',
  networkId: 560_048,
  genesisHash: 'bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b',
  genesisTime: 1_742_212_800,
  genesisDifficulty: 1n,
  forks: [
    time('shanghai', 0),
    time('cancun', 0),
    time('prague', 1_742_999_832),
    time('osaka', 1_761_677_592),
    time('bpo1', 1_762_365_720),
    time('bpo2', 1_762_955_544),
  ],
});
