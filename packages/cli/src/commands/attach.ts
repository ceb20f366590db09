import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { HTTP_BODY_LIMIT } from '../admin-rpc.ts';
import { IPC_FILE_NAME, JsonValueSplitter } from '../ipc-rpc.ts';
import { DEFAULT_DATADIR, UsageError } from '../node-command.ts';
import { parseToolArgs, type ToolCommand, withUsage } from './common.ts';

export const ATTACH_USAGE: string = `devp2p attach [endpoint] [--exec '<method> [params]'] [--timeout <ms>]

Connects to a running node's JSON-RPC, as geth attach does: an IPC socket path (default
${join(DEFAULT_DATADIR, IPC_FILE_NAME)}), an http:// URL or a ws:// URL. With --exec, runs one call and prints its
result as JSON (exit code 1 on a JSON-RPC error); without, reads calls from stdin, one per line
("admin_nodeInfo", "admin_addPeer [\\"enode://…\\"]"), and prints each answer. Over IPC and WebSocket,
"admin_subscribe [\\"peerEvents\\"]" prints the events as they come.

  --exec <call>      one call: a method name, then its params as a JSON array (default [])
  --timeout <ms>     deadline for each answer (default 10000)`;

/** Deadline for each answer, unless --timeout says otherwise. */
export const ATTACH_TIMEOUT_MS = 10_000;

/** One JSON-RPC connection, whatever carries it. */
interface RpcClient {
  call(method: string, params: readonly unknown[]): Promise<unknown>;
  close(): void;
}

interface RpcAnswer {
  readonly id?: unknown;
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string };
  readonly method?: string;
  readonly params?: unknown;
}

class RpcCallError extends Error {}

/** Parses `method [params-json]`. */
function parseCall(line: string): { method: string; params: unknown[] } {
  const trimmed = line.trim();
  const space = trimmed.search(/\s/);
  const method = space < 0 ? trimmed : trimmed.slice(0, space);
  const rest = space < 0 ? '' : trimmed.slice(space).trim();
  if (!/^[a-zA-Z][\w]*$/.test(method)) throw new UsageError(`not a method name: ${JSON.stringify(method)}`);
  if (rest === '') return { method, params: [] };
  let params: unknown;
  try {
    params = JSON.parse(rest);
  } catch {
    throw new UsageError(`params of ${method}: not JSON: ${rest}`);
  }
  if (!Array.isArray(params)) throw new UsageError(`params of ${method}: expected a JSON array`);
  return { method, params };
}

/** A client over a stream of JSON values (IPC) or messages (WebSocket): answers matched by id. */
function streamClient(
  send: (text: string) => void,
  close: () => void,
  timeoutMs: number,
  onNotification: (answer: RpcAnswer) => void,
): { client: RpcClient; receive: (text: string) => void; fail: (error: Error) => void } {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: unknown }>();
  let nextId = 1;
  return {
    client: {
      call: (method, params) =>
        new Promise((resolve, reject) => {
          const id = nextId++;
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(id, { resolve, reject, timer });
          send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
        }),
      close,
    },
    receive: (text) => {
      let answer: RpcAnswer;
      try {
        answer = JSON.parse(text) as RpcAnswer;
      } catch {
        return;
      }
      if (answer.method !== undefined) return onNotification(answer);
      const entry = typeof answer.id === 'number' ? pending.get(answer.id) : undefined;
      if (!entry) return;
      pending.delete(answer.id as number);
      clearTimeout(entry.timer as Parameters<typeof clearTimeout>[0]);
      if (answer.error) entry.reject(new RpcCallError(`${answer.error.message} (code ${answer.error.code})`));
      else entry.resolve(answer.result);
    },
    fail: (error) => {
      for (const entry of pending.values()) {
        clearTimeout(entry.timer as Parameters<typeof clearTimeout>[0]);
        entry.reject(error);
      }
      pending.clear();
    },
  };
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

async function open(endpoint: string, timeoutMs: number): Promise<RpcClient> {
  const onNotification = (answer: RpcAnswer): void => print(answer.params);
  if (/^https?:\/\//.test(endpoint)) {
    let nextId = 1;
    return {
      call: async (method, params) => {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).trim()}`);
        const answer = (await res.json()) as RpcAnswer;
        if (answer.error) throw new RpcCallError(`${answer.error.message} (code ${answer.error.code})`);
        return answer.result;
      },
      close: () => undefined,
    };
  }
  if (/^wss?:\/\//.test(endpoint)) {
    const ws = new WebSocket(endpoint, { maxPayload: HTTP_BODY_LIMIT });
    const stream = streamClient(
      (t) => ws.send(t),
      () => ws.close(),
      timeoutMs,
      onNotification,
    );
    ws.on('message', (data) => stream.receive(String(data)));
    ws.on('close', () => stream.fail(new Error('connection closed')));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (error) => reject(new Error(`cannot connect to ${endpoint}: ${error.message}`)));
    });
    return stream.client;
  }
  const socket: Socket = connect(endpoint);
  const stream = streamClient(
    (t) => socket.write(`${t}\n`),
    () => socket.destroy(),
    timeoutMs,
    onNotification,
  );
  const splitter = new JsonValueSplitter(HTTP_BODY_LIMIT);
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    try {
      for (const text of splitter.push(chunk)) stream.receive(text);
    } catch (error) {
      socket.destroy(error as Error);
    }
  });
  socket.on('close', () => stream.fail(new Error('connection closed')));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', (error) => reject(new Error(`cannot connect to ${endpoint}: ${error.message}`)));
  });
  return stream.client;
}

/** `devp2p attach`: one call with --exec, else a call per line of stdin. */
export const runAttach: ToolCommand = withUsage(ATTACH_USAGE, async (args) => {
  const { values, positionals } = parseToolArgs(args, { exec: { type: 'string' }, timeout: { type: 'string' } });
  if (positionals.length > 1) throw new UsageError(`expected one endpoint, got ${positionals.length}`);
  const endpoint = positionals[0] ?? join(DEFAULT_DATADIR, IPC_FILE_NAME);
  const timeoutText = values.timeout as string | undefined;
  const timeoutMs = timeoutText === undefined ? ATTACH_TIMEOUT_MS : Number(timeoutText);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
    throw new UsageError(`--timeout: expected ms, got ${timeoutText}`);
  const exec = values.exec as string | undefined;
  const single = exec === undefined ? undefined : parseCall(exec);
  const client = await open(endpoint, timeoutMs);
  try {
    if (single) {
      print(await client.call(single.method, single.params));
      return 0;
    }
    let failures = 0;
    for await (const line of createInterface({ input: process.stdin, terminal: false })) {
      if (line.trim() === '') continue;
      try {
        const { method, params } = parseCall(line);
        print(await client.call(method, params));
      } catch (error) {
        failures++;
        console.error(`error: ${(error as Error).message}`);
      }
    }
    return failures === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof RpcCallError) {
      console.error(`devp2p: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    client.close();
  }
});
