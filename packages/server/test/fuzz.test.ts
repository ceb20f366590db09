import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { fuzzDecoder, fuzzInputs } from '@devp2p/test-utils/fuzz';
import {
  decodeDisconnect,
  decodeHello,
  encodeDisconnect,
  encodeHello,
  INVALID_DISCONNECT_REASON,
} from '../src/hello.ts';

describe('base protocol decoders under random and mutated input', () => {
  it('Hello: decodes or throws ProtocolError, promptly', () => {
    const nodeId = publicKeyFromPrivate(generatePrivateKey());
    const eip8 = readVectorJson<{ hex: string }>('rlpx/eip8-hello.json');
    const valid = [
      encodeHello({
        version: 5,
        clientName: 'devp2p.ts/v0.0.0',
        caps: [{ name: 'eth', version: 68 }],
        listenPort: 30303,
        nodeId,
      }),
      encodeHello({ version: 4, clientName: '', caps: [], listenPort: 0, nodeId }),
      hex(eip8.hex),
    ];
    fuzzDecoder(
      fuzzInputs(valid, 2_200),
      (bytes) => decodeHello(bytes),
      (e) => e instanceof ProtocolError,
    );
  });

  it('Disconnect: never throws, and reads a reason byte or reports it unreadable', () => {
    const valid = [encodeDisconnect(4), rlpEncode(4), rlpEncode([]), new Uint8Array(0)];
    fuzzDecoder(
      fuzzInputs(valid, 64),
      (bytes) => {
        const reason = decodeDisconnect(bytes);
        assert.ok(Number.isInteger(reason) && reason >= 0 && reason <= INVALID_DISCONNECT_REASON);
      },
      () => false,
    );
  });
});
