/**
 * An EIP-2124 fork id: `hash` is FORK_HASH as a uint32, `next` is FORK_NEXT (0 when no fork is known). One type for
 * every place a fork id appears: the eth Status message, the ENR `eth` entry and the dialer's chain filter.
 * @example const id: ForkId = { hash: 0xfc64ec04, next: 1150000n }
 */
export interface ForkId {
  readonly hash: number;
  readonly next: bigint;
}
