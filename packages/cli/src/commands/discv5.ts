import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { bytesToHex, hexToBytes, splitHostPort } from '@devp2p/core';
import { generatePrivateKey, randomBytes } from '@devp2p/crypto';
import { BUCKET_MIN_DISTANCE, Discv5, HASH_BITS, MAX_FINDNODE_DISTANCE } from '@devp2p/discovery';
import { loadNodeKey, type Node, NodeId } from '@devp2p/enode';
import { udpTransport } from '@devp2p/transport-node';
import { UsageError } from '../node-command.ts';
import {
  expectPositionals,
  parseDuration,
  parseNodeArgument,
  parseToolArgs,
  subcommands,
  type ToolArgs,
  type ToolCommand,
  withUsage,
} from './common.ts';
import { type CrawlSource, crawl, crawlSeeds, loadNodeSet, onInterrupt, recordText, writeNodeSet } from './crawl.ts';
import type { NodeJson } from './files.ts';

/**
 * Default `--timeout` of the one-shot queries: generous next to discv5's 700 ms response timeout (a handshake
 * round trip included).
 */
export const DISCV5_QUERY_TIMEOUT_MS = 10_000;

/** Default `--timeout` of `discv5 crawl`, as `discv4 crawl`'s. */
export const DISCV5_CRAWL_TIMEOUT_MS = 60_000;

/** How often `discv5 listen` prints its status line (and its record, when it changed). */
export const LISTEN_STATUS_INTERVAL_MS = 10_000;

/**
 * The distances `discv5 crawl` asks each node that answers for (in one FINDNODE): those of geth's buckets, 256
 * down to 240, nearest last. The answer holds up to 16 of its live neighbours; in a small network, all of them.
 */
export const CRAWL_NEIGHBOUR_DISTANCES: readonly number[] = Array.from(
  { length: HASH_BITS - BUCKET_MIN_DISTANCE },
  (_, i) => HASH_BITS - i,
);

/** Distances `discv5 findnode` asks for when none are given: the farthest bucket, where half of all nodes lie. */
const DEFAULT_FINDNODE_DISTANCES = [256];

/** Usage of `devp2p discv5`. */
export const DISCV5_USAGE: string = `devp2p discv5 <command> [flags]

  devp2p discv5 ping <enr|enode>           pings a node (handshake included), prints the round-trip time, its
                                           record's seq and our address as it saw it
  devp2p discv5 resolve <enr|enode>        finds the newest record of a node (directly, else by a lookup)
  devp2p discv5 requestenr <enr|enode>     asks a node for its record (FINDNODE distance 0) and prints it
  devp2p discv5 findnode <enr|enode> [distances]
                                           asks a node for the records at the given log distances from it
                                           (comma-separated, 0..256; default 256), one verified record a line
  devp2p discv5 talk <enr|enode> <protocol> [hex]
                                           sends a TALKREQ of <protocol> with the request bytes (hex, default
                                           empty) and prints the TALKRESP as hex (0x when the protocol is unknown)
  devp2p discv5 crawl [--timeout <d>] [--out <nodes.json>] [--bootnodes <list>]
                                           walks the network from the bootnodes with random lookups, asks every
                                           node found for its record and its neighbours, and writes the set in
                                           geth's nodes.json format (an existing file is updated); Ctrl-C stops it
                                           early and still writes
  devp2p discv5 listen [--bootnodes <list>] [--nodekey <file>] [--extip <ip>]
                                           runs a discv5 node: prints its record, answers PING, FINDNODE and
                                           TALKREQ (empty) and fills its table from the bootnodes, until Ctrl-C

  --addr <host:port>      local UDP address (default 0.0.0.0:0)
  --timeout <duration>    deadline (default 10s for queries, 60s for crawl)
  --out <file>            crawl output (default nodes.json; - for stdout)
  --bootnodes <list>      crawl and listen seeds: comma-separated ENRs / enode URLs (crawl default: the nodes
                          already in --out)
  --nodekey <file>        listen: the node key file (64 hex characters, as devp2p key generate writes); default
                          a new key each run
  --extip <ip>            listen: the IP address to put in the record (default: what other nodes report, else
                          the --addr IP, else 127.0.0.1)

A node given by enode URL (no record) is addressed by its public key: discv5 needs no more to handshake.`;

