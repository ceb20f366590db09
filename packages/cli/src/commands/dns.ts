import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve as resolvePath } from 'node:path';
import { Devp2pError, TimeoutError } from '@devp2p/core';
import { publicKeyFromPrivate } from '@devp2p/crypto';
import {
  buildTree,
  DNSDISC_QUERY_TIMEOUT_MS,
  DNSDISC_RATE_LIMIT,
  DnsDiscError,
  DnsDiscovery,
  formatEnrTreeUrl,
  type LinkEntry,
  parseEnrTreeUrl,
  type SyncedTree,
  signTree,
  type Tree,
  treeToTxt,
  verifyRoot,
} from '@devp2p/dnsdisc';
import { base64UrlDecode, base64UrlEncode, loadNodeKey, type Node, parseNode } from '@devp2p/enode';
import { createTxtResolver } from '@devp2p/transport-node';
import { dnsServerFlag, UsageError } from '../node-command.ts';
import {
  expectPositionals,
  parseDuration,
  parseIntegerFlag,
  parseToolArgs,
  subcommands,
  type ToolArgs,
  type ToolCommand,
  type ToolFlags,
  withUsage,
} from './common.ts';
import { isJsonObject, type NodeJson, readJsonFile, sortedObject, writeJsonFile, writeTextFile } from './files.ts';

/** The tree's metadata in a tree directory (geth's `enrtree-info.json`). */
export const TREE_INFO_FILE = 'enrtree-info.json';

/** The tree's nodes in a tree directory (geth's nodes.json: a node set keyed by node id). */
export const TREE_NODES_FILE = 'nodes.json';

/** TTL of the root record in `to-txt --zone` output: 30 min, as geth's deployers publish it (`rootTTL`). */
export const DNS_ROOT_TTL_S: number = 30 * 60;

/**
 * TTL of every other record in `to-txt --zone` output: 4 weeks, as geth's deployers publish them (`treeNodeTTL`).
 * Entries never change under their hash, so they may be cached long; only the root moves.
 */
export const DNS_ENTRY_TTL_S: number = 4 * 7 * 24 * 60 * 60;

/** Longest character-string in a TXT record (RFC 1035 §3.3: one length byte); longer texts are split. */
const MAX_TXT_STRING = 255;

/** Highest `--rate`: far beyond what any DNS server would want from one client. */
const MAX_RATE = 100_000;

/** Usage of `devp2p dns`. */
export const DNS_USAGE: string = `devp2p dns <command> [flags]

  devp2p dns sync [--resolver <ip:port>] [--timeout <d>] [--rate <n>] <enrtree-url> [dir]
      downloads the tree at the URL and every tree it links to, verifying all of it (the root's signature
      against the URL's key, each entry's hash against its name, each node record's signature), then writes
      the tree into <dir> (default: the tree's domain) as enrtree-info.json and nodes.json, geth's formats, and
      prints a summary. Any failure exits 1 with the reason and writes nothing.

  devp2p dns sign [--domain <name>] [--seq <n>] <dir> <keyfile>
      builds the tree of the nodes in <dir>/nodes.json (each with a signed record) and the links in
      <dir>/enrtree-info.json, signs its root with the node key in <keyfile> (64 hex characters, geth's nodekey
      format), writes the URL, seq and signature into enrtree-info.json and prints the tree's enrtree:// URL.
      --domain <name>   the tree's domain (default: the domain of the URL in enrtree-info.json, else the
                        directory's name)
      --seq <n>         the tree's sequence number (default: the one in enrtree-info.json plus 1)

  devp2p dns to-txt [--zone] <dir> [output]
      checks the signature in enrtree-info.json against the tree and writes the TXT records that publish it to
      <output> (default: stdout, as for -): a JSON object of DNS name → record text (geth's format), or with
      --zone zone-file lines (root TTL 30 min, other records 4 weeks, long texts split into 255-byte strings)

  Every dns command takes these (only sync sends queries):
  --resolver <ip:port>  the DNS server to ask (a bare IP: port 53; default: the system's resolver)
  --timeout <duration>  deadline of each DNS query (default 5s, geth's)
  --rate <n>            sync: DNS queries per second (default 3, geth's limit)

Bad usage exits 2; a bad file, key or tree, or a failed DNS query exits 1.`;

/** The flags every `dns` command takes. */
const DNS_FLAGS: ToolFlags = { resolver: { type: 'string' }, timeout: { type: 'string' } };

/** What `--resolver` and `--timeout` say: the server (undefined: the system's resolver) and the query deadline. */
interface DnsSettings {
  readonly server: string | undefined;
  readonly timeoutMs: number;
}

