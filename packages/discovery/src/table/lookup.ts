/**
 * The iterative Kademlia lookup (geth p2p/discover/lookup.go): start from the table's closest nodes, ask
 * {@link ALPHA} at a time for nodes near the target, keep the {@link BUCKET_SIZE} closest, stop when all of
 * them were asked. Protocol-neutral: the caller says how to ask one node (discv4 FindNode).
 */
import { AbortError } from '@devp2p/core';
import { compareDistance, type Endpoint, type Node, type NodeDatabase, type NodeId } from '@devp2p/enode';
import { ALPHA, BUCKET_SIZE, EMPTY_TABLE_SLOWDOWN_MS } from '../constants.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Table } from './table.ts';

/**
 * What the table's upkeep works with: the table, the node database (find failures, seeds), the service's
 * lifecycle and clock.
 * @example const ctx: TableContext = { table, db, lifecycle, now: Date.now }
 */
export interface TableContext {
  readonly table: Table;
  readonly db: NodeDatabase;
  readonly lifecycle: Lifecycle;
  readonly now: () => number;
}

/**
 * Asks `node`, at its UDP endpoint `to`, for the nodes it knows closest to the lookup's target.
 * @example const ask: FindNodeQuery = (node, to, signal) => findnode(node, to, targetKey, signal)
 */
export type FindNodeQuery = (node: Node, to: Endpoint, signal?: AbortSignal) => Promise<Node[]>;

/** One query in a lookup, with the failure bookkeeping of geth's `trackRequest`. */
async function query(ctx: TableContext, node: Node, ask: FindNodeQuery, signal?: AbortSignal): Promise<Node[]> {
  const to = node.udpEndpoint();
  if (!to) return [];
  let found: Node[];
  try {
    found = await ask(node, to, signal);
  } catch (err) {
    if (err instanceof AbortError || ctx.lifecycle.closed) throw err;
    found = [];
  }
  if (ctx.lifecycle.closed) return found;
  const fails = found.length > 0 ? 0 : ctx.db.findFails(node.id, to.ip) + 1;
  if (fails !== ctx.db.findFails(node.id, to.ip)) ctx.db.updateFindFails(node.id, to.ip, fails);
  ctx.table.trackRequest(node, fails, found);
  return found;
}

/**
 * Runs one lookup for `targetId`, asking nodes with `ask`; `onNode` sees each node the first time it is found.
 * Resolves with the closest nodes found; rejects on `signal`, on close, or with the first error of `ask` that
 * is an AbortError or comes after close.
 * @example const closest = await runLookup(ctx, NodeId.fromPublicKey(key), ask, signal)
 */
export async function runLookup(
  ctx: TableContext,
  targetId: NodeId,
  ask: FindNodeQuery,
  signal?: AbortSignal,
  onNode?: (node: Node) => void,
): Promise<Node[]> {
  ctx.lifecycle.checkOpen(signal);
  let result = ctx.table.closest(targetId, BUCKET_SIZE, false);
  if (result.length === 0) {
    // Avoid finishing at once on an empty table: give seeding and inbound contacts a moment.
    await ctx.lifecycle.sleep(EMPTY_TABLE_SLOWDOWN_MS, signal);
    result = ctx.table.closest(targetId, BUCKET_SIZE, false);
  }
  const seen = new Set<string>([ctx.table.self.hex]);
  for (const n of result) seen.add(n.id.hex);
  const asked = new Set<string>();
  const replies: Node[][] = [];
  let inflight = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  for (;;) {
    for (const found of replies.splice(0)) {
      for (const n of found) {
        if (seen.has(n.id.hex)) continue;
        seen.add(n.id.hex);
        onNode?.(n);
        result.push(n);
      }
      result.sort((a, b) => compareDistance(targetId, a.id, b.id));
      if (result.length > BUCKET_SIZE) result.length = BUCKET_SIZE;
    }
    if (failure !== undefined) throw failure;
    ctx.lifecycle.checkOpen(signal);
    for (const n of result) {
      if (inflight >= ALPHA) break;
      if (asked.has(n.id.hex)) continue;
      asked.add(n.id.hex);
      inflight++;
      query(ctx, n, ask, signal).then(
        (found) => {
          replies.push(found);
          inflight--;
          wake?.();
        },
        (err: unknown) => {
          failure ??= err;
          replies.push([]);
          inflight--;
          wake?.();
        },
      );
    }
    if (inflight === 0) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  return result;
}
