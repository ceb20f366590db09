import type { Node } from '@devp2p/enode';

/**
 * What a dial came to: the typed outcome the scheduler, the server's events and metrics act on.
 * - `connected`: both handshakes passed and the node is a peer;
 * - `refused`: no connection (refused, unreachable, DNS failure, outside NetRestrict);
 * - `handshake-failed`: connected, then the RLPx or Hello handshake failed or the server refused the peer
 *   (`reason` is the Disconnect reason when there was one);
 * - `timeout`: the attempt passed its deadline ({@link DIAL_TIMEOUT_MS} by default);
 * - `aborted`: stopped from our side (the scheduler stopping, the static node removed);
 * - `unresolved`: a static node with no address that discovery could not resolve (or was not asked yet because of
 *   its backoff): nothing was dialed.
 * @example dialer.on('dial', ({ node, outcome }) => { if (outcome.kind !== 'connected') log(node.id.short(), outcome.kind) })
 */
export type DialOutcome =
  | { readonly kind: 'connected'; readonly id: string }
  | { readonly kind: 'refused'; readonly error: Error }
  | { readonly kind: 'handshake-failed'; readonly error: Error; readonly reason?: number }
  | { readonly kind: 'timeout'; readonly error: Error }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'unresolved' };

/**
 * Options of one {@link DialHost.dial} call.
 * @example transport.dial(ip, port, { signal: options.signal, timeoutMs: options.timeoutMs })
 */
export interface HostDialOptions {
  /** Aborted when the dial must stop (timeout, scheduler stopping, static node removed). */
  readonly signal: AbortSignal;
  /** Whether the node is a static one (the server flags the peer so). */
  readonly static: boolean;
  /** Deadline for establishing the connection, in ms. */
  readonly timeoutMs: number;
}

/**
 * What a scheduler needs from the server it dials for: who we are, our limits, which nodes are in an inbound
 * handshake, which IPs may be dialed, and the dial itself.
 * @example
 * const host: DialHost = {
 *   selfId, maxDialedConns: 16, maxPendingPeers: 50,
 *   isPendingInbound: (id) => inbound.has(id),
 *   dial: async (node, { signal }) => connect(node, signal),
 * }
 */
export interface DialHost {
  /** Our node id (hex): never dialed. */
  readonly selfId: string;
  /** Outbound peer slots, geth's `maxDialedConns` (`maxPeers / dialRatio`). */
  readonly maxDialedConns: number;
  /** Most dials in flight at once, geth's `maxActiveDials` (its `MaxPendingPeers`). */
  readonly maxPendingPeers: number;
  /** True while an inbound connection from this id is in its handshake: such a node is not dialed. */
  isPendingInbound(id: string): boolean;
  /** False for an IP outside the server's NetRestrict list; absent: every IP may be dialed. */
  allowsIp?(ip: string): boolean;
  /**
   * Connects to `node` (its `ip` is set) through both handshakes and the server's checks. Never rejects; resolves
   * with `aborted` (or whatever it reached) soon after `signal` aborts.
   */
  dial(node: Node, options: HostDialOptions): Promise<DialOutcome>;
}

/**
 * Decides whom a server dials. The server owns one, starts it with itself as the {@link DialHost}, and tells it about
 * static nodes and about peers coming and going. `Dialer` is the implementation of this package.
 * @example
 * scheduler.start(host)
 * scheduler.addStatic(parseNode('enode://…@10.0.0.1:30303'))
 * scheduler.peerAdded(id, false)
 * await scheduler.close()
 */
export interface DialScheduler {
  start(host: DialHost): void;
  /** Keeps `node` connected. Adding a known id again replaces its address. */
  addStatic(node: Node): void;
  /** Stops keeping the node connected and aborts its dial in flight. */
  removeStatic(id: string): void;
  /** A peer completed the handshakes; `inbound` false when we dialed it. */
  peerAdded(id: string, inbound: boolean): void;
  peerRemoved(id: string): void;
  /** Aborts dials in flight, closes the node sources, clears every timer; resolves once the dials have settled. */
  close(): Promise<void>;
}

/**
 * Dial candidates: an async iterable of nodes (discovery's `randomNodes()`, a plugin's candidates, a DNS list),
 * or a function making one from the scheduler's signal, aborted when it stops. The scheduler pulls a node only
 * when it has a free dial slot, and closes the iterator (`return()`) when it stops.
 * @example
 * const sources: NodeSource[] = [(signal) => discovery.randomNodes({ signal }), staticList]
 */
export type NodeSource = AsyncIterable<Node> | ((signal: AbortSignal) => AsyncIterable<Node>);

/**
 * Options of a {@link NodeResolver} call: the signal aborts when the dial is stopped.
 * @example const resolve: NodeResolver = (node, { signal }) => discovery.resolve(node, { signal })
 */
export interface ResolveOptions {
  readonly signal: AbortSignal;
}

/**
 * Finds the current record of a node by its id through discovery (geth's `nodeResolver.Resolve`: the newer
 * record from the node, then the table, then a lookup). Resolves to undefined when it cannot be found.
 * @example const resolve: NodeResolver = (node, { signal }) => discovery.resolve(node, { signal })
 */
export type NodeResolver = (node: Node, options: ResolveOptions) => Promise<Node | undefined>;

/** Resolves a DNS name to one IP address: the `HostResolver` of `@devp2p/core`, named here too. */
export type { HostResolver } from '@devp2p/core';