function dnsSettings(values: ToolArgs['values']): DnsSettings {
  const server = dnsServerFlag(typeof values.resolver === 'string' ? values.resolver : undefined, '--resolver');
  const timeoutMs =
    typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : DNSDISC_QUERY_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new UsageError(`--timeout: expected a duration above 0, got ${String(values.timeout)}`);
  return { server, timeoutMs };
}

/** A tree directory as geth's `devp2p dns` keeps it: enrtree-info.json (metadata) and nodes.json. */
interface TreeInfo {
  /** The tree's `enrtree://` URL: set by `sign` and `sync`. */
  readonly url: string | undefined;
  readonly seq: number;
  /** The root's signature, unpadded base64url: set by `sign` and `sync`. */
  readonly signature: string | undefined;
  readonly links: readonly string[];
}

/** enrtree-info.json as geth writes it (`dnsMetaJSON`): url and signature only when known. */
function infoJson(info: TreeInfo): Record<string, unknown> {
  return {
    ...(info.url ? { url: info.url } : {}),
    seq: info.seq,
    ...(info.signature ? { signature: info.signature } : {}),
    links: [...info.links],
    lastModified: new Date().toISOString(),
  };
}

/** Reads `<dir>/enrtree-info.json`; a directory without one has an empty, unsigned tree (seq 0, no links). */
function readTreeInfo(dir: string): TreeInfo {
  const path = join(dir, TREE_INFO_FILE);
  const parsed = readJsonFile(path);
  if (parsed === undefined) return { url: undefined, seq: 0, signature: undefined, links: [] };
  if (!isJsonObject(parsed)) throw new Error(`${path}: expected a JSON object with url, seq, signature and links`);
  // Absent, null and empty mean the same (geth leaves a Go string or slice empty for each).
  const url = parsed.url ?? '';
  const signature = parsed.signature ?? '';
  const seq = parsed.seq ?? 0;
  const links = parsed.links ?? [];
  if (typeof url !== 'string') throw new Error(`${path}: 'url' is not a string`);
  if (url !== '') {
    try {
      parseEnrTreeUrl(url);
    } catch (cause) {
      throw new Error(`${path}: invalid 'url' field: ${(cause as Error).message}`, { cause });
    }
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new Error(`${path}: 'seq' is not an integer ≥ 0: ${JSON.stringify(seq)}`);
  }
  if (typeof signature !== 'string') throw new Error(`${path}: 'signature' is not a string`);
  if (!Array.isArray(links)) throw new Error(`${path}: 'links' is not a list of enrtree:// URLs`);
  const linkList: string[] = [];
  for (const link of links as unknown[]) {
    try {
      if (typeof link !== 'string') throw new TypeError('not a string');
      linkList.push(parseEnrTreeUrl(link).url);
    } catch (cause) {
      throw new Error(`${path}: invalid link ${JSON.stringify(link)}: ${(cause as Error).message}`, { cause });
    }
  }
  return {
    url: url === '' ? undefined : url,
    seq,
    signature: signature === '' ? undefined : signature,
    links: linkList,
  };
}

/**
 * Reads `<dir>/nodes.json` and checks it as geth does: each key is the id of its record's node, and each `seq` is
 * its record's sequence number.
 */
function readTreeNodes(dir: string): Node[] {
  const path = join(dir, TREE_NODES_FILE);
  const parsed = readJsonFile(path);
  if (parsed === undefined) {
    throw new Error(`${path}: does not exist (a node set keyed by node id, as discv4 crawl and dns sync write)`);
  }
  if (!isJsonObject(parsed)) throw new Error(`${path}: expected a JSON object of node id → { seq, record }`);
  const nodes: Node[] = [];
  for (const [id, entry] of Object.entries(parsed)) {
    const where = `${path}: node ${id}`;
    if (!isJsonObject(entry) || typeof entry.record !== 'string') {
      throw new Error(`${where}: expected an object with a 'record' string`);
    }
    let node: Node;
    try {
      node = parseNode(entry.record);
    } catch (cause) {
      throw new Error(`${where}: invalid record: ${(cause as Error).message}`, { cause });
    }
    if (node.id.hex !== id.toLowerCase().replace(/^0x/, '')) {
      throw new Error(`${where}: the id does not match id ${node.id.hex} of its record`);
    }
    const seq = entry.seq ?? 0;
    if (typeof seq !== 'number' || seq !== Number(node.seq)) {
      throw new Error(`${where}: 'seq' ${JSON.stringify(seq)} does not match seq ${node.seq} of its record`);
    }
    nodes.push(node);
  }
  return nodes;
}

/** A tree's nodes as nodes.json entries, keyed by node id. */
function nodeSet(nodes: readonly Node[]): Record<string, NodeJson> {
  return sortedObject(nodes.map((node): [string, NodeJson] => [node.id.hex, nodeJson(node)]));
}

