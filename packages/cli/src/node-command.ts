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
import {
  type ChainConfig,
  customChain,
  ETH_VERSIONS,
  type EthVersion,
  eth,
  type Fork,
  hoodi,
  mainnet,
  parseEthVersions,
  sepolia,
} from '@devp2p/plugin-eth';
import { ping } from '@devp2p/plugin-ping';
import { clientName } from '@devp2p/server';
import { createTxtResolver } from '@devp2p/transport-node';
import {
  type AdminRpcServer,
  adminBackend,
  DEFAULT_HTTP_VHOSTS,
  DEFAULT_RPC_API,
  RPC_MODULE_VERSIONS,
  startAdminRpc,
} from './admin-rpc.ts';
import { Discv5Rpc } from './discv5-rpc.ts';
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

/** The module names `--http.api` and `--ws.api` take. */
const RPC_API_NAMES = Object.keys(RPC_MODULE_VERSIONS).join(',');

/** geth's `--verbosity` levels: 0 silent … 5 trace (3, info, by default). */
const VERBOSITY: readonly (LogLevel | 'silent')[] = ['silent', 'error', 'warn', 'info', 'debug', 'trace'];

export const NODE_USAGE: string = `devp2p node [flags]

Runs a devp2p node: listens on TCP, keeps its node key and node database in the data directory, and connects to
the static and trusted nodes listed there (static-nodes.json, trusted-nodes.json: JSON arrays of enode URLs), and
finds more peers through discv4 and discv5 discovery (both on one UDP port) unless --nodiscover. It runs eth/68 to eth/72 for the chosen network
(without chain data: it reports the genesis block as its head and answers requests empty) and png/1; with each peer
the newest eth version both sides run wins.

  --network <name|file>  mainnet, sepolia, hoodi, or a genesis file for a custom network (default mainnet):
                         {"networkId": 1337, "genesisHash": "0x…", "genesisTime": 0, "forks": [{"name": "prague",
                         "time": 0}, {"name": "london", "block": 0}]} (genesisTime, genesisDifficulty, forks and
                         name are optional)

  --eth.versions <list>  eth versions to run, comma-separated (default ${ETH_VERSIONS.join(',')}; e.g. 69,68)

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
  --discovery.v4         run discv4 (default true; --discovery.v4=false turns it off)
  --discovery.v5         run discv5, on the same UDP port as discv4 (default true; --discovery.v5=false turns
                         it off)
  --nat <mode>           none; extip:<IP> to announce that IP in the node record; upnp to map our ports on the
                         UPnP gateway an SSDP search finds; pmp:<IP> to map them on that NAT-PMP gateway (pmp: the
                         gateways guessed from this machine's private networks); any for whichever of UPnP and
                         NAT-PMP answers first; a mapping gateway's external IP goes into the record (default none)
  --maxpeers <n>         maximum number of peers (default 50)
  --maxpendpeers <n>     maximum number of connections in handshake at once (default 50)
  --netrestrict <cidrs>  only connect to these networks (comma-separated CIDR list)
  --identity <name>      custom node name, sent as part of the client name
  --verbosity <0-5>      log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace (default 3)
  --log.format <fmt>     text or json (default text)
  --http                 serve the admin JSON-RPC over HTTP (admin_nodeInfo, admin_peers, admin_addPeer,
                         admin_removePeer, admin_addTrustedPeer, admin_removeTrustedPeer, admin_datadir,
                         net_peerCount, net_listening, rpc_modules, web3_clientVersion; discv5_* with
                         --http.api)
  --http.addr <ip>       HTTP-RPC listening interface (default ${DEFAULT_HTTP_ADDR})
  --http.port <n>        HTTP-RPC listening port (default ${DEFAULT_HTTP_PORT}; 0 picks a free one)
  --http.api <list>      API modules served over HTTP, comma-separated: ${RPC_API_NAMES} (default
                         ${DEFAULT_RPC_API.join(',')}; discv5: the discv5_* methods of the Portal JSON-RPC spec)
  --http.vhosts <names>  Host header names the HTTP-RPC answers besides IP addresses, against DNS rebinding
                         (comma-separated; default localhost; * answers any)
  --http.corsdomain <origins> browser origins allowed to call the HTTP-RPC (comma-separated, e.g.
                         http://localhost:3000; default none; * allows any)
  --ws                   serve the same JSON-RPC over WebSocket, with admin_subscribe("peerEvents")
  --ws.addr <ip>         WebSocket listening interface (default ${DEFAULT_HTTP_ADDR})
  --ws.port <n>          WebSocket listening port (default ${DEFAULT_WS_PORT}; 0 picks a free one)
  --ws.origins <origins> browser origins allowed to connect (comma-separated; default none; * allows any)
  --ws.api <list>        API modules served over WebSocket (as --http.api; default ${DEFAULT_RPC_API.join(',')})
  --ipcpath <path>       IPC socket (default <datadir>/${IPC_FILE_NAME}; a relative path is in the datadir); it
                         serves every module, discv5 included when discv5 runs
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
  /** The eth versions to run (`--eth.versions`; default all, newest first). */
  readonly ethVersions: readonly EthVersion[];
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
        /** Where discv5 starts (`--bootnodes` when given, else the network's discv5 bootnodes). */
        readonly bootnodesV5: readonly Node[];
        /** EIP-1459 trees (`--discovery.dns`; default: the network's). */
        readonly dnsTrees: readonly string[];
        /** The DNS server they are read from (`--discovery.dns.resolver`); the system's when undefined. */
        readonly dnsResolver: string | undefined;
        /** `--discovery.v4` (default true). */
        readonly v4: boolean;
        /** `--discovery.v5` (default true). */
        readonly v5: boolean;
      }
    | undefined;
  /** Where Prometheus metrics are served (`--metrics`); undefined without it. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** JSON-RPC over WebSocket (`--ws`), with its modules (`--ws.api`); undefined without it. */
  readonly ws:
    | {
        readonly host: string;
        readonly port: number;
        readonly origins: readonly string[];
        readonly api: readonly string[];
      }
    | undefined;
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
        /** The API modules served (`--http.api`; default {@link DEFAULT_RPC_API}). */
        readonly api: readonly string[];
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

/** `--http.api` / `--ws.api`: module names (geth's), each one we serve; default {@link DEFAULT_RPC_API}. */
function apiFlag(value: string | undefined, flag: string): string[] {
  if (value === undefined) return [...DEFAULT_RPC_API];
  const names = commaList(value, flag);
  for (const name of names) {
    if (!Object.hasOwn(RPC_MODULE_VERSIONS, name)) {
      throw new UsageError(`${flag}: unknown API module ${JSON.stringify(name)} (known: ${RPC_API_NAMES})`);
    }
  }
  return [...new Set(names)];
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

/**
 * A DNS server flag (`--discovery.dns.resolver`, `devp2p dns --resolver`): `ip:port`, or a bare IP for port 53;
 * anything else is a usage error naming `flag`.
 * @example dnsServerFlag('127.0.0.1:5353', '--resolver') // '127.0.0.1:5353'
 */
export function dnsServerFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const parsed =
    /^\d+\.\d+\.\d+\.\d+$/.test(value) || isIP(value) === 6 ? { host: value, port: 53 } : splitHostPort(value);
  if (!parsed || isIP(parsed.host) === 0 || parsed.port < 1 || parsed.port > 65535) {
    throw new UsageError(`${flag}: expected <ip>:<port> or <ip>, got ${JSON.stringify(value)}`);
  }
  return formatHostPort(parsed.host, parsed.port);
}

/** `--nat`, as geth's: none, extip:<IP>, upnp, pmp[:<IP>] or any (whichever of UPnP and NAT-PMP answers first). */
function natFlag(value: string): NatConfig {
  if (value === 'none' || value === 'any' || value === 'pmp' || value === 'upnp') return value;
  const [mode, ip] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
  if ((mode === 'extip' || mode === 'pmp') && value.includes(':')) {
    if (isIP(ip) !== 4 && !(mode === 'extip' && isIP(ip) === 6)) {
      throw new UsageError(
        `--nat: ${mode} needs an IP${mode === 'pmp' ? 'v4' : ''} address, got ${JSON.stringify(ip)}`,
      );
    }
    return mode === 'extip' ? { extIp: ip } : { pmp: ip };
  }
  throw new UsageError(`--nat: expected none, extip:<IP>, upnp, pmp, pmp:<IP> or any, got ${JSON.stringify(value)}`);
}

/** `--eth.versions`: a comma-separated list of eth versions (`72,71`, `eth/69`), newest first. */
function ethVersionsFlag(value: string | undefined): readonly EthVersion[] {
  if (value === undefined) return ETH_VERSIONS;
  try {
    return parseEthVersions(value).sort((a, b) => b - a);
  } catch (cause) {
    throw new UsageError(`--eth.versions: ${(cause as Error).message}`);
  }
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

/** geth's boolean discovery switches, which take an optional `=true` / `=false`. */
const DISCOVERY_SWITCHES = ['discovery.v4', 'discovery.v5'] as const;

/**
 * Takes `--discovery.v4` and `--discovery.v5` out of `args` (as geth writes them: `--discovery.v5`,
 * `--discovery.v5=true`, `--discovery.v5=false`), which `parseArgs` cannot read, and returns their values.
 */
function takeDiscoverySwitches(args: readonly string[]): { rest: string[]; v4: boolean; v5: boolean } {
  const values: Record<(typeof DISCOVERY_SWITCHES)[number], boolean> = { 'discovery.v4': true, 'discovery.v5': true };
  const rest: string[] = [];
  for (const arg of args) {
    const name = DISCOVERY_SWITCHES.find((n) => arg === `--${n}` || arg.startsWith(`--${n}=`));
    if (name === undefined) {
      rest.push(arg);
      continue;
    }
    const value = arg.slice(name.length + 2);
    if (value !== '' && value !== '=true' && value !== '=false') {
      throw new UsageError(`--${name}: expected --${name}, --${name}=true or --${name}=false, got ${arg}`);
    }
    values[name] = value !== '=false';
  }
  return { rest, v4: values['discovery.v4'], v5: values['discovery.v5'] };
}

/**
 * Parses `devp2p node` flags (geth's names) into {@link NodeOptions}; throws a UsageError naming the bad flag.
 * Creates the data directory and the node key file when missing.
 * @example parseNodeOptions(['--port', '0', '--datadir', '/tmp/node1'])
 */
export function parseNodeOptions(args: readonly string[]): NodeOptions | 'help' {
  const switches = takeDiscoverySwitches(args);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: switches.rest,
      strict: true,
      allowPositionals: false,
      options: {
        datadir: { type: 'string' },
        network: { type: 'string' },
        'eth.versions': { type: 'string' },
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
        'ws.api': { type: 'string' },
        ipcpath: { type: 'string' },
        ipcdisable: { type: 'boolean' },
        nat: { type: 'string' },
        http: { type: 'boolean' },
        'http.addr': { type: 'string' },
        'http.port': { type: 'string' },
        'http.vhosts': { type: 'string' },
        'http.corsdomain': { type: 'string' },
        'http.api': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  if (values.help) return 'help';
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const chain = parseNetwork(str('network'));
  const ethVersions = ethVersionsFlag(str('eth.versions'));
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
  // discv5 starts from --bootnodes when given, else from the network's discv5 bootnodes (geth's V5Bootnodes).
  const bootnodesV5 =
    bootnodesFlag !== undefined
      ? bootnodes
      : chain.discovery.bootnodesV5.map((record) => {
          try {
            return parseNode(record);
          } catch (cause) {
            throw new UsageError(`--network: discv5 bootnode: ${(cause as Error).message}`);
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
  const wsApi = apiFlag(str('ws.api'), '--ws.api');
  const ipcPathFlag = str('ipcpath');
  if (ipcPathFlag === '') throw new UsageError('--ipcpath: empty path (use --ipcdisable to turn IPC off)');
  const httpAddr = str('http.addr') ?? DEFAULT_HTTP_ADDR;
  if (isIP(httpAddr) === 0 && httpAddr !== 'localhost')
    throw new UsageError(`--http.addr: expected an IP address, got ${httpAddr}`);
  const httpPort = integer(str('http.port'), DEFAULT_HTTP_PORT, '--http.port', 65535);
  const vhosts = vhostsFlag(str('http.vhosts'));
  const corsOrigins = corsFlag(str('http.corsdomain'));
  const httpApi = apiFlag(str('http.api'), '--http.api');
  return {
    datadir,
    chain,
    ethVersions,
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
      : {
          port: discoveryPort,
          bootnodes,
          bootnodesV5,
          dnsTrees,
          dnsResolver: dnsServerFlag(str('discovery.dns.resolver'), '--discovery.dns.resolver'),
          v4: switches.v4,
          v5: switches.v5,
        },
    metrics: values.metrics ? { host: metricsAddr, port: metricsPort } : undefined,
    ws: values.ws ? { host: wsAddr, port: wsPort, origins: wsOrigins, api: wsApi } : undefined,
    ipcPath: values.ipcdisable ? undefined : resolve(datadir, ipcPathFlag ?? IPC_FILE_NAME),
    nat,
    http: values.http ? { host: httpAddr, port: httpPort, vhosts, corsOrigins, api: httpApi } : undefined,
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
 * the server listening on all interfaces with eth/72 to eth/68, or `options.ethVersions` (for `options.chain`, no chain
 * data) and the ping
 * plugin, discv4 and discv5 on one UDP port sharing the server's record, and the admin JSON-RPC. Logs `Started P2P networking` with our
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
    protocols: [...eth({ chain: options.chain, versions: options.ethVersions }).protocols, ping],
    discovery: discovery
      ? {
          port: discovery.port,
          v4: discovery.v4,
          v5: discovery.v5,
          dnsTrees: discovery.dnsTrees,
          ...(discovery.dnsResolver ? { txtResolver: createTxtResolver({ server: discovery.dnsResolver }) } : {}),
        }
      : false,
    metrics: options.metrics !== undefined,
    // Subscribers of admin_peerEvents over WebSocket or IPC see every message, as geth's EnableMsgEvents.
    messageEvents: options.ws !== undefined || options.ipcPath !== undefined,
    bootnodes: discovery?.bootnodes ?? [],
    bootnodesV5: discovery?.bootnodesV5 ?? [],
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
    // One set of discv5 methods for every endpoint, so that their limit on requests at once holds for all.
    const discv5 = node.discv5 ? new Discv5Rpc(node.discv5) : undefined;
    const backendFor = (modules: readonly string[]) => adminBackend(node.server, options.datadir, { discv5, modules });
    for (const [flag, api] of [
      ['--http.api', options.http?.api],
      ['--ws.api', options.ws?.api],
    ] as const) {
      if (api?.includes('discv5') && !discv5) {
        options.logger.warn(`${flag} names discv5, but discv5 is off: its methods are not available`, {
          reason: options.discovery ? '--discovery.v5=false' : '--nodiscover',
        });
      }
    }
    if (options.http) {
      rpc = await startAdminRpc(backendFor(options.http.api), {
        ...options.http,
        logger: options.logger,
      });
    }
    if (options.ws) {
      wsServer = await startWsRpc(backendFor(options.ws.api), node.server, { ...options.ws, logger: options.logger });
    }
    // As geth's IPC endpoint: every module (only the socket file's owner can connect).
    const backend = backendFor(Object.keys(RPC_MODULE_VERSIONS));
    if (options.ipcPath) {
      // The IPC endpoint is a convenience: a path it cannot use (too long for a Unix socket, a read-only directory)
      // is reported, and the node runs on.
      ipcServer = await startIpcRpc(backend, node.server, { path: options.ipcPath, logger: options.logger }).catch(
        (error: unknown) => {
          options.logger.warn('IPC endpoint not opened', { path: options.ipcPath, reason: (error as Error).message });
          return undefined;
        },
      );
    }
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
    versions: options.ethVersions.join(','),
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
