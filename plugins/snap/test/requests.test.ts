// Requests and replies between two attached instances: served from a provider with geth's limits, empty without
// one, replies that break their request (the peer is dropped with "breach of protocol"), timeouts, aborts, the
// typed API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AbortError,
  DisconnectError,
  DisconnectReason,
  ERR_UNEXPECTED_MESSAGE,
  ProtocolError,
  TimeoutError,
} from '@devp2p/core';
import {
  type AccountData,
  type AccountRangeQuery,
  accountRangeCodec,
  byteCodesCodec,
  compareBytes,
  createSnapProtocol,
  EMPTY_CODE_HASH,
  EMPTY_ROOT_HASH,
  getAccountRange,
  getAccountRangeCodec,
  getByteCodes,
  getByteCodesCodec,
  getStorageRanges,
  getStorageRangesCodec,
  getTrieNodes,
  getTrieNodesCodec,
  MAX_CODE_LOOKUPS,
  MAX_REQUEST_SIZE,
  MAX_TRIE_NODE_LOOKUPS,
  MAX_TRIE_NODE_TIME_SPENT_MS,
  type SnapContext,
  type SnapProvider,
  SnapResponseError,
  SOFT_RESPONSE_LIMIT,
  type StorageRangesQuery,
  type StorageSlot,
  snap,
  storageRangesCodec,
  trieNodesCodec,
} from '../src/index.ts';
import { FakePeer } from './fake-peer.ts';

const fill = (n: number, length = 32): Uint8Array => new Uint8Array(length).fill(n);
const ROOT = fill(0x77);
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** A small state: 40 accounts at hashes 0x05.., 0x0a.., ..., storage for two of them, three codes, trie nodes. */
const ACCOUNTS: AccountData[] = Array.from({ length: 40 }, (_, i) => ({
  hash: fill(5 * (i + 1)),
  account: { nonce: BigInt(i), balance: 1000n * BigInt(i), storageRoot: EMPTY_ROOT_HASH, codeHash: EMPTY_CODE_HASH },
}));
const STORAGE = new Map<number, StorageSlot[]>([
  [0x05, [1, 2, 3].map((n) => ({ hash: fill(n), data: Uint8Array.of(n) }))],
  [0x0a, [7, 8].map((n) => ({ hash: fill(n), data: Uint8Array.of(n) }))],
]);
const CODES = new Map<number, Uint8Array>([
  [0xc1, fill(0x60, 1000)],
  [0xc2, fill(0x61, 1000)],
  [0xc3, fill(0x62, 1000)],
]);
const PROOF = [fill(0xee, 64)];

const state: SnapProvider = {
  accountRange: (q: AccountRangeQuery) => {
    if (compareBytes(q.root, ROOT) !== 0) return undefined;
    const accounts: AccountData[] = [];
    let size = 0;
    for (const entry of ACCOUNTS) {
      if (compareBytes(entry.hash, q.origin) < 0) continue;
      accounts.push(entry);
      size += 32 + 5;
      if (compareBytes(entry.hash, q.limit) >= 0 || size > q.bytes) break;
    }
    return { accounts, proof: PROOF };
  },
  storageRanges: (q: StorageRangesQuery) => {
    if (compareBytes(q.root, ROOT) !== 0) return undefined;
    const slots = q.accounts.map((account, i) =>
      (STORAGE.get(account[0]!) ?? []).filter((slot) => i > 0 || compareBytes(slot.hash, q.origin) >= 0),
    );
    return { slots, proof: [] };
  },
  byteCode: (hash) => CODES.get(hash[0]!),
  trieNode: ({ root, accountPath, storagePath }) => {
    if (compareBytes(root, ROOT) !== 0) return undefined;
    if (storagePath === undefined) return Uint8Array.of(0xc1, accountPath.length);
    return storagePath[0] === 0xee ? undefined : Uint8Array.of(0xc2, accountPath[0] ?? 0, storagePath[0] ?? 0);
  },
};