function nodeJson(node: Node): NodeJson {
  return { seq: Number(node.seq), record: node.record.toText() };
}

/** Builds the tree of a directory, refusing a node the tree cannot hold with the reason. */
function buildDirectoryTree(dir: string, nodes: readonly Node[], links: readonly string[], seq: number): Tree {
  try {
    return buildTree(nodes, links, seq);
  } catch (cause) {
    throw new Error(`${join(dir, TREE_NODES_FILE)}: ${(cause as Error).message}`, { cause });
  }
}

/** Says what went wrong in a sync: a tree that breaks the rules, or a lookup that failed. */
function syncFailure(url: string, server: string | undefined, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DnsDiscError) return new Error(`tree verification failed: ${message}`, { cause: error });
  const where = server ? `the DNS server ${server}` : "the system's resolver";
  if (error instanceof TimeoutError) {
    return new Error(`${message}: no answer from ${where} (--timeout sets the deadline)`, { cause: error });
  }
  if (error instanceof Devp2pError) return new Error(`${message} (asking ${where})`, { cause: error });
  return new Error(`sync of ${url} failed: ${message}`, { cause: error });
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function treeSummary(tree: SyncedTree): string {
  return `seq ${tree.root.seq}, ${plural(tree.nodes.length, 'node')}, ${plural(tree.links.length, 'link')}, ${plural(tree.entries.size + 1, 'record')}`;
}

const sync: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, { ...DNS_FLAGS, rate: { type: 'string' } });
  expectPositionals(positionals, 2);
  const url = positionals[0];
  if (url === undefined) throw new UsageError('missing <enrtree-url>');
  let link: LinkEntry;
  try {
    link = parseEnrTreeUrl(url);
  } catch (cause) {
    throw new UsageError(`<enrtree-url>: ${(cause as Error).message}`);
  }
  const settings = dnsSettings(values);
  const rateLimit = parseIntegerFlag(values.rate, DNSDISC_RATE_LIMIT, '--rate', 1, MAX_RATE);
  // As geth: the tree goes into a directory named after its domain unless one is given.
  const dir = resolvePath(positionals[1] ?? link.domain);
  const resolver = createTxtResolver({
    ...(settings.server ? { server: settings.server } : {}),
    timeoutMs: settings.timeoutMs,
  });
  const client = new DnsDiscovery({ resolver, timeoutMs: settings.timeoutMs, rateLimit });
  const started = performance.now();
  let tree: SyncedTree;
  try {
    tree = await client.syncTree(link.url, { followLinks: true });
  } catch (error) {
    throw syncFailure(link.url, settings.server, error);
  } finally {
    await client.close();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new Error(`${dir}: cannot create the directory (${(cause as Error).message})`, { cause });
  }
  const info: TreeInfo = {
    url: tree.url,
    seq: tree.root.seq,
    signature: base64UrlEncode(tree.root.signature),
    links: tree.links,
  };
  writeJsonFile(join(dir, TREE_INFO_FILE), infoJson(info));
  writeJsonFile(join(dir, TREE_NODES_FILE), nodeSet(tree.nodes));

  console.log(`Tree ${tree.url}`);
  console.log(`  ${treeSummary(tree)}`);
  for (const linked of tree.linked) console.log(`  linked tree ${linked.url}: ${treeSummary(linked)}`);
  const trees = 1 + tree.linked.length;
  const nodes = tree.nodes.length + tree.linked.reduce((n, t) => n + t.nodes.length, 0);
  console.log(`Verified ${plural(trees, 'tree')} (${plural(nodes, 'node')}) in ${seconds} s`);
  console.log(`Wrote ${join(dir, TREE_INFO_FILE)} and ${join(dir, TREE_NODES_FILE)}`);
  return 0;
};

