import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, Devp2pError } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { readVectorJson } from '@devp2p/test-utils';
import { EnodeUrlError, Enr, EnrError, Node, parseEnodeUrl, parseNode } from '../src/index.ts';

interface UrlCase {
  input: string;
  expected: {
    ok: boolean;
    error_contains?: string;
    pubkey?: string;
    node_id_computed?: string;
    ip?: string | null;
    tcp?: number;
    udp?: number;
    seq?: number;
    hostname?: string;
  };
  round_trip_string?: string;
}

const cases = (): UrlCase[] => readVectorJson<{ cases: UrlCase[] }>('enr/enode-url-parsing.json').cases;

const pub = bytesToHex(publicKeyFromPrivate(generatePrivateKey()));

function assertRejects(input: string, includes: string, type: typeof EnodeUrlError | typeof EnrError = EnodeUrlError) {
  assert.throws(
    () => parseNode(input),
    (err: unknown) => {
      assert.ok(err instanceof type, `${input}: expected ${type.name}, got ${String(err)}`);
      assert.ok((err as Error).message.includes(includes), `"${(err as Error).message}" should include "${includes}"`);
      return true;
    },
  );
}

describe('node URLs: geth vectors', () => {
  it('parses every accepted input to its fields, and formats it back', () => {
    for (const c of cases().filter((x) => x.expected.ok)) {
      const node = parseNode(c.input);
      const e = c.expected;
      assert.equal(node.ip, e.ip ?? undefined, c.input);
      if (e.tcp !== undefined) assert.equal(node.tcp, e.tcp, c.input);
      if (e.udp !== undefined) assert.equal(node.udp, e.udp, c.input);
      if (e.seq !== undefined) assert.equal(node.seq, BigInt(e.seq), c.input);
      assert.equal(node.hostname, e.hostname, c.input);
      if (e.pubkey) assert.equal(bytesToHex(node.publicKey!), e.pubkey, c.input);
      if (e.node_id_computed) assert.equal(node.id.hex, e.node_id_computed, c.input);
      assert.equal(node.toString(), c.round_trip_string ?? c.input, c.input);
      assert.equal(parseNode(node.toString()).id.hex, node.id.hex);
    }
  });

  it('rejects every invalid input with a typed error naming what is wrong', () => {
    for (const c of cases().filter((x) => !x.expected.ok)) {
      assert.throws(
        () => parseNode(c.input),
        (err: unknown) => {
          assert.ok(err instanceof EnodeUrlError || err instanceof EnrError, `${c.input}: ${String(err)}`);
          assert.ok(
            (err as Error).message.includes(c.expected.error_contains!),
            `${JSON.stringify(c.input)}: "${(err as Error).message}" should include "${c.expected.error_contains}"`,
          );
          return true;
        },
      );
    }
  });
});