function listenAddress(values: ToolArgs['values']): { host: string; port: number } {
  const addr = typeof values.addr === 'string' ? values.addr : '0.0.0.0:0';
  const parsed = splitHostPort(addr);
  if (!parsed) throw new UsageError(`--addr: expected host:port, got ${addr}`);
  return parsed;
}

/**
 * Runs `query` against a fresh discv5 instance with a target node, the other positional arguments (at most
 * `extra`) and a deadline, closing it afterwards.
 */
function oneShot(
  extra: number,
  query: (disc: Discv5, node: Node, args: readonly string[], signal: AbortSignal) => Promise<void>,
): ToolCommand {
  return async (args) => {
    const { values, positionals } = parseToolArgs(args, { addr: { type: 'string' }, timeout: { type: 'string' } });
    expectPositionals(positionals, 1 + extra);
    const node = parseNodeArgument(positionals[0], '<enr|enode>');
    if (!node.udpEndpoint()) throw new UsageError('<enr|enode>: the node has no IP address and UDP port');
    if (!node.publicKey) throw new UsageError('<enr|enode>: the node has no secp256k1 public key');
    const timeoutMs =
      typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : DISCV5_QUERY_TIMEOUT_MS;
    const { host, port } = listenAddress(values);
    // Each response may take up to the whole deadline (a slow or distant node), not just discv5's 700 ms.
    const disc = await Discv5.start({
      privateKey: generatePrivateKey(),
      transport: udpTransport,
      host,
      port,
      respTimeoutMs: timeoutMs,
    });
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await query(disc, node, positionals.slice(1), signal);
      return 0;
    } catch (error) {
      if (signal.aborted) throw new Error(`no answer from ${node.id.short()} within --timeout ${timeoutMs} ms`);
      throw error;
    } finally {
      await disc.close();
    }
  };
}

/** `[distances]` of `findnode`: a comma-separated list of integers 0..256. */
function parseDistances(text: string | undefined): number[] {
  if (text === undefined) return [...DEFAULT_FINDNODE_DISTANCES];
  const items = text.split(',').map((s) => s.trim());
  return items.map((item) => {
    if (!/^\d+$/.test(item) || Number(item) > MAX_FINDNODE_DISTANCE) {
      throw new UsageError(`[distances]: expected integers 0..${MAX_FINDNODE_DISTANCE}, got ${JSON.stringify(item)}`);
    }
    return Number(item);
  });
}

const ping = oneShot(0, async (disc, node, _args, signal) => {
  const started = performance.now();
  const pong = await disc.ping(node, { signal });
  const rtt = performance.now() - started;
  console.log(
    `node ${node.id.short()} responded to ping (RTT ${rtt.toFixed(1)} ms, record seq ${pong.enrSeq}, ` +
      `saw us at ${pong.ip}:${pong.port})`,
  );
});

const resolve = oneShot(0, async (disc, node, _args, signal) => {
  console.log(recordText(await disc.resolve(node, { signal })));
});

const requestenr = oneShot(0, async (disc, node, _args, signal) => {
  console.log((await disc.requestENR(node, { signal })).record.toText());
});

const findnode = oneShot(1, async (disc, node, args, signal) => {
  const distances = parseDistances(args[0]);
  for (const found of await disc.findNode(node, distances, { signal })) console.log(found.record.toText());
});

const talk = oneShot(2, async (disc, node, args, signal) => {
  const protocol = args[0];
  if (protocol === undefined) throw new UsageError('missing <protocol>');
  let request: Uint8Array = new Uint8Array(0);
  if (args[1] !== undefined) {
    try {
      request = hexToBytes(args[1], '[hex]');
    } catch (cause) {
      throw new UsageError((cause as Error).message);
    }
  }
  const response = await disc.talkRequest(node, protocol, request, { signal });
  console.log(`0x${bytesToHex(response)}`);
});

/** What `discv5 crawl` asks of a Discv5: its requests, with the neighbour query a node that answered gets. */
function crawlSource(disc: Discv5): CrawlSource {
  return {
    self: disc.self,
    table: disc.table,
    requestENR: (node, signal) => disc.requestENR(node, { signal }),
    randomNodes: (signal) => disc.randomNodes({ signal }),
    randomLookup: (signal) => disc.lookup(NodeId.fromBytes(randomBytes(32)), { signal }),
    neighbours: (node, signal) => disc.findNode(node, CRAWL_NEIGHBOUR_DISTANCES, { signal }),
  };
}

