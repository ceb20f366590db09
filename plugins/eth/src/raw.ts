/**
 * Raw RLP items: views into an already validated encoding, for the items the plugin keeps opaque (headers, bodies,
 * receipts, transactions, block access lists). Internal: not exported from the package.
 */

/** First prefix byte of an RLP list. */
export const LIST_OFFSET = 0xc0;

/** Length of the (already validated) RLP item at `pos`, header included, and of its header. */
export function itemBounds(bytes: Uint8Array, pos: number): { total: number; header: number } {
  const prefix = bytes[pos]!;
  if (prefix < 0x80) return { total: 1, header: 0 };
  const short = prefix < LIST_OFFSET ? prefix - 0x80 : prefix - LIST_OFFSET;
  if (short < 56) return { total: 1 + short, header: 1 };
  const lengthOfLength = short - 55;
  let length = 0;
  for (let i = 1; i <= lengthOfLength; i++) length = length * 256 + bytes[pos + i]!;
  return { total: 1 + lengthOfLength + length, header: 1 + lengthOfLength };
}

/** Whether the (validated) item is a list. */
export function isList(item: Uint8Array): boolean {
  return item[0]! >= LIST_OFFSET;
}

/** Calls `each` with every item of the (validated) RLP list `bytes`, as a view; returns how many there were. */
export function forEachItem(bytes: Uint8Array, each: (item: Uint8Array) => void): number {
  const { total, header } = itemBounds(bytes, 0);
  let count = 0;
  for (let pos = header; pos < total; count++) {
    const { total: length } = itemBounds(bytes, pos);
    each(bytes.subarray(pos, pos + length));
    pos += length;
  }
  return count;
}

/** The items of the (validated) RLP list `bytes`, as views. */
export function listItems(bytes: Uint8Array): Uint8Array[] {
  const items: Uint8Array[] = [];
  forEachItem(bytes, (item) => items.push(item));
  return items;
}
