import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, Devp2pError, type RlpInput, rlpEncode } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { ENR_MAX_SIZE, EnodeUrlError, Enr, EnrError, formatIp, parseEnodeUrl, parseNode } from '../src/index.ts';
import { prng, testSeed } from './helpers.ts';

const PREDEFINED_KEYS = new Set(['id', 'secp256k1', 'ip', 'ip6', 'tcp', 'udp', 'tcp6', 'udp6', 'quic', 'quic6', 'eth']);
const seed = testSeed();
const rand = prng(seed);
const at = (what: string, i: number) => `${what} #${i} (ENODE_TEST_SEED=${seed})`;

/** Signing keys are slow to make; a few are enough. */
const keys = Array.from({ length: 4 }, () => generatePrivateKey());
const publicKeys = keys.map((k) => publicKeyFromPrivate(k));

function randomValue(depth = 0): RlpInput {
  switch (rand.int(0, depth > 2 ? 2 : 3)) {
    case 0:
      return rand.bytes(rand.int(0, 40));
    case 1:
      return rand.int(0, 2 ** 32);
    case 2:
      return 'x'.repeat(rand.int(0, 5));
    default:
      return Array.from({ length: rand.int(0, 3) }, () => randomValue(depth + 1));
  }
}

function randomIPv6(): string {
  const bytes = rand.bytes(16);
  bytes[0] = rand.int(0, 0xfe); // not multicast (ff00::/8): a multicast address is no endpoint
  return formatIp(bytes);
}

function randomIPv4(): string {
  return [rand.int(0, 223), rand.int(0, 255), rand.int(0, 255), rand.int(0, 255)].join('.');
}

function randomEntries(): Record<string, RlpInput> {
  const entries: Record<string, RlpInput> = {};
  if (rand.next() < 0.7) entries['ip'] = randomIPv4();
  if (rand.next() < 0.3) entries['ip6'] = randomIPv6();
  for (const port of ['tcp', 'udp', 'tcp6', 'udp6', 'quic']) if (rand.next() < 0.4) entries[port] = rand.int(0, 65535);
  const extra = rand.int(0, 4);
  for (let i = 0; i < extra; i++) {
    const name = Array.from({ length: rand.int(1, 8) }, () =>
      rand.pick([...'abcdefghijklmnopqrstuvwxyz0123456789']),
    ).join('');
    // Random names must not be the predefined keys, whose values are typed (a random value for `udp` is no port).
    if (!(name in entries) && !PREDEFINED_KEYS.has(name)) entries[name] = randomValue();
  }
  return entries;
}

describe('property: ENR encode → decode is the identity', () => {
  it('for random signed records', () => {
    let signed = 0;
    for (let i = 0; i < 120; i++) {
      const entries = randomEntries();
      const seq = BigInt(rand.int(0, 2 ** 31)) * BigInt(rand.int(1, 2 ** 31));
      let record: Enr;
      try {
        record = Enr.create(entries, seq).sign(keys[i % keys.length]!);
      } catch (err) {
        assert.ok(err instanceof EnrError && err.message.includes('bigger than'), at('oversize only', i));
        continue;
      }
      signed++;
      const bytes = record.encode();
      assert.ok(bytes.length <= ENR_MAX_SIZE, at('size', i));
      const back = Enr.decode(bytes);
      assert.deepEqual(back.encode(), bytes, at('bytes', i));
      assert.equal(back.seq, seq, at('seq', i));
      assert.ok(Enr.decodeText(record.toText()).equals(record), at('text', i));
      const keysInOrder = back.keys();
      assert.deepEqual(keysInOrder, [...keysInOrder].sort(), at('sorted keys', i));
      for (const [key, value] of Object.entries(entries)) {
        // Addresses were generated in canonical text, so they read back unchanged.
        if (key === 'ip' || key === 'ip6') assert.equal(back[key], value, at(key, i));
        else assert.deepEqual(back.get(key), rlpEncode(value), at(key, i));
      }
      assert.equal(back.nodeId!.hex, record.nodeId!.hex, at('node id', i));
    }
    assert.ok(signed > 60, `most random records fit in 300 bytes (${signed}/120)`);
  });
});

