/**
 * EIP-2124 fork identifiers: FORK_HASH is the CRC-32 of the genesis hash followed by every passed fork's
 * block number or timestamp as a big-endian uint64; FORK_NEXT is the next fork's, or 0. Validation follows the
 * EIP's rules, with go-ethereum's extension to timestamp forks.
 */
import { bigIntToFixedBytes, crc32, type ForkId, MAX_UINT64 } from '@devp2p/core';
import type { ChainConfig } from './chains.ts';

export type { ForkId } from '@devp2p/core';

/**
 * Where the local chain stands, for fork ids: the head block's number and timestamp (seconds).
 * @example const head: ForkHead = { number: 20_000_000n, time: 1_700_000_000 }
 */
export interface ForkHead {
  readonly number: bigint;
  readonly time: number;
}

/**
 * Outcome of {@link validateForkId}: `'ok'`, `'remote-stale'` (the remote has not passed a fork we know it
 * should announce: it needs a software update) or `'local-incompatible-or-stale'` (another chain, or the
 * remote passed a fork we do not know).
 */
export type ForkIdCheck = 'ok' | 'remote-stale' | 'local-incompatible-or-stale';

/**
 * Go-ethereum's cut between a FORK_NEXT that is a block number and one that is a timestamp: the mainnet
 * genesis timestamp (1438269973). A hack, as geth says, needed during the block-to-time transition.
 */
export const FORK_TIMESTAMP_THRESHOLD = 1_438_269_973n;

interface Schedule {
  readonly byBlock: readonly bigint[];
  readonly byTime: readonly bigint[];
}

const schedules = new WeakMap<ChainConfig, Schedule>();

function sortedUnique(values: bigint[]): bigint[] {
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return values.filter((value, i) => i === 0 || value !== values[i - 1]);
}

/** The chain's forks as geth gathers them: sorted, deduplicated, without those already active at genesis. */
function schedule(chain: ChainConfig): Schedule {
  let cached = schedules.get(chain);
  if (!cached) {
    const byBlock: bigint[] = [];
    const byTime: bigint[] = [];
    for (const fork of chain.forks) {
      if ('block' in fork) byBlock.push(BigInt(fork.block));
      else byTime.push(BigInt(fork.time));
    }
    const genesisTime = BigInt(chain.genesisTime);
    cached = {
      byBlock: sortedUnique(byBlock).filter((at) => at !== 0n),
      byTime: sortedUnique(byTime).filter((at) => at > genesisTime),
    };
    schedules.set(chain, cached);
  }
  return cached;
}

/**
 * The CRC-32 `hash` continued over `fork` as a big-endian uint64 (`CRC32(original ‖ fork)`).
 * @example forkHashUpdate(0xfc64ec04, 1_150_000n) // 0x97c2c34c
 */
export function forkHashUpdate(hash: number, fork: bigint): number {
  return crc32(bigIntToFixedBytes(fork, 8), hash);
}

/**
 * The fork id a node on `chain` with head `head` announces.
 * @example forkId(mainnet, { number: 1_150_000n, time: 0 }) // { hash: 0x97c2c34c, next: 1920000n }
 */
export function forkId(chain: ChainConfig, head: ForkHead): ForkId {
  const { byBlock, byTime } = schedule(chain);
  let hash = crc32(chain.genesisHash);
  for (const fork of byBlock) {
    if (fork > head.number) return { hash, next: fork };
    hash = forkHashUpdate(hash, fork);
  }
  const time = BigInt(head.time);
  for (const fork of byTime) {
    if (fork > time) return { hash, next: fork };
    hash = forkHashUpdate(hash, fork);
  }
  return { hash, next: 0n };
}

/**
 * Checks a remote fork id against the local chain and head, by the rules of EIP-2124:
 * 1. same FORK_HASH: accept, unless the remote's FORK_NEXT is already passed locally (we are on different
 *    chains, or we are stale);
 * 2. the remote hash is one of our past states: accept when its FORK_NEXT is the fork that followed it,
 *    else the remote is stale;
 * 3. the remote hash is one of our future states: accept (we are syncing);
 * 4. reject otherwise.
 * @example validateForkId(mainnet, { number: 7_987_396n, time: 0 }, { hash: 0x668db0af, next: 0n }) // 'ok'
 */
export function validateForkId(chain: ChainConfig, head: ForkHead, remote: ForkId): ForkIdCheck {
  const { byBlock, byTime } = schedule(chain);
  const forks = [...byBlock, ...byTime];
  const sums: number[] = [crc32(chain.genesisHash)];
  for (const fork of forks) sums.push(forkHashUpdate(sums.at(-1)!, fork));
  // Sentinels that are never passed, so that the loop always finds an unpassed fork.
  forks.push(MAX_UINT64);
  const blockForks = byTime.length === 0 ? byBlock.length + 1 : byBlock.length;
  const time = BigInt(head.time);
  for (let i = 0; i < forks.length; i++) {
    const local = i < blockForks ? head.number : time;
    if (local >= forks[i]!) continue;
    if (sums[i] === remote.hash) {
      const next = remote.next;
      if (next > 0n && (local >= next || (next > FORK_TIMESTAMP_THRESHOLD && time >= next))) {
        return 'local-incompatible-or-stale';
      }
      return 'ok';
    }
    for (let j = 0; j < i; j++) {
      if (sums[j] === remote.hash) return forks[j] === remote.next ? 'ok' : 'remote-stale';
    }
    for (let j = i + 1; j < sums.length; j++) {
      if (sums[j] === remote.hash) return 'ok';
    }
    return 'local-incompatible-or-stale';
  }
  return 'ok';
}
