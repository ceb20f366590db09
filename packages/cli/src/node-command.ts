import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  bytesToHex,
  createLogger,
  formatHostPort,
  hexToBytes,
  jsonSink,
  type Logger,
  type LogLevel,
  splitHostPort,
  textSink,
} from '@devp2p/core';
import { isValidPrivateKey } from '@devp2p/crypto';
import { parseEnrTreeUrl } from '@devp2p/dnsdisc';
import { ensureDirectory, loadNodeKey, loadOrCreateNodeKey, NetList, type Node, parseNode } from '@devp2p/enode';
import { createNode, type DevP2PNode, type NatConfig } from '@devp2p/node';
import { type ChainConfig, customChain, eth, type Fork, hoodi, mainnet, sepolia } from '@devp2p/plugin-eth';
import { ping } from '@devp2p/plugin-ping';
import { clientName } from '@devp2p/server';
import { createTxtResolver } from '@devp2p/transport-node';
import { type AdminRpcServer, adminBackend, DEFAULT_HTTP_VHOSTS, startAdminRpc } from './admin-rpc.ts';
import type { RunningHttpServer } from './http-server.ts';
import { IPC_FILE_NAME, type RunningIpcServer, startIpcRpc } from './ipc-rpc.ts';
import { DEFAULT_METRICS_ADDR, DEFAULT_METRICS_PORT, startMetricsServer } from './metrics-server.ts';
import { DEFAULT_WS_PORT, startWsRpc } from './ws-rpc.ts';

/** Default TCP port (geth's). */
export const DEFAULT_PORT = 30303;

/** Default admin JSON-RPC HTTP port (geth's). */
export const DEFAULT_HTTP_PORT = 8545;

/** Default admin JSON-RPC HTTP interface (geth's): loopback only. */
export const DEFAULT_HTTP_ADDR = '127.0.0.1';

/** Default data directory, like geth's `~/.ethereum`. */
export const DEFAULT_DATADIR: string = join(homedir(), '.devp2p');

/** The `--network` presets (geth's `--mainnet`, `--sepolia`, `--hoodi`); mainnet is the default, as geth's. */
export const NETWORKS: Readonly<Record<string, ChainConfig>> = { mainnet, sepolia, hoodi };

/** geth's `--verbosity` levels: 0 silent … 5 trace (3, info, by default). */
const VERBOSITY: readonly (LogLevel | 'silent')[] = ['silent', 'error', 'warn', 'info', 'debug', 'trace'];

