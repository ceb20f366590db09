import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { JsonValue, Logger } from '@devp2p/core';
import { type Node, parseNode } from '@devp2p/enode';
import type { Server } from '@devp2p/server';
import { DISCV5_RPC_METHODS, type Discv5Rpc } from './discv5-rpc.ts';
import { HTTP_TIMEOUTS, type HttpTimeouts, type RunningHttpServer, reply, startHttpServer } from './http-server.ts';
import { RPC_ERROR, RpcError } from './rpc-error.ts';

export { RPC_ERROR, RpcError } from './rpc-error.ts';

/** Largest request body accepted: 5 MiB, geth's `defaultBodyLimit`. Larger requests get HTTP 413. */
export const HTTP_BODY_LIMIT: number = 5 * 1024 * 1024;

/** Most calls in one batch: 1000, geth's `BatchRequestLimit` default. */
export const MAX_BATCH_ITEMS = 1000;

/** The `Host` names answered by default (geth's `--http.vhosts` default): a rebinding domain is refused. */
export const DEFAULT_HTTP_VHOSTS: readonly string[] = ['localhost'];

/**
 * The API modules an endpoint can serve (geth's `--http.api` names), with their versions as `rpc_modules` reports
 * them. `rpc` (`rpc_modules`) is served on every endpoint.
 */
export const RPC_MODULE_VERSIONS: Readonly<Record<string, string>> = {
  admin: '1.0',
  discv5: '1.0',
  net: '1.0',
  rpc: '1.0',
  web3: '1.0',
};

/** The modules served when `--http.api` / `--ws.api` is not given: what the endpoints always served. */
export const DEFAULT_RPC_API: readonly string[] = ['admin', 'net', 'rpc', 'web3'];

/** What the methods call: the parts of a {@link Server} the admin methods use, and the discv5 methods. */
export type AdminBackend = Pick<
  Server,
  'nodeInfo' | 'peersInfo' | 'addPeer' | 'removePeer' | 'addTrustedPeer' | 'removeTrustedPeer' | 'peerCount' | 'name'
> & {
  /** The node's data directory (`admin_datadir`); undefined when it keeps everything in memory. */
  readonly datadir?: string | undefined;
  /** The `discv5_*` methods; undefined when discv5 does not run (they are then not available). */
  readonly discv5?: Discv5Rpc | undefined;
  /**
   * The API modules served ({@link RPC_MODULE_VERSIONS} names; default {@link DEFAULT_RPC_API}); `rpc` always is.
   * A method of another module is "not available" (-32601).
   */
  readonly modules?: readonly string[] | undefined;
};

/** What {@link adminBackend} adds to the server's methods. */
export interface AdminBackendOptions {
  /** The `discv5_*` methods of the node's discv5, when it runs. */
  readonly discv5?: Discv5Rpc | undefined;
  /** The modules this endpoint serves (default {@link DEFAULT_RPC_API}). */
  readonly modules?: readonly string[] | undefined;
}

/**
 * What the JSON-RPC API reads of a running node: its server's methods, its client name, its data directory, and
 * (when served) its discv5.
 * @example startAdminRpc(adminBackend(node.server, '/data/devp2p', { modules: ['admin', 'discv5'], discv5 }), options)
 */
export function adminBackend(
  server: Server,
  datadir: string | undefined,
  options: AdminBackendOptions = {},
): AdminBackend {
  return {
    nodeInfo: () => server.nodeInfo(),
    peersInfo: () => server.peersInfo(),
    addPeer: (node) => server.addPeer(node),
    removePeer: (node) => server.removePeer(node),
    addTrustedPeer: (node) => server.addTrustedPeer(node),
    removeTrustedPeer: (node) => server.removeTrustedPeer(node),
    get peerCount() {
      return server.peerCount;
    },
    name: server.name,
    datadir,
    discv5: options.discv5,
    modules: options.modules,
  };
}

/** The API modules served by default, with their versions (`rpc_modules`, as geth answers it). */
export const RPC_MODULES: Readonly<Record<string, string>> = Object.fromEntries(
  DEFAULT_RPC_API.map((name) => [name, RPC_MODULE_VERSIONS[name]!]),
);

