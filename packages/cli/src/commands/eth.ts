import { bytesToHex, hexToBytes } from '@devp2p/core';
import { createNode, type DevP2PNode } from '@devp2p/node';
import { type EthContext, eth, getBlockBodies, getBlockHeaders, getReceipts } from '@devp2p/plugin-eth';
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

/** Connects to `target` and hands its eth context to `use`; always closes the node. */
async function withPeer<T>(
  args: ReturnType<typeof parseToolArgs>,
  use: (ctx: EthContext, timeoutMs: number) => Promise<T>,
): Promise<number> {
  const { values, positionals } = args;
  expectPositionals(positionals, 1);
  const target = parseNodeArgument(positionals[0], '<enode|enr>');
  if (!target.tcpEndpoint()) throw new UsageError('<enode|enr>: the node has no IP address and TCP port');
  const timeoutMs =
    typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : ETH_COMMAND_TIMEOUT_MS;
  const chain = parseNetwork(typeof values.network === 'string' ? values.network : undefined);
  const protocols = eth({ chain });
  const node: DevP2PNode = createNode({ listenAddr: null, discovery: false, protocols: protocols.protocols });
  try {
    await node.start();
    const ready = new Promise<EthContext>((resolve, reject) => {
      node.on('peer:added', ({ peer }) => {
        protocols.contextReady(peer).then((ctx) => {
          if (ctx) resolve(ctx);
          else reject(new Error('the node runs no eth version we share'));
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
    node.server.addPeer(target);
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

function hashList(value: unknown): Uint8Array[] {
  if (typeof value !== 'string' || value === '')
    throw new UsageError('--hash: expected block hashes (0x…, comma-separated)');
  return value.split(',').map((text) => {
    try {
      const hash = hexToBytes(text.trim(), '--hash');
      if (hash.length !== 32) throw new RangeError('a block hash is 32 bytes');
      return hash;
    } catch (cause) {
      throw new UsageError(`--hash: ${(cause as Error).message}`);
    }
  });
}

function uint(value: unknown, flag: string, fallback: bigint, max?: bigint): bigint {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value))
    throw new UsageError(`${flag}: expected a number, got ${String(value)}`);
  const n = BigInt(value);
  if (max !== undefined && (n < 1n || n > max)) throw new UsageError(`${flag}: expected 1 to ${max}, got ${value}`);
  return n;
}

const COMMON = { network: { type: 'string' }, timeout: { type: 'string' } } as const;

const status: ToolCommand = async (args) =>
  withPeer(parseToolArgs(args, COMMON), async (ctx) => ({ version: ctx.state.version, status: ctx.state.status }));

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
  return withPeer(parsed, async (ctx, timeoutMs) => ({
    headers: await getBlockHeaders(ctx, query, { signal: AbortSignal.timeout(timeoutMs) }),
  }));
};

const bodies: ToolCommand = async (args) => {
  const parsed = parseToolArgs(args, { ...COMMON, hash: { type: 'string' } });
  const hashes = hashList(parsed.values.hash);
  return withPeer(parsed, async (ctx, timeoutMs) => ({
    bodies: await getBlockBodies(ctx, hashes, { signal: AbortSignal.timeout(timeoutMs) }),
  }));
};

const receipts: ToolCommand = async (args) => {
  const parsed = parseToolArgs(args, { ...COMMON, hash: { type: 'string' } });
  const hashes = hashList(parsed.values.hash);
  return withPeer(parsed, async (ctx, timeoutMs) => ({
    receipts: await getReceipts(ctx, hashes, { signal: AbortSignal.timeout(timeoutMs) }),
  }));
};

/** `devp2p eth`: one request to one node. */
export const runEth: ToolCommand = withUsage(ETH_USAGE, subcommands({ status, headers, bodies, receipts }));
