import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, hexToBytes, jsonSink, type Logger, type LogLevel, textSink } from '@devp2p/core';
import { isValidPrivateKey } from '@devp2p/crypto';
import { loadNodeKey, loadOrCreateNodeKey, type NodeDatabase, openNodeDatabase } from '@devp2p/enode';
import { ping } from '@devp2p/plugin-ping';
import { createServer, type Server } from '@devp2p/server';

/** Default TCP port (geth's). */
export const DEFAULT_PORT = 30303;

/** Default data directory, like geth's `~/.ethereum`. */
export const DEFAULT_DATADIR: string = join(homedir(), '.devp2p');

/** geth's `--verbosity` levels: 0 silent … 5 trace (3, info, by default). */
const VERBOSITY: readonly (LogLevel | 'silent')[] = ['silent', 'error', 'warn', 'info', 'debug', 'trace'];

export const NODE_USAGE: string = `devp2p node [flags]

Runs a devp2p node: listens on TCP, keeps its node key and node database in the data directory, and connects to
the static and trusted nodes listed there (static-nodes.json, trusted-nodes.json: JSON arrays of enode URLs).

  --datadir <dir>        data directory (default ${DEFAULT_DATADIR})
  --nodekey <file>       node key file (default <datadir>/nodekey, created when missing)
  --nodekeyhex <hex>     node key as hex (overrides --nodekey)
  --port <n>             TCP listening port (default ${DEFAULT_PORT}; 0 picks a free one)
  --maxpeers <n>         maximum number of peers (default 50)
  --maxpendpeers <n>     maximum number of connections in handshake at once (default 50)
  --netrestrict <cidrs>  only connect to these networks (comma-separated CIDR list)
  --identity <name>      custom node name, sent as part of the client name
  --verbosity <0-5>      log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace (default 3)
  --log.format <fmt>     text or json (default text)
  -h, --help             show this help`;

/** What `devp2p node` was asked to do, after flag parsing and validation. */
export interface NodeOptions {
  readonly datadir: string;
  readonly privateKey: Uint8Array;
  readonly port: number;
  readonly maxPeers: number;
  readonly maxPendingPeers: number;
  readonly netRestrict: readonly string[] | undefined;
  readonly name: string;
  readonly staticNodes: readonly string[];
  readonly trustedNodes: readonly string[];
  readonly logger: Logger;
}

function integer(value: string | undefined, fallback: number, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max)
    throw new UsageError(`${flag}: expected an integer 0..${max}, got ${value}`);
  return Number(value);
}

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {}

function readNodeList(path: string): string[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new UsageError(`${path}: not valid JSON (${(cause as Error).message})`);
  }
  if (!Array.isArray(parsed) || !parsed.every((e) => typeof e === 'string')) {
    throw new UsageError(`${path}: expected a JSON array of enode URLs`);
  }
  return parsed;
}

/**
 * Parses `devp2p node` flags (geth's names) into {@link NodeOptions}; throws a UsageError naming the bad flag.
 * Creates the data directory and the node key file when missing.
 * @example parseNodeOptions(['--port', '0', '--datadir', '/tmp/node1'])
 */
export function parseNodeOptions(args: readonly string[]): NodeOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        datadir: { type: 'string' },
        nodekey: { type: 'string' },
        nodekeyhex: { type: 'string' },
        port: { type: 'string' },
        maxpeers: { type: 'string' },
        maxpendpeers: { type: 'string' },
        netrestrict: { type: 'string' },
        identity: { type: 'string' },
        verbosity: { type: 'string' },
        'log.format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  if (values.help) return 'help';
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const datadir = resolve(str('datadir') ?? DEFAULT_DATADIR);
  mkdirSync(datadir, { recursive: true, mode: 0o700 });
  let privateKey: Uint8Array;
  const keyHex = str('nodekeyhex');
  if (keyHex !== undefined) {
    privateKey = hexToBytes(keyHex, '--nodekeyhex');
    if (!isValidPrivateKey(privateKey)) throw new UsageError('--nodekeyhex: not a valid secp256k1 private key');
  } else if (str('nodekey') !== undefined) {
    privateKey = loadNodeKey(resolve(str('nodekey')!));
  } else {
    privateKey = loadOrCreateNodeKey(join(datadir, 'nodekey'));
  }
  const verbosity = integer(str('verbosity'), 3, '--verbosity', 5);
  const format = str('log.format') ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--log.format: expected text or json, got ${format}`);
  const level = VERBOSITY[verbosity]!;
  const logger =
    level === 'silent'
      ? createLogger({ level: 'error', sink: () => undefined })
      : createLogger({ level, sink: format === 'json' ? jsonSink : textSink });
  const identity = str('identity');
  return {
    datadir,
    privateKey,
    port: integer(str('port'), DEFAULT_PORT, '--port', 65535),
    maxPeers: integer(str('maxpeers'), 50, '--maxpeers'),
    maxPendingPeers: Math.max(1, integer(str('maxpendpeers'), 50, '--maxpendpeers')),
    netRestrict: str('netrestrict')
      ?.split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    name: identity ? `devp2p.ts/${identity}` : 'devp2p.ts',
    staticNodes: readNodeList(join(datadir, 'static-nodes.json')),
    trustedNodes: readNodeList(join(datadir, 'trusted-nodes.json')),
    logger,
  };
}

/** A running node: its server and database; `stop()` saves state and releases everything. */
export interface RunningNode {
  readonly server: Server;
  stop(): Promise<void>;
}

/**
 * Starts a node from parsed options: the node database in `<datadir>/nodes`, the server listening on all
 * interfaces, the ping plugin. Logs `Started P2P networking` with our enode.
 * @example const node = await startNode(options); process.on('SIGINT', () => node.stop())
 */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const db: NodeDatabase = openNodeDatabase(join(options.datadir, 'nodes'));
  let server: Server;
  try {
    server = createServer({
      privateKey: options.privateKey,
      name: options.name,
      listenAddr: `0.0.0.0:${options.port}`,
      maxPeers: options.maxPeers,
      maxPendingPeers: options.maxPendingPeers,
      ...(options.netRestrict ? { netRestrict: options.netRestrict } : {}),
      staticNodes: options.staticNodes,
      trustedNodes: options.trustedNodes,
      protocols: [ping],
      nodeDatabase: db,
      logger: options.logger,
    });
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const log = options.logger.child('node');
  server.on('peer:added', ({ peer }) =>
    log.info('peer connected', { id: peer.id.slice(0, 16), name: peer.clientName }),
  );
  server.on('peer:removed', ({ peer, error }) =>
    log.info('peer disconnected', { id: peer.id.slice(0, 16), reason: error.message }),
  );
  let stopping: Promise<void> | undefined;
  return {
    server,
    stop: () => {
      stopping ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}
