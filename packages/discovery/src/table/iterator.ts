/**
 * The random-nodes iterator (geth's `lookupIterator`): the table's nodes, then each node new to it found by
 * endless random lookups, paced by the consumer. Protocol-neutral: the caller supplies the random lookup.
 */
import type { Node } from '@devp2p/enode';
import { BoundedMap } from '../bounded-map.ts';
import { BUCKET_SIZE, EMPTY_TABLE_SLOWDOWN_MS, ITERATOR_SEEN_LIMIT } from '../constants.ts';
import type { TableContext } from './lookup.ts';

/**
 * Runs one lookup for a random target, calling `onNode` for each node the first time it is found, and resolves
 * with the closest ones.
 * @example const next: RandomLookup = (signal, onNode) => runLookup(ctx, randomTarget(), ask, signal, onNode)
 */
export type RandomLookup = (signal: AbortSignal, onNode: (node: Node) => void) => Promise<Node[]>;

/**
 * An endless stream of nodes from `ctx.table` and then `randomLookup`, none repeated among the last
 * {@link ITERATOR_SEEN_LIMIT}. Ends when `signal` aborts, the consumer stops, or the service closes.
 * @example for await (const node of lookupIterator(ctx, next, signal)) dialer.add(node)
 */
export async function* lookupIterator(
  ctx: TableContext,
  randomLookup: RandomLookup,
  signal?: AbortSignal,
): AsyncGenerator<Node, void, undefined> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  signal?.addEventListener('abort', stop, { once: true });
  ctx.lifecycle.signal.addEventListener('abort', stop, { once: true });
  const seen = new BoundedMap<true>(ITERATOR_SEEN_LIMIT);
  const queue: Node[] = [];
  let wakeConsumer: (() => void) | undefined;
  let wakeRunner: (() => void) | undefined;
  controller.signal.addEventListener(
    'abort',
    () => {
      wakeConsumer?.();
      wakeRunner?.();
    },
    { once: true },
  );
  let pushed = 0;
  const push = (node: Node): void => {
    if (seen.has(node.id.hex)) return;
    seen.set(node.id.hex, true);
    pushed++;
    queue.push(node);
    wakeConsumer?.();
  };
  const runner = (async () => {
    for (const n of ctx.table.nodes()) push(n);
    while (!controller.signal.aborted) {
      const before = pushed;
      let fresh = false;
      try {
        const closest = await randomLookup(controller.signal, push);
        for (const n of closest) push(n);
        fresh = pushed > before;
      } catch {
        if (controller.signal.aborted) break;
      }
      // Nothing new (a small or quiet network): pause instead of spinning lookups.
      if (!fresh) await ctx.lifecycle.sleep(EMPTY_TABLE_SLOWDOWN_MS, controller.signal).catch(() => undefined);
      // Consumer-driven pace: while a bucket's worth waits untaken, run no more lookups.
      while (queue.length >= BUCKET_SIZE && !controller.signal.aborted) {
        await new Promise<void>((resolve) => {
          wakeRunner = resolve;
        });
        wakeRunner = undefined;
      }
    }
  })();
  try {
    for (;;) {
      while (queue.length > 0) {
        const node = queue.shift()!;
        wakeRunner?.();
        yield node;
      }
      if (controller.signal.aborted) return;
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
      wakeConsumer = undefined;
    }
  } finally {
    controller.abort();
    signal?.removeEventListener('abort', stop);
    ctx.lifecycle.signal.removeEventListener('abort', stop);
    await runner;
  }
}
