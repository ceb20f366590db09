/**
 * Combinators over dial candidate sources, as geth's `enode.Filter` and `enode.AsyncFilter`: the node assembly uses
 * them to dial only nodes a protocol wants (eth: a compatible fork id), fetching discv4 nodes' records first.
 */
import type { Node } from '@devp2p/enode';
import type { NodeSource } from './types.ts';

function open(source: NodeSource, signal: AbortSignal): AsyncIterable<Node> {
  return typeof source === 'function' ? source(signal) : source;
}

/**
 * The nodes of `source` that `accept` passes, in order (geth's `enode.Filter`).
 * @example const ethNodes = filterNodes(discovery, (node) => node.record.get('eth') !== undefined)
 */
export function filterNodes(source: NodeSource, accept: (node: Node) => boolean): NodeSource {
  return async function* filtered(signal: AbortSignal): AsyncGenerator<Node, void, undefined> {
    for await (const node of open(source, signal)) {
      if (signal.aborted) return;
      if (accept(node)) yield node;
    }
  };
}

/**
 * Each node of `source` through `check`, up to `concurrency` checks at once (geth's `enode.AsyncFilter`): the node
 * `check` returns (e.g. the same node with its fetched record) is passed on as checks finish, in any order;
 * undefined or a rejection drops it. At most `concurrency` nodes are being checked or waiting to be taken, so a slow
 * consumer stops the source rather than letting results pile up.
 * @example const withRecords = checkNodes(discv4Nodes, (node, signal) => discv4.requestENR(node, { signal }), 16)
 */
export function checkNodes(
  source: NodeSource,
  check: (node: Node, signal: AbortSignal) => Promise<Node | undefined>,
  concurrency: number,
): NodeSource {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`checkNodes: concurrency must be a positive integer, got ${concurrency}`);
  }
  return async function* checked(signal: AbortSignal): AsyncGenerator<Node, void, undefined> {
    const iterator = open(source, signal)[Symbol.asyncIterator]();
    const passed: Node[] = [];
    let checking = 0;
    let pulling = false;
    let ended = false;
    let wake: (() => void) | undefined;
    // Each check gets its own signal, all aborted by one listener on `signal`: sixteen checks each listening on
    // `signal` itself would trip Node's limit of ten listeners per event target (a warning, not a leak).
    const checks = new Set<AbortController>();
    const notify = (): void => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const abortChecks = (): void => {
      for (const controller of checks) controller.abort(signal.reason);
      notify();
    };
    const pump = (): void => {
      if (ended || pulling || signal.aborted || checking + passed.length >= concurrency) return;
      pulling = true;
      iterator.next().then(
        (result) => {
          pulling = false;
          if (result.done) ended = true;
          else {
            checking++;
            const controller = new AbortController();
            checks.add(controller);
            check(result.value, controller.signal)
              .then(
                (node) => {
                  if (node !== undefined && !signal.aborted) passed.push(node);
                },
                () => undefined,
              )
              .finally(() => {
                checks.delete(controller);
                checking--;
                notify();
                pump();
              });
          }
          notify();
          pump();
        },
        () => {
          pulling = false;
          ended = true;
          notify();
        },
      );
    };
    signal.addEventListener('abort', abortChecks);
    try {
      for (;;) {
        if (signal.aborted) return;
        pump();
        const next = passed.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (ended && checking === 0) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', abortChecks);
      // The consumer is gone: checks still running are of no use.
      for (const controller of checks) controller.abort(new Error('node source closed'));
      if (!ended) iterator.return?.()?.catch(() => undefined);
    }
  };
}
