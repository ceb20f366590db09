import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, utf8ToBytes } from '@devp2p/core';
import {
  decompressPublicKey,
  generatePrivateKey,
  keccak256,
  publicKeyFromPrivate,
  recoverPublicKey,
} from '@devp2p/crypto';
import { Node } from '@devp2p/enode';
import { hex, readVectorJson } from '@devp2p/test-utils';
import { base32Decode, base32Encode } from '../src/base32.ts';
import {
  buildTree,
  DNSDISC_MAX_BRANCH_CHILDREN,
  DnsDiscError,
  type DnsDiscErrorReason,
  entryHash,
  formatEnrTreeUrl,
  formatEntry,
  formatRoot,
  isValidHash,
  matchesHash,
  parseAndVerifyRoot,
  parseEnrTreeUrl,
  parseEntry,
  parseRoot,
  rootSigningText,
  signTree,
  treeLinks,
  treeNodes,
  treeToTxt,
  verifyRoot,
} from '../src/index.ts';
import { makeNodes } from './helpers.ts';

interface Vector {
  url: string;
  signing_public_key_uncompressed: string;
  zone: { name: string; content: string }[];
  consistent_url_for_this_zone: string;
  geth_test_signing_private_key: string;
  computed_by_helper: { root_signed_text: string; root_signature_hex: string; stated_key_compressed: string };
  parse_cases_from_geth: {
    root: { input: string; error?: string; want?: { eroot: string; lroot: string; seq: number; sig: string } }[];
    entries: {
      input: string;
      error?: string;
      want?: { branch?: string[]; link?: { domain: string; key_base32: string }; enr?: string };
    }[];
  };
}

const vector = readVectorJson<Vector>('dnsdisc/eip1459-example.json');

const reason =
  (want: DnsDiscErrorReason) =>
  (error: unknown): boolean =>
    error instanceof DnsDiscError && error.code === 'ERR_DNSDISC' && error.reason === want;

/** geth's error texts → our reasons. */
const GETH_ERRORS: Record<string, DnsDiscErrorReason> = {
  'invalid syntax': 'syntax',
  'invalid base64 signature': 'invalid-signature',
  'invalid child hash': 'invalid-hash',
  'missing public key': 'missing-public-key',
  'invalid public key': 'invalid-public-key',
  'invalid node record': 'invalid-enr',
  'unknown entry type': 'unknown-entry',
};
const gethReason = (error: string): DnsDiscErrorReason => {
  const key = Object.keys(GETH_ERRORS).find((k) => error.startsWith(k));
  assert.ok(key, `no reason for geth error ${error}`);
  return GETH_ERRORS[key]!;
};

describe('base32', () => {
  it('round-trips and refuses what Go refuses', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 12, 16, 32, 33]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff);
      assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
    }
    assert.equal(base32Encode(utf8ToBytes('foobar')), 'MZXW6YTBOI');
    assert.equal(base32Decode('MZXW6YTBO1'), undefined, 'not in the alphabet');
    assert.equal(base32Decode('mzxw6ytboi'), undefined, 'lower case');
    assert.equal(base32Decode('MZX'), undefined, 'dangling group');
  });
});

