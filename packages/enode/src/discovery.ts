import type { Discovery } from '@devp2p/core';
import type { LocalNode } from './localnode.ts';
import type { Node } from './node.ts';

/**
 * A discovery source of {@link Node}s announcing a {@link LocalNode}: what discv4, discv5 and DNS lists implement
 * and what the dialer consumes.
 * @example const sources: NodeDiscovery[] = [discv4, dnsList]
 */
export type NodeDiscovery = Discovery<Node, LocalNode>;