export const NODE_USAGE: string = `devp2p node [flags]

Runs a devp2p node: listens on TCP, keeps its node key and node database in the data directory, and connects to
the static and trusted nodes listed there (static-nodes.json, trusted-nodes.json: JSON arrays of enode URLs), and
finds more peers through discv4 discovery unless --nodiscover. It runs eth/68 and eth/69 for the chosen network
(without chain data: it reports the genesis block as its head and answers requests empty) and png/1.

  --network <name|file>  mainnet, sepolia, hoodi, or a genesis file for a custom network (default mainnet):
                         {"networkId": 1337, "genesisHash": "0x…", "genesisTime": 0, "forks": [{"name": "prague",
                         "time": 0}, {"name": "london", "block": 0}]} (genesisTime, genesisDifficulty, forks and
                         name are optional)

  --datadir <dir>        data directory (default ${DEFAULT_DATADIR})
  --nodekey <file>       node key file (default <datadir>/nodekey, created when missing)
  --nodekeyhex <hex>     node key as hex (overrides --nodekey)
  --port <n>             TCP listening port (default ${DEFAULT_PORT}; 0 picks a free one)
  --bootnodes <enodes>   discovery bootstrap nodes (comma-separated enode URLs; default: the network's, as geth's;
                         '' for none)
  --staticnodes <enodes> nodes to keep connected, besides <datadir>/static-nodes.json (comma-separated)
  --trustednodes <enodes> nodes always admitted, besides <datadir>/trusted-nodes.json (comma-separated)
  --nodiscover           disable discovery (peers come from static nodes and admin_addPeer only)
  --discovery.dns <urls> EIP-1459 DNS trees to find nodes in (comma-separated enrtree:// URLs; default: the
                         network's, as geth's; '' for none)
  --discovery.dns.resolver <ip:port> DNS server the trees are read from (default: the system's resolver)
  --discovery.port <n>   UDP discovery port (default: the --port value; 0 picks a free one)
  --nat <mode>           none; extip:<IP> to announce that IP in the node record; pmp:<IP> to map our ports on
                         that NAT-PMP gateway and announce its external IP; pmp or any to try the gateways
                         guessed from this machine's private networks (default none)
  --maxpeers <n>         maximum number of peers (default 50)
  --maxpendpeers <n>     maximum number of connections in handshake at once (default 50)
  --netrestrict <cidrs>  only connect to these networks (comma-separated CIDR list)
  --identity <name>      custom node name, sent as part of the client name
  --verbosity <0-5>      log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace (default 3)
  --log.format <fmt>     text or json (default text)
  --http                 serve the admin JSON-RPC over HTTP (admin_nodeInfo, admin_peers, admin_addPeer,
                         admin_removePeer, admin_addTrustedPeer, admin_removeTrustedPeer, admin_datadir,
                         net_peerCount, net_listening, rpc_modules, web3_clientVersion)
  --http.addr <ip>       HTTP-RPC listening interface (default ${DEFAULT_HTTP_ADDR})
  --http.port <n>        HTTP-RPC listening port (default ${DEFAULT_HTTP_PORT}; 0 picks a free one)
  --http.vhosts <names>  Host header names the HTTP-RPC answers besides IP addresses, against DNS rebinding
                         (comma-separated; default localhost; * answers any)
  --http.corsdomain <origins> browser origins allowed to call the HTTP-RPC (comma-separated, e.g.
                         http://localhost:3000; default none; * allows any)
  --ws                   serve the same JSON-RPC over WebSocket, with admin_subscribe("peerEvents")
  --ws.addr <ip>         WebSocket listening interface (default ${DEFAULT_HTTP_ADDR})
  --ws.port <n>          WebSocket listening port (default ${DEFAULT_WS_PORT}; 0 picks a free one)
  --ws.origins <origins> browser origins allowed to connect (comma-separated; default none; * allows any)
  --ipcpath <path>       IPC socket (default <datadir>/${IPC_FILE_NAME}; a relative path is in the datadir)
  --ipcdisable           do not open the IPC socket
  --metrics              serve Prometheus metrics (geth's names) at /debug/metrics/prometheus
  --metrics.addr <ip>    metrics listening interface (default ${DEFAULT_METRICS_ADDR})
  --metrics.port <n>     metrics listening port (default ${DEFAULT_METRICS_PORT}; 0 picks a free one)
  -h, --help             show this help`;

