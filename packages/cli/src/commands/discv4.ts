import { resolve as resolvePath } from 'node:path';
import { splitHostPort } from '@devp2p/core';
import { generatePrivateKey, randomBytes } from '@devp2p/crypto';
import { Discv4 } from '@devp2p/discovery';
import type { Node } from '@devp2p/enode';
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
import { crawl, crawlSeeds, loadNodeSet, onInterrupt, recordText, writeNodeSet } from './crawl.ts';
import type { NodeJson } from './files.ts';

/** Default `--timeout` of the one-shot queries: generous next to discv4's 500 ms reply timeout (bonding included). */
export const DISCV4_QUERY_TIMEOUT_MS = 10_000;

/** Default `--timeout` of `discv4 crawl`: geth's crawler runs until its timeout too (default 30 min; ours is short). */
export const DISCV4_CRAWL_TIMEOUT_MS = 60_000;

/** Usage of `devp2p discv4`. */
export const DISCV4_USAGE: string = `devp2p discv4 <command> [flags]

  devp2p discv4 ping <enode|enr>         pings a node, prints the round-trip time and its record's seq
  devp2p discv4 resolve <enode|enr>      finds the newest record of a node (directly, else by a lookup)
  devp2p discv4 requestenr <enode|enr>   asks a node for its record (EIP-868) and prints it
  devp2p discv4 crawl [--timeout <d>] [--out <nodes.json>] [--bootnodes <list>]
      walks the network from the bootnodes with random lookups, checks every node found by asking for its
      record, and writes the set in geth's nodes.json format (an existing file is updated)

  --addr <host:port>      local UDP address (default 0.0.0.0:0)
  --timeout <duration>    deadline (default 10s for queries, 60s for crawl)
  --out <file>            crawl output (default nodes.json; - for stdout)
  --bootnodes <list>      crawl seeds: comma-separated enode URLs / ENRs (default: the nodes already in --out)`;

function listenAddress(values: ToolArgs['values']): { host: string; port: number } {
  const addr = typeof values.addr === 'string' ? values.addr : '0.0.0.0:0';
  const parsed = splitHostPort(addr);
  if (!parsed) throw new UsageError(`--addr: expected host:port, got ${addr}`);
  return parsed;
}

function timeoutFlag(values: ToolArgs['values'], fallback: number): number {
  return typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : fallback;
}

async function startDiscovery(
  values: ToolArgs['values'],
  bootnodes: readonly Node[] = [],
  respTimeoutMs?: number,
): Promise<Discv4> {
  const { host, port } = listenAddress(values);
  return Discv4.start({
    privateKey: generatePrivateKey(),
    transport: udpTransport,
    host,
    port,
    bootnodes,
    ...(respTimeoutMs === undefined ? {} : { respTimeoutMs }),
  });
}

/** Runs `query` against a fresh discovery instance with a target node and a deadline, closing it afterwards. */
function oneShot(query: (disc: Discv4, node: Node, signal: AbortSignal) => Promise<void>): ToolCommand {
  return async (args) => {
    const { values, positionals } = parseToolArgs(args, { addr: { type: 'string' }, timeout: { type: 'string' } });
    expectPositionals(positionals, 1);
    const node = parseNodeArgument(positionals[0], '<enode|enr>');
    if (!node.udpEndpoint()) throw new UsageError('<enode|enr>: the node has no IP address and UDP port');
    const timeoutMs = timeoutFlag(values, DISCV4_QUERY_TIMEOUT_MS);
    // Each reply may take up to the whole deadline (a slow or distant node), not just discv4's 500 ms.
    const disc = await startDiscovery(values, [], timeoutMs);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await query(disc, node, signal);
      return 0;
    } catch (error) {
      if (signal.aborted) throw new Error(`no answer from ${node.id.short()} within --timeout ${timeoutMs} ms`);
      throw error;
    } finally {
      await disc.close();
    }
  };
}

const ping = oneShot(async (disc, node, signal) => {
  const started = performance.now();
  const pong = await disc.ping(node, { signal });
  const rtt = performance.now() - started;
  const seq = pong.enrSeq === undefined ? '' : `, record seq ${pong.enrSeq}`;
  console.log(`node ${node.id.short()} responded to ping (RTT ${rtt.toFixed(1)} ms${seq})`);
});

const resolve = oneShot(async (disc, node, signal) => {
  // As geth's `devp2p discv4 resolve`: the record once (its enode URL when the node has no signed record).
  console.log(recordText(await disc.resolve(node, { signal })));
});

const requestenr = oneShot(async (disc, node, signal) => {
  const fresh = await disc.requestENR(node, { signal });
  console.log(fresh.record.toText());
});

const crawlCommand: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, {
    addr: { type: 'string' },
    timeout: { type: 'string' },
    out: { type: 'string' },
    bootnodes: { type: 'string' },
  });
  expectPositionals(positionals, 0);
  const timeoutMs = timeoutFlag(values, DISCV4_CRAWL_TIMEOUT_MS);
  const out = typeof values.out === 'string' ? values.out : 'nodes.json';
  const outPath = out === '-' ? out : resolvePath(out);
  const set = out === '-' ? new Map<string, NodeJson>() : loadNodeSet(outPath);
  const seeds = crawlSeeds(values.bootnodes, set);
  const disc = await startDiscovery(values, seeds);
  const controller = new AbortController();
  const release = onInterrupt(() => controller.abort());
  try {
    await crawl(
      {
        self: disc.self,
        table: disc.table,
        requestENR: (node, signal) => disc.requestENR(node, { signal }),
        randomNodes: (signal) => disc.randomNodes({ signal }),
        randomLookup: (signal) => disc.lookup(randomBytes(64), { signal }),
      },
      { seeds, set, timeoutMs, signal: controller.signal },
    );
  } finally {
    release();
    await disc.close();
  }
  writeNodeSet(outPath, set);
  console.error(`Crawl done: ${set.size} nodes with a record written to ${out}`);
  return 0;
};

/**
 * `devp2p discv4 ping|resolve|requestenr|crawl`: one-shot discovery v4 queries and a crawler (geth's
 * `devp2p discv4`).
 * @example process.exitCode = await runDiscv4(['ping', 'enode://…@127.0.0.1:30303'])
 */
export const runDiscv4: ToolCommand = withUsage(
  DISCV4_USAGE,
  subcommands({ ping, resolve, requestenr, crawl: crawlCommand }),
);