async function pair(provider: SnapProvider | undefined, options: { requestTimeoutMs?: number } = {}) {
  return FakePeer.pair(
    createSnapProtocol(options),
    provider ? createSnapProtocol({ provider, ...options }) : createSnapProtocol(options),
  );
}

/** The request id of the last message with `code` that `peer` sent. */
function lastRequestId(peer: FakePeer, code: number): bigint {
  const message = peer.sent.findLast((m) => m.code === code);
  assert.ok(message, `a message with code ${code} was sent`);
  return [getAccountRangeCodec, getStorageRangesCodec, getByteCodesCodec, getTrieNodesCodec][code / 2]!.decode(
    message.payload,
  ).requestId;
}

describe('serving from a provider', () => {
  it('account ranges: from the origin, with the proof, up to the limit', async () => {
    const { left, right } = await pair(state);
    const all = await getAccountRange(left.ctx, { root: ROOT });
    assert.deepEqual(all.accounts, ACCOUNTS);
    assert.deepEqual(all.proof, PROOF);
    const some = await getAccountRange(left.ctx, { root: ROOT, origin: fill(11), limit: fill(20) });
    assert.deepEqual(
      some.accounts.map((a) => a.hash[0]),
      [15, 20],
    );
    const none = await getAccountRange(left.ctx, { root: fill(1) });
    assert.deepEqual(none, { accounts: [], proof: [] }, 'a root the provider lacks: empty');
    assert.equal(right.ctx.state.served, 3);
    assert.deepEqual(left.disconnects, []);
    left.close();
  });

  it('storage ranges: one slot list per account, the origin applying to the first', async () => {
    const { left } = await pair(state);
    const both = await getStorageRanges(left.ctx, { root: ROOT, accounts: [fill(0x05), fill(0x0a)] });
    assert.deepEqual(both.slots, [STORAGE.get(0x05), STORAGE.get(0x0a)]);
    const from = await getStorageRanges(left.ctx, { root: ROOT, accounts: [fill(0x05)], origin: fill(2) });
    assert.deepEqual(
      from.slots[0]!.map((s) => s.hash[0]),
      [2, 3],
    );
    left.close();
  });

  it('storage queries: empty origin and limit become the whole range; bytes capped at the soft limit', async () => {
    const queries: StorageRangesQuery[] = [];
    const accountQueries: AccountRangeQuery[] = [];
    const { left } = await pair({
      storageRanges: (q) => {
        queries.push(q);
        return { slots: [], proof: [] };
      },
      accountRange: (q) => {
        accountQueries.push(q);
        return { accounts: [], proof: [] };
      },
    });
    await getStorageRanges(left.ctx, { root: ROOT, accounts: [fill(1)], responseBytes: 100_000 });
    await getStorageRanges(left.ctx, { root: ROOT, accounts: [fill(1)], origin: fill(3), limit: fill(4) });
    await getAccountRange(left.ctx, { root: ROOT, responseBytes: 64 * 1024 * 1024 });
    assert.deepEqual(queries[0]!.origin, fill(0));
    assert.deepEqual(queries[0]!.limit, fill(0xff));
    assert.equal(queries[0]!.bytes, 100_000);
    assert.equal(queries[0]!.hardLimit, 110_000);
    assert.deepEqual([queries[1]!.origin, queries[1]!.limit], [fill(3), fill(4)]);
    assert.equal(queries[1]!.bytes, MAX_REQUEST_SIZE, 'the default responseBytes');
    assert.equal(accountQueries[0]!.bytes, SOFT_RESPONSE_LIMIT);
    left.close();
  });

  it('bytecodes: request order, unknown ones skipped, the empty code without a lookup, cut past the bytes', async () => {
    const { left } = await pair(state);
    const hashes = [fill(0xc3), fill(0x99), EMPTY_CODE_HASH, fill(0xc1)];
    assert.deepEqual(await getByteCodes(left.ctx, { hashes }), [CODES.get(0xc3), new Uint8Array(0), CODES.get(0xc1)]);
    // 1000 bytes stay under 1500; the second code crosses the limit and still goes; the third is not sent.
    const cut = await getByteCodes(left.ctx, { hashes: [fill(0xc1), fill(0xc2), fill(0xc3)], responseBytes: 1500 });
    assert.deepEqual(cut, [CODES.get(0xc1), CODES.get(0xc2)]);
    left.close();
  });

  it(`bytecodes: at most ${MAX_CODE_LOOKUPS} lookups per request`, async () => {
    let lookups = 0;
    const { left, right } = await pair({
      byteCode: () => {
        lookups++;
        return undefined;
      },
    });
    const hashes = Array.from({ length: MAX_CODE_LOOKUPS + 50 }, () => fill(0x42));
    await right.receive(4, getByteCodesCodec.encode({ requestId: 9n, hashes, responseBytes: 1_000_000n }));
    assert.equal(lookups, MAX_CODE_LOOKUPS);
    assert.deepEqual(byteCodesCodec.decode(right.sent.at(-1)!.payload), { requestId: 9n, codes: [] });
    left.close();
  });

  it('trie nodes: account and storage nodes in order; a missing storage node ends its path set', async () => {
    const { left } = await pair(state);
    const nodes = await getTrieNodes(left.ctx, {
      root: ROOT,
      paths: [
        { accountPath: Uint8Array.of(0x11), storagePaths: [] },
        { accountPath: fill(0x0a), storagePaths: [Uint8Array.of(0x01), Uint8Array.of(0xee), Uint8Array.of(0x02)] },
        { accountPath: fill(0x0b), storagePaths: [Uint8Array.of(0x03)] },
      ],
    });
    assert.deepEqual(nodes, [Uint8Array.of(0xc1, 1), Uint8Array.of(0xc2, 0x0a, 0x01), Uint8Array.of(0xc2, 0x0b, 3)]);
    const cut = await getTrieNodes(left.ctx, {
      root: ROOT,
      paths: [1, 2, 3].map((n) => ({ accountPath: fill(n, n), storagePaths: [] })),
      responseBytes: 3,
    });
    assert.equal(cut.length, 2, 'the node crossing 3 bytes still goes, then the reply stops');
    assert.deepEqual(
      await getTrieNodes(left.ctx, { root: fill(1), paths: [{ accountPath: fill(1), storagePaths: [] }] }),
      [],
    );
    left.close();
  });

  it(`trie nodes: at most ${MAX_TRIE_NODE_LOOKUPS} lookups, and ${MAX_TRIE_NODE_TIME_SPENT_MS} ms, per request`, async () => {
    let lookups = 0;
    const { left, right } = await pair({
      trieNode: () => {
        lookups++;
        return undefined;
      },
    });
    const paths = Array.from({ length: MAX_TRIE_NODE_LOOKUPS + 10 }, () => ({
      accountPath: fill(1),
      storagePaths: [],
    }));
    await right.receive(6, getTrieNodesCodec.encode({ requestId: 3n, root: ROOT, paths, responseBytes: 10n ** 9n }));
    assert.equal(lookups, MAX_TRIE_NODE_LOOKUPS);
    left.close();

    // A slow provider: each lookup takes a second of the clock; the sixth finds the budget spent.
    let now = 0;
    let slowLookups = 0;
    const slow = FakePeer.pair(
      snap,
      createSnapProtocol({
        clock: { now: () => now },
        provider: {
          trieNode: () => {
            slowLookups++;
            now += 1_000;
            return Uint8Array.of(1);
          },
        },
      }),
    );
    const peers = await slow;
    await peers.right.receive(
      6,
      getTrieNodesCodec.encode({ requestId: 4n, root: ROOT, paths, responseBytes: 10n ** 9n }),
    );
    assert.equal(slowLookups, 6);
    assert.equal(trieNodesCodec.decode(peers.right.sent.at(-1)!.payload).nodes.length, 6);
    peers.left.close();
  });
});

