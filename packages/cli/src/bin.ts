#!/usr/bin/env node
import { clientName } from '@devp2p/server';
import { runAttach } from './commands/attach.ts';
import type { ToolCommand } from './commands/common.ts';
import { runDevnet } from './commands/devnet.ts';
import { runDiscv4 } from './commands/discv4.ts';
import { runDiscv5 } from './commands/discv5.ts';
import { runDns } from './commands/dns.ts';
import { runEnr } from './commands/enr.ts';
import { runEth } from './commands/eth.ts';
import { runKey } from './commands/key.ts';
import { runRlpx } from './commands/rlpx.ts';
import { runSnap } from './commands/snap.ts';
import { runTest } from './commands/test.ts';
import { NODE_USAGE, parseNodeOptions, startNode, UsageError } from './node-command.ts';
import { CLI_VERSION } from './version.ts';

/** The tool subcommands; each prints its own usage and returns its exit code. */
const TOOLS: Readonly<Record<string, ToolCommand>> = {
  key: runKey,
  enr: runEnr,
  rlpx: runRlpx,
  discv4: runDiscv4,
  discv5: runDiscv5,
  dns: runDns,
  eth: runEth,
  snap: runSnap,
  test: runTest,
  devnet: runDevnet,
  attach: runAttach,
};

const USAGE = `devp2p <command> [flags]   (devp2p --version prints the version)

Commands:
  node     run a devp2p node (devp2p node --help)
  key      generate and inspect node key files
  enr      decode a node record (enr decode)
  rlpx     RLPx probes (rlpx ping)
  discv4   discovery v4 queries and crawler (ping, resolve, requestenr, crawl)
  discv5   discovery v5 queries, crawler and listener (ping, resolve, requestenr, findnode, talk, crawl, listen)
  dns      EIP-1459 DNS discovery trees (sync, sign, to-txt)
  eth      one eth request to one node (status, headers, bodies, receipts)
  snap     one snap request to one node (range, codes)
  test     conformance suites against any node (test discv4, test discv5, test rlpx)
  devnet   run N local nodes in one process with a live peer table
  attach   call a running node's JSON-RPC over IPC, HTTP or WebSocket`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    // As geth's `version`: ours, then what we send peers (runtime and platform included).
    console.log(`devp2p ${CLI_VERSION}\nclient name: ${clientName()}`);
    return 0;
  }
  const tool = Object.hasOwn(TOOLS, command) ? TOOLS[command] : undefined;
  if (tool) return tool(rest);
  if (command !== 'node') {
    console.error(`devp2p: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  const options = parseNodeOptions(rest);
  if (options === 'help') {
    console.log(NODE_USAGE);
    return 0;
  }
  // Handlers go in before the node starts, so a signal during start-up still shuts down cleanly. They stay
  // installed until exit: removing them would restore the default (kill) while state is being saved. A second
  // signal forces the exit.
  let signalled = false;
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (): void => {
      if (signalled) process.exit(1);
      signalled = true;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const node = await startNode(options);
  await stopRequested;
  await node.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`devp2p: ${error.message}\n\n${NODE_USAGE}`);
    else console.error(`devp2p: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
