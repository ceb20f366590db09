import type { Node } from '@devp2p/enode';

/** What a dial came to: the typed outcome a scheduler, the server's events and metrics can act on. */
export type DialOutcome =
  | { readonly kind: 'connected'; readonly id: string }
  | { readonly kind: 'refused'; readonly error: Error }
  | { readonly kind: 'handshake-failed'; readonly error: Error; readonly reason?: number }
  | { readonly kind: 'timeout'; readonly error: Error }
  | { readonly kind: 'aborted' };

/** What the server offers a dial scheduler. */
export interface DialHost {
  /** Our node id (hex): never dialed. */
  readonly selfId: string;
  /** Connects to `node` through both handshakes and the server's checks; never rejects. */
  dial(node: Node, options: { signal: AbortSignal; static: boolean }): Promise<DialOutcome>;
  /** True when a peer with this id is connected. */
  isConnected(id: string): boolean;
}

/**
 * Decides whom the server dials. The server owns one and tells it about static nodes and peers coming and going;
 * `@devp2p/dial` provides the full scheduler (history, backoff, dynamic slots). See {@link DirectDialer}.
 */
export interface DialScheduler {
  start(host: DialHost): void;
  addStatic(node: Node): void;
  removeStatic(id: string): void;
  peerAdded(id: string, inbound: boolean): void;
  peerRemoved(id: string): void;
  /** Aborts dials in flight and resolves once they have settled. */
  stop(): Promise<void>;
}

/**
 * The simplest scheduler: dials each static node once when it is added (unless already connected) and nothing
 * else — no retries, no discovery. It is what the server uses when given no scheduler.
 * @example createServer({ ..., dialer: new DirectDialer() })
 */
export class DirectDialer implements DialScheduler {
  #host: DialHost | undefined;
  readonly #pending = new Map<string, { controller: AbortController; done: Promise<DialOutcome> }>();
  readonly #early: Node[] = [];

  start(host: DialHost): void {
    this.#host = host;
    for (const node of this.#early.splice(0)) this.addStatic(node);
  }

  addStatic(node: Node): void {
    const host = this.#host;
    if (!host) {
      this.#early.push(node);
      return;
    }
    const id = node.id.hex;
    if (id === host.selfId || host.isConnected(id) || this.#pending.has(id)) return;
    const controller = new AbortController();
    const done = host.dial(node, { signal: controller.signal, static: true });
    this.#pending.set(id, { controller, done });
    void done.then(() => this.#pending.delete(id));
  }

  removeStatic(id: string): void {
    const pending = this.#pending.get(id);
    pending?.controller.abort(new Error('static node removed'));
  }

  peerAdded(): void {}

  peerRemoved(): void {}

  async stop(): Promise<void> {
    const pending = [...this.#pending.values()];
    for (const p of pending) p.controller.abort(new Error('server stopping'));
    await Promise.all(pending.map((p) => p.done));
    this.#host = undefined;
  }
}