describe('without state', () => {
  it('every request is answered empty (the empty code hash excepted), and the peer stays', async () => {
    const { left, right } = await FakePeer.pair(snap, snap);
    assert.deepEqual(await getAccountRange(left.ctx, { root: ROOT }), { accounts: [], proof: [] });
    assert.deepEqual(await getStorageRanges(left.ctx, { root: ROOT, accounts: [fill(1)] }), { slots: [], proof: [] });
    assert.deepEqual(await getByteCodes(left.ctx, { hashes: [fill(1), EMPTY_CODE_HASH] }), [new Uint8Array(0)]);
    assert.deepEqual(
      await getTrieNodes(left.ctx, { root: ROOT, paths: [{ accountPath: fill(1), storagePaths: [] }] }),
      [],
    );
    assert.equal(left.closed, undefined);
    assert.equal(right.closed, undefined);
    left.close();
  });

  it('a provider that throws, or returns a reply the requester would refuse, gives an empty reply', async () => {
    const failing = () => {
      throw new Error('database closed');
    };
    const { left, right } = await pair({
      accountRange: failing,
      storageRanges: () => ({
        slots: [
          [
            { hash: fill(2), data: Uint8Array.of(1) },
            { hash: fill(1), data: Uint8Array.of(1) },
          ],
        ],
        proof: [],
      }),
      byteCode: failing,
      trieNode: failing,
    });
    assert.deepEqual(await getAccountRange(left.ctx, { root: ROOT }), { accounts: [], proof: [] });
    assert.deepEqual(await getStorageRanges(left.ctx, { root: ROOT, accounts: [fill(1)] }), { slots: [], proof: [] });
    assert.deepEqual(await getByteCodes(left.ctx, { hashes: [fill(1)] }), []);
    assert.deepEqual(
      await getTrieNodes(left.ctx, { root: ROOT, paths: [{ accountPath: fill(1), storagePaths: [] }] }),
      [],
    );
    // Far more accounts than twice the bytes asked: a geth requester would drop us for it, so none are sent.
    const { left: l2 } = await pair({ accountRange: () => ({ accounts: ACCOUNTS, proof: [] }) });
    assert.deepEqual(await getAccountRange(l2.ctx, { root: ROOT, responseBytes: 100 }), { accounts: [], proof: [] });
    assert.equal(right.closed, undefined);
    left.close();
    l2.close();
  });
});

