/**
 * A JSON-RPC connection that lives on (WebSocket, IPC): the admin methods of {@link handleRpcRequest} plus geth's
 * subscriptions, `admin_subscribe("peerEvents")` / `admin_unsubscribe(id)`, which push `p2p.PeerEvent`s (peer
 * added and dropped, messages sent and received) as `admin_subscription` notifications.
 */
import type { JsonValue } from '@devp2p/core';
import type { Server } from '@devp2p/server';
import {
  type AdminBackend,
  DEFAULT_RPC_API,
  handleRpcRequest,
  MAX_BATCH_ITEMS,
  RPC_ERROR,
  type RpcId,
  type RpcResponse,
} from './admin-rpc.ts';

/** Subscriptions one connection may hold: a client needs one or two; more is a leak or an attack. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 16;

/**
 * Bytes a connection may have waiting to be sent before it is closed as a slow client: 1 MiB, a few thousand
 * events or answers. Peer events arrive at the node's pace, not the client's, so a client that does not read
 * cannot be kept.
 */
export const MAX_PENDING_NOTIFICATION_BYTES: number = 1024 * 1024;

/** geth's `p2p.PeerEvent`, as `admin_peerEvents` sends it. */
export interface PeerEventJson {
  readonly type: 'add' | 'drop' | 'msgsend' | 'msgrecv';
  readonly peer: string;
  readonly error?: string;
  readonly protocol?: string;
  readonly msgcode?: number;
  readonly msgsize?: number;
  readonly local?: string;
  readonly remote?: string;
}

/** How a session reaches its connection. */
export interface SessionConnection {
  /** Sends one JSON text. */
  send(text: string): void;
  /** Bytes written and not yet taken by the client. */
  pendingBytes(): number;
  /** Ends the connection (a slow subscriber). */
  close(reason: string): void;
}

/** The events a session subscribes to: the server's. */
export type PeerEventSource = Pick<Server, 'on'>;

function error(id: RpcId, code: number, message: string): RpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/**
 * One connection's JSON-RPC state: its subscriptions. `handle` answers each message (a request or a batch) on the
 * connection; `close` ends every subscription.
 * @example
 * const session = new RpcSession(backend, node.server, { send: (t) => ws.send(t), pendingBytes: () => ws.bufferedAmount, close: () => ws.close() })
 * ws.on('message', (data) => void session.handle(String(data)))
 */
export class RpcSession {
  readonly #backend: AdminBackend;
  readonly #events: PeerEventSource;
  readonly #connection: SessionConnection;
  readonly #subscriptions = new Map<string, () => void>();
  /** Aborted on close: cancels the discv5 requests still running for this connection. */
  readonly #gone = new AbortController();
  #nextId = 1;
  #closed = false;

  constructor(backend: AdminBackend, events: PeerEventSource, connection: SessionConnection) {
    this.#backend = backend;
    this.#events = events;
    this.#connection = connection;
  }

  /** Subscriptions open now. */
  get subscriptions(): number {
    return this.#subscriptions.size;
  }

  /**
   * Answers one message; never throws (malformed input is a JSON-RPC error). Each message is answered when its
   * calls are done (a discv5 request may take seconds), so answers to separate messages may come out of order; the
   * calls of a batch run one after another and are answered together. Resolves once the answer is sent.
   */
  handle(text: string): Promise<void> {
    return this.#answer(text).then((answer) => {
      if (answer !== undefined) this.#reply(answer);
    });
  }

  async #answer(text: string): Promise<RpcResponse | RpcResponse[] | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return error(null, RPC_ERROR.parseError, 'parse error');
    }
    if (!Array.isArray(parsed)) return this.#request(parsed);
    if (parsed.length === 0 || parsed.length > MAX_BATCH_ITEMS) {
      return error(null, RPC_ERROR.invalidRequest, parsed.length === 0 ? 'empty batch' : 'batch too large');
    }
    const responses: RpcResponse[] = [];
    for (const request of parsed) {
      if (this.#closed) break;
      const response = await this.#request(request);
      if (response) responses.push(response);
    }
    return responses.length > 0 ? responses : undefined;
  }

  /** Ends every subscription; later events are not sent. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#gone.abort();
    for (const off of this.#subscriptions.values()) off();
    this.#subscriptions.clear();
  }

  async #request(request: unknown): Promise<RpcResponse | undefined> {
    const fields = typeof request === 'object' && request !== null ? (request as Record<string, unknown>) : {};
    if (fields.method !== 'admin_subscribe' && fields.method !== 'admin_unsubscribe') {
      return handleRpcRequest(this.#backend, request, this.#gone.signal);
    }
    const id = (Object.hasOwn(fields, 'id') ? fields.id : null) as RpcId;
    if (!(this.#backend.modules ?? DEFAULT_RPC_API).includes('admin')) {
      return error(id, RPC_ERROR.methodNotFound, `the method ${fields.method} does not exist/is not available`);
    }
    const params = Array.isArray(fields.params) ? fields.params : [];
    if (fields.method === 'admin_unsubscribe') {
      const off = typeof params[0] === 'string' ? this.#subscriptions.get(params[0]) : undefined;
      off?.();
      if (off) this.#subscriptions.delete(params[0] as string);
      return { jsonrpc: '2.0', id, result: off !== undefined };
    }
    if (params[0] !== 'peerEvents') {
      return error(id, RPC_ERROR.methodNotFound, `no "${String(params[0])}" subscription in admin namespace`);
    }
    if (this.#subscriptions.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      return error(id, RPC_ERROR.serverError, `too many subscriptions (${MAX_SUBSCRIPTIONS_PER_CONNECTION})`);
    }
    const subscription = `0x${(this.#nextId++).toString(16).padStart(16, '0')}`;
    this.#subscriptions.set(subscription, this.#peerEvents(subscription));
    return { jsonrpc: '2.0', id, result: subscription };
  }

  #peerEvents(subscription: string): () => void {
    const push = (result: PeerEventJson): void => this.#notify(subscription, result);
    const offs = [
      this.#events.on('peer:added', ({ peer }) =>
        push({ type: 'add', peer: peer.id, local: peer.localAddress, remote: peer.remoteAddress }),
      ),
      this.#events.on('peer:removed', ({ peer, error: why }) =>
        push({ type: 'drop', peer: peer.id, error: why.message, local: peer.localAddress, remote: peer.remoteAddress }),
      ),
      this.#events.on('peer:message', ({ peer, direction, protocol, code, size }) =>
        push({
          type: direction === 'sent' ? 'msgsend' : 'msgrecv',
          peer: peer.id,
          protocol,
          msgcode: code,
          msgsize: size,
        }),
      ),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  #notify(subscription: string, result: PeerEventJson): void {
    if (this.#closed) return;
    if (this.#connection.pendingBytes() > MAX_PENDING_NOTIFICATION_BYTES) {
      this.close();
      this.#connection.close('slow subscriber: it does not read its notifications');
      return;
    }
    const params = { subscription, result } as unknown as JsonValue;
    this.#connection.send(JSON.stringify({ jsonrpc: '2.0', method: 'admin_subscription', params }));
  }

  #reply(response: RpcResponse | RpcResponse[]): void {
    if (this.#closed) return;
    // A client that sends requests and never reads their answers is as slow as one that ignores notifications.
    if (this.#connection.pendingBytes() > MAX_PENDING_NOTIFICATION_BYTES) {
      this.close();
      this.#connection.close('slow client: it does not read its answers');
      return;
    }
    this.#connection.send(JSON.stringify(response));
  }
}
