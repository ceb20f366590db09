/**
 * Requests awaiting responses (geth v5_udp.go `callV5` and the dispatch loop): at most one active request per node
 * (others wait in its queue, so one handshake serves them all), responses matched by node, address, request id
 * and message type, a response timeout restarted by each response, and a request resent as a handshake when the
 * remote answers it with WHOAREYOU.
 */
import { AbortError, bytesToHex, Devp2pError, TimeoutError } from '@devp2p/core';
import type { Endpoint, Node, NodeId } from '@devp2p/enode';
import { ERR_DISCV5_BUSY, ERR_DISCV5_HANDSHAKE } from '../codes.ts';
import { closedError, type Lifecycle } from '../lifecycle.ts';
import type { ReceivedChallenge } from './codec.ts';
import { MAX_HANDSHAKES_PER_CALL, MAX_PENDING_CALLS } from './constants.ts';
import type { Discv5Message } from './messages.ts';

/**
 * The message types that answer a request.
 * @example calls.call({ ..., responseType: 'pong' })
 */
export type ResponseType = 'pong' | 'nodes' | 'talkresp';

/**
 * A request to make.
 * @example calls.call({ id: node.id, to, node, message, responseType: 'pong', onResponse: () => true })
 */
export interface CallRequest {
  readonly id: NodeId;
  readonly to: Endpoint;
  /** The remote's record or public key, for a handshake if it challenges us. */
  readonly node: Node | undefined;
  /** The request, its request id set. */
  readonly message: Discv5Message;
  readonly responseType: ResponseType;
  /** Takes one response; returns true when the request is complete. */
  readonly onResponse: (message: Discv5Message) => boolean;
}

/**
 * A request in flight, as the sender sees it.
 * @example const nonce = send(call)
 */
export interface Call extends CallRequest {
  /** The challenge to answer with the next send (set when the remote sent WHOAREYOU). */
  readonly challenge: ReceivedChallenge | undefined;
}

interface Entry extends Call {
  readonly idHex: string;
  readonly requestIdHex: string;
  challenge: ReceivedChallenge | undefined;
  handshakes: number;
  nonceHex: string | undefined;
  timer: unknown;
  readonly finish: (error?: Error) => void;
}

/**
 * Sends a request's packet and returns its nonce (a WHOAREYOU names it); throws when it cannot be encoded.
 * @example const send: CallSender = (call) => socket.send(call.id, call.to, call.message, call.challenge)
 */
export type CallSender = (call: Call) => Uint8Array;

/**
 * Why a WHOAREYOU matched no request we can answer.
 * @example if (calls.challenged(nonce, from, whoareyou) === 'unsolicited') drop()
 */
export type ChallengeRefusal = 'unsolicited' | 'second-challenge';

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.ip === b.ip && a.port === b.port;
}

/**
 * The requests of one discv5 node.
 * @example await calls.call({ id, to, node, message, responseType: 'pong', onResponse: () => true }, signal)
 */
export class Calls {
  readonly #lifecycle: Lifecycle;
  readonly #respTimeout: number;
  readonly #send: CallSender;
  readonly #active = new Map<string, Entry>();
  readonly #queues = new Map<string, Entry[]>();
  readonly #byNonce = new Map<string, Entry>();
  #count = 0;

  constructor(lifecycle: Lifecycle, respTimeout: number, send: CallSender) {
    this.#lifecycle = lifecycle;
    this.#respTimeout = respTimeout;
    this.#send = send;
  }

  /** Requests active or queued. */
  get size(): number {
    return this.#count;
  }

