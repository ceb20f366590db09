// Codecs of the eight snap/1 messages: round trips, hand-checked bytes (caps/snap.md gives the RLP shapes but no
// byte examples, so the expected hex below is worked out from those shapes by hand), malformed input, limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, hexToBytes, type MessageCodec, RlpError, rlpDecode, rlpEncode } from '@devp2p/core';
import { keccak256 } from '@devp2p/crypto';
import {
  type AccountData,
  accountRangeCodec,
  accountsSize,
  byteCodesCodec,
  compareBytes,
  EMPTY_CODE_HASH,
  EMPTY_ROOT_HASH,
  getAccountRangeCodec,
  getByteCodesCodec,
  getStorageRangesCodec,
  getTrieNodesCodec,
  MAX_CODE_REQUEST_COUNT,
  MAX_MESSAGE_SIZE,
  MAX_PROOF_NODES,
  MAX_TRIE_REQUEST_COUNT,
  SNAP1_LENGTH,
  SOFT_RESPONSE_LIMIT,
  type StateAccount,
  slimAccountCodec,
  snap,
  snap1Messages,
  storageRangesCodec,
  storageSize,
  trieNodeCount,
  trieNodesCodec,
} from '../src/index.ts';

const fill = (n: number, length = 32): Uint8Array => new Uint8Array(length).fill(n);
const rep = (byte: string, count = 32): string => byte.repeat(count);

function roundTrip<T>(codec: MessageCodec<T>, value: T): Uint8Array {
  const bytes = codec.encode(value);
  assert.deepEqual(codec.decode(bytes), value);
  return bytes;
}

const plain: StateAccount = { nonce: 0n, balance: 1n, storageRoot: EMPTY_ROOT_HASH, codeHash: EMPTY_CODE_HASH };
const contract: StateAccount = {
  nonce: 7n,
  balance: 10n ** 24n,
  storageRoot: fill(0x0a),
  codeHash: fill(0x0c),
};

describe('message table', () => {
  it('has the codes of caps/snap.md (snap/1) and reserves 8 codes', () => {
    const codes = Object.fromEntries(Object.entries(snap1Messages).map(([name, spec]) => [name, spec.code]));
    assert.deepEqual(codes, {
      GetAccountRange: 0,
      AccountRange: 1,
      GetStorageRanges: 2,
      StorageRanges: 3,
      GetByteCodes: 4,
      ByteCodes: 5,
      GetTrieNodes: 6,
      TrieNodes: 7,
    });
    assert.deepEqual(snap.cap, { name: 'snap', version: 1 });
    assert.equal(snap.length, SNAP1_LENGTH);
    assert.equal(snap.maxMessageSize, MAX_MESSAGE_SIZE);
  });

  it('limits carry geth’s values', () => {
    assert.equal(SOFT_RESPONSE_LIMIT, 2 * 1024 * 1024);
    assert.equal(MAX_MESSAGE_SIZE, 10 * 1024 * 1024);
    assert.equal(MAX_PROOF_NODES, 128);
    assert.equal(MAX_CODE_REQUEST_COUNT, 84);
    assert.equal(MAX_TRIE_REQUEST_COUNT, 1024);
  });

  it('the empty root and code hashes are keccak256(rlp("")) and keccak256("")', () => {
    assert.deepEqual(keccak256(rlpEncode(new Uint8Array(0))), EMPTY_ROOT_HASH);
    assert.deepEqual(keccak256(new Uint8Array(0)), EMPTY_CODE_HASH);
  });
});

