import { DisconnectError, DisconnectReason, disconnectReasonText } from '@devp2p/core';
import { generatePrivateKey, publicKeyFromPrivate } from '@devp2p/crypto';
import { RLPxConnection } from '@devp2p/rlpx';
import {
  BaseMessageCode,
  encodeDisconnect,
  exchangeHello,
  type Hello,
  P2P_VERSION,
  SNAPPY_MIN_VERSION,
} from '@devp2p/server';
import { tcpTransport } from '@devp2p/transport-node';
import { UsageError } from '../node-command.ts';
import {
  expectPositionals,
  parseDuration,
  parseNodeArgument,
  parseToolArgs,
  subcommands,
  type ToolCommand,
  withUsage,
} from './common.ts';

/** Default `--timeout` of `rlpx ping`: for the dial, the RLPx handshake and the Hello exchange, each (geth's 5 s). */
export const RLPX_PING_TIMEOUT_MS = 5_000;

/** Usage of `devp2p rlpx`. */
export const RLPX_USAGE: string = `devp2p rlpx ping [--timeout <duration>] <enode|enr>

Dials the node over TCP, runs the RLPx handshake and the Hello exchange with a throwaway key, and prints the
remote's client name, p2p version, capabilities and listen port; or the reason it disconnected us (e.g. "too many
peers"). Exit code 1 on any failure.

  --timeout <duration>   deadline for the dial, the handshake and the Hello, each (default 5s)`;

const ping: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, { timeout: { type: 'string' } });
  expectPositionals(positionals, 1);
  const node = parseNodeArgument(positionals[0], '<enode|enr>');
  const timeoutMs =
    typeof values.timeout === 'string' ? parseDuration(values.timeout, '--timeout') : RLPX_PING_TIMEOUT_MS;
  const endpoint = node.tcpEndpoint();
  if (!endpoint) throw new UsageError('<enode|enr>: the node has no IP address and TCP port');
  if (!node.publicKey) throw new UsageError('<enode|enr>: the node has no public key');
  const key = generatePrivateKey();
  const started = Date.now();
  const stream = await tcpTransport.dial(endpoint.ip, endpoint.port, { timeoutMs });
  const conn = new RLPxConnection(stream, {
    privateKey: key,
    remotePublicKey: node.publicKey,
    handshakeTimeoutMs: timeoutMs,
  });
  let hello: Hello;
  try {
    await conn.handshake();
    hello = await exchangeHello(
      conn,
      {
        version: P2P_VERSION,
        clientName: 'devp2p.ts/rlpx-ping',
        caps: [],
        listenPort: 0,
        nodeId: publicKeyFromPrivate(key),
      },
      { timeoutMs },
    );
  } catch (error) {
    conn.close();
    if (error instanceof DisconnectError) {
      console.log(`Disconnected: ${disconnectReasonText(error.reason)} (reason 0x${error.reason.toString(16)})`);
      return 1;
    }
    throw error;
  }
  const rtt = Date.now() - started;
  console.log(`Node:        ${node.id.hex}`);
  console.log(`Client:      ${hello.clientName}`);
  console.log(`P2P version: ${hello.version}`);
  console.log(`Caps:        ${hello.caps.map((c) => `${c.name}/${c.version}`).join(', ') || '(none)'}`);
  console.log(`Listen port: ${hello.listenPort}`);
  console.log(`Time:        ${rtt} ms (dial + handshake + Hello)`);
  // Leave politely, as geth would: a Disconnect in the framing both Hellos agreed on, then close.
  conn.setSnappy(hello.version >= SNAPPY_MIN_VERSION);
  await conn
    .writeMessage(BaseMessageCode.Disconnect, encodeDisconnect(DisconnectReason.ClientQuitting))
    .catch(() => undefined);
  conn.close();
  return 0;
};

/**
 * `devp2p rlpx ping`: RLPx handshake and Hello exchange with one node.
 * @example process.exitCode = await runRlpx(['ping', 'enode://…@127.0.0.1:30303'])
 */
export const runRlpx: ToolCommand = withUsage(RLPX_USAGE, subcommands({ ping }));