describe('property: decoding random bytes fails only with a typed error', () => {
  const sample = Enr.create({ ip: '10.0.0.1', udp: 30303, tcp: 30303, x: [1, [2, 3]] }, 9n)
    .sign(keys[0]!)
    .encode();

  it('for random byte strings, random RLP lists and mutated records', () => {
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      let input: Uint8Array;
      const kind = i % 3;
      if (kind === 0) input = rand.bytes(rand.int(0, 320));
      else if (kind === 1) input = rlpEncode(Array.from({ length: rand.int(0, 8) }, () => randomValue()));
      else {
        input = sample.slice();
        for (let flips = rand.int(1, 3); flips > 0; flips--) input[rand.int(0, input.length - 1)] = rand.int(0, 255);
        if (rand.next() < 0.2) input = input.subarray(0, rand.int(0, input.length));
      }
      for (const verify of [true, false]) {
        try {
          const record = Enr.decode(input, { verify });
          accepted++;
          // Whatever is accepted re-encodes to the same bytes, and its getters fail only with typed errors.
          assert.deepEqual(record.encode(), input, at('re-encode', i));
          for (const getter of ['id', 'ip', 'ip6', 'tcp', 'udp', 'secp256k1', 'eth'] as const) {
            try {
              void record[getter];
            } catch (err) {
              assert.ok(err instanceof EnrError, at(`getter ${getter}: ${String(err)}`, i));
            }
          }
          void record.nodeId;
        } catch (err) {
          assert.ok(err instanceof EnrError, at(`decode threw ${String(err)}`, i));
        }
      }
    }
    assert.ok(accepted > 0, 'some inputs are structurally valid');
  });

  it('for random text given as a node address', () => {
    const alphabet = [...'enr:/@[]?=&.-_0123456789abcdefABCDEF+%'];
    const prefixes = ['', 'enr:', 'enode://', `enode://${bytesToHex(publicKeys[0]!)}@`];
    for (let i = 0; i < 3000; i++) {
      const text = rand.pick(prefixes) + Array.from({ length: rand.int(0, 40) }, () => rand.pick(alphabet)).join('');
      try {
        const node = parseNode(text);
        assert.equal(parseNode(node.toString()).id.hex, node.id.hex, at('reparse', i));
      } catch (err) {
        assert.ok(
          err instanceof EnodeUrlError || err instanceof EnrError,
          at(`${JSON.stringify(text)}: ${String(err)}`, i),
        );
        assert.ok(err instanceof Devp2pError);
      }
    }
  });
});

describe('property: enode URL format → parse is the identity', () => {
  it('for random keys, addresses, host names and ports', () => {
    for (let i = 0; i < 500; i++) {
      const publicKey = rand.pick(publicKeys);
      const tcp = rand.int(0, 65535);
      const udp = rand.next() < 0.5 ? tcp : rand.int(0, 65535);
      const kind = rand.int(0, 3);
      const host =
        kind === 0
          ? randomIPv4()
          : kind === 1
            ? `[${randomIPv6()}]`
            : kind === 2
              ? `${Array.from({ length: rand.int(1, 3) }, () => `h${rand.int(0, 1e6)}`).join('.')}${rand.next() < 0.2 ? '.' : ''}`
              : '';
      const url =
        host === ''
          ? `enode://${bytesToHex(publicKey)}`
          : `enode://${bytesToHex(publicKey)}@${host}:${tcp}${udp !== tcp ? `?discport=${udp}` : ''}`;
      const node = parseEnodeUrl(url);
      // IPv4-mapped IPv6 prints as IPv4, as geth does; everything else round-trips exactly.
      const mapped = host.startsWith('[::ffff:') && host.includes('.');
      if (!mapped) assert.equal(node.toString(), url, at(url, i));
      assert.deepEqual(node.publicKey, publicKey, at('key', i));
      assert.equal(parseNode(node.toString()).toString(), node.toString(), at('stable', i));
      if (host !== '') {
        assert.equal(node.tcp, tcp, at('tcp', i));
        assert.equal(node.udp, udp, at('udp', i));
      }
    }
  });
});
