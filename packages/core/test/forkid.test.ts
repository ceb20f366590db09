import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, decodeEnrForkId, enrForkIdEntry, RlpError, rlpEncode } from '../src/index.ts';

describe('ENR eth entry', () => {
  it('encodes [[forkHash, forkNext]] and decodes it back, ignoring later items as geth does', () => {
    const id = { hash: 0xfc64ec04, next: 1150000n };
    const encoded = rlpEncode(enrForkIdEntry(id));
    assert.equal(bytesToHex(encoded), 'cac984fc64ec0483118c30');
    assert.deepEqual(decodeEnrForkId(encoded), id);
    assert.deepEqual(decodeEnrForkId(rlpEncode([[Uint8Array.of(0, 0, 0, 1), 0], 'future'])), { hash: 1, next: 0n });
  });

  it('refuses an entry that is not [[4 bytes, uint64], ...]', () => {
    for (const bad of [
      [],
      [Uint8Array.of(1, 2, 3, 4)],
      [[Uint8Array.of(1, 2, 3), 0]],
      [[Uint8Array.of(1, 2, 3, 4), 0, 0]],
      [[Uint8Array.of(1, 2, 3, 4), new Uint8Array(9).fill(1)]],
      [[Uint8Array.of(1, 2, 3, 4), Uint8Array.of(0, 1)]],
    ]) {
      assert.throws(() => decodeEnrForkId(rlpEncode(bad)), RlpError, JSON.stringify(bad));
    }
  });
});
