/**
 * Building, signing and publishing a tree (geth's `dnsdisc.Tree`, `MakeTree`, `Sign`, `ToTXT`): nodes and links
 * into a signed root and hash-named entries, and those into TXT records.
 */
import type { Node } from '@devp2p/enode';
import { DNSDISC_MAX_BRANCH_CHILDREN } from './constants.ts';
import {
  type EnrEntry,
  entryHash,
  formatEntry,
  formatRoot,
  type LinkEntry,
  parseEnrTreeUrl,
  type RootEntry,
  signRoot,
  type TreeEntry,
} from './entries.ts';

/**
 * A tree: its root and every entry below it by hash. Built by {@link buildTree} (unsigned: the root's signature
 * is empty until {@link signTree}), or downloaded by `DnsDiscovery.syncTree`.
 */
export interface Tree {
  readonly root: RootEntry;
  /** Every entry below the root, keyed by its hash (the DNS label it is published under). */
  readonly entries: ReadonlyMap<string, TreeEntry>;
}

/**
 * The tree of `nodes` and `links` (`enrtree://` URLs of other lists) with sequence number `seq`, unsigned. Nodes
 * are sorted by id and each needs a signed, valid record; branches hold at most 13 children (geth's layout, so
 * the same input gives geth's hashes).
 * @example const tree = signTree(buildTree(nodes, [], 1), privateKey)
 */
export function buildTree(nodes: readonly Node[], links: readonly string[], seq: number): Tree {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq: expected an integer ≥ 0, got ${seq}`);
  const sorted = [...nodes].sort((a, b) => (a.id.hex < b.id.hex ? -1 : a.id.hex > b.id.hex ? 1 : 0));
  const leaves: EnrEntry[] = sorted.map((node) => {
    if (!node.record.signed || !node.record.verify()) {
      throw new TypeError(`can't add node ${node.id.hex}: unsigned or invalid node record`);
    }
    try {
      for (const port of ['tcp', 'tcp6', 'udp', 'udp6', 'quic', 'quic6'] as const) void node.record[port];
    } catch (cause) {
      throw new TypeError(`can't add node ${node.id.hex}: ${(cause as Error).message}`, { cause });
    }
    return { type: 'enr', node };
  });
  const linkEntries: LinkEntry[] = links.map((url) => parseEnrTreeUrl(url));
  const entries = new Map<string, TreeEntry>();
  const add = (entry: TreeEntry): string => {
    const hash = entryHash(formatEntry(entry));
    entries.set(hash, entry);
    return hash;
  };
  const build = (list: readonly TreeEntry[]): TreeEntry => {
    if (list.length === 1) return list[0]!;
    if (list.length <= DNSDISC_MAX_BRANCH_CHILDREN) return { type: 'branch', children: list.map(add) };
    const subtrees: TreeEntry[] = [];
    for (let i = 0; i < list.length; i += DNSDISC_MAX_BRANCH_CHILDREN) {
      const subtree = build(list.slice(i, i + DNSDISC_MAX_BRANCH_CHILDREN));
      add(subtree);
      subtrees.push(subtree);
    }
    return build(subtrees);
  };
  const enrRoot = add(build(leaves));
  const linkRoot = add(build(linkEntries));
  return { root: { type: 'root', enrRoot, linkRoot, seq, signature: new Uint8Array(0) }, entries };
}

/**
 * The tree with its root signed by `privateKey` (the key whose public half goes into the tree's URL).
 * @example
 * const signed = signTree(buildTree(nodes, links, 2), key)
 * const url = formatEnrTreeUrl(publicKeyFromPrivate(key), 'nodes.example.org')
 */
export function signTree(tree: Tree, privateKey: Uint8Array): Tree {
  return { root: signRoot(tree.root, privateKey), entries: tree.entries };
}

/**
 * The TXT records that publish `tree` at `domain`: the root at `domain`, each entry at `<hash>.<domain>`.
 * @example for (const [name, text] of Object.entries(treeToTxt(tree, 'nodes.example.org'))) zone.add(name, text)
 */
export function treeToTxt(tree: Tree, domain: string): Record<string, string> {
  if (tree.root.signature.length === 0) throw new TypeError('treeToTxt: the tree is not signed (signTree)');
  const records: Record<string, string> = { [domain]: formatRoot(tree.root) };
  for (const [hash, entry] of tree.entries) records[domain ? `${hash}.${domain}` : hash] = formatEntry(entry);
  return records;
}

/**
 * The nodes of a tree, sorted by id.
 * @example treeNodes(await dns.syncTree(url)).length
 */
export function treeNodes(tree: Tree): Node[] {
  const nodes: Node[] = [];
  for (const entry of tree.entries.values()) if (entry.type === 'enr') nodes.push(entry.node);
  return nodes.sort((a, b) => (a.id.hex < b.id.hex ? -1 : a.id.hex > b.id.hex ? 1 : 0));
}

/**
 * The `enrtree://` URLs a tree links to, sorted.
 * @example for (const url of treeLinks(tree)) console.log(url)
 */
export function treeLinks(tree: Tree): string[] {
  const links: string[] = [];
  for (const entry of tree.entries.values()) if (entry.type === 'link') links.push(entry.url);
  return links.sort();
}