describe('node URLs', () => {
  it('parses incomplete nodes (key only), as geth ParseV4 does', () => {
    const node = parseEnodeUrl(`enode://${pub}`);
    assert.ok(node.incomplete);
    assert.equal(node.ip, undefined);
    assert.equal(node.tcp, 0);
    assert.equal(node.toString(), `enode://${pub}`);
    assert.equal(parseEnodeUrl(pub).id.hex, node.id.hex);
    assert.equal(parseEnodeUrl(pub.toUpperCase()).id.hex, node.id.hex);
    // parseNode (geth's Parse) wants a scheme.
    assertRejects(pub, "missing 'enr:' prefix");
  });

  it('omits discport when it equals the TCP port', () => {
    assert.equal(parseNode(`enode://${pub}@1.2.3.4:30303?discport=30303`).toString(), `enode://${pub}@1.2.3.4:30303`);
    assert.equal(parseNode(`enode://${pub}@1.2.3.4:30303?discport=`).udp, 30303);
    assert.equal(
      parseNode(`enode://${pub}@1.2.3.4:0?discport=30301`).toString(),
      `enode://${pub}@1.2.3.4:0?discport=30301`,
    );
  });

  it('keeps DNS names for dialing and formats them back', () => {
    const node = parseNode(`enode://${pub}@boot-1.example.org:30303?discport=30301`);
    assert.equal(node.hostname, 'boot-1.example.org');
    assert.equal(node.ip, undefined);
    assert.equal(node.incomplete, false);
    assert.equal(node.tcpEndpoint(), undefined);
    assert.equal(node.toString(), `enode://${pub}@boot-1.example.org:30303?discport=30301`);
    const resolved = node.withIp('192.0.2.10');
    assert.deepEqual(resolved.tcpEndpoint(), { ip: '192.0.2.10', port: 30303 });
    assert.deepEqual(resolved.udpEndpoint(), { ip: '192.0.2.10', port: 30301 });
    assert.equal(resolved.hostname, 'boot-1.example.org');
  });

  it('normalises addresses: IPv6 text, IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(parseNode(`enode://${pub}@[2001:DB8:0:0::1]:1`).ip, '2001:db8::1');
    const mapped = parseNode(`enode://${pub}@[::ffff:10.0.0.1]:1`);
    assert.equal(mapped.ip, '10.0.0.1');
    assert.equal(mapped.record.ip, '10.0.0.1');
    assert.equal(mapped.toString(), `enode://${pub}@10.0.0.1:1`);
  });

  it('accepts a trailing slash, ignores unknown query keys and surrounding whitespace', () => {
    assert.equal(parseNode(`  enode://${pub}@1.2.3.4:30303/?foo=1&discport=9\n`).udp, 9);
  });

  it('rejects malformed URLs, naming the problem', () => {
    assertRejects(`enode://${pub}@1.2.3.4`, 'invalid port (missing)');
    assertRejects(`enode://${pub}@1.2.3.4:65536`, 'invalid port "65536"');
    assertRejects(`enode://${pub}@1.2.3.4:-1`, 'invalid port');
    assertRejects(`enode://${pub}@1.2.3.4:1?discport=70000`, 'invalid discport in query');
    assertRejects(`enode://${pub}@:30303`, 'missing host');
    assertRejects(`enode://${pub}@1.2.3.256:30303`, 'invalid host');
    assertRejects(`enode://${pub}@2001:db8::1:30303`, 'must be in brackets');
    assertRejects(`enode://${pub}@[2001:db8::1:30303`, 'missing "]"');
    assertRejects(`enode://${pub}@[1.2.3.4]:30303`, 'only IPv6 addresses go in brackets');
    assertRejects(`enode://${pub}@[fe80::1%eth0]:30303`, 'invalid host');
    assertRejects(`enode://${pub}@bad_host!:30303`, 'invalid host');
    assertRejects(`enode://${pub}@224.0.0.1:30303`, 'multicast');
    assertRejects(`enode://${pub}@[ff02::1]:30303`, 'multicast');
    assertRejects(`enode://${pub}@1.2.3.4:1/path`, 'unexpected path');
    assertRejects('enode://zz@1.2.3.4:1', 'invalid public key (not hex)');
    assertRejects(`enode://${'00'.repeat(64)}@1.2.3.4:1`, 'invalid public key (not a point on secp256k1)');
    assertRejects('enode://hello', 'does not contain node ID');
    assert.throws(() => parseEnodeUrl('http://x'), /invalid URL scheme, want "enode"/);
  });

  it('throws only typed errors for non-URL input', () => {
    for (const input of ['', 'enr:', 'enode://', 'enode://@', '@@@', 'enr:-', 'enode://x@y:z?discport']) {
      assert.throws(() => parseNode(input), Devp2pError, input);
    }
    // @ts-expect-error a caller bug, not input: a TypeError
    assert.throws(() => parseNode(42), TypeError);
  });

  it('prints enr: text for signed records and enode URLs for key-only nodes', () => {
    const key = generatePrivateKey();
    const record = Enr.create({ ip: '10.0.0.1', tcp: 30303, udp: 30303 }, 1n).sign(key);
    const node = Node.fromRecord(record);
    assert.equal(node.toString(), record.toText());
    assert.equal(parseNode(node.toString()).id.hex, node.id.hex);
    assert.equal(node.toEnodeUrl(), `enode://${bytesToHex(publicKeyFromPrivate(key))}@10.0.0.1:30303`);
  });
});
