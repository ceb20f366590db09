import {
  createSnapProtocol,
  getAccountRange,
  getByteCodes,
  MAX_CODE_LOOKUPS,
  type SnapContext,
  SOFT_RESPONSE_LIMIT,
} from '@devp2p/plugin-snap';
import { UsageError } from '../node-command.ts';
import { parseToolArgs, subcommands, type ToolCommand, withUsage } from './common.ts';
import { COMMON, hashList, type PeerContext, uint, withPeer } from './eth.ts';

/** Default `--bytes` of `snap range`: geth's snap syncer asks for 512 KiB (`maxRequestSize`). */
const DEFAULT_RESPONSE_BYTES = 512n * 1024n;

/** Usage of `devp2p snap`. */
export const SNAP_USAGE: string = `devp2p snap <range|codes> [flags] <enode|enr>

Connects to one node with eth/68-72 for --network and snap/1 (a throwaway key, no listening, no discovery), does
one snap request and prints JSON; exit code 1 when the node cannot be reached, runs no snap, or does not answer
(a node without the state of --root answers with nothing). Replies are checked against the request, but proofs
are not verified.

  devp2p snap range --root <0xhash> [--origin <0xhash>] [--limit <0xhash>] [--bytes <n>] <enode|enr>
                                                     accounts of the state trie --root from --origin
                                                     (default zero) up to --limit (default 0xff…ff), about
                                                     --bytes of them (default 524288), and the proof nodes
  devp2p snap codes --hash <0xhash,...> <enode|enr>  contract codes by code hash

  --network <name|file>  mainnet, sepolia, hoodi or a genesis file (default mainnet)
  --timeout <duration>   deadline to connect, and then for the request (default 10s)`;

const snapProtocol = createSnapProtocol();

const SNAP_CONTEXT: PeerContext<SnapContext> = {
  protocols: [snapProtocol],
  ready: (peer) => peer.protocolReady(snapProtocol),
  what: 'snap version',
};

/** One 32-byte hash flag; undefined when absent and not `required`. */
function hashFlag(value: unknown, flag: string, required: boolean): Uint8Array | undefined {
  if (value === undefined && !required) return undefined;
  if (value === undefined) throw new UsageError(`${flag}: required (a 32-byte hash, 0x…)`);
  const hashes = hashList(value, flag, 'trie');
  if (hashes.length !== 1) throw new UsageError(`${flag}: expected one hash`);
  return hashes[0];
}

const range: ToolCommand = async (args) => {
  const parsed = parseToolArgs(args, {
    ...COMMON,
    root: { type: 'string' },
    origin: { type: 'string' },
    limit: { type: 'string' },
    bytes: { type: 'string' },
  });
  const { values } = parsed;
  const root = hashFlag(values.root, '--root', true)!;
  const origin = hashFlag(values.origin, '--origin', false);
  const limit = hashFlag(values.limit, '--limit', false);
  // Servers cap a reply at the soft response limit whatever is asked.
  const bytes = uint(values.bytes, '--bytes', DEFAULT_RESPONSE_BYTES, BigInt(SOFT_RESPONSE_LIMIT));
  return withPeer(parsed, SNAP_CONTEXT, (ctx, timeoutMs) =>
    getAccountRange(
      ctx,
      { root, ...(origin && { origin }), ...(limit && { limit }), responseBytes: Number(bytes) },
      { signal: AbortSignal.timeout(timeoutMs) },
    ),
  );
};

const codes: ToolCommand = async (args) => {
  const parsed = parseToolArgs(args, { ...COMMON, hash: { type: 'string' } });
  const hashes = hashList(parsed.values.hash, '--hash', 'code');
  if (hashes.length > MAX_CODE_LOOKUPS) throw new UsageError(`--hash: at most ${MAX_CODE_LOOKUPS} hashes`);
  return withPeer(parsed, SNAP_CONTEXT, async (ctx, timeoutMs) => ({
    codes: await getByteCodes(ctx, { hashes }, { signal: AbortSignal.timeout(timeoutMs) }),
  }));
};

/** `devp2p snap`: one snap request to one node. */
export const runSnap: ToolCommand = withUsage(SNAP_USAGE, subcommands({ range, codes }));
