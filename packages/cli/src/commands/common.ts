import { parseArgs } from 'node:util';
import { type Node, parseNode } from '@devp2p/enode';
import { UsageError } from '../node-command.ts';

/** A tool subcommand: takes the arguments after its name, resolves with the process exit code. */
export type ToolCommand = (args: readonly string[]) => Promise<number>;

/** Thrown by {@link parseToolArgs} for `-h` / `--help`: the usage goes to stdout, exit code 0. */
class HelpRequested extends Error {}

/** Flag definitions for {@link parseToolArgs} (the `node:util` parseArgs shape, strings and booleans only). */
export type ToolFlags = Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>;

/** Flags and positionals of one command line. */
export interface ToolArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses `args` strictly with `node:util` parseArgs (`-h`/`--help` added); a mistake throws a UsageError.
 * @example const { values, positionals } = parseToolArgs(args, { json: { type: 'boolean' } })
 */
export function parseToolArgs(args: readonly string[], flags: ToolFlags): ToolArgs {
  let parsed: ToolArgs;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: { ...flags, help: { type: 'boolean', short: 'h' } },
    }) as ToolArgs;
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  if (parsed.values.help === true) throw new HelpRequested();
  return parsed;
}

/**
 * Wraps a command so that a UsageError prints the message and `usage` to stderr with exit code 2, and `--help`
 * prints `usage` to stdout with exit code 0. Other errors print `devp2p: <message>` with exit code 1.
 * @example export const runKey: ToolCommand = withUsage(KEY_USAGE, async (args) => 0)
 */
export function withUsage(usage: string, run: ToolCommand): ToolCommand {
  return async (args) => {
    try {
      return await run(args);
    } catch (error) {
      if (error instanceof HelpRequested) {
        console.log(usage);
        return 0;
      }
      if (error instanceof UsageError) {
        console.error(`devp2p: ${error.message}\n\n${usage}`);
        return 2;
      }
      console.error(`devp2p: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  };
}

/**
 * Dispatches `<sub> args...` to one of `commands`; an unknown or missing subcommand is a usage error.
 * @example subcommands({ generate, inspect })(['generate', 'nodekey'])
 */
export function subcommands(commands: Readonly<Record<string, ToolCommand>>): ToolCommand {
  return (args) => {
    const [name, ...rest] = args;
    if (name === '-h' || name === '--help' || name === 'help') throw new HelpRequested();
    const command = name === undefined ? undefined : commands[name];
    if (!command) {
      throw new UsageError(name === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(name)}`);
    }
    return command(rest);
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go-style duration (`500ms`, `5s`, `1m30s`; a bare number is seconds) into milliseconds.
 * @example parseDuration('1m30s', '--timeout') // 90000
 */
export function parseDuration(text: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (!match) throw new UsageError(`${flag}: expected a duration like 5s, 500ms or 1m30s, got ${text}`);
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    at = part.lastIndex;
  }
  if (text.length === 0) throw new UsageError(`${flag}: expected a duration, got an empty value`);
  return total;
}

/**
 * Parses an integer flag within `[min, max]`, or returns `fallback` when absent.
 * @example parseIntegerFlag(values.nodes, 3, '--nodes', 1, 64)
 */
export function parseIntegerFlag(
  value: string | boolean | undefined,
  fallback: number,
  flag: string,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag}: expected an integer ${min}..${max}, got ${String(value)}`);
  }
  return Number(value);
}

/**
 * Parses an `enode://` URL or `enr:` record given on the command line; a bad one is a usage error.
 * @example const node = parseNodeArgument(positionals[0], '<enode>')
 */
export function parseNodeArgument(text: string | undefined, label: string): Node {
  if (text === undefined) throw new UsageError(`missing ${label}`);
  try {
    return parseNode(text);
  } catch (cause) {
    throw new UsageError(`${label}: ${(cause as Error).message}`);
  }
}

/**
 * Rejects extra positional arguments beyond `max`.
 * @example expectPositionals(positionals, 1)
 */
export function expectPositionals(positionals: readonly string[], max: number): void {
  if (positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}`);
}
