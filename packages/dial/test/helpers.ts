import { generateNodeKey, LocalNode, Node, type NodeAddress } from '@devp2p/enode';
import type { DialHost, DialOutcome, DialScheduler, HostDialOptions } from '../src/index.ts';

let keyCount = 0;
const publicKeys: Uint8Array[] = [];

/** A node with a fresh key (keys are made once and reused across tests, in order). */
export function makeNode(address: NodeAddress = {}, keyIndex?: number): Node {
  const index = keyIndex ?? keyCount++;
  while (publicKeys.length <= index) publicKeys.push(new LocalNode(generateNodeKey()).node.publicKey!);
  return Node.fromPublicKey(publicKeys[index]!, address);
}

/** `count` nodes at 10.0.<n>.<m>:30303. */
export function makeNodes(count: number): Node[] {
  return Array.from({ length: count }, (_, i) => makeNode({ ip: `10.0.${i >> 8}.${(i & 255) + 1}`, tcp: 30303 }));
}

/** One dial the fake host received. */
export interface FakeDial {
  readonly node: Node;
  readonly options: HostDialOptions;
  /** The outcome it ended with, once it ended. */
  outcome: DialOutcome | undefined;
  /** Ends the dial (no-op once ended). */
  settle(outcome: DialOutcome): void;
}

/** What the fake host does with a dial: end it at once with an outcome, `connect` it (a peer), or leave it pending. */
export type FakeBehaviour = DialOutcome | 'connect' | 'hang';

/**
 * A DialHost with no sockets: records each dial and ends it as `behaviour` says. `connect` tells the scheduler
 * about the new peer before the dial resolves, as the server does.
 */
export class FakeHost implements DialHost {
  readonly selfId: string;
  maxDialedConns: number;
  maxPendingPeers: number;
  readonly pendingInbound: Set<string> = new Set();
  allowed: ((ip: string) => boolean) | undefined;
  behaviour: (node: Node) => FakeBehaviour = () => 'hang';
  scheduler: DialScheduler | undefined;
  readonly dials: FakeDial[] = [];

  constructor(options: { selfId?: string; maxDialedConns?: number; maxPendingPeers?: number } = {}) {
    this.selfId = options.selfId ?? makeNode().id.hex;
    this.maxDialedConns = options.maxDialedConns ?? 10;
    this.maxPendingPeers = options.maxPendingPeers ?? 50;
  }

  isPendingInbound(id: string): boolean {
    return this.pendingInbound.has(id);
  }

  allowsIp(ip: string): boolean {
    return this.allowed ? this.allowed(ip) : true;
  }

  dial(node: Node, options: HostDialOptions): Promise<DialOutcome> {
    return new Promise((resolve) => {
      const dial: FakeDial = {
        node,
        options,
        outcome: undefined,
        settle: (outcome) => {
          if (dial.outcome) return;
          dial.outcome = outcome;
          if (outcome.kind === 'connected') this.scheduler?.peerAdded(node.id.hex, false);
          resolve(outcome);
        },
      };
      this.dials.push(dial);
      options.signal.addEventListener('abort', () => dial.settle({ kind: 'aborted' }), { once: true });
      const behaviour = this.behaviour(node);
      if (behaviour === 'connect') dial.settle({ kind: 'connected', id: node.id.hex });
      else if (behaviour !== 'hang') dial.settle(behaviour);
    });
  }

  /** Dials not yet ended. */
  get inFlight(): FakeDial[] {
    return this.dials.filter((d) => !d.outcome);
  }

  /** How many times `node` was dialed. */
  dialsTo(node: Node): number {
    return this.dials.filter((d) => d.node.id.hex === node.id.hex).length;
  }
}

export const refused: DialOutcome = { kind: 'refused', error: new Error('connection refused') };

/**
 * A node source over a list: yields each node once (or cycles forever with `cycle`), and records whether it was
 * closed and how many nodes were taken.
 */
export function listSource(
  nodes: readonly Node[],
  options: { cycle?: boolean } = {},
): AsyncIterable<Node> & { taken: number; closed: boolean } {
  const state = { taken: 0, closed: false };
  const source = {
    get taken() {
      return state.taken;
    },
    get closed() {
      return state.closed;
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Node> {
      try {
        do {
          for (const node of nodes) {
            state.taken++;
            yield node;
          }
        } while (options.cycle && nodes.length > 0);
      } finally {
        state.closed = true;
      }
    },
  };
  return source;
}