describe('hand-checked bytes', () => {
  it('GetAccountRange', () => {
    const bytes = roundTrip(getAccountRangeCodec, {
      requestId: 1n,
      root: fill(0x11),
      origin: fill(0),
      limit: fill(0xff),
      responseBytes: 524_288n,
    });
    assert.equal(bytesToHex(bytes), `f86801a0${rep('11')}a0${rep('00')}a0${rep('ff')}83080000`);
  });

  it('AccountRange: the body is the slim account list, embedded (geth’s rlp.RawValue)', () => {
    const bytes = roundTrip(accountRangeCodec, {
      requestId: 1n,
      accounts: [{ hash: fill(1), account: plain }],
      proof: [hexToBytes('dead')],
    });
    assert.equal(bytesToHex(bytes), `ed01e7e6a0${rep('01')}c480018080c382dead`);
  });

  it('GetStorageRanges, with an empty origin and limit (the whole storage)', () => {
    const bytes = roundTrip(getStorageRangesCodec, {
      requestId: 2n,
      root: fill(0x11),
      accounts: [fill(0x22)],
      origin: new Uint8Array(0),
      limit: new Uint8Array(0),
      responseBytes: 32_768n,
    });
    assert.equal(bytesToHex(bytes), `f84902a0${rep('11')}e1a0${rep('22')}8080828000`);
  });

  it('StorageRanges', () => {
    const bytes = roundTrip(storageRangesCodec, {
      requestId: 2n,
      slots: [[{ hash: fill(0x33), data: Uint8Array.of(5) }]],
      proof: [],
    });
    assert.equal(bytesToHex(bytes), `e702e4e3e2a0${rep('33')}05c0`);
  });

  it('GetByteCodes and ByteCodes', () => {
    const request = roundTrip(getByteCodesCodec, { requestId: 3n, hashes: [fill(0x44)], responseBytes: 50_000n });
    assert.equal(bytesToHex(request), `e603e1a0${rep('44')}82c350`);
    const reply = roundTrip(byteCodesCodec, { requestId: 3n, codes: [hexToBytes('6000')] });
    assert.equal(bytesToHex(reply), 'c503c3826000');
  });

  it('GetTrieNodes (an account trie node, and a storage node of one account) and TrieNodes', () => {
    const paths = [
      { accountPath: new Uint8Array(0), storagePaths: [] },
      { accountPath: fill(0x55), storagePaths: [Uint8Array.of(0)] },
    ];
    const request = roundTrip(getTrieNodesCodec, { requestId: 4n, root: fill(0x11), paths, responseBytes: 1000n });
    assert.equal(bytesToHex(request), `f84b04a0${rep('11')}e5c180e2a0${rep('55')}008203e8`);
    assert.equal(trieNodeCount(paths), 2);
    const reply = roundTrip(trieNodesCodec, { requestId: 4n, nodes: [hexToBytes('c28080')] });
    assert.equal(bytesToHex(reply), 'c604c483c28080');
  });

  it('slim accounts: empty strings for the empty root and code hash, 32 bytes otherwise', () => {
    assert.equal(bytesToHex(slimAccountCodec.encode(plain)), 'c480018080');
    const encoded = roundTrip(slimAccountCodec, contract);
    assert.equal(bytesToHex(encoded), `f84e078ad3c21bcecceda1000000a0${rep('0a')}a0${rep('0c')}`);
    // A peer sending the full form (32-byte empty hashes) is understood, as geth's FullAccount does.
    const full = rlpEncode([1n, 2n, EMPTY_ROOT_HASH, EMPTY_CODE_HASH]);
    assert.deepEqual(slimAccountCodec.decode(full), { ...plain, nonce: 1n, balance: 2n });
    // Decoded empty hashes are copies: changing one leaves the exported constants alone.
    slimAccountCodec.decode(slimAccountCodec.encode(plain)).storageRoot.fill(0);
    assert.equal(bytesToHex(EMPTY_ROOT_HASH), '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421');
  });
});

