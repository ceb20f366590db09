import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { bytesToHex } from '@devp2p/core';
import { publicKeyFromPrivate } from '@devp2p/crypto';
import { Enr, generateNodeKey, loadNodeKey, Node, NodeId, parseIp, saveNodeKey } from '@devp2p/enode';
import { UsageError } from '../node-command.ts';
import {
  expectPositionals,
  parseIntegerFlag,
  parseToolArgs,
  subcommands,
  type ToolCommand,
  withUsage,
} from './common.ts';

/** Usage of `devp2p key`. */
export const KEY_USAGE: string = `devp2p key <generate|inspect> [flags]

  devp2p key generate [file]
      Creates a new node key. With a file: writes it there (64 hex characters, mode 0600, the format of geth's
      nodekey; an existing file is never replaced). Without: prints the key as hex.

  devp2p key inspect [--ip <addr>] [--tcp <port>] [--udp <port>] <file>
      Prints the node id, public key, enode URL and a signed record (seq 1) of the node key in <file>.
      --ip <addr>    IP address for the URL and record (default 127.0.0.1)
      --tcp <port>   TCP port (default 30303)
      --udp <port>   UDP port (default: the TCP port)`;

const generate: ToolCommand = async (args) => {
  const { positionals } = parseToolArgs(args, {});
  expectPositionals(positionals, 1);
  const key = generateNodeKey();
  const file = positionals[0];
  if (file === undefined) {
    console.log(bytesToHex(key));
    return 0;
  }
  const path = resolve(file);
  if (existsSync(path)) throw new Error(`${file} already exists; not replacing a node key`);
  saveNodeKey(path, key);
  console.log(`Node ID: ${NodeId.fromPublicKey(publicKeyFromPrivate(key)).hex}`);
  console.log(`Wrote ${path}`);
  return 0;
};

const inspect: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, {
    ip: { type: 'string' },
    tcp: { type: 'string' },
    udp: { type: 'string' },
  });
  expectPositionals(positionals, 1);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('missing key file');
  const ip = typeof values.ip === 'string' ? values.ip : '127.0.0.1';
  if (!parseIp(ip)) throw new UsageError(`--ip: not an IP address: ${ip}`);
  const tcp = parseIntegerFlag(values.tcp, 30303, '--tcp', 0, 65535);
  const udp = parseIntegerFlag(values.udp, tcp, '--udp', 0, 65535);
  const key = loadNodeKey(resolve(file));
  const publicKey = publicKeyFromPrivate(key);
  const node = Node.fromPublicKey(publicKey, { ip, tcp, udp });
  const entries = parseIp(ip)!.length === 4 ? { ip, tcp, udp } : { ip6: ip, tcp, udp };
  const record = Enr.create(entries, 1n).sign(key);
  console.log(`Node ID:    ${node.id.hex}`);
  console.log(`Public key: ${bytesToHex(publicKey)}`);
  console.log(`Enode URL:  ${node.toEnodeUrl()}`);
  console.log(`Record:     ${record.toText()}`);
  return 0;
};

/**
 * `devp2p key generate|inspect`: node key files, as geth's `devp2p key`.
 * @example process.exitCode = await runKey(['generate', 'nodekey'])
 */
export const runKey: ToolCommand = withUsage(KEY_USAGE, subcommands({ generate, inspect }));
