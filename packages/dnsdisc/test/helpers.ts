import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { Enr, Node } from '@devp2p/enode';
import type { DnsTestServer } from '@devp2p/test-utils/dns';
import { buildTree, formatEnrTreeUrl, signTree, type Tree, treeToTxt } from '../src/index.ts';

/** `count` nodes with signed records at 10.<net>.0.<i>. */
export function makeNodes(count: number, net = 0): Node[] {
  return Array.from({ length: count }, (_, i) =>
    Node.fromRecord(
      Enr.create({ ip: `10.${net}.${i >> 8}.${i & 0xff}`, tcp: 30303, udp: 30303 }, 1n).sign(generatePrivateKey()),
    ),
  );
}

/** A list: its key, domain and URL. */
export interface TestList {
  readonly key: Uint8Array;
  readonly domain: string;
  readonly url: string;
}

export function makeList(domain: string): TestList {
  const key = generatePrivateKey();
  return { key, domain, url: formatEnrTreeUrl(publicKeyFromPrivate(key), domain) };
}

/** Builds and signs the tree of `nodes` and `links` for `list`, and serves it (adding to what `dns` serves). */
export function publish(
  dns: DnsTestServer,
  list: TestList,
  nodes: readonly Node[],
  links: readonly string[] = [],
  seq = 1,
): Tree {
  const tree = signTree(buildTree(nodes, links, seq), list.key);
  for (const [name, text] of Object.entries(treeToTxt(tree, list.domain))) dns.setRecords(name, [text]);
  return tree;
}

/** Ids of nodes, sorted, for comparing sets. */
export function ids(nodes: Iterable<Node>): string[] {
  return [...new Set([...nodes].map((n) => n.id.hex))].sort();
}