describe('round trips', () => {
  it('every message, with several items', () => {
    const accounts: AccountData[] = [
      { hash: fill(1), account: plain },
      { hash: fill(2), account: contract },
      { hash: fill(3), account: { ...plain, nonce: 0xffff_ffff_ffff_ffffn, balance: (1n << 256n) - 1n } },
    ];
    roundTrip(accountRangeCodec, { requestId: 0xffff_ffff_ffff_ffffn, accounts, proof: [fill(9, 100), fill(8, 3)] });
    roundTrip(accountRangeCodec, { requestId: 0n, accounts: [], proof: [] });
    roundTrip(getStorageRangesCodec, {
      requestId: 5n,
      root: fill(1),
      accounts: [fill(2), fill(3)],
      origin: fill(4),
      limit: fill(5),
      responseBytes: 0xffff_ffff_ffff_ffffn,
    });
    roundTrip(storageRangesCodec, {
      requestId: 5n,
      slots: [
        [
          { hash: fill(1), data: Uint8Array.of(1) },
          { hash: fill(2), data: new Uint8Array(0) },
        ],
        [],
        [{ hash: fill(7), data: fill(0x80, 33) }],
      ],
      proof: [fill(1, 532)],
    });
    roundTrip(getByteCodesCodec, { requestId: 6n, hashes: [fill(1), EMPTY_CODE_HASH], responseBytes: 0n });
    roundTrip(byteCodesCodec, { requestId: 6n, codes: [new Uint8Array(0), fill(0x60, 24_576)] });
    roundTrip(getTrieNodesCodec, {
      requestId: 7n,
      root: fill(1),
      paths: [{ accountPath: Uint8Array.of(0x11, 0x23), storagePaths: [fill(0x20, 33), new Uint8Array(0)] }],
      responseBytes: 1n,
    });
    roundTrip(trieNodesCodec, { requestId: 7n, nodes: [] });
  });

  it('extra list items are accepted (EIP-8)', () => {
    const bytes = rlpEncode([1n, fill(1), fill(2), fill(3), 100n, 'later']);
    assert.equal(getAccountRangeCodec.decode(bytes).responseBytes, 100n);
    assert.deepEqual(byteCodesCodec.decode(rlpEncode([1n, [], 'x'])).codes, []);
  });

  it('accountsSize and storageSize count the list content as geth’s tracker does', () => {
    const accounts = [
      { hash: fill(1), account: plain },
      { hash: fill(2), account: contract },
    ];
    const payload = accountRangeCodec.encode({ requestId: 1n, accounts, proof: [] });
    const list = rlpEncode((rlpDecode(payload) as Uint8Array[][])[1]!);
    // The list's content is the list minus its header (here 2 bytes: f8 len).
    assert.equal(accountsSize(accounts), list.length - 2);
    const slots = [[{ hash: fill(1), data: Uint8Array.of(1) }], []];
    assert.equal(storageSize(slots), 35 + 1 + 1);
    assert.equal(compareBytes(fill(1), fill(2)) < 0, true);
    assert.equal(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0)) < 0, true);
  });
});

