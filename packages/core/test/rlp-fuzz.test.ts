import { describe, it } from 'node:test';
import { RlpError, rlpDecode, rlpEncode } from '@devp2p/core';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';

describe('RLP decoder under random and mutated input', () => {
  it('decodes or throws RlpError, promptly', () => {
    const vectors = readVectorJson<Record<string, { out: string }>>('rlp/rlptest.json');
    const valid = [
      ...Object.values(vectors).map((v) => hex(v.out)),
      rlpEncode([[], [[]], [[], [[]]]]),
      rlpEncode(['a'.repeat(60), [new Uint8Array(300)], 2n ** 200n]),
    ];
    fuzzDecoder(
      fuzzInputs(valid),
      (bytes) => rlpDecode(bytes),
      (error) => error instanceof RlpError,
    );
  });
});