/**
 * The modules an endpoint of `backend` serves, with their versions (`rpc_modules`): its list (`rpc` always), and
 * `discv5` only when discv5 runs.
 * @example servedModules({ ...backend, modules: ['admin', 'discv5'] }) // { admin: '1.0', discv5: '1.0', rpc: '1.0' }
 */
export function servedModules(backend: AdminBackend): Record<string, string> {
  const names = new Set([...(backend.modules ?? DEFAULT_RPC_API), 'rpc']);
  if (!backend.discv5) names.delete('discv5');
  return Object.fromEntries(
    [...names]
      .filter((name) => Object.hasOwn(RPC_MODULE_VERSIONS, name))
      .sort()
      .map((name) => [name, RPC_MODULE_VERSIONS[name]!]),
  );
}

/** A request id: a string, a number or null (JSON-RPC 2.0). */
export type RpcId = string | number | null;

/** One JSON-RPC 2.0 response. */
export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly result: JsonValue }
  | {
      readonly jsonrpc: '2.0';
      readonly id: RpcId;
      readonly error: { readonly code: number; readonly message: string };
    };

/**
 * Longest error message sent back, in characters: messages may quote the bad value, and a 4 MB argument should not
 * come back as a 4 MB error.
 */
const MAX_ERROR_MESSAGE_CHARS = 1_024;

function errorResponse(id: RpcId, code: number, message: string): RpcResponse {
  const text = message.length > MAX_ERROR_MESSAGE_CHARS ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : message;
  return { jsonrpc: '2.0', id, error: { code, message: text } };
}

/** The single `enode` argument of the peer methods, parsed: an invalid one is -32602 with the parse error. */
function enodeArg(params: readonly unknown[]): Node {
  if (params.length > 1) throw new RpcError(RPC_ERROR.invalidParams, 'too many arguments, want at most 1');
  const url = params[0];
  if (url === undefined || url === null)
    throw new RpcError(RPC_ERROR.invalidParams, 'missing value for required argument 0');
  if (typeof url !== 'string')
    throw new RpcError(RPC_ERROR.invalidParams, 'invalid argument 0: expected an enode URL string');
  try {
    return parseNode(url);
  } catch (cause) {
    throw new RpcError(RPC_ERROR.invalidParams, `invalid argument 0: ${(cause as Error).message}`);
  }
}

function noArgs(params: readonly unknown[]): void {
  if (params.length > 0) throw new RpcError(RPC_ERROR.invalidParams, 'too many arguments, want at most 0');
}

type Method = (
  backend: AdminBackend,
  params: readonly unknown[],
  signal?: AbortSignal,
) => JsonValue | Promise<JsonValue>;

const METHODS: ReadonlyMap<string, Method> = new Map<string, Method>([
  [
    'admin_nodeInfo',
    (b, p) => {
      noArgs(p);
      return b.nodeInfo() as unknown as JsonValue;
    },
  ],
  [
    'admin_peers',
    (b, p) => {
      noArgs(p);
      return b.peersInfo() as unknown as JsonValue;
    },
  ],
  [
    'admin_addPeer',
    (b, p) => {
      b.addPeer(enodeArg(p));
      return true;
    },
  ],
  [
    'admin_removePeer',
    (b, p) => {
      b.removePeer(enodeArg(p));
      return true;
    },
  ],
  [
    'admin_addTrustedPeer',
    (b, p) => {
      b.addTrustedPeer(enodeArg(p));
      return true;
    },
  ],
  [
    'admin_removeTrustedPeer',
    (b, p) => {
      b.removeTrustedPeer(enodeArg(p));
      return true;
    },
  ],
  [
    'net_peerCount',
    (b, p) => {
      noArgs(p);
      return `0x${b.peerCount.toString(16)}`;
    },
  ],
  [
    'net_listening',
    (_b, p) => {
      noArgs(p);
      return true;
    },
  ],
  [
    'admin_datadir',
    (b, p) => {
      noArgs(p);
      if (b.datadir === undefined) throw new RpcError(RPC_ERROR.serverError, 'the node has no data directory');
      return b.datadir;
    },
  ],
  [
    'rpc_modules',
    (b, p) => {
      noArgs(p);
      return servedModules(b);
    },
  ],
  [
    'web3_clientVersion',
    (b, p) => {
      noArgs(p);
      return b.name;
    },
  ],
]);