describe('the EIP-1459 example (test/vectors/dnsdisc/eip1459-example.json)', () => {
  const [rootRecord, ...entries] = vector.zone;

  it('every entry is named by its hash, parses and verifies', () => {
    for (const { name, content } of entries) {
      assert.equal(entryHash(content), name);
      assert.ok(matchesHash(content, name));
      const entry = parseEntry(content);
      assert.equal(formatEntry(entry), content, 'prints back as published');
    }
    const types = entries.map(({ content }) => parseEntry(content).type).sort();
    assert.deepEqual(types, ['branch', 'enr', 'enr', 'enr', 'link']);
  });

  it("the root's signature recovers the stated key and verifies against the consistent URL", () => {
    const root = parseRoot(rootRecord!.content);
    assert.deepEqual(
      { e: root.enrRoot, l: root.linkRoot, seq: root.seq },
      { e: 'JWXYDBPXYWG6FX3GMDIBFA6CJ4', l: 'C7HRFPF3BLGF3YR4DY5KX3SMBE', seq: 1 },
    );
    assert.equal(rootSigningText(root), vector.computed_by_helper.root_signed_text);
    assert.equal(bytesToHex(root.signature), vector.computed_by_helper.root_signature_hex);
    assert.equal(formatRoot(root), rootRecord!.content);
    const recovered = recoverPublicKey(keccak256(utf8ToBytes(rootSigningText(root))), root.signature);
    assert.equal(`04${bytesToHex(recovered)}`, vector.signing_public_key_uncompressed);

    const link = parseEnrTreeUrl(vector.consistent_url_for_this_zone);
    assert.equal(bytesToHex(link.publicKey), vector.computed_by_helper.stated_key_compressed);
    assert.equal(link.domain, 'nodes.example.org');
    assert.ok(verifyRoot(root, link.publicKey));
    assert.deepEqual(parseAndVerifyRoot(rootRecord!.content, link.publicKey), root);
    const geth = publicKeyFromPrivate(hex(vector.geth_test_signing_private_key));
    assert.equal(formatEnrTreeUrl(geth, 'nodes.example.org'), vector.consistent_url_for_this_zone);
  });

  it("the spec's URL names another key: its root is refused with bad-signature", () => {
    const link = parseEnrTreeUrl(vector.url);
    assert.throws(() => parseAndVerifyRoot(rootRecord!.content, link.publicKey), reason('bad-signature'));
  });
});

describe("geth's parse cases (tree_test.go)", () => {
  for (const c of vector.parse_cases_from_geth.root) {
    it(`root ${c.input.slice(0, 60)}…`, () => {
      if (c.error) {
        assert.throws(() => parseRoot(c.input), reason(gethReason(c.error)));
        return;
      }
      const root = parseRoot(c.input);
      assert.deepEqual(
        { eroot: root.enrRoot, lroot: root.linkRoot, seq: root.seq, sig: bytesToHex(root.signature) },
        c.want,
      );
    });
  }
  for (const c of vector.parse_cases_from_geth.entries) {
    it(`entry ${JSON.stringify(c.input.slice(0, 60))}`, () => {
      if (c.error) {
        assert.throws(() => parseEntry(c.input), reason(gethReason(c.error)));
        return;
      }
      const entry = parseEntry(c.input);
      if (c.want?.branch) assert.deepEqual(entry.type === 'branch' && entry.children, c.want.branch);
      if (c.want?.link) {
        assert.equal(entry.type, 'link');
        if (entry.type === 'link') {
          assert.equal(entry.domain, c.want.link.domain);
          assert.equal(base32Encode(entry.publicKey), c.want.link.key_base32);
        }
      }
      if (c.want?.enr) assert.equal(entry.type, 'enr');
    });
  }
});

