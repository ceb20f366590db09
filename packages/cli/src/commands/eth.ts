import { type AnyProtocol, bytesToHex, hexToBytes } from '@devp2p/core';
import { createNode, type DevP2PNode } from '@devp2p/node';
import {
  type EthContext,
  type EthProtocols,
  eth,
  getBlockBodies,
  getBlockHeaders,
  getReceipts,
  type PeerProtocols,
} from '@devp2p/plugin-eth';
import { parseNetwork, UsageError } from '../node-command.ts';
import {
  expectPositionals,
  parseDuration,
  parseNodeArgument,
  parseToolArgs,
  subcommands,
  type ToolCommand,
  withUsage,
} from './common.ts';

/** Default `--timeout` of the `eth` commands: to connect and finish the Status exchange, then for the request. */
export const ETH_COMMAND_TIMEOUT_MS = 10_000;

/** Most headers one `eth headers` asks for: geth's `maxHeadersServe`. */
const MAX_HEADERS = 1024;

/** Usage of `devp2p eth`. */
export const ETH_USAGE: string = `devp2p eth <status|headers|bodies|receipts> [flags] <enode|enr>

Connects to one node with eth/68-72 for --network (a throwaway key, no listening, no discovery), runs the Status
exchange, does one request and prints JSON; exit code 1 when the node cannot be reached, refuses us (a
mismatching network says why) or does not answer.

  devp2p eth status <enode>                          the negotiated version and the node's Status
  devp2p eth headers [--start <n|0xhash>] [--count <n>] [--skip <n>] [--reverse] <enode>
                                                     block headers (raw RLP, hex)
  devp2p eth bodies --hash <0xhash,...> <enode>      block bodies of those blocks (raw RLP, hex)
  devp2p eth receipts --hash <0xhash,...> <enode>    receipts of those blocks (raw RLP, hex)

  --network <name|file>  mainnet, sepolia, hoodi or a genesis file (default mainnet)
  --timeout <duration>   deadline to connect, and then for the request (default 10s)`;

/** Which context of the connected peer a command uses, and the protocols it runs besides eth. */
export interface PeerContext<C> {
  /** Protocols to run besides eth for `--network` (snap). */
  readonly protocols: readonly AnyProtocol[];
  /** The context once the peer's handshakes are done; undefined when the peer does not run that protocol. */
  ready(peer: PeerProtocols, eth: EthProtocols): Promise<C | undefined>;
  /** The protocol, for the error when the peer does not run it ("eth version"). */
  readonly what: string;
}

const ETH_CONTEXT: PeerContext<EthContext> = {
  protocols: [],
  ready: (peer, protocols) => protocols.contextReady(peer),
  what: 'eth version',
};

/**
 * Connects to the node of the one positional argument with eth for `--network` (and `target.protocols`), hands the
 * context `target` picks to `use` under `--timeout`, and prints what it returns as JSON; always closes the node.
 */