const crawlCommand: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, {
    addr: { type: 'string' },
    timeout: { type: 'string' },
    out: { type: 'string' },
    bootnodes: { type: 'string' },
  });
  expectPositionals(positionals, 0);
  const timeoutMs =
    typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : DISCV5_CRAWL_TIMEOUT_MS;
  const out = typeof values.out === 'string' ? values.out : 'nodes.json';
  const outPath = out === '-' ? out : resolvePath(out);
  const set = out === '-' ? new Map<string, NodeJson>() : loadNodeSet(outPath);
  // discv5 needs a node's public key to handshake: a seed without one (an enode URL has it) cannot be asked.
  const seeds = crawlSeeds(values.bootnodes, set).filter((node) => node.publicKey !== undefined);
  const { host, port } = listenAddress(values);
  const disc = await Discv5.start({
    privateKey: generatePrivateKey(),
    transport: udpTransport,
    host,
    port,
    bootnodes: seeds,
  });
  const controller = new AbortController();
  const release = onInterrupt(() => controller.abort());
  try {
    await crawl(crawlSource(disc), { seeds, set, timeoutMs, signal: controller.signal });
  } finally {
    release();
    await disc.close();
  }
  writeNodeSet(outPath, set);
  console.error(`Crawl done: ${set.size} nodes with a record written to ${out}`);
  return 0;
};

const listen: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, {
    addr: { type: 'string' },
    bootnodes: { type: 'string' },
    nodekey: { type: 'string' },
    extip: { type: 'string' },
  });
  expectPositionals(positionals, 0);
  const bootnodes =
    typeof values.bootnodes === 'string'
      ? values.bootnodes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .map((text) => parseNodeArgument(text, '--bootnodes'))
      : [];
  const extip = typeof values.extip === 'string' ? values.extip : undefined;
  if (extip !== undefined && isIP(extip) === 0) throw new UsageError(`--extip: expected an IP address, got ${extip}`);
  let privateKey: Uint8Array;
  if (typeof values.nodekey === 'string') {
    try {
      privateKey = loadNodeKey(resolvePath(values.nodekey));
    } catch (cause) {
      throw new UsageError(`--nodekey: ${(cause as Error).message}`);
    }
  } else {
    privateKey = generatePrivateKey();
  }
  const { host, port } = listenAddress(values);
  const disc = await Discv5.start({ privateKey, transport: udpTransport, host, port, bootnodes });
  if (extip !== undefined) disc.localNode.setStaticIp(extip);
  const stopped = new Promise<void>((resolve) => {
    const release = onInterrupt(() => {
      release();
      resolve();
    });
  });
  let seq = disc.self.seq;
  console.log(disc.self.record.toText());
  console.error(`Listening on ${host}:${disc.address.port} as ${disc.self.id.hex} (Ctrl-C stops)`);
  const status = setInterval(() => {
    const self = disc.self;
    // The record changes as other nodes report our address: print the new one as the first one was printed.
    if (self.seq !== seq) {
      seq = self.seq;
      console.log(self.record.toText());
    }
    const { received, sent, handshakes } = disc.stats;
    console.error(
      `Listening: table ${disc.table.size}, sessions ${disc.sessionCount}, received ${received}, sent ${sent}, ` +
        `handshakes ${handshakes}`,
    );
  }, LISTEN_STATUS_INTERVAL_MS);
  try {
    await stopped;
  } finally {
    clearInterval(status);
    await disc.close();
  }
  console.error('Stopped');
  return 0;
};

/**
 * `devp2p discv5 ping|resolve|requestenr|findnode|talk|crawl|listen`: one-shot discovery v5 queries, a crawler and
 * a node that only listens, as geth's `devp2p discv5`.
 * @example process.exitCode = await runDiscv5(['ping', 'enr:-IS4Q…'])
 */
export const runDiscv5: ToolCommand = withUsage(
  DISCV5_USAGE,
  subcommands({ ping, resolve, requestenr, findnode, talk, crawl: crawlCommand, listen }),
);
