import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger, utf8ToBytes } from '@devp2p/core';
import { keccak256 } from '@devp2p/crypto';
import { createNode, type DevP2PNode } from '@devp2p/node';
import { type ChainConfig, customChain, eth } from '@devp2p/plugin-eth';
import { ping } from '@devp2p/plugin-ping';
import { type AdminRpcServer, startAdminRpc } from '../admin-rpc.ts';
import { UsageError } from '../node-command.ts';
import {
  expectPositionals,
  parseDuration,
  parseIntegerFlag,
  parseToolArgs,
  type ToolCommand,
  withUsage,
} from './common.ts';

/** Most nodes `devp2p devnet` starts: each holds a TCP listener, a UDP socket and its peers in this process. */
export const DEVNET_MAX_NODES = 64;

/** How often the peer table is redrawn on a terminal. */
export const DEVNET_REFRESH_MS = 1_000;

/** The devnet's chain: its own network id and genesis, so its nodes never take a real network's peers. */
export const DEVNET_CHAIN: ChainConfig = customChain({
  name: 'devnet',
  networkId: 1337,
  genesisHash: keccak256(utf8ToBytes('devp2p.ts devnet genesis')),
  forks: [{ name: 'prague', time: 0 }],
});

const RUNTIMES = ['node', 'bun', 'deno'] as const;
type Runtime = (typeof RUNTIMES)[number];

/** Usage of `devp2p devnet`. */
export const DEVNET_USAGE: string = `devp2p devnet [--nodes <n>] [--runtime node|bun|deno] [--http] [--full-ids]

Starts N nodes on 127.0.0.1 in this process, as \`devp2p node\` runs them: each with eth/68-72 on a local chain
(network id 1337) and png/1, and discv4 on its TCP port. Node 0 is the bootnode; the others find each other
through it, then dial, complete the RLPx handshake, the Hello and the eth Status. On a terminal it redraws a
peer table (each node's id, the nodes it is connected to, its ports); otherwise it prints one line per connection.
Nothing leaves 127.0.0.1. Stops on Ctrl-C.

  --nodes <n>           how many nodes (default 4, at most ${DEVNET_MAX_NODES})
  --runtime <name>      run the devnet on node, bun or deno (default: the runtime running this command)
  --http                serve each node's admin JSON-RPC on 127.0.0.1 (ports in the table)
  --full-ids            show whole node ids (default: the first 16 hex digits)
  --base-port <port>    node i listens on port + i (default 0: free ports)
  --duration <d>        stop by itself after this long (e.g. 30s; a bare number is seconds)`;

/** One node of the devnet. */
export interface DevnetMember {
  readonly index: number;
  readonly node: DevP2PNode;
  /** The node's admin JSON-RPC, with `--http`. */
  readonly rpc: AdminRpcServer | undefined;
}

/** A running devnet. */
export interface Devnet {
  readonly members: readonly DevnetMember[];
  /** Pairs of members connected to each other. */
  links(): number;
  /** Every member connected to every other. */
  fullMesh(): boolean;
  close(): Promise<void>;
}

/** Options of {@link startDevnet}. */
export interface DevnetOptions {
  readonly nodes: number;
  /** Node i listens on `basePort + i`; 0 for free ports. */
  readonly basePort?: number;
  readonly http?: boolean;
  readonly logger?: Logger;
}

/**
 * Starts `nodes` nodes on 127.0.0.1 with `createNode`: node 0 first (the bootnode), then the others with it as
 * their bootnode. Each runs eth on {@link DEVNET_CHAIN} and png/1.
 * @example const devnet = await startDevnet({ nodes: 4 }); await devnet.close()
 */