function isRpcId(value: unknown): value is RpcId {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function notAvailable(method: string, why = ''): RpcError {
  return new RpcError(RPC_ERROR.methodNotFound, `the method ${method} does not exist/is not available${why}`);
}

/** The handler of `method` on an endpoint of `backend`; throws -32601 when it is unknown or its module not served. */
function methodOf(backend: AdminBackend, method: string): Method {
  const module = method.slice(0, Math.max(0, method.indexOf('_')));
  const served = module === 'rpc' || (backend.modules ?? DEFAULT_RPC_API).includes(module);
  if (DISCV5_RPC_METHODS.includes(method)) {
    if (!served) throw notAvailable(method);
    const discv5 = backend.discv5;
    if (!discv5) throw notAvailable(method, ': discv5 is not running on this node');
    return (_b, params, signal) => discv5.call(method, params, signal);
  }
  const handler = METHODS.get(method);
  if (!handler || !served) throw notAvailable(method);
  return handler;
}

/**
 * Answers one parsed JSON-RPC 2.0 request object; `undefined` for a notification (no `id`), which gets no answer.
 * Never rejects: every failure is an error response. The discv5 methods that send packets take up to their
 * deadline, or until `signal` aborts (the client went away); the others answer at once.
 * @example await handleRpcRequest(server, { jsonrpc: '2.0', id: 1, method: 'net_peerCount' }) // { ..., result: '0x0' }
 */
export async function handleRpcRequest(
  backend: AdminBackend,
  request: unknown,
  signal?: AbortSignal,
): Promise<RpcResponse | undefined> {
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    return errorResponse(null, RPC_ERROR.invalidRequest, 'invalid request');
  const { jsonrpc, id, method, params } = request as Record<string, unknown>;
  const hasId = Object.hasOwn(request, 'id');
  if (hasId && !isRpcId(id)) return errorResponse(null, RPC_ERROR.invalidRequest, 'invalid request');
  const replyId: RpcId = hasId ? (id as RpcId) : null;
  if (jsonrpc !== '2.0' || typeof method !== 'string')
    return errorResponse(replyId, RPC_ERROR.invalidRequest, 'invalid request');
  let response: RpcResponse;
  try {
    const handler = methodOf(backend, method);
    if (params !== undefined && params !== null && !Array.isArray(params)) {
      throw new RpcError(RPC_ERROR.invalidParams, 'non-array args');
    }
    response = {
      jsonrpc: '2.0',
      id: replyId,
      result: await handler(backend, (params as unknown[] | undefined) ?? [], signal),
    };
  } catch (error) {
    response =
      error instanceof RpcError
        ? errorResponse(replyId, error.code, error.message)
        : errorResponse(replyId, RPC_ERROR.internalError, error instanceof Error ? error.message : String(error));
  }
  return hasId ? response : undefined;
}

/**
 * How much earlier than the HTTP write deadline a request is cut short and answered with "request timed out"
 * (geth's `ContextRequestTimeout`: the write timeout less 100 ms), so that the answer still goes out before the
 * connection is closed.
 */
export const RPC_TIMEOUT_MARGIN_MS = 100;

/** geth's answer to a call cut short by the request deadline (`errcodeTimeout`, `errMsgTimeout`). */
const TIMED_OUT = { code: -32002, message: 'request timed out' } as const;

/** The timeout answer for `request`, when it is a call that expects one (it has a valid id). */
function timedOut(request: unknown): RpcResponse | undefined {
  if (typeof request !== 'object' || request === null || !Object.hasOwn(request, 'id')) return undefined;
  const id = (request as { id?: unknown }).id;
  return isRpcId(id) ? errorResponse(id, TIMED_OUT.code, TIMED_OUT.message) : undefined;
}

/**
 * Answers a request body: a request or a batch, whose calls run one after another (as geth runs them), so that a
 * batch holds at most one discv5 request at a time. Once `signal` aborts (the client went away), the call running
 * is cancelled and the rest of the batch is not run. With `timeoutMs`, as geth does for HTTP: when it passes, the
 * call running is cancelled, and it and every call not yet run are answered with -32002 "request timed out" (the
 * answers already made are kept). `undefined` when there is nothing to send back (notifications only). Malformed
 * JSON is -32700, an empty or oversized batch -32600. Never rejects.
 * @example await handleRpcBody(server, '[{"jsonrpc":"2.0","id":1,"method":"net_listening"}]')
 */
export async function handleRpcBody(
  backend: AdminBackend,
  body: string,
  signal?: AbortSignal,
  timeoutMs?: number,
): Promise<RpcResponse | RpcResponse[] | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return errorResponse(null, RPC_ERROR.parseError, 'parse error');
  }
  const batch = Array.isArray(parsed);
  const requests: unknown[] = batch ? (parsed as unknown[]) : [parsed];
  if (batch && requests.length === 0) return errorResponse(null, RPC_ERROR.invalidRequest, 'empty batch');
  if (requests.length > MAX_BATCH_ITEMS) return errorResponse(null, RPC_ERROR.invalidRequest, 'batch too large');
  const deadline = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => deadline.abort(), timeoutMs);
  const callSignal = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
  const responses: RpcResponse[] = [];
  try {
    for (const request of requests) {
      if (signal?.aborted) break;
      const response = deadline.signal.aborted
        ? timedOut(request)
        : await handleRpcRequest(backend, request, callSignal);
      // A call the deadline cut short answers as timed out, whatever its cancellation made of it.
      const answer = deadline.signal.aborted && response?.id !== undefined ? (timedOut(request) ?? response) : response;
      if (answer) responses.push(answer);
    }
  } finally {
    clearTimeout(timer);
  }
  if (!batch) return responses[0];
  return responses.length > 0 ? responses : undefined;
}

