/**
 * TALKREQ handling (geth p2p/discover/v5_talk.go): handlers registered by protocol name, at most
 * {@link MAX_ACTIVE_TALK_REQUESTS} running at once, and an empty TALKRESP for a protocol nobody registered.
 */
import { bytesToHex, type Logger, utf8ToBytes } from '@devp2p/core';
import type { Endpoint, Node } from '@devp2p/enode';
import type { Lifecycle } from '../lifecycle.ts';
import { MAX_ACTIVE_TALK_REQUESTS } from './constants.ts';
import type { Discv5TalkReq } from './messages.ts';

/**
 * Who sent a TALKREQ, and for which protocol.
 * @example discv5.registerTalkProtocol('echo', (request, { node }) => (log(node.id.short()), request))
 */
export interface TalkRequestInfo {
  /** The requester, as its handshake proved it (its record, or the public key we addressed it by). */
  readonly node: Node;
  /** The address the request came from (the response goes there). */
  readonly from: Endpoint;
  /** The protocol name the request named. */
  readonly protocol: string;
}

/**
 * Answers one TALKREQ of a protocol: the response bytes (empty for none). It should answer within about 200 ms:
 * the requester waits {@link DISCV5_RESP_TIMEOUT_MS}. A handler that throws or rejects sends no response.
 * @example const echo: TalkHandler = (request) => request
 */
export type TalkHandler = (request: Uint8Array, info: TalkRequestInfo) => Uint8Array | Promise<Uint8Array>;

/**
 * Options of {@link TalkSystem}.
 * @example new TalkSystem({ lifecycle, log, respond: (node, to, response) => send(node.id, to, response) })
 */
export interface TalkSystemOptions {
  readonly lifecycle: Lifecycle;
  readonly log: Logger;
  /** Sends a TALKRESP to `node` at `to`. */
  readonly respond: (node: Node, to: Endpoint, requestId: Uint8Array, response: Uint8Array) => void;
  /** Handlers running at once (default {@link MAX_ACTIVE_TALK_REQUESTS}). */
  readonly maxActive?: number;
}

/**
 * The TALKREQ handlers of one discv5 node.
 * @example const unregister = talk.register('echo', (request) => request)
 */
export class TalkSystem {
  readonly #lifecycle: Lifecycle;
  readonly #log: Logger;
  readonly #respond: TalkSystemOptions['respond'];
  readonly #maxActive: number;
  /** By the hex of the protocol name's bytes (a request names the protocol in bytes, which may not be UTF-8). */
  readonly #handlers = new Map<string, { readonly protocol: string; readonly handler: TalkHandler }>();
  #active = 0;

  constructor(options: TalkSystemOptions) {
    this.#lifecycle = options.lifecycle;
    this.#log = options.log;
    this.#respond = options.respond;
    this.#maxActive = options.maxActive ?? MAX_ACTIVE_TALK_REQUESTS;
  }

  /** Handlers running right now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Registers the handler of `protocol`; returns the function that unregisters it. Throws when the name is taken.
   */
  register(protocol: string, handler: TalkHandler): () => void {
    if (typeof protocol !== 'string') throw new TypeError('registerTalkProtocol: protocol must be a string');
    if (typeof handler !== 'function') throw new TypeError('registerTalkProtocol: handler must be a function');
    const key = bytesToHex(utf8ToBytes(protocol));
    if (this.#handlers.has(key)) throw new Error(`talk protocol "${protocol}" is already registered`);
    const entry = { protocol, handler };
    this.#handlers.set(key, entry);
    return () => {
      if (this.#handlers.get(key) === entry) this.#handlers.delete(key);
    };
  }

  /**
   * Handles a TALKREQ from `node` at `from`: an empty TALKRESP for an unknown protocol, else runs its handler and
   * sends what it returns. Returns `talk-overload` when every handler slot is taken (the request is dropped).
   */
  handle(request: Discv5TalkReq, node: Node, from: Endpoint): 'talk-overload' | undefined {
    const entry = this.#handlers.get(bytesToHex(request.protocol));
    if (!entry) {
      this.#respond(node, from, request.requestId, new Uint8Array(0));
      return undefined;
    }
    if (this.#active >= this.#maxActive) return 'talk-overload';
    this.#active++;
    const info: TalkRequestInfo = { node, from, protocol: entry.protocol };
    new Promise<Uint8Array>((resolve) => resolve(entry.handler(request.request, info)))
      .then((response) => {
        if (this.#lifecycle.closed) return;
        if (!(response instanceof Uint8Array)) throw new TypeError('talk handler must return a Uint8Array');
        this.#respond(node, from, request.requestId, response);
      })
      .catch((err: unknown) => {
        this.#log.debug('talk handler failed', { protocol: entry.protocol, error: String(err) });
      })
      .finally(() => {
        this.#active--;
      });
    return undefined;
  }
}