export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const logger = options.logger ?? createLogger({ level: 'warn' });
  const members: DevnetMember[] = [];
  const close = async (): Promise<void> => {
    for (const member of members.splice(0).reverse()) {
      await member.rpc?.close();
      await member.node.close();
    }
  };
  try {
    for (let index = 0; index < options.nodes; index++) {
      const port = options.basePort ? options.basePort + index : 0;
      const node = createNode({
        name: `devp2p.ts/devnet-${index}`,
        listenAddr: `127.0.0.1:${port}`,
        protocols: [...eth({ chain: DEVNET_CHAIN }).protocols, ping],
        bootnodes: index === 0 ? [] : [members[0]!.node.localNode.node],
        logger: logger.with({ node: index }),
      });
      await node.start();
      const rpc = options.http ? await startAdminRpc(node.server, { host: '127.0.0.1', port: 0, logger }) : undefined;
      members.push({ index, node, rpc });
    }
  } catch (error) {
    await close();
    throw error;
  }
  const links = (): number => {
    let count = 0;
    for (const a of members) for (const b of members) if (a.index < b.index && connected(a, b)) count++;
    return count;
  };
  return {
    members,
    links,
    fullMesh: () => links() === (members.length * (members.length - 1)) / 2,
    close,
  };
}

/** Whether `a` and `b` are peers, as both of them see it. */
function connected(a: DevnetMember, b: DevnetMember): boolean {
  const ids = (m: DevnetMember): string[] => m.node.peers().map((peer) => peer.id);
  return ids(a).includes(b.node.localNode.id.hex) && ids(b).includes(a.node.localNode.id.hex);
}

function table(devnet: Devnet, elapsedMs: number, fullIds: boolean): string[] {
  const { members } = devnet;
  const idWidth = fullIds ? 64 : 16;
  const http = members.some((m) => m.rpc);
  const lines = [
    `devnet: ${members.length} nodes on 127.0.0.1, ${devnet.links()} of ${(members.length * (members.length - 1)) / 2} links, ${Math.round(elapsedMs / 1000)}s${devnet.fullMesh() ? ' (full mesh)' : ''}`,
    `  #   ${'node id'.padEnd(idWidth)}  ${'connected to'.padEnd(14)} tcp/udp${http ? '  http' : ''}`,
  ];
  for (const m of members) {
    const peers = members.filter((other) => other !== m && connected(m, other)).map((other) => other.index);
    const ports = m.node.nodeInfo().ports;
    lines.push(
      `  ${String(m.index).padEnd(3)} ${m.node.localNode.id.hex.slice(0, idWidth)}  ${(peers.join(',') || '-').padEnd(14)} ${ports.listener}/${ports.discovery}${m.rpc ? `  ${m.rpc.address.port}` : ''}`,
    );
  }
  return lines;
}

/** The command that runs this CLI on `runtime`, from source in a clone or from dist/ when built. */
function cliCommand(runtime: Runtime): [string, string[]] {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const bin = join(dirname(dirname(here)), fromSource ? 'bin.ts' : 'bin.js');
  const source = fromSource ? ['--conditions', 'devp2p-source'] : [];
  const current = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
  const executable = current === runtime ? process.execPath : findExecutable(runtime, here);
  if (runtime === 'deno') return [executable, ['run', '-A', ...source, bin]];
  if (runtime === 'bun') return [executable, [...source, bin]];
  return [executable, [...(fromSource ? ['--import', 'tsx'] : []), ...source, bin]];
}