/** A running admin JSON-RPC endpoint. */
export type AdminRpcServer = RunningHttpServer;

/** The host part of a `Host` header (`[::1]:8545` → `::1`, `localhost:8545` → `localhost`), lowercased. */
function hostOfHeader(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(header);
  if (bracketed) return bracketed[1]!.toLowerCase();
  const colon = header.indexOf(':');
  // More than one colon: an IPv6 address without brackets (and without a port).
  if (colon >= 0 && header.indexOf(':', colon + 1) < 0) return header.slice(0, colon).toLowerCase();
  return header.toLowerCase();
}

/**
 * Geth's virtual-host check against DNS rebinding: a request without `Host`, or whose host is an IP address, is
 * answered (a rebinding page reaches us under its own domain name, never an IP); a name must be in `vhosts`
 * (`*` allows all).
 */
export function hostAllowed(header: string | undefined, vhosts: readonly string[]): boolean {
  if (!header) return true;
  const host = hostOfHeader(header);
  if (isIP(host) !== 0) return true;
  return vhosts.includes('*') || vhosts.includes(host);
}

/** An `Origin` is allowed when `origins` lists it (case-insensitively) or holds `*`; no Origin is not a browser. */
export function originAllowed(origin: string | undefined, origins: readonly string[]): boolean {
  if (origin === undefined) return true;
  const lower = origin.toLowerCase();
  return origins.some((allowed) => allowed === '*' || allowed === lower);
}

/** How the HTTP layer admits a request: `--http.vhosts` and `--http.corsdomain`, lowercased. */
interface AccessRules {
  readonly vhosts: readonly string[];
  readonly origins: readonly string[];
  /** The HTTP write deadline: a request still running {@link RPC_TIMEOUT_MARGIN_MS} before it is answered as timed out. */
  readonly writeMs: number;
}

function forbidden(req: IncomingMessage, res: ServerResponse, message: string): void {
  reply(res, 403, `${message}\n`, 'text/plain');
  req.resume();
}

