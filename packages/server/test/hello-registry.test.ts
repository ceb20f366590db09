import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToHex,
  type Cap,
  DisconnectReason,
  defineProtocol,
  type MessageCodec,
  ProtocolError,
  rlpEncode,
  TooLargeError,
} from '@devp2p/core';
import { hex, readVectorJson } from '@devp2p/test-utils';
import {
  decodeDisconnect,
  decodeHello,
  encodeDisconnect,
  encodeHello,
  findProtocol,
  INVALID_DISCONNECT_REASON,
  MAX_HELLO_SIZE,
  ProtocolRegistry,
} from '../src/index.ts';

const raw: MessageCodec<Uint8Array> = { encode: (b) => b, decode: (b) => b };

function proto(name: string, version: number, length: number) {
  return defineProtocol({ name, version, length, messages: { M: { code: 0, codec: raw } } });
}

describe('Hello', () => {
  it('decodes the EIP-8 Hello with extra elements and an unusual version', () => {
    const v = readVectorJson<{ hex: string; decoded: { clientId: string; nodeId: string; listenPort: number } }>(
      'rlpx/eip8-hello.json',
    );
    const hello = decodeHello(hex(v.hex));
    assert.equal(hello.version, 55);
    assert.equal(hello.clientName, v.decoded.clientId);
    assert.deepEqual(hello.caps, [
      { name: 'eth', version: 61 },
      { name: 'mork', version: 22 },
    ]);
    assert.equal(hello.listenPort, v.decoded.listenPort);
    assert.equal(bytesToHex(hello.nodeId), v.decoded.nodeId);
  });

  it('round-trips', () => {
    const hello = {
      version: 5,
      clientName: 'devp2p.ts/test',
      caps: [
        { name: 'eth', version: 68 },
        { name: 'png', version: 1 },
      ],
      listenPort: 30303,
      nodeId: new Uint8Array(64).fill(7),
    };
    assert.deepEqual(decodeHello(encodeHello(hello)), hello);
  });

  it('rejects oversized, malformed and truncated Hellos with typed errors', () => {
    assert.throws(() => decodeHello(new Uint8Array(MAX_HELLO_SIZE + 1)), TooLargeError);
    assert.throws(() => decodeHello(hex('c0')), ProtocolError);
    assert.throws(() => decodeHello(rlpEncode([5, 'x', [], 0])), /malformed Hello/);
    assert.throws(() => decodeHello(rlpEncode([5, 'x', [['eth']], 0, new Uint8Array(64)])), ProtocolError);
    assert.throws(() => decodeHello(rlpEncode([5, 'x', 'notalist', 0, new Uint8Array(64)])), ProtocolError);
    assert.throws(() => decodeHello(rlpEncode([5, hex('ff'), [], 0, new Uint8Array(64)])), ProtocolError);
    const tooManyCaps = Array.from({ length: 300 }, () => ['a', 1]);
    assert.throws(
      () => decodeHello(rlpEncode([5, 'x', tooManyCaps, 0, new Uint8Array(64)])),
      /lists 300 caps, more than the 256 accepted/,
    );
  });
});

describe('Disconnect', () => {
  it('encodes as a list and reads a list, a bare byte, or nothing', () => {
    assert.equal(bytesToHex(encodeDisconnect(DisconnectReason.TooManyPeers)), 'c104');
    assert.equal(decodeDisconnect(hex('c104')), 4);
    assert.equal(decodeDisconnect(hex('04')), 4);
    assert.equal(decodeDisconnect(hex('c110')), 0x10);
    assert.equal(decodeDisconnect(hex('80')), 0);
    assert.equal(decodeDisconnect(hex('c0')), 0);
    assert.equal(decodeDisconnect(new Uint8Array(0)), 0);
    assert.equal(decodeDisconnect(hex('ffff')), INVALID_DISCONNECT_REASON);
    assert.equal(decodeDisconnect(hex('c3820100')), INVALID_DISCONNECT_REASON);
  });
});

describe('ProtocolRegistry', () => {
  it('advertises caps sorted by name and version and refuses duplicates', () => {
    const registry = new ProtocolRegistry([proto('png', 1, 2), proto('eth', 69, 18), proto('eth', 68, 17)]);
    assert.deepEqual(registry.caps(), [
      { name: 'eth', version: 68 },
      { name: 'eth', version: 69 },
      { name: 'png', version: 1 },
    ]);
    assert.throws(() => new ProtocolRegistry([proto('png', 1, 2), proto('png', 1, 3)]), /registered twice/);
  });

  it('keeps shared caps, the highest version per name, in name order, offsets from 0x10', () => {
    const eth68 = proto('eth', 68, 17);
    const eth69 = proto('eth', 69, 18);
    const snap = proto('snap', 1, 8);
    const png = proto('png', 1, 2);
    const registry = new ProtocolRegistry([png, snap, eth68, eth69]);
    const remote: Cap[] = [
      { name: 'snap', version: 1 },
      { name: 'eth', version: 67 },
      { name: 'eth', version: 68 },
      { name: 'eth', version: 69 },
      { name: 'les', version: 4 },
      { name: 'png', version: 1 },
    ];
    const matched = registry.match(remote);
    assert.deepEqual(
      matched.map((m) => [`${m.protocol.cap.name}/${m.protocol.cap.version}`, m.offset]),
      [
        ['eth/69', 0x10],
        ['png/1', 0x10 + 18],
        ['snap/1', 0x10 + 18 + 2],
      ],
    );
    assert.equal(findProtocol(matched, 0x10)?.protocol, eth69);
    assert.equal(findProtocol(matched, 0x10 + 17)?.protocol, eth69);
    assert.equal(findProtocol(matched, 0x10 + 18)?.protocol, png);
    assert.equal(findProtocol(matched, 0x10 + 20 + 7)?.protocol, snap);
    assert.equal(findProtocol(matched, 0x10 + 20 + 8), undefined);
    assert.equal(findProtocol(matched, 0x0f), undefined);
  });

  it('falls back to a lower shared version, and finds nothing in common with a useless peer', () => {
    const registry = new ProtocolRegistry([proto('eth', 68, 17), proto('eth', 69, 18)]);
    const matched = registry.match([{ name: 'eth', version: 68 }]);
    assert.deepEqual(
      matched.map((m) => [m.protocol.cap.version, m.offset]),
      [[68, 0x10]],
    );
    assert.deepEqual(registry.match([{ name: 'eth', version: 70 }]), []);
    assert.deepEqual(registry.match([]), []);
  });
});
