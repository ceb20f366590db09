import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, runtime, runtimeCommand, until as sharedUntil } from '@devp2p/test-utils';

export const BIN: string = join(repoRoot, 'packages', 'cli', 'src', 'bin.ts');

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly enode: string;
  output(): string;
  /** Sends SIGTERM; true when the process shut down cleanly. */
  stop(): Promise<boolean>;
}

/** Starts `devp2p node` on this test's runtime and waits for its "Started P2P networking" line. */
export async function startNodeProcess(args: string[]): Promise<RunningProcess> {
  const [cmd, baseArgs] = runtimeCommand(BIN, { source: true });
  const child = spawn(cmd, [...baseArgs, 'node', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /**
   * Resolves once the process has exited after a clean shutdown: its last log line says it stopped, and where the
   * runtime reports the exit code of a child it signalled, it is 0 (Bun's and Deno's child_process report a child
   * they sent SIGTERM to as killed, code null, even when it exited 0 by itself: checked by hand with a shell).
   */
  const stoppedCleanly = async (): Promise<boolean> => {
    const code = await exited;
    return /Stopped P2P networking/.test(output) && (code === 0 || (code === null && runtime !== 'node'));
  };
  const enode = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Started P2P networking self="?(enode:\/\/[^"\s]+)/.exec(output);
      // With --http, also wait for the RPC endpoint, logged right after.
      if (match && (!args.includes('--http') || /HTTP server started/.test(output))) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before starting:\n${output}`));
    });
  });
  return {
    child,
    enode,
    output: () => output,
    stop: () => {
      child.kill('SIGTERM');
      return stoppedCleanly();
    },
  };
}

/** The admin JSON-RPC endpoint a process logged (`HTTP server started endpoint=127.0.0.1:PORT`). */
export function httpEndpoint(proc: RunningProcess): string {
  const match = /HTTP server started endpoint="?([\d.]+:\d+)/.exec(proc.output());
  if (!match) throw new Error(`no HTTP endpoint logged:\n${proc.output()}`);
  return `http://${match[1]}`;
}

/** Calls one admin JSON-RPC method on a process; rejects on a JSON-RPC error. */
export async function rpc(proc: RunningProcess, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(httpEndpoint(proc), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
  return body.result;
}

/** {@link sharedUntil} polling every 50 ms (each check may be an RPC to a child process), with `context()` on failure. */
export function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  context?: () => string,
): Promise<void> {
  return sharedUntil(check, timeoutMs, what, { intervalMs: 50, context });
}

/** What a finished `devp2p` command printed, and its exit code. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `devp2p <args>` on this test's runtime to its end, without blocking the event loop; SIGKILL after `timeoutMs`. */
export function runCommand(args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
  const [cmd, baseArgs] = runtimeCommand(BIN, { source: true });
  const child = spawn(cmd, [...baseArgs, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`devp2p ${args.join(' ')} did not end within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `devp2p` command running in the background: what it printed so far, and how it ended. */
export interface BackgroundCommand {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code once it has exited. */
  interrupt(): Promise<number | null>;
}

/**
 * Starts `devp2p <args>` on this test's runtime without waiting for its end (`listen`, a long `crawl`); the caller
 * interrupts it, or kills `child`.
 */
export function startCommand(args: readonly string[]): BackgroundCommand {
  const [cmd, baseArgs] = runtimeCommand(BIN, { source: true });
  const child = spawn(cmd, [...baseArgs, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    interrupt: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/**
 * True for the exit code of a command that exited by itself after SIGINT: 0, or on Bun and Deno, whose
 * child_process reports a child it signalled as killed (code null) even when it exited 0.
 */
export function exitedCleanly(code: number | null): boolean {
  return code === 0 || (code === null && runtime !== 'node');
}