describe('replies that break their request end the peer with "breach of protocol"', () => {
  /** A client whose server's replies are dropped, so that the test can answer in its place. */
  async function silentServer() {
    const { left, right } = await pair(state);
    right.forward = false;
    return left;
  }

  async function expectDropped(
    left: FakePeer,
    pending: Promise<unknown>,
    violation: SnapResponseError['violation'],
  ): Promise<void> {
    await assert.rejects(
      pending,
      (error: unknown) => error instanceof SnapResponseError && error.violation === violation,
    );
    assert.deepEqual(left.disconnects, [DisconnectReason.ProtocolError]);
  }

  it('an unsolicited reply', async () => {
    const { left } = await pair(state);
    await left.receive(5, byteCodesCodec.encode({ requestId: 12345n, codes: [] }));
    assert.deepEqual(left.disconnects, [DisconnectReason.ProtocolError]);
    const [error] = left.errors;
    assert.ok(error instanceof ProtocolError && error.code === ERR_UNEXPECTED_MESSAGE, String(error));
  });

  it('more bytecodes than hashes asked', async () => {
    const left = await silentServer();
    const pending = getByteCodes(left.ctx, { hashes: [fill(0xc1)] });
    await tick();
    const requestId = lastRequestId(left, 4);
    await left.receive(5, byteCodesCodec.encode({ requestId, codes: [Uint8Array.of(1), Uint8Array.of(2)] }));
    await expectDropped(left, pending, 'too-many-items');
  });

  it('more trie nodes than paths asked', async () => {
    const left = await silentServer();
    const pending = getTrieNodes(left.ctx, { root: ROOT, paths: [{ accountPath: fill(1), storagePaths: [fill(2)] }] });
    await tick();
    const requestId = lastRequestId(left, 6);
    await left.receive(7, trieNodesCodec.encode({ requestId, nodes: [Uint8Array.of(1), Uint8Array.of(2)] }));
    await expectDropped(left, pending, 'too-many-items');
  });

  it('an account range more than twice the bytes asked', async () => {
    const left = await silentServer();
    const pending = getAccountRange(left.ctx, { root: ROOT, responseBytes: 200 });
    await tick();
    const requestId = lastRequestId(left, 0);
    // 40 accounts of 39 bytes each: 1560 bytes of content, more than 2 × 200.
    await left.receive(1, accountRangeCodec.encode({ requestId, accounts: ACCOUNTS, proof: [] }));
    await expectDropped(left, pending, 'too-large');
  });

  it('an account range starting before the origin asked', async () => {
    const left = await silentServer();
    const pending = getAccountRange(left.ctx, { root: ROOT, origin: fill(0x30) });
    await tick();
    const requestId = lastRequestId(left, 0);
    await left.receive(1, accountRangeCodec.encode({ requestId, accounts: ACCOUNTS.slice(0, 2), proof: [] }));
    await expectDropped(left, pending, 'out-of-range');
  });

  it('more storage slot lists than accounts asked, or too many bytes', async () => {
    const left = await silentServer();
    const pending = getStorageRanges(left.ctx, { root: ROOT, accounts: [fill(0x05)] });
    await tick();
    const requestId = lastRequestId(left, 2);
    const slots = [STORAGE.get(0x05)!, STORAGE.get(0x0a)!];
    await left.receive(3, storageRangesCodec.encode({ requestId, slots, proof: [] }));
    await expectDropped(left, pending, 'too-many-items');

    const other = await silentServer();
    const big = getStorageRanges(other.ctx, { root: ROOT, accounts: [fill(0x05)], responseBytes: 40 });
    await tick();
    const id = lastRequestId(other, 2);
    await other.receive(3, storageRangesCodec.encode({ requestId: id, slots: [STORAGE.get(0x05)!], proof: [] }));
    await expectDropped(other, big, 'too-large');
  });

  it('a reply at the limits is accepted', async () => {
    const left = await silentServer();
    const pending = getByteCodes(left.ctx, { hashes: [fill(0xc1), fill(0xc2)] });
    await tick();
    const requestId = lastRequestId(left, 4);
    await left.receive(5, byteCodesCodec.encode({ requestId, codes: [Uint8Array.of(1), Uint8Array.of(2)] }));
    assert.equal((await pending).length, 2);
    assert.deepEqual(left.disconnects, []);
    left.close();
  });
});

