/**
 * The contract between node discovery (discv4, discv5, DNS lists) and whoever consumes it (the dialer, an
 * application): a source of candidate nodes that can also find a node's current record.
 */

/** Options of a {@link Discovery} call. */
export interface DiscoveryCallOptions {
  /** Ends the call (an iteration stops quietly; a `resolve` rejects with AbortError). */
  readonly signal?: AbortSignal;
}

/**
 * A source of candidate nodes, like geth's `enode.Iterator` plus `Resolve`. Generic over the node type because
 * `@devp2p/core` knows no node record: `@devp2p/enode` names the concrete form (`NodeDiscovery`).
 *
 * @example
 * for await (const node of discovery.randomNodes({ signal })) dialer.consider(node)
 * const current = await discovery.resolve(staticNode, { signal })
 * await discovery.close()
 */
export interface Discovery<TNode, TLocalNode = unknown> {
  /** Short name for logs and metrics: `discv4`, `discv5`, `dns`. */
  readonly name: string;
  /** Our own record as this source announces it. */
  readonly localNode: TLocalNode;
  /**
   * Candidate nodes, as they are found, until `signal` aborts, the consumer stops or the source closes. Each call
   * is an independent iterator; nodes may repeat over time.
   */
  randomNodes(options?: DiscoveryCallOptions): AsyncIterable<TNode>;
  /** The newest record of `node` this source can find; `node` itself when it finds nothing newer. */
  resolve(node: TNode, options?: DiscoveryCallOptions): Promise<TNode>;
  /** Stops the source and releases its sockets and timers; iterations end. Idempotent. */
  close(): Promise<void>;
}