const sign: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, {
    ...DNS_FLAGS,
    domain: { type: 'string' },
    seq: { type: 'string' },
  });
  dnsSettings(values);
  expectPositionals(positionals, 2);
  const [dirArg, keyArg] = positionals;
  if (dirArg === undefined || keyArg === undefined) throw new UsageError('need <dir> and <keyfile>');
  const dir = resolvePath(dirArg);
  const info = readTreeInfo(dir);
  const seq = parseIntegerFlag(values.seq, info.seq + 1, '--seq', 0, Number.MAX_SAFE_INTEGER);
  let domain = info.url ? parseEnrTreeUrl(info.url).domain : basename(dir);
  if (typeof values.domain === 'string') domain = values.domain;
  const nodes = readTreeNodes(dir);
  const key = loadNodeKey(resolvePath(keyArg));
  let url: string;
  try {
    url = formatEnrTreeUrl(publicKeyFromPrivate(key), domain);
  } catch (cause) {
    const message = `cannot publish a tree at ${JSON.stringify(domain)}: ${(cause as Error).message}`;
    if (typeof values.domain === 'string') throw new UsageError(`--domain: ${message}`);
    throw new Error(`${message} (give one with --domain)`, { cause });
  }
  const tree = signTree(buildDirectoryTree(dir, nodes, info.links, seq), key);
  const signed: TreeInfo = { url, seq, signature: base64UrlEncode(tree.root.signature), links: info.links };
  writeJsonFile(join(dir, TREE_INFO_FILE), infoJson(signed));
  console.error(
    `Signed tree of ${plural(nodes.length, 'node')} and ${plural(info.links.length, 'link')}, seq ${seq}; wrote ${join(dir, TREE_INFO_FILE)}`,
  );
  console.log(url);
  return 0;
};

/** Reads a tree directory and checks that its signature (from `sign` or `sync`) is the URL key's over this tree. */
function loadSignedTree(dir: string): { tree: Tree; domain: string; url: string } {
  const infoPath = join(dir, TREE_INFO_FILE);
  if (!existsSync(infoPath)) throw new Error(`${infoPath}: does not exist: run 'devp2p dns sign' first`);
  const info = readTreeInfo(dir);
  if (!info.url) throw new Error(`${infoPath}: no 'url' field: run 'devp2p dns sign' first`);
  const link = parseEnrTreeUrl(info.url);
  const tree = buildDirectoryTree(dir, readTreeNodes(dir), info.links, info.seq);
  if (!info.signature) throw new Error(`${infoPath}: no signature: run 'devp2p dns sign' first`);
  const signature = base64UrlDecode(info.signature);
  const root = { ...tree.root, signature: signature instanceof Uint8Array ? signature : new Uint8Array(0) };
  if (!verifyRoot(root, link.publicKey)) {
    throw new Error(
      `${infoPath}: the signature is not ${link.url}'s over this tree (seq ${info.seq}): run 'devp2p dns sign' to update it`,
    );
  }
  return { tree: { root, entries: tree.entries }, domain: link.domain, url: link.url };
}

/** One TXT record as a zone file writes it: quoted, split into character-strings of 255 bytes at most. */
function zoneText(text: string): string {
  const strings: string[] = [];
  for (let i = 0; i < text.length; i += MAX_TXT_STRING) strings.push(text.slice(i, i + MAX_TXT_STRING));
  return strings.map((s) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(' ');
}

/** The records as zone-file lines under `$ORIGIN <domain>.`: the root at `@`, the others by their hash. */
function zoneFile(records: Record<string, string>, domain: string, url: string, seq: number): string {
  const suffix = `.${domain}`;
  const rows: [string, number, string][] = [['@', DNS_ROOT_TTL_S, records[domain]!]];
  for (const [name, text] of Object.entries(records)) {
    if (name.endsWith(suffix)) rows.push([name.slice(0, -suffix.length), DNS_ENTRY_TTL_S, text]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  const ttlWidth = String(DNS_ENTRY_TTL_S).length;
  const lines = [
    `; EIP-1459 tree ${url} (seq ${seq}), written by devp2p dns to-txt --zone`,
    `$ORIGIN ${domain}.`,
    ...rows.map(
      ([name, ttl, text]) => `${name.padEnd(width)} ${String(ttl).padStart(ttlWidth)} IN TXT ${zoneText(text)}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

const toTxt: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, { ...DNS_FLAGS, zone: { type: 'boolean' } });
  dnsSettings(values);
  expectPositionals(positionals, 2);
  const [dirArg, output = '-'] = positionals;
  if (dirArg === undefined) throw new UsageError('missing <dir>');
  const { tree, domain, url } = loadSignedTree(resolvePath(dirArg));
  const records = treeToTxt(tree, domain);
  const sorted = sortedObject(Object.entries(records));
  if (values.zone === true) {
    const text = zoneFile(sorted, domain, url, tree.root.seq);
    if (output === '-') process.stdout.write(text);
    else writeTextFile(resolvePath(output), text);
  } else {
    writeJsonFile(output === '-' ? output : resolvePath(output), sorted);
  }
  return 0;
};

/**
 * `devp2p dns sync|sign|to-txt`: EIP-1459 DNS discovery trees, as geth's `devp2p dns` (download and verify a tree,
 * sign a tree directory, print its TXT records).
 * @example process.exitCode = await runDns(['sync', '--resolver', '127.0.0.1:5353', url, 'out'])
 */
export const runDns: ToolCommand = withUsage(DNS_USAGE, subcommands({ sync, sign, 'to-txt': toTxt }));
