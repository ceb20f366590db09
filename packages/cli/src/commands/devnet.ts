import { createLogger, type Logger } from '@devp2p/core';
import { generatePrivateKey } from '@devp2p/crypto';
import { Discv4 } from '@devp2p/discovery';
import { LocalNode, MemoryNodeDatabase } from '@devp2p/enode';
import { ping } from '@devp2p/plugin-ping';
import { createServer, type Server } from '@devp2p/server';
import { udpTransport } from '@devp2p/transport-node';
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

/** How often the peer table is printed. */
export const DEVNET_REFRESH_MS = 1_000;

/** Usage of `devp2p devnet`. */
export const DEVNET_USAGE: string = `devp2p devnet [--nodes <n>] [--base-port <port>] [--duration <d>]

Starts N nodes on 127.0.0.1 in this process, each a server with the png/1 ping protocol and discovery v4 on the
same port number (TCP and UDP); node 0 is the bootnode of the others. Prints a peer table every second (index,
node id, peers, TCP port) until Ctrl-C.

  --nodes <n>           how many nodes (default 3, at most ${DEVNET_MAX_NODES})
  --base-port <port>    node i listens on port + i (default 0: free ports)
  --duration <d>        stop by itself after this long (e.g. 30s; a bare number is seconds)`;

/** One node of the devnet. */
interface DevnetNode {
  readonly index: number;
  readonly server: Server;
  readonly discovery: Discv4;
  readonly db: MemoryNodeDatabase;
}

const silent: Logger = createLogger({ level: 'error', sink: () => undefined });

async function startDevnetNode(index: number, port: number, bootnodes: readonly DevnetNode[]): Promise<DevnetNode> {
  const privateKey = generatePrivateKey();
  const db = new MemoryNodeDatabase();
  const localNode = new LocalNode(privateKey, { db, logger: silent });
  const discovery = await Discv4.start({
    privateKey,
    transport: udpTransport,
    host: '127.0.0.1',
    port,
    localNode,
    logger: silent,
    bootnodes: bootnodes.map((b) => b.discovery.self),
  });
  const server = createServer({
    privateKey,
    name: `devp2p.ts/devnet-${index}`,
    listenAddr: `127.0.0.1:${port === 0 ? 0 : port}`,
    protocols: [ping],
    nodeDatabase: db,
    nodeSources: [(signal) => discovery.randomNodes({ signal })],
    resolveNode: (node, { signal }) => discovery.resolve(node, { signal }),
    logger: silent,
  });
  try {
    await server.start();
  } catch (error) {
    await discovery.close();
    await db.close();
    throw error;
  }
  localNode.set({ tcp: server.listenAddress!.port });
  return { index, server, discovery, db };
}

function table(nodes: readonly DevnetNode[], elapsedMs: number): string {
  const lines = [
    `devnet: ${nodes.length} nodes, ${Math.round(elapsedMs / 1000)}s`,
    '  #  node              peers  tcp',
  ];
  for (const n of nodes) {
    lines.push(
      `  ${String(n.index).padEnd(2)} ${n.discovery.self.id.hex.slice(0, 16)}  ${String(n.server.peerCount).padEnd(6)} ${n.server.listenAddress?.port ?? '-'}`,
    );
  }
  return lines.join('\n');
}

/**
 * `devp2p devnet`: N local nodes (servers with png/1 and discovery v4) in one process, with a live peer table.
 * @example process.exitCode = await runDevnet(['--nodes', '3', '--duration', '10'])
 */
export const runDevnet: ToolCommand = withUsage(DEVNET_USAGE, async (args) => {
  const { values, positionals } = parseToolArgs(args, {
    nodes: { type: 'string' },
    'base-port': { type: 'string' },
    duration: { type: 'string' },
  });
  expectPositionals(positionals, 0);
  const count = parseIntegerFlag(values.nodes, 3, '--nodes', 1, DEVNET_MAX_NODES);
  const basePort = parseIntegerFlag(values['base-port'], 0, '--base-port', 0, 65535);
  if (basePort !== 0 && basePort + count - 1 > 65535) throw new UsageError('--base-port: ports past 65535');
  const durationMs = typeof values.duration === 'string' ? parseDuration(values.duration, '--duration') : undefined;

  let stopRequested!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (): void => stopRequested();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const nodes: DevnetNode[] = [];
  const interactive = process.stdout.isTTY === true;
  const started = Date.now();
  const refresh = setInterval(() => {
    const text = table(nodes, Date.now() - started);
    console.log(interactive ? `\x1b[H\x1b[2J${text}` : `${text}\n`);
  }, DEVNET_REFRESH_MS);
  const timer = durationMs === undefined ? undefined : setTimeout(stopRequested, durationMs);
  try {
    for (let i = 0; i < count; i++) {
      nodes.push(await startDevnetNode(i, basePort === 0 ? 0 : basePort + i, i === 0 ? [] : [nodes[0]!]));
    }
    console.log(`devnet: started ${count} nodes; bootnode ${nodes[0]!.server.self.toEnodeUrl()}`);
    await stopped;
  } finally {
    clearInterval(refresh);
    if (timer !== undefined) clearTimeout(timer);
    console.log(`${table(nodes, Date.now() - started)}\ndevnet: stopping`);
    for (const node of nodes) {
      await node.server.stop();
      await node.discovery.close();
      await node.db.close();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
});