describe('malformed input is refused with an RlpError', () => {
  const cases: [string, MessageCodec<unknown>, Uint8Array][] = [
    ['empty input', getAccountRangeCodec, new Uint8Array(0)],
    ['a byte string, not a list', getAccountRangeCodec, rlpEncode(fill(1))],
    ['too few items', getAccountRangeCodec, rlpEncode([1n, fill(1), fill(2), fill(3)])],
    ['a 31-byte root', getAccountRangeCodec, rlpEncode([1n, fill(1, 31), fill(2), fill(3), 1n])],
    ['a 9-byte request id', getAccountRangeCodec, rlpEncode([fill(1, 9), fill(1), fill(2), fill(3), 1n])],
    ['a request id with a leading zero', getByteCodesCodec, rlpEncode([Uint8Array.of(0, 1), [], 1n])],
    ['trailing bytes', byteCodesCodec, Uint8Array.of(...rlpEncode([1n, []]), 0)],
    ['a length running past the end', byteCodesCodec, hexToBytes('c503c3826000').subarray(0, 5)],
    ['an account body that is a byte string', accountRangeCodec, rlpEncode([1n, [[fill(1), fill(2)]], []])],
    ['a slim account with 3 fields', accountRangeCodec, rlpEncode([1n, [[fill(1), [0n, 1n, '']]], []])],
    ['a slim root of 31 bytes', accountRangeCodec, rlpEncode([1n, [[fill(1), [0n, 1n, fill(1, 31), '']]], []])],
    ['a balance of 33 bytes', accountRangeCodec, rlpEncode([1n, [[fill(1), [0n, fill(1, 33), '', '']]], []])],
    [
      'accounts out of order',
      accountRangeCodec,
      rlpEncode([
        1n,
        [
          [fill(2), [0n, 1n, '', '']],
          [fill(1), [0n, 1n, '', '']],
        ],
        [],
      ]),
    ],
    [
      'a repeated account',
      accountRangeCodec,
      rlpEncode([
        1n,
        [
          [fill(2), [0n, 1n, '', '']],
          [fill(2), [0n, 1n, '', '']],
        ],
        [],
      ]),
    ],
    ['a proof of 129 nodes', accountRangeCodec, rlpEncode([1n, [], Array.from({ length: 129 }, () => 'n')])],
    ['a proof node that is a list', storageRangesCodec, rlpEncode([1n, [], [[]]])],
    ['a storage origin of 33 bytes', getStorageRangesCodec, rlpEncode([1n, fill(1), [], fill(1, 33), '', 1n])],
    ['an account hash of 20 bytes', getStorageRangesCodec, rlpEncode([1n, fill(1), [fill(1, 20)], '', '', 1n])],
    [
      'storage slots out of order',
      storageRangesCodec,
      rlpEncode([
        1n,
        [
          [
            [fill(5), '1'],
            [fill(4), '1'],
          ],
        ],
        [],
      ]),
    ],
    ['slot data that is a list', storageRangesCodec, rlpEncode([1n, [[[fill(5), []]]], []])],
    ['a code that is a list', byteCodesCodec, rlpEncode([1n, [[]]])],
    ['an empty path set', getTrieNodesCodec, rlpEncode([1n, fill(1), [[]], 1n])],
    ['a 34-byte path', getTrieNodesCodec, rlpEncode([1n, fill(1), [[fill(1, 34)]], 1n])],
    ['a path set that is a byte string', getTrieNodesCodec, rlpEncode([1n, fill(1), ['ab'], 1n])],
    ['a trie node that is a list', trieNodesCodec, rlpEncode([1n, [[]]])],
    ['responseBytes of 9 bytes', getByteCodesCodec, rlpEncode([1n, [], fill(1, 9)])],
  ];
  for (const [what, codec, bytes] of cases) {
    it(what, () => assert.throws(() => codec.decode(bytes), RlpError));
  }

  it('a proof of exactly 128 nodes is fine', () => {
    const proof = Array.from({ length: MAX_PROOF_NODES }, () => Uint8Array.of(1, 2));
    assert.equal(accountRangeCodec.decode(rlpEncode([1n, [], proof])).proof.length, MAX_PROOF_NODES);
  });
});

describe('encoders validate their input', () => {
  it('throws TypeError / RangeError for values that would put a wrong message on the wire', () => {
    const request = { requestId: 1n, root: fill(1), origin: fill(0), limit: fill(0xff), responseBytes: 1n };
    assert.throws(() => getAccountRangeCodec.encode({ ...request, root: fill(1, 31) }), TypeError);
    assert.throws(() => getAccountRangeCodec.encode({ ...request, requestId: -1n }), RangeError);
    assert.throws(() => getAccountRangeCodec.encode({ ...request, responseBytes: 1n << 64n }), RangeError);
    assert.throws(
      () =>
        accountRangeCodec.encode({
          requestId: 1n,
          accounts: [
            { hash: fill(2), account: plain },
            { hash: fill(1), account: plain },
          ],
          proof: [],
        }),
      RangeError,
    );
    assert.throws(
      () =>
        accountRangeCodec.encode({
          requestId: 1n,
          accounts: [{ hash: fill(1), account: { ...plain, balance: -1n } }],
          proof: [],
        }),
      RangeError,
    );
    assert.throws(
      () =>
        accountRangeCodec.encode({ requestId: 1n, accounts: [], proof: Array.from({ length: 129 }, () => fill(1)) }),
      RangeError,
    );
    assert.throws(
      () =>
        getTrieNodesCodec.encode({
          requestId: 1n,
          root: fill(1),
          paths: [{ accountPath: fill(1, 34), storagePaths: [] }],
          responseBytes: 1n,
        }),
      TypeError,
    );
    assert.throws(
      () => getStorageRangesCodec.encode({ ...request, accounts: [], origin: fill(1, 33), limit: new Uint8Array(0) }),
      TypeError,
    );
    assert.throws(() => byteCodesCodec.encode({ requestId: 1n, codes: ['60' as unknown as Uint8Array] }), TypeError);
  });
});
