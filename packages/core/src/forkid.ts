import { bytesToNumber } from './bytes.ts';
import { RlpError } from './errors.ts';
import { type RlpInput, rlpBigUint, rlpBytes, rlpDecode, rlpList } from './rlp.ts';

/**
 * An EIP-2124 fork id: `hash` is FORK_HASH as a uint32, `next` is FORK_NEXT (0 when no fork is known). One type for
 * every place a fork id appears: the eth Status message, the ENR `eth` entry and the dialer's chain filter.
 * @example const id: ForkId = { hash: 0xfc64ec04, next: 1150000n }
 */
export interface ForkId {
  readonly hash: number;
  readonly next: bigint;
}

/**
 * The value of the ENR `eth` entry (`enr-entries/eth.md`) announcing `id`: `[[forkHash, forkNext]]`.
 * @example localNode.set({ eth: enrForkIdEntry({ hash: 0xfc64ec04, next: 1150000n }) })
 */
export function enrForkIdEntry(id: ForkId): RlpInput {
  const hash = new Uint8Array(4);
  new DataView(hash.buffer).setUint32(0, id.hash);
  return [[hash, id.next]];
}

/**
 * The fork id in the RLP of an ENR `eth` entry: its first item must be `[forkHash (4 bytes), forkNext (uint64)]`;
 * later items are ignored for forward compatibility, as geth does. Throws an RlpError otherwise.
 * @example const id = decodeEnrForkId(record.get('eth')!)
 */
export function decodeEnrForkId(encoded: Uint8Array): ForkId {
  const [first] = rlpList(rlpDecode(encoded), 'ENR eth entry', 1);
  const pair = rlpList(first, 'ENR eth entry fork id', 2);
  if (pair.length !== 2) throw new RlpError(`ENR eth entry fork id: expected 2 items, got ${pair.length}`);
  const [hash, next] = pair;
  return {
    hash: bytesToNumber(rlpBytes(hash, 'ENR eth entry forkHash', 4)),
    next: rlpBigUint(next, 'ENR eth entry forkNext', 8),
  };
}