/** What `devp2p node` was asked to do, after flag parsing and validation. */
export interface NodeOptions {
  readonly datadir: string;
  /** The network the eth protocol runs on (`--network`). */
  readonly chain: ChainConfig;
  readonly privateKey: Uint8Array;
  readonly port: number;
  readonly maxPeers: number;
  readonly maxPendingPeers: number;
  readonly netRestrict: readonly string[] | undefined;
  readonly name: string;
  readonly staticNodes: readonly string[];
  readonly trustedNodes: readonly string[];
  /** Discovery settings; undefined with `--nodiscover`. */
  readonly discovery:
    | {
        readonly port: number;
        readonly bootnodes: readonly Node[];
        /** EIP-1459 trees (`--discovery.dns`; default: the network's). */
        readonly dnsTrees: readonly string[];
        /** The DNS server they are read from (`--discovery.dns.resolver`); the system's when undefined. */
        readonly dnsResolver: string | undefined;
      }
    | undefined;
  /** Where Prometheus metrics are served (`--metrics`); undefined without it. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** JSON-RPC over WebSocket (`--ws`); undefined without it. */
  readonly ws: { readonly host: string; readonly port: number; readonly origins: readonly string[] } | undefined;
  /** The IPC socket's path (`--ipcpath`, default `<datadir>/devp2p.ipc`); undefined with `--ipcdisable`. */
  readonly ipcPath: string | undefined;
  /** How the node is reached from outside (`--nat`). */
  readonly nat: NatConfig;
  /** Where the admin JSON-RPC listens and whom it answers; undefined without `--http`. */
  readonly http:
    | {
        readonly host: string;
        readonly port: number;
        readonly vhosts: readonly string[];
        readonly corsOrigins: readonly string[];
      }
    | undefined;
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

/** The items of a comma-separated flag, trimmed; an empty item is an error naming the flag. */
function commaList(value: string, flag: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new UsageError(`${flag}: empty item in ${JSON.stringify(value)}`);
  return items;
}

/** `--http.vhosts`: host names (or `*`); `_` too, as Docker Compose service names have it. */
function vhostsFlag(value: string | undefined): string[] {
  if (value === undefined) return [...DEFAULT_HTTP_VHOSTS];
  const hosts = commaList(value, '--http.vhosts');
  for (const host of hosts) {
    if (host !== '*' && !/^[A-Za-z0-9._-]+$/.test(host)) {
      throw new UsageError(`--http.vhosts: ${JSON.stringify(host)} is not a host name`);
    }
  }
  return hosts;
}

/**
 * `--http.corsdomain`: origins such as `http://localhost:3000` (or `*`), kept in the form a browser sends in
 * `Origin` (`HTTP://LocalHost:80/` → `http://localhost`), so a trailing slash or a default port still matches.
 */
function corsFlag(value: string | undefined, flag = '--http.corsdomain'): string[] {
  if (value === undefined || value === '') return [];
  return commaList(value, flag).map((origin) => {
    if (origin === '*') return origin;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    const bare =
      url !== undefined && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    if (!url || !bare || !/^https?:$/.test(url.protocol)) {
      throw new UsageError(`${flag}: ${JSON.stringify(origin)} is not an origin like http://localhost:3000`);
    }
    return url.origin;
  });
}

/** A comma-separated list of node URLs from a flag, each checked (UsageError naming the flag otherwise). */
function nodeListFlag(value: string | undefined, flag: string): string[] {
  const urls = (value ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  for (const url of urls) {
    try {
      parseNode(url);
    } catch (cause) {
      throw new UsageError(`${flag}: ${(cause as Error).message}`);
    }
  }
  return urls;
}

/** The line of `text` where the JSON string `value` first appears (1-based), for error messages. */
function lineOf(text: string, value: string): number {
  const at = text.indexOf(JSON.stringify(value));
  return at < 0 ? 0 : text.slice(0, at).split('\n').length;
}

/** A static-nodes.json / trusted-nodes.json file: a JSON array of node URLs, each checked (naming its line). */
function readNodeList(path: string): string[] {
  if (!existsSync(path)) return [];
  let text: string;
  let parsed: unknown;
  try {
    text = readFileSync(path, 'utf8');
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`${path}: not valid JSON (${(cause as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new UsageError(`${path}: expected a JSON array of enode URLs`);
  parsed.forEach((entry: unknown, i) => {
    const where = `${path}: entry ${i + 1}`;
    if (typeof entry !== 'string')
      throw new UsageError(`${where}: expected an enode URL string, got ${JSON.stringify(entry)}`);
    try {
      parseNode(entry);
    } catch (cause) {
      const line = lineOf(text, entry);
      throw new UsageError(`${where}${line ? ` (line ${line})` : ''}: ${(cause as Error).message}`);
    }
  });
  return parsed as string[];
}

/** `--netrestrict`: a non-empty list of CIDR networks, each checked. */
function netRestrictFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const networks = value.split(',').map((c) => c.trim());
  if (networks.every((c) => c === '')) {
    throw new UsageError('--netrestrict: empty list (it would refuse every network; omit the flag to allow all)');
  }
  try {
    new NetList(networks.filter(Boolean));
  } catch (cause) {
    throw new UsageError(`--netrestrict: ${(cause as Error).message}`);
  }
  return networks.filter(Boolean);
}

/** Creates the data directory; a path that cannot be one fails at once with the flag and the reason. */
function prepareDatadir(datadir: string): void {
  try {
    ensureDirectory(datadir);
  } catch (cause) {
    throw new Error(`--datadir ${datadir}: cannot create the directory (${(cause as Error).message})`, { cause });
  }
}

const GETH_GENESIS_HINT =
  "this looks like geth's genesis.json, which has no genesis hash (computing it needs the state root); write our " +
  'format with the genesis hash geth reports in admin_nodeInfo.protocols.eth.genesis';

/**
 * Reads a `--network` genesis file: `{ name?, networkId, genesisHash, genesisTime?, genesisDifficulty?, forks? }`,
 * the options of `customChain` as JSON (networkId and genesisDifficulty as a number or a decimal string; each fork
 * `{ "name", "block" }` or `{ "name", "time" }`). Throws a UsageError naming the file and the bad field.
 */
function readGenesisFile(path: string): ChainConfig {
  const fail = (why: string): never => {
    throw new UsageError(`--network: ${path}: ${why}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    return fail(`not valid JSON (${(cause as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('expected a JSON object');
  const file = parsed as Record<string, unknown>;
  if (file.genesisHash === undefined && typeof file.config === 'object') return fail(GETH_GENESIS_HINT);
  const uint = (value: unknown, field: string): bigint => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
    return fail(`${field}: expected a non-negative integer (number or decimal string), got ${JSON.stringify(value)}`);
  };
  if (file.name !== undefined && typeof file.name !== 'string') fail('name: expected a string');
  if (typeof file.genesisHash !== 'string') fail('genesisHash: expected 32 bytes as hex');
  if (file.genesisTime !== undefined && typeof file.genesisTime !== 'number')
    fail('genesisTime: expected a timestamp in seconds');
  if (file.forks !== undefined && !Array.isArray(file.forks)) fail('forks: expected an array');
  const forks = ((file.forks ?? []) as unknown[]).map((fork, i): Fork => {
    const f = (typeof fork === 'object' && fork !== null ? fork : {}) as Record<string, unknown>;
    const name = typeof f.name === 'string' ? f.name : `fork ${i}`;
    if (typeof f.block === 'number' && f.time === undefined) return { name, block: f.block };
    if (typeof f.time === 'number' && f.block === undefined) return { name, time: f.time };
    return fail(`forks[${i}]: expected {"name": …, "block": n} or {"name": …, "time": n}`);
  });
  try {
    return customChain({
      name: (file.name as string | undefined) ?? basename(path).replace(/\.json$/, ''),
      networkId: uint(file.networkId, 'networkId'),
      genesisHash: file.genesisHash as string,
      ...(file.genesisTime !== undefined ? { genesisTime: file.genesisTime as number } : {}),
      ...(file.genesisDifficulty !== undefined
        ? { genesisDifficulty: uint(file.genesisDifficulty, 'genesisDifficulty') }
        : {}),
      forks,
    });
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    return fail((cause as Error).message);
  }
}

/** `--discovery.dns`: comma-separated `enrtree://` URLs, each checked; empty for none. */
function dnsTreesFlag(value: string): string[] {
  const urls = value
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  for (const url of urls) {
    try {
      parseEnrTreeUrl(url);
    } catch (cause) {
      throw new UsageError(`--discovery.dns: ${(cause as Error).message}`);
    }
  }
  return urls;
}

/** `--discovery.dns.resolver`: a DNS server as `host:port` (or a bare IP, port 53). */
function dnsResolverFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed =
    /^\d+\.\d+\.\d+\.\d+$/.test(value) || isIP(value) === 6 ? { host: value, port: 53 } : splitHostPort(value);
  if (!parsed || isIP(parsed.host) === 0 || parsed.port < 1 || parsed.port > 65535) {
    throw new UsageError(`--discovery.dns.resolver: expected <ip>:<port> or <ip>, got ${JSON.stringify(value)}`);
  }
  return formatHostPort(parsed.host, parsed.port);
}

/** `--nat`, as geth's: none, extip:<IP>, pmp[:<IP>] or any (UPnP is not built: any tries NAT-PMP). */
function natFlag(value: string): NatConfig {
  if (value === 'none' || value === 'any' || value === 'pmp') return value;
  const [mode, ip] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
  if ((mode === 'extip' || mode === 'pmp') && value.includes(':')) {
    if (isIP(ip) !== 4 && !(mode === 'extip' && isIP(ip) === 6)) {
      throw new UsageError(
        `--nat: ${mode} needs an IP${mode === 'pmp' ? 'v4' : ''} address, got ${JSON.stringify(ip)}`,
      );
    }
    return mode === 'extip' ? { extIp: ip } : { pmp: ip };
  }
  if (value === 'upnp') throw new UsageError('--nat: upnp is not supported; use pmp[:<IP>], any or extip:<IP>');
  throw new UsageError(`--nat: expected none, extip:<IP>, pmp, pmp:<IP> or any, got ${JSON.stringify(value)}`);
}

/** `--network`: a preset name or a genesis file. */
export function parseNetwork(value: string | undefined): ChainConfig {
  if (value === undefined) return mainnet;
  const preset = Object.hasOwn(NETWORKS, value) ? NETWORKS[value] : undefined;
  if (preset) return preset;
  if (!existsSync(value))
    throw new UsageError(`--network: expected mainnet, sepolia, hoodi or a genesis file, got ${JSON.stringify(value)}`);
  return readGenesisFile(resolve(value));
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
        network: { type: 'string' },
        nodekey: { type: 'string' },
        nodekeyhex: { type: 'string' },
        port: { type: 'string' },
        maxpeers: { type: 'string' },
        maxpendpeers: { type: 'string' },
        netrestrict: { type: 'string' },
        identity: { type: 'string' },
        verbosity: { type: 'string' },
        'log.format': { type: 'string' },
        bootnodes: { type: 'string' },
        staticnodes: { type: 'string' },
        trustednodes: { type: 'string' },
        nodiscover: { type: 'boolean' },
        'discovery.port': { type: 'string' },
        'discovery.dns': { type: 'string' },
        'discovery.dns.resolver': { type: 'string' },
        metrics: { type: 'boolean' },
        'metrics.addr': { type: 'string' },
        'metrics.port': { type: 'string' },
        ws: { type: 'boolean' },
        'ws.addr': { type: 'string' },
        'ws.port': { type: 'string' },
        'ws.origins': { type: 'string' },
        ipcpath: { type: 'string' },
        ipcdisable: { type: 'boolean' },
        nat: { type: 'string' },
        http: { type: 'boolean' },
        'http.addr': { type: 'string' },
        'http.port': { type: 'string' },
        'http.vhosts': { type: 'string' },
        'http.corsdomain': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  if (values.help) return 'help';
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const chain = parseNetwork(str('network'));
  const datadir = resolve(str('datadir') ?? DEFAULT_DATADIR);
  prepareDatadir(datadir);
  let privateKey: Uint8Array;
  const keyHex = str('nodekeyhex');
  if (keyHex !== undefined) {
    privateKey = hexToBytes(keyHex, '--nodekeyhex');
    if (!isValidPrivateKey(privateKey)) throw new UsageError('--nodekeyhex: not a valid secp256k1 private key');
  } else if (str('nodekey') !== undefined) {
    privateKey = loadNodeKey(resolve(str('nodekey')!));
  } else {
    try {
      privateKey = loadOrCreateNodeKey(join(datadir, 'nodekey'));
    } catch (cause) {
      throw new Error(`--datadir ${datadir}: cannot use the node key file (${(cause as Error).message})`, { cause });
    }
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
  const port = integer(str('port'), DEFAULT_PORT, '--port', 65535);
  const bootnodesFlag = str('bootnodes');
  // As geth: --bootnodes replaces the network's bootnodes, even when it is empty.
  const bootnodes = (bootnodesFlag ?? chain.discovery.bootnodes.join(','))
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
    .map((url) => {
      try {
        return parseNode(url);
      } catch (cause) {
        throw new UsageError(`--bootnodes: ${(cause as Error).message}`);
      }
    });
  const discoveryPort = integer(str('discovery.port'), port, '--discovery.port', 65535);
  const nat = natFlag(str('nat') ?? 'none');
  // As geth: --discovery.dns replaces the network's DNS trees, and '' turns DNS discovery off.
  const dnsTrees = dnsTreesFlag(str('discovery.dns') ?? chain.discovery.dnsTrees.join(','));
  const metricsAddr = str('metrics.addr') ?? DEFAULT_METRICS_ADDR;
  if (isIP(metricsAddr) === 0 && metricsAddr !== 'localhost')
    throw new UsageError(`--metrics.addr: expected an IP address, got ${metricsAddr}`);
  const metricsPort = integer(str('metrics.port'), DEFAULT_METRICS_PORT, '--metrics.port', 65535);
  const wsAddr = str('ws.addr') ?? DEFAULT_HTTP_ADDR;
  if (isIP(wsAddr) === 0 && wsAddr !== 'localhost')
    throw new UsageError(`--ws.addr: expected an IP address, got ${wsAddr}`);
  const wsPort = integer(str('ws.port'), DEFAULT_WS_PORT, '--ws.port', 65535);
  const wsOrigins = corsFlag(str('ws.origins'), '--ws.origins');
  const ipcPathFlag = str('ipcpath');
  if (ipcPathFlag === '') throw new UsageError('--ipcpath: empty path (use --ipcdisable to turn IPC off)');
  const httpAddr = str('http.addr') ?? DEFAULT_HTTP_ADDR;
  if (isIP(httpAddr) === 0 && httpAddr !== 'localhost')
    throw new UsageError(`--http.addr: expected an IP address, got ${httpAddr}`);
  const httpPort = integer(str('http.port'), DEFAULT_HTTP_PORT, '--http.port', 65535);
  const vhosts = vhostsFlag(str('http.vhosts'));
  const corsOrigins = corsFlag(str('http.corsdomain'));
  return {
    datadir,
    chain,
    privateKey,
    port,
    maxPeers: integer(str('maxpeers'), 50, '--maxpeers'),
    maxPendingPeers: Math.max(1, integer(str('maxpendpeers'), 50, '--maxpendpeers')),
    netRestrict: netRestrictFlag(str('netrestrict')),
    name: clientName(identity),
    staticNodes: [
      ...readNodeList(join(datadir, 'static-nodes.json')),
      ...nodeListFlag(str('staticnodes'), '--staticnodes'),
    ],
    trustedNodes: [
      ...readNodeList(join(datadir, 'trusted-nodes.json')),
      ...nodeListFlag(str('trustednodes'), '--trustednodes'),
    ],
    discovery: values.nodiscover
      ? undefined
      : { port: discoveryPort, bootnodes, dnsTrees, dnsResolver: dnsResolverFlag(str('discovery.dns.resolver')) },
    metrics: values.metrics ? { host: metricsAddr, port: metricsPort } : undefined,
    ws: values.ws ? { host: wsAddr, port: wsPort, origins: wsOrigins } : undefined,
    ipcPath: values.ipcdisable ? undefined : resolve(datadir, ipcPathFlag ?? IPC_FILE_NAME),
    nat,
    http: values.http ? { host: httpAddr, port: httpPort, vhosts, corsOrigins } : undefined,
    logger,
  };
}

/** A running node: the assembled node and its admin RPC; `close()` saves state and releases everything. */
export interface RunningNode {
  readonly node: DevP2PNode;
  /** The admin JSON-RPC endpoint; undefined without `--http`. */
  readonly rpc: AdminRpcServer | undefined;
  close(): Promise<void>;
}

/**
 * Starts a node from parsed options with `createNode` from `@devp2p/node`: the node database in `<datadir>/nodes`,
 * the server listening on all interfaces with eth/69, eth/68 (for `options.chain`, no chain data) and the ping
 * plugin, discv4 on UDP sharing the server's record, and the admin JSON-RPC. Logs `Started P2P networking` with our
 * enode.
 * @example const node = await startNode(options); process.on('SIGINT', () => node.close())
 */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const discovery = options.discovery;
  const node = createNode({
    privateKey: options.privateKey,
    datadir: options.datadir,
    name: options.name,
    listenAddr: `0.0.0.0:${options.port}`,
    maxPeers: options.maxPeers,
    maxPendingPeers: options.maxPendingPeers,
    ...(options.netRestrict ? { netRestrict: options.netRestrict } : {}),
    staticNodes: options.staticNodes,
    trustedNodes: options.trustedNodes,
    protocols: [...eth({ chain: options.chain }).protocols, ping],
    discovery: discovery
      ? {
          port: discovery.port,
          dnsTrees: discovery.dnsTrees,
          ...(discovery.dnsResolver ? { txtResolver: createTxtResolver({ server: discovery.dnsResolver }) } : {}),
        }
      : false,
    metrics: options.metrics !== undefined,
    // Subscribers of admin_peerEvents over WebSocket or IPC see every message, as geth's EnableMsgEvents.
    messageEvents: options.ws !== undefined || options.ipcPath !== undefined,
    bootnodes: discovery?.bootnodes ?? [],
    nat: options.nat,
    logger: options.logger,
  });
  let rpc: AdminRpcServer | undefined;
  let metricsServer: RunningHttpServer | undefined;
  let wsServer: RunningHttpServer | undefined;
  let ipcServer: RunningIpcServer | undefined;
  const release = async (): Promise<void> => {
    await rpc?.close();
    await metricsServer?.close();
    await wsServer?.close();
    await ipcServer?.close();
    await node.close();
  };
  try {
    await node.start();
    if (options.http) {
      rpc = await startAdminRpc(adminBackend(node.server, options.datadir), {
        ...options.http,
        logger: options.logger,
      });
    }
    const backend = adminBackend(node.server, options.datadir);
    if (options.ws) wsServer = await startWsRpc(backend, node.server, { ...options.ws, logger: options.logger });
    if (options.ipcPath)
      ipcServer = await startIpcRpc(backend, node.server, { path: options.ipcPath, logger: options.logger });
    if (options.metrics && node.metrics) {
      metricsServer = await startMetricsServer(node.metrics, { ...options.metrics, logger: options.logger });
    }
  } catch (error) {
    await release();
    throw error;
  }
  const server = node.server;
  const log = options.logger.child('cli:node');
  log.info('eth protocol on network', {
    network: options.chain.name,
    networkId: options.chain.networkId.toString(),
    genesis: `0x${bytesToHex(options.chain.genesisHash)}`,
  });
  server.on('peer:added', ({ peer }) =>
    log.info('peer connected', { id: peer.id.slice(0, 16), name: peer.clientName }),
  );
  // The cause says why a local disconnect happened, e.g. the eth Status mismatch behind "subprotocol error".
  server.on('peer:removed', ({ peer, error }) => {
    const cause = error.cause instanceof Error && error.cause.message !== error.message ? error.cause : undefined;
    log.info('peer disconnected', {
      id: peer.id.slice(0, 16),
      reason: error.message,
      ...(cause ? { cause: cause.message } : {}),
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    node,
    rpc,
    close: () => {
      stopping ??= release();
      return stopping;
    },
  };
}