export async function withPeer<C, T>(
  args: ReturnType<typeof parseToolArgs>,
  target: PeerContext<C>,
  use: (ctx: C, timeoutMs: number) => Promise<T>,
): Promise<number> {
  const { values, positionals } = args;
  expectPositionals(positionals, 1);
  const remote = parseNodeArgument(positionals[0], '<enode|enr>');
  if (!remote.tcpEndpoint()) throw new UsageError('<enode|enr>: the node has no IP address and TCP port');
  const timeoutMs =
    typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : ETH_COMMAND_TIMEOUT_MS;
  const chain = parseNetwork(typeof values.network === 'string' ? values.network : undefined);
  const protocols = eth({ chain });
  const node: DevP2PNode = createNode({
    listenAddr: null,
    discovery: false,
    protocols: [...protocols.protocols, ...target.protocols],
  });
  try {
    await node.start();
    const ready = new Promise<C>((resolve, reject) => {
      node.on('peer:added', ({ peer }) => {
        target.ready(peer, protocols).then((ctx) => {
          if (ctx) resolve(ctx);
          else reject(new Error(`the node runs no ${target.what} we share`));
        }, reject);
      });
      node.on('peer:removed', ({ error }) => reject(new Error(`the node ended the connection: ${error.message}`)));
      node.on('dial', ({ outcome }) => {
        if (outcome.kind !== 'connected' && outcome.kind !== 'aborted') {
          const why = 'error' in outcome ? outcome.error.message : outcome.kind;
          reject(new Error(`cannot connect: ${why}`));
        }
      });
    });
    node.server.addPeer(remote);
    const ctx = await withDeadline(ready, timeoutMs, 'connect and exchange Status');
    const result = await use(ctx, timeoutMs);
    console.log(JSON.stringify(result, jsonReplacer, 2));
    return 0;
  } finally {
    await node.close();
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`could not ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** bigint as decimal strings, bytes as 0x-hex. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `0x${bytesToHex(value)}`;
  return value;
}

/** A comma-separated list of 32-byte hashes (`what`: "block", "account") given with `flag`. */
export function hashList(value: unknown, flag = '--hash', what = 'block'): Uint8Array[] {
  if (typeof value !== 'string' || value === '')
    throw new UsageError(`${flag}: expected ${what} hashes (0x…, comma-separated)`);
  return value.split(',').map((text) => {
    try {
      const hash = hexToBytes(text.trim(), flag);
      if (hash.length !== 32) throw new RangeError(`a ${what} hash is 32 bytes`);
      return hash;
    } catch (cause) {
      throw new UsageError(`${flag}: ${(cause as Error).message}`);
    }
  });
}

/** A decimal flag, `fallback` when absent; with `max`, it must be 1 to `max`. */
export function uint(value: unknown, flag: string, fallback: bigint, max?: bigint): bigint {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value))
    throw new UsageError(`${flag}: expected a number, got ${String(value)}`);
  const n = BigInt(value);
  if (max !== undefined && (n < 1n || n > max)) throw new UsageError(`${flag}: expected 1 to ${max}, got ${value}`);
  return n;
}

/** The flags every command that connects to one peer takes. */
export const COMMON = { network: { type: 'string' }, timeout: { type: 'string' } } as const;

const status: ToolCommand = async (args) =>
  withPeer(parseToolArgs(args, COMMON), ETH_CONTEXT, async (ctx) => ({
    version: ctx.state.version,
    status: ctx.state.status,
  }));

const headers: ToolCommand = async (args) => {
  const parsed = parseToolArgs(args, {
    ...COMMON,
    start: { type: 'string' },
    count: { type: 'string' },
    skip: { type: 'string' },
    reverse: { type: 'boolean' },
  });
  const { values } = parsed;
  const start = typeof values.start === 'string' ? values.start : '0';
  const origin = start.startsWith('0x') ? { hash: hashList(start)[0]! } : { number: uint(start, '--start', 0n) };
  const query = {
    origin,
    amount: uint(values.count, '--count', 1n, BigInt(MAX_HEADERS)),
    skip: uint(values.skip, '--skip', 0n),
    reverse: values.reverse === true,
  };
  return withPeer(parsed, ETH_CONTEXT, async (ctx, timeoutMs) => ({
    headers: await getBlockHeaders(ctx, query, { signal: AbortSignal.timeout(timeoutMs) }),
  }));
};

const bodies: ToolCommand = async (args) => {
  const parsed = parseToolArgs(args, { ...COMMON, hash: { type: 'string' } });
  const hashes = hashList(parsed.values.hash);
  return withPeer(parsed, ETH_CONTEXT, async (ctx, timeoutMs) => ({
    bodies: await getBlockBodies(ctx, hashes, { signal: AbortSignal.timeout(timeoutMs) }),
  }));
};

const receipts: ToolCommand = async (args) => {
  const parsed = parseToolArgs(args, { ...COMMON, hash: { type: 'string' } });
  const hashes = hashList(parsed.values.hash);
  return withPeer(parsed, ETH_CONTEXT, async (ctx, timeoutMs) => ({
    receipts: await getReceipts(ctx, hashes, { signal: AbortSignal.timeout(timeoutMs) }),
  }));
};

/** `devp2p eth`: one request to one node. */
export const runEth: ToolCommand = withUsage(ETH_USAGE, subcommands({ status, headers, bodies, receipts }));
