/**
 * Revalidation scheduling (geth p2p/discover/table_reval.go): a timer for the table's next due node, a ping to
 * it, a record request when its pong announces a newer record, and the result handed back to the table.
 * Protocol-neutral: the caller supplies ping and record request (geth's `transport`).
 */
import type { Node } from '@devp2p/enode';
import type { TableContext } from './lookup.ts';

/**
 * The requests revalidation makes (what geth's table asks of its `transport`).
 * @example new Revalidation(ctx, discv4)
 */
export interface RevalidationNetwork {
  /** Resolves when `node` answered; `enrSeq` is the record sequence number it announced. */
  ping(node: Node, options?: { signal?: AbortSignal }): Promise<{ readonly enrSeq?: bigint | undefined }>;
  /** The node's current record. */
  requestENR(node: Node, options?: { signal?: AbortSignal }): Promise<Node>;
}

/**
 * Pings the table's nodes when they are due (`Table.nextRevalidationTime`) and reports back.
 * @example const revalidation = new Revalidation(ctx, discv4); table option `onAdded: () => revalidation.schedule()`
 */
export class Revalidation {
  readonly #ctx: TableContext;
  readonly #net: RevalidationNetwork;
  #revalidationTimer: unknown;
  #revalidationAt = Number.POSITIVE_INFINITY;

  constructor(ctx: TableContext, net: RevalidationNetwork) {
    this.#ctx = ctx;
    this.#net = net;
  }

  /** (Re)arms the timer for the table's next due revalidation, when it is earlier than the armed one. */
  schedule(): void {
    if (this.#ctx.lifecycle.closed) return;
    const at = this.#ctx.table.nextRevalidationTime();
    if (at === Number.POSITIVE_INFINITY || at >= this.#revalidationAt) return;
    this.#ctx.lifecycle.clearTimeout(this.#revalidationTimer);
    this.#revalidationAt = at;
    this.#revalidationTimer = this.#ctx.lifecycle.setTimeout(
      () => {
        this.#revalidationTimer = undefined;
        this.#revalidationAt = Number.POSITIVE_INFINITY;
        this.#revalidate();
      },
      Math.max(0, at - this.#ctx.now()),
    );
  }

  #revalidate(): void {
    if (this.#ctx.lifecycle.closed) return;
    for (const node of this.#ctx.table.dueForRevalidation()) {
      this.#revalidateNode(node).then(
        () => this.schedule(),
        () => this.schedule(),
      );
    }
    this.schedule();
  }

  async #revalidateNode(node: Node): Promise<void> {
    const { table, db, lifecycle } = this.#ctx;
    const to = node.udpEndpoint();
    let responded = false;
    let record: Node | undefined;
    if (to) {
      try {
        const pong = await this.#net.ping(node, { signal: lifecycle.signal });
        responded = true;
        if ((pong.enrSeq ?? 0n) > node.seq) {
          record = await this.#net.requestENR(node, { signal: lifecycle.signal }).catch(() => undefined);
        }
      } catch {
        responded = false;
      }
    }
    if (lifecycle.closed) return;
    const entry = table.revalidated(node.id, { responded, record });
    if (entry?.isValidatedLive) db.updateNode(entry.node);
  }
}
