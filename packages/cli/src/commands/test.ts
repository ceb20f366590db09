import {
  type ConformanceCase,
  type NamedCaseResult,
  type RunCasesOptions,
  runCases,
  SUITES,
  type SuiteName,
} from '@devp2p/conformance';
import type { Node } from '@devp2p/enode';
import { parseNetwork, UsageError } from '../node-command.ts';
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

/** Usage of `devp2p test`. */
export const TEST_USAGE: string = `devp2p test <suite> [flags] <enode|enr>

  devp2p test discv4 <enode|enr>   the discv4 cases: geth's v4test fifteen (Ping, ENRRequest, Findnode,
                                   Amplification) and more from discv4.md and EIP-868, over UDP
  devp2p test discv5 <enr|enode>   the discv5 cases: geth's v5test seven (Ping, PingLargeRequestID, PingMultiIP,
                                   HandshakeResend, TalkRequest, FindnodeZeroDistance, FindnodeResults) and more
                                   from discv5-wire.md, over UDP; an enode works too (its key, IP and UDP port are
                                   all a case needs), an ENR also gives the seq PingStaleENR compares with
  devp2p test rlpx <enode|enr>     the RLPx cases: the handshake (EIP-8, legacy, wrong key), frame MACs, Hello,
                                   Ping/Pong, Disconnect, oversize messages, snappy, and the eth Status exchange

Runs the conformance cases of @devp2p/conformance against a node, each from fresh sockets with a fresh key and its
own deadline, and prints a table of case, result, time and reason as they finish. docs/conformance.md says what
each case sends and what a conforming node must do. Exit code 0 only when every case run passes, 1 otherwise.

  --run <regex>            only the cases whose name matches (e.g. 'Ping/' or 'Findnode|ENRRequest')
  --json                   print one JSON document instead of the table:
                           {"suite", "target", "passed", "failed", "results": [{"name", "pass", "reason", "ms"}]}
  --list                   print the cases and what each checks, run nothing
  --timeout <duration>     replace each case's own deadline (10s for discv4 and discv5, 30s for the discv5 cases
                           that fill the node's table first, 15s for rlpx)
  --listen1 <ip>           discv4, discv5: local IP the test sockets bind (default 127.0.0.1 for a loopback node,
                           else any)
  --listen2 <ip>           discv4, discv5: a second local IP, for Amplification/WrongIP and PingMultiIP (default
                           127.0.0.2 for a loopback node; without one those cases fail)
  --network <name|file>    rlpx: the network the node should be on (mainnet, sepolia, hoodi or a genesis file); the
                           eth cases then also check its Status names it`;

/** Width of the result column: PASS / FAIL. */
const RESULT_WIDTH = 8;
/** Width of the time column. */
const TIME_WIDTH = 9;

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

function selected(suite: SuiteName, values: ToolArgs['values']): readonly ConformanceCase[] {
  const cases = SUITES[suite];
  if (typeof values.run !== 'string') return cases;
  let filter: RegExp;
  try {
    filter = new RegExp(values.run);
  } catch (cause) {
    throw new UsageError(`--run: ${(cause as Error).message}`);
  }
  const chosen = cases.filter((c) => filter.test(c.name));
  if (chosen.length === 0) throw new UsageError(`--run: ${values.run} matches none of the ${suite} cases`);
  return chosen;
}

function checkTarget(suite: SuiteName, node: Node): void {
  if (suite !== 'rlpx' && !node.udpEndpoint()) {
    throw new UsageError('<enode|enr>: the node has no IP address and UDP port');
  }
  // discv5 encrypts to the node's key: a record without one (another identity scheme) cannot be tested.
  if (suite === 'discv5' && !node.publicKey) throw new UsageError('<enr|enode>: the node has no secp256k1 public key');
  if (suite === 'rlpx') {
    if (!node.tcpEndpoint()) throw new UsageError('<enode|enr>: the node has no IP address and TCP port');
    if (!node.publicKey) throw new UsageError('<enode|enr>: the node has no public key');
  }
}

function runOptions(suite: SuiteName, values: ToolArgs['values']): RunCasesOptions {
  const str = (name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);
  for (const flag of suite === 'rlpx' ? ['listen1', 'listen2'] : ['network']) {
    if (str(flag) !== undefined) {
      throw new UsageError(
        `--${flag} applies to the ${flag === 'network' ? 'rlpx suite' : 'discv4 and discv5 suites'} only`,
      );
    }
  }
  const timeout = str('timeout');
  const listen = str('listen1');
  const listen2 = str('listen2');
  const network = str('network');
  return {
    ...(timeout === undefined ? {} : { timeoutMs: parseDuration(timeout, '--timeout') }),
    ...(listen === undefined ? {} : { listen }),
    ...(listen2 === undefined ? {} : { listen2 }),
    ...(network === undefined ? {} : { chain: parseNetwork(network) }),
  };
}

function suiteCommand(suite: SuiteName): ToolCommand {
  return async (args) => {
    const { values, positionals } = parseToolArgs(args, {
      run: { type: 'string' },
      json: { type: 'boolean' },
      list: { type: 'boolean' },
      timeout: { type: 'string' },
      listen1: { type: 'string' },
      listen2: { type: 'string' },
      network: { type: 'string' },
    });
    const cases = selected(suite, values);
    if (values.list === true) {
      expectPositionals(positionals, 0);
      for (const c of cases) console.log(`${c.name}\n    ${c.description}\n    spec: ${c.spec}`);
      return 0;
    }
    expectPositionals(positionals, 1);
    const node = parseNodeArgument(positionals[0], '<enode|enr>');
    checkTarget(suite, node);
    const options = runOptions(suite, values);
    const json = values.json === true;
    const nameWidth = Math.max(...cases.map((c) => c.name.length), 'CASE'.length) + 2;
    if (!json) console.log(`${pad('CASE', nameWidth)}${pad('RESULT', RESULT_WIDTH)}${pad('TIME', TIME_WIDTH)}REASON`);
    const onResult = (r: NamedCaseResult): void => {
      if (json) return;
      const time = `${Math.round(r.ms)} ms`;
      console.log(
        `${pad(r.name, nameWidth)}${pad(r.pass ? 'PASS' : 'FAIL', RESULT_WIDTH)}${pad(time, TIME_WIDTH)}${r.reason}`,
      );
    };
    const results = await runCases(cases, node, { ...options, onResult });
    const passed = results.filter((r) => r.pass).length;
    const failed = results.length - passed;
    if (json) {
      const target = node.toString();
      console.log(JSON.stringify({ suite, target, passed, failed, results }, null, 2));
    } else {
      console.log(`\n${results.length} cases: ${passed} passed, ${failed} failed`);
    }
    return failed === 0 ? 0 : 1;
  };
}

/**
 * `devp2p test discv4|discv5|rlpx`: the conformance cases against one node.
 * @example process.exitCode = await runTest(['discv4', '--run', 'Ping/', 'enode://…@127.0.0.1:30303'])
 */
export const runTest: ToolCommand = withUsage(
  TEST_USAGE,
  subcommands({ discv4: suiteCommand('discv4'), discv5: suiteCommand('discv5'), rlpx: suiteCommand('rlpx') }),
);