function handleHttp(backend: AdminBackend, rules: AccessRules, req: IncomingMessage, res: ServerResponse): void {
  req.on('error', () => req.destroy());
  res.on('error', () => res.destroy());
  if (!hostAllowed(req.headers.host, rules.vhosts)) {
    forbidden(req, res, 'invalid host specified (allow it with --http.vhosts)');
    return;
  }
  const origin = req.headers.origin;
  if (!originAllowed(origin, rules.origins)) {
    forbidden(req, res, `origin ${origin} not allowed (allow it with --http.corsdomain)`);
    return;
  }
  if (origin !== undefined) {
    res.setHeader('access-control-allow-origin', rules.origins.includes('*') ? '*' : origin);
    res.setHeader('vary', 'Origin');
  }
  if (req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined) {
    // A CORS preflight from an allowed origin.
    res.setHeader('access-control-allow-methods', 'POST');
    res.setHeader('access-control-allow-headers', 'content-type');
    res.setHeader('access-control-max-age', String(CORS_MAX_AGE_S));
    res.writeHead(204);
    res.end();
    req.resume();
    return;
  }
  if (req.method !== 'POST') {
    reply(res, 405, 'method not allowed\n', 'text/plain');
    req.resume();
    return;
  }
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    reply(res, 415, 'invalid content type, only application/json is supported\n', 'text/plain');
    req.resume();
    return;
  }
  // The rest of the body is not read: the connection closes once the 413 is sent.
  const tooLarge = (): void => {
    res.setHeader('connection', 'close');
    res.on('finish', () => req.destroy());
    reply(res, 413, `content length too large (limit ${HTTP_BODY_LIMIT})\n`, 'text/plain');
    req.pause();
  };
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > HTTP_BODY_LIMIT) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > HTTP_BODY_LIMIT) tooLarge();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > HTTP_BODY_LIMIT) return;
    // A client that goes away (or misses the write deadline) cancels what is still running for it.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const body = Buffer.concat(chunks).toString('utf8');
    void handleRpcBody(backend, body, gone.signal, rules.writeMs - RPC_TIMEOUT_MARGIN_MS).then((answer) =>
      reply(res, 200, answer === undefined ? '' : `${JSON.stringify(answer)}\n`),
    );
  });
}

/** How long a browser may cache a preflight answer, in seconds (geth's 600). */
const CORS_MAX_AGE_S = 600;

/** Options of {@link startAdminRpc}. */
export interface AdminRpcOptions {
  readonly host: string;
  /** Port 0: a free one. */
  readonly port: number;
  readonly logger: Logger;
  /** `Host` names answered besides IP addresses ({@link DEFAULT_HTTP_VHOSTS}; `*` allows all). */
  readonly vhosts?: readonly string[];
  /** `Origin`s answered, with CORS headers (none by default; `*` allows all). */
  readonly corsOrigins?: readonly string[];
  /** HTTP deadlines ({@link HTTP_TIMEOUTS} by default). */
  readonly timeouts?: Partial<HttpTimeouts>;
  /** Most connections at once ({@link MAX_HTTP_CONNECTIONS} by default). */
  readonly maxConnections?: number;
}

/**
 * Serves the admin JSON-RPC over HTTP (POST, `application/json`) on `host:port` (port 0: a free one), on
 * `node:http` so it runs on Node, Bun and Deno. Like geth, it answers only `Host` names in `vhosts` (and IP
 * addresses) and browser `Origin`s in `corsOrigins`, with HTTP 403 otherwise, and it disconnects slow clients.
 * Logs `HTTP server started endpoint=host:port`, as geth.
 * @example const rpc = await startAdminRpc(server, { host: '127.0.0.1', port: 8545, logger })
 */
export async function startAdminRpc(backend: AdminBackend, options: AdminRpcOptions): Promise<AdminRpcServer> {
  const log = options.logger.child('cli:rpc');
  const rules: AccessRules = {
    vhosts: (options.vhosts ?? DEFAULT_HTTP_VHOSTS).map((h) => h.toLowerCase()),
    origins: (options.corsOrigins ?? []).map((o) => o.toLowerCase()),
    writeMs: options.timeouts?.writeMs ?? HTTP_TIMEOUTS.writeMs,
  };
  return startHttpServer(
    {
      host: options.host,
      port: options.port,
      logger: log,
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
      ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    },
    (req, res) => handleHttp(backend, rules, req, res),
  );
}