describe('entries: what is refused, and why', () => {
  const key = generatePrivateKey();
  const url = formatEnrTreeUrl(publicKeyFromPrivate(key), 'nodes.example.org');

  it('URLs', () => {
    assert.throws(() => parseEnrTreeUrl('https://nodes.example.org'), reason('invalid-url'));
    assert.throws(() => parseEnrTreeUrl('enrtree://nodes.example.org'), reason('missing-public-key'));
    assert.throws(() => parseEnrTreeUrl(url.replace('@', 'A@')), reason('invalid-public-key'));
    assert.throws(() => parseEnrTreeUrl(url.replace('nodes.example.org', 'a..b')), reason('syntax'));
    assert.throws(() => parseEnrTreeUrl(url.replace('nodes.example.org', '')), reason('syntax'));
    assert.throws(() => parseEnrTreeUrl(`${url}${'.x'.repeat(300)}`), reason('too-large'));
    const parsed = parseEnrTreeUrl(url);
    assert.deepEqual(decompressPublicKey(parsed.publicKey), publicKeyFromPrivate(key));
    assert.equal(parsed.url, url);
  });

  it('roots', () => {
    const tree = signTree(buildTree(makeNodes(2), [], 7), key);
    const text = formatRoot(tree.root);
    const link = parseEnrTreeUrl(url);
    assert.equal(parseAndVerifyRoot(text, link.publicKey).seq, 7);
    assert.throws(() => parseRoot(`${text} extra`), reason('syntax'));
    assert.throws(() => parseRoot(text.replace('seq=7', 'seq=-7')), reason('syntax'));
    assert.throws(() => parseRoot(text.replace('seq=7', `seq=${'9'.repeat(30)}`)), reason('syntax'));
    assert.throws(() => parseRoot(text.replace(/e=\S+/, 'e=ABC')), reason('invalid-hash'));
    assert.throws(() => parseRoot(text.replace(/sig=\S+/, 'sig=AAAA')), reason('invalid-signature'));
    assert.throws(() => parseRoot(text.replace(/sig=\S+/, 'sig=!!!!')), reason('invalid-signature'));
    assert.throws(() => parseRoot(`${text}${'A'.repeat(400)}`), reason('too-large'));
    // Changing what is signed breaks the signature.
    assert.throws(() => parseAndVerifyRoot(text.replace('seq=7', 'seq=8'), link.publicKey), reason('bad-signature'));
  });

  it('branches and records', () => {
    assert.throws(() => parseEntry(`enrtree-branch:${'AAAAAAAAAAAAAAAAAAAAAAAAAA,'.repeat(19)}`), reason('too-large'));
    assert.throws(() => parseEntry('enrtree-branch:AAAAAAAAAAAAAAAAAAAAAAAAAA,'), reason('invalid-hash'));
    const record = makeNodes(1)[0]!.record.toText();
    // A record whose content no longer matches its signature.
    const forged = `${record.slice(0, -3)}${record.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`;
    assert.throws(() => parseEntry(forged), reason('invalid-enr'));
    assert.throws(() => parseEntry('enr:'), reason('invalid-enr'));
    assert.ok(!isValidHash('AAAAAAAAAAAAAAAAAAA'), 'below 12 bytes');
    assert.ok(isValidHash('AAAAAAAAAAAAAAAAAAAA'), '12 bytes');
  });
});

describe('tree builder', () => {
  const key = generatePrivateKey();

  it('builds, signs and publishes a tree that reads back with every hash and the signature', () => {
    const nodes = makeNodes(30);
    const links = [formatEnrTreeUrl(publicKeyFromPrivate(generatePrivateKey()), 'other.example.org')];
    const tree = signTree(buildTree(nodes, links, 3), key);
    const txt = treeToTxt(tree, 'nodes.example.org');
    const { 'nodes.example.org': rootText, ...rest } = txt;
    const root = parseAndVerifyRoot(rootText!, publicKeyFromPrivate(key));
    assert.equal(root.seq, 3);
    for (const [name, text] of Object.entries(rest)) {
      assert.ok(name.endsWith('.nodes.example.org'));
      assert.equal(entryHash(text), name.split('.')[0]);
      const entry = parseEntry(text);
      if (entry.type === 'branch') assert.ok(entry.children.length <= DNSDISC_MAX_BRANCH_CHILDREN);
    }
    assert.ok(root.enrRoot in Object.fromEntries(Object.keys(rest).map((n) => [n.split('.')[0], 1])));
    assert.deepEqual(
      treeNodes(tree).map((n) => n.id.hex),
      nodes.map((n) => n.id.hex).sort(),
    );
    assert.deepEqual(treeLinks(tree), links);
    // 30 leaves: branches of 13, 13 and 4 under one root branch, and the single link as the link root.
    assert.equal(tree.entries.size, 30 + 3 + 1 + 1);
    assert.equal(parseEntry(txt[`${root.linkRoot}.nodes.example.org`]!).type, 'link');
  });

  it('a tree of one node has the node as its ENR root; an empty tree an empty branch', () => {
    const one = buildTree(makeNodes(1), [], 1);
    assert.equal(one.entries.get(one.root.enrRoot)?.type, 'enr');
    const none = buildTree([], [], 1);
    assert.deepEqual(none.entries.get(none.root.enrRoot), { type: 'branch', children: [] });
    assert.throws(() => treeToTxt(none, 'x.org'), TypeError);
  });

  it('refuses unsigned records and bad sequence numbers', () => {
    const unsigned = Node.fromPublicKey(publicKeyFromPrivate(generatePrivateKey()), { ip: '10.0.0.1', tcp: 30303 });
    assert.throws(() => buildTree([unsigned], [], 1), /unsigned/);
    assert.throws(() => buildTree(makeNodes(1), [], -1), RangeError);
    assert.throws(() => buildTree(makeNodes(1), ['enrtree://x'], 1), DnsDiscError);
  });
});
