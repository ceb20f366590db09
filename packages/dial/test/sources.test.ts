import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '@devp2p/enode';
import { checkNodes, filterNodes, type NodeSource } from '../src/index.ts';
import { makeNodes } from './helpers.ts';

async function take(source: NodeSource, count: number, signal = new AbortController().signal): Promise<Node[]> {
  const out: Node[] = [];
  const iterable = typeof source === 'function' ? source(signal) : source;
  for await (const node of iterable) {
    out.push(node);
    if (out.length === count) break;
  }
  return out;
}

function listOf(nodes: readonly Node[]): NodeSource {
  return async function* list() {
    yield* nodes;
  };
}

describe('node source combinators', () => {
  it('filterNodes passes what accept passes, in order', async () => {
    const nodes = makeNodes(10);
    const even = filterNodes(listOf(nodes), (node) => nodes.indexOf(node) % 2 === 0);
    assert.deepEqual(
      await take(even, 100),
      [0, 2, 4, 6, 8].map((i) => nodes[i]),
    );
  });

  it('checkNodes runs at most `concurrency` checks, drops undefined and rejections, and ends with its source', async () => {
    const nodes = makeNodes(40);
    let running = 0;
    let most = 0;
    const checked = checkNodes(
      listOf(nodes),
      async (node) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 1 + (nodes.indexOf(node) % 3)));
        running--;
        const i = nodes.indexOf(node);
        if (i % 5 === 0) return undefined;
        if (i % 7 === 0) throw new Error('no record');
        return node;
      },
      4,
    );
    const got = await take(checked, 1_000);
    const expected = nodes.filter((_, i) => i % 5 !== 0 && i % 7 !== 0);
    assert.deepEqual(new Set(got), new Set(expected));
    assert.equal(got.length, expected.length);
    assert.ok(most <= 4 && most >= 2, `at most 4 checks at once (saw ${most})`);
  });

  it('checkNodes does not read ahead of a consumer that stops taking, and stops its source on abort', async () => {
    let pulled = 0;
    let finished = false;
    const nodes = makeNodes(1);
    const endless: NodeSource = async function* endless(signal) {
      try {
        while (!signal.aborted) {
          pulled++;
          yield nodes[0]!;
        }
      } finally {
        finished = true;
      }
    };
    const controller = new AbortController();
    const checked = checkNodes(endless, async (node) => node, 3);
    const iterator = (typeof checked === 'function' ? checked(controller.signal) : checked)[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(pulled <= 5, `pulled ${pulled} nodes for one taken: bounded by the concurrency`);
    controller.abort();
    assert.equal((await iterator.next()).done, true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(finished, true, 'the source iterator was closed');
  });

  it('checkNodes refuses a concurrency below 1', () => {
    assert.throws(() => checkNodes(listOf([]), async () => undefined, 0), RangeError);
  });
});
