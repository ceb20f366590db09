import { bytesToHex, hexToBytes, splitHostPort } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { Discv5, MAX_FINDNODE_DISTANCE } from '@devp2p/discovery';
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

/**
 * Default `--timeout` of the one-shot queries: generous next to discv5's 700 ms response timeout (a handshake
 * round trip included).
 */
export const DISCV5_QUERY_TIMEOUT_MS = 10_000;

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

  --addr <host:port>      local UDP address (default 0.0.0.0:0)
  --timeout <duration>    deadline (default 10s)

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

function recordText(node: Node): string {
  return node.record.signed ? node.record.toText() : node.toEnodeUrl();
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

/**
 * `devp2p discv5 ping|resolve|requestenr|findnode|talk`: one-shot discovery v5 queries, as `devp2p discv4` has.
 * @example process.exitCode = await runDiscv5(['ping', 'enr:-IS4Q…'])
 */
export const runDiscv5: ToolCommand = withUsage(
  DISCV5_USAGE,
  subcommands({ ping, resolve, requestenr, findnode, talk }),
);