describe('request lifecycle', () => {
  it('times out with a TimeoutError; the late reply is dropped without ending the peer', async () => {
    const { left, right } = await pair(state, { requestTimeoutMs: 30 });
    right.forward = false;
    await assert.rejects(getByteCodes(left.ctx, { hashes: [fill(0xc1)] }), TimeoutError);
    const late = right.sent.findLast((m) => m.code === 5);
    assert.ok(late);
    await left.receive(late.code, late.payload);
    assert.deepEqual(left.disconnects, []);
    // Only once: the same reply again is unsolicited.
    await left.receive(late.code, late.payload);
    assert.deepEqual(left.disconnects, [DisconnectReason.ProtocolError]);
  });

  it('aborts through the signal', async () => {
    const { left, right } = await pair(state);
    right.forward = false;
    const controller = new AbortController();
    const pending = getAccountRange(left.ctx, { root: ROOT }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, AbortError);
    await assert.rejects(getAccountRange(left.ctx, { root: ROOT }, { signal: controller.signal }), AbortError);
    // Nothing stays pending: the peer's replies, let through again, answer a new request.
    right.forward = true;
    assert.deepEqual(await getAccountRange(left.ctx, { root: ROOT }), await getAccountRange(left.ctx, { root: ROOT }));
    left.close();
  });

  it('rejects with the DisconnectError when the peer goes away', async () => {
    const { left, right } = await pair(state);
    right.forward = false;
    const pending = getTrieNodes(left.ctx, { root: ROOT, paths: [{ accountPath: fill(1), storagePaths: [] }] });
    left.close(DisconnectReason.TooManyPeers, 'remote');
    await assert.rejects(
      pending,
      (error: unknown) => error instanceof DisconnectError && error.reason === DisconnectReason.TooManyPeers,
    );
    await assert.rejects(getByteCodes(left.ctx, { hashes: [fill(1)] }), DisconnectError, 'no new requests');
  });

  it('validates arguments', async () => {
    const { left } = await pair(state);
    await assert.rejects(getAccountRange(left.ctx, { root: fill(1, 31) }), TypeError);
    await assert.rejects(getAccountRange(left.ctx, { root: ROOT, origin: fill(1, 33) }), TypeError);
    await assert.rejects(getAccountRange(left.ctx, { root: ROOT, responseBytes: 0 }), RangeError);
    await assert.rejects(getAccountRange(left.ctx, { root: ROOT, responseBytes: 1.5 }), RangeError);
    await assert.rejects(getStorageRanges(left.ctx, { root: ROOT, accounts: [] }), RangeError);
    await assert.rejects(getByteCodes(left.ctx, { hashes: [] }), RangeError);
    const tooMany = Array.from({ length: MAX_CODE_LOOKUPS + 1 }, () => fill(1));
    await assert.rejects(getByteCodes(left.ctx, { hashes: tooMany }), RangeError);
    await assert.rejects(getTrieNodes(left.ctx, { root: ROOT, paths: [] }), RangeError);
    await assert.rejects(
      getTrieNodes(left.ctx, { root: ROOT, paths: [{ accountPath: fill(1, 40), storagePaths: [] }] }),
      TypeError,
    );
    const manyPaths = [
      { accountPath: fill(1), storagePaths: Array.from({ length: MAX_TRIE_NODE_LOOKUPS + 1 }, () => fill(2)) },
    ];
    await assert.rejects(getTrieNodes(left.ctx, { root: ROOT, paths: manyPaths }), RangeError);
    assert.equal(left.sent.length, 0, 'nothing was sent');
    left.close();
  });

  it('rejects invalid protocol options', () => {
    assert.throws(() => createSnapProtocol({ requestTimeoutMs: 0 }), RangeError);
    assert.throws(() => createSnapProtocol({ maxPending: 0 }), RangeError);
  });

  it('reports geth’s node and peer info, and the ENR entry', async () => {
    const { left } = await pair(state);
    assert.deepEqual(snap.nodeInfo(), {});
    assert.deepEqual(left.instance.info(), { version: 1 });
    assert.deepEqual(snap.enrEntries?.(), { snap: [] });
    left.close();
  });
});

describe('types', () => {
  it('reject misuse at compile time', () => {
    const misuse = (ctx: SnapContext): void => {
      // @ts-expect-error request ids are bigints
      void ctx.send('ByteCodes', { requestId: 1, codes: [] });
      // @ts-expect-error snap/1 has no GetBlockAccessLists (that is snap/2)
      void ctx.send('GetBlockAccessLists', { requestId: 1n, hashes: [], responseBytes: 1n });
      // @ts-expect-error responseBytes is a number in the helpers
      void getAccountRange(ctx, { root: ROOT, responseBytes: 1n });
      // @ts-expect-error a path set is { accountPath, storagePaths }
      void getTrieNodes(ctx, { root: ROOT, paths: [[fill(1)]] });
    };
    assert.equal(typeof misuse, 'function');
  });
});