/** `runtime`'s executable: from a node_modules/.bin above the working directory or this file, else the PATH. */
function findExecutable(runtime: Runtime, from: string): string {
  for (const start of [process.cwd(), dirname(from)]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', '.bin', runtime);
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return runtime;
}

/** Runs this command again on another runtime, passing the terminal through; resolves with its exit code. */
function rerun(runtime: Runtime, args: readonly string[]): Promise<number> {
  const [cmd, baseArgs] = cliCommand(runtime);
  return new Promise((resolve) => {
    const child = spawn(cmd, [...baseArgs, 'devnet', ...args], { stdio: 'inherit' });
    // Ctrl-C reaches the child through the terminal; we wait for it to stop.
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    const forward = (): void => void child.kill('SIGTERM');
    process.on('SIGTERM', forward);
    child.on('error', (error) => {
      console.error(`devp2p: cannot run ${runtime} (${error.message}); install it, e.g. npm install -D ${runtime}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/**
 * `devp2p devnet`: N local nodes in one process, finding each other through a bootnode, with a live peer table.
 * @example process.exitCode = await runDevnet(['--nodes', '3', '--duration', '10'])
 */
export const runDevnet: ToolCommand = withUsage(DEVNET_USAGE, async (args) => {
  const { values, positionals } = parseToolArgs(args, {
    nodes: { type: 'string' },
    runtime: { type: 'string' },
    http: { type: 'boolean' },
    'full-ids': { type: 'boolean' },
    'base-port': { type: 'string' },
    duration: { type: 'string' },
  });
  expectPositionals(positionals, 0);
  const count = parseIntegerFlag(values.nodes, 4, '--nodes', 1, DEVNET_MAX_NODES);
  const basePort = parseIntegerFlag(values['base-port'], 0, '--base-port', 0, 65535);
  if (basePort !== 0 && basePort + count - 1 > 65535) throw new UsageError('--base-port: ports past 65535');
  const durationMs = typeof values.duration === 'string' ? parseDuration(values.duration, '--duration') : undefined;
  const runtime = values.runtime;
  if (runtime !== undefined) {
    if (typeof runtime !== 'string' || !(RUNTIMES as readonly string[]).includes(runtime)) {
      throw new UsageError(`--runtime: expected node, bun or deno, got ${JSON.stringify(runtime)}`);
    }
    const current = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
    if (runtime !== current) {
      const rest = args.filter(
        (arg, i) => arg !== '--runtime' && args[i - 1] !== '--runtime' && !arg.startsWith('--runtime='),
      );
      return rerun(runtime as Runtime, rest);
    }
  }
  const fullIds = values['full-ids'] === true;

  let stopRequested!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (): void => stopRequested();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = durationMs === undefined ? undefined : setTimeout(stopRequested, durationMs);
  const started = Date.now();
  const interactive = process.stdout.isTTY === true;
  let devnet: Devnet | undefined;
  let refresh: ReturnType<typeof setInterval> | undefined;
  try {
    devnet = await startDevnet({ nodes: count, basePort, http: values.http === true });
    const running = devnet;
    const bootnode = running.members[0]!.node.nodeInfo().enode;
    console.log(`devnet: ${count} nodes on 127.0.0.1, each running eth/68-72 (network 1337) and png/1`);
    console.log(`devnet: bootnode ${bootnode}`);
    console.log('devnet: to join a real network instead: npm start -- node --network sepolia (Ctrl-C stops)');
    let meshAnnounced = false;
    let stopping = false;
    for (const member of running.members) {
      // The ids this member is connected to, so a duplicate connection replaced by another is not logged.
      const linked = new Set<string>();
      member.node.on('peer:added', ({ peer }) => {
        if (interactive || linked.has(peer.id)) return;
        linked.add(peer.id);
        const other = running.members.find((m) => m.node.localNode.id.hex === peer.id);
        const caps = peer.caps.map((c) => `${c.name}/${c.version}`).join(' ');
        console.log(`devnet: node ${member.index} connected to node ${other?.index ?? peer.id.slice(0, 16)} (${caps})`);
        if (!meshAnnounced && running.fullMesh()) {
          meshAnnounced = true;
          console.log(`devnet: full mesh of ${count} nodes after ${((Date.now() - started) / 1000).toFixed(1)}s`);
        }
      });
      member.node.on('peer:removed', ({ peer, reason }) => {
        if (member.node.peers().some((p) => p.id === peer.id)) return;
        linked.delete(peer.id);
        if (!interactive && !stopping) {
          console.log(`devnet: node ${member.index} lost ${peer.id.slice(0, 16)} (${reason.name})`);
        }
      });
    }
    stopped.then(() => {
      stopping = true;
    });
    if (interactive) {
      let drawn = 0;
      const draw = (): void => {
        const lines = table(running, Date.now() - started, fullIds);
        // Back to the table's first line, clear to the end, and draw it again: redrawn in place.
        process.stdout.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      };
      draw();
      refresh = setInterval(draw, DEVNET_REFRESH_MS);
    }
    await stopped;
  } finally {
    if (refresh !== undefined) clearInterval(refresh);
    if (timer !== undefined) clearTimeout(timer);
    if (devnet) {
      if (!interactive) console.log(table(devnet, Date.now() - started, fullIds).join('\n'));
      console.log('devnet: stopping');
      await devnet.close();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
});