  /**
   * Makes a request; resolves when `onResponse` says it is complete, rejects with TimeoutError when a response is
   * {@link respTimeout} late, AbortError on `signal`, ConnectionClosedError on close. Throws `ERR_DISCV5_BUSY` at
   * once, before anything is sent, when {@link MAX_PENDING_CALLS} are pending.
   */
  call(request: CallRequest, signal?: AbortSignal): Promise<void> {
    if (this.#count >= MAX_PENDING_CALLS) {
      return Promise.reject(new Devp2pError(ERR_DISCV5_BUSY, `too many pending requests (${MAX_PENDING_CALLS})`));
    }
    if (signal?.aborted) return Promise.reject(new AbortError('aborted', { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const idHex = request.id.hex;
      const onAbort = (): void => entry.finish(new AbortError('aborted', { cause: signal?.reason }));
      const entry: Entry = {
        ...request,
        idHex,
        requestIdHex: bytesToHex(request.message.requestId),
        challenge: undefined,
        handshakes: 0,
        nonceHex: undefined,
        timer: undefined,
        finish: (error) => {
          if (!this.#remove(entry)) return;
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve();
        },
      };
      this.#count++;
      const queue = this.#queues.get(idHex);
      if (queue) queue.push(entry);
      else this.#queues.set(idHex, [entry]);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#next(idHex);
    });
  }

  /**
   * Takes a WHOAREYOU from `from` naming `nonce`: the request sent with that nonce is resent as a handshake
   * answering it. Returns why not when no request of ours to `from` has that nonce, or it had its handshake.
   */
  challenged(nonce: Uint8Array, from: Endpoint, challengeData: Uint8Array): ChallengeRefusal | undefined {
    const entry = this.#byNonce.get(bytesToHex(nonce));
    if (!entry || !sameEndpoint(entry.to, from)) return 'unsolicited';
    if (entry.handshakes >= MAX_HANDSHAKES_PER_CALL) return 'second-challenge';
    if (!entry.node?.publicKey) {
      entry.finish(new Devp2pError(ERR_DISCV5_HANDSHAKE, 'remote wants a handshake, but we have no record of it'));
      return undefined;
    }
    entry.handshakes++;
    entry.challenge = { challengeData, node: entry.node };
    this.#sendEntry(entry);
    return undefined;
  }

  /**
   * Hands a response from `fromId` at `from` to the active request it answers (same node, address, request id
   * and expected type); false when it answers none (unsolicited or late).
   */
  handleResponse(fromId: NodeId, from: Endpoint, message: Discv5Message): boolean {
    const entry = this.#active.get(fromId.hex);
    if (!entry || entry.responseType !== message.type || !sameEndpoint(entry.to, from)) return false;
    if (bytesToHex(message.requestId) !== entry.requestIdHex) return false;
    this.#startTimeout(entry);
    if (entry.onResponse(message)) entry.finish();
    return true;
  }

  /** Ends every request with ConnectionClosedError (on close). */
  closeAll(): void {
    for (const queue of [...this.#queues.values()]) for (const entry of [...queue]) entry.finish(closedError());
    for (const entry of [...this.#active.values()]) entry.finish(closedError());
  }

  /** Activates the next queued request to `idHex` when none is active. */
  #next(idHex: string): void {
    if (this.#active.has(idHex) || this.#lifecycle.closed) return;
    const queue = this.#queues.get(idHex);
    const entry = queue?.shift();
    if (!entry) return;
    if (queue!.length === 0) this.#queues.delete(idHex);
    this.#active.set(idHex, entry);
    this.#sendEntry(entry);
  }

  #sendEntry(entry: Entry): void {
    if (entry.nonceHex !== undefined) this.#byNonce.delete(entry.nonceHex);
    let nonce: Uint8Array;
    try {
      nonce = this.#send(entry);
    } catch (err) {
      entry.finish(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    entry.nonceHex = bytesToHex(nonce);
    this.#byNonce.set(entry.nonceHex, entry);
    this.#startTimeout(entry);
  }

  #startTimeout(entry: Entry): void {
    this.#lifecycle.clearTimeout(entry.timer);
    entry.timer = this.#lifecycle.setTimeout(
      () =>
        entry.finish(
          new TimeoutError(`discv5 ${entry.message.type}`, this.#respTimeout, { remoteAddress: entry.to.ip }),
        ),
      this.#respTimeout,
    );
  }

  /** Takes `entry` out of the queue or the active slot; false when it was already finished. */
  #remove(entry: Entry): boolean {
    this.#lifecycle.clearTimeout(entry.timer);
    if (entry.nonceHex !== undefined && this.#byNonce.get(entry.nonceHex) === entry)
      this.#byNonce.delete(entry.nonceHex);
    if (this.#active.get(entry.idHex) === entry) {
      this.#active.delete(entry.idHex);
      this.#count--;
      this.#next(entry.idHex);
      return true;
    }
    const queue = this.#queues.get(entry.idHex);
    const i = queue?.indexOf(entry) ?? -1;
    if (i === -1) return false;
    queue!.splice(i, 1);
    if (queue!.length === 0) this.#queues.delete(entry.idHex);
    this.#count--;
    return true;
  }
}
