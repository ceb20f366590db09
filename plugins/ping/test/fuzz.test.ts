import { describe, it } from 'node:test';
import { Devp2pError } from '@devp2p/core';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import { pingCodec, pongCodec } from '../src/index.ts';

describe('png/1 codecs under random and mutated input', () => {
  it('Ping and Pong decode or throw a typed error, promptly', () => {
    const valid = [pingCodec.encode({ nonce: 1n }), pongCodec.encode({ nonce: 0xffff_ffff_ffff_ffffn })];
    for (const codec of [pingCodec, pongCodec]) {
      fuzzDecoder(
        fuzzInputs(valid, 64),
        (bytes) => codec.decode(bytes),
        (e) => e instanceof Devp2pError,
      );
    }
  });
});
