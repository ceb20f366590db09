/**
 * Requests awaiting replies (geth v4_udp.go's `replyMatcher` and the loop that feeds it): each waits for one
 * reply type from one id at one IP until its matcher says done or its deadline passes, and at most
 * {@link MAX_PENDING_REPLIES} wait at once.
 */
import { AbortError, Devp2pError, TimeoutError } from '@devp2p/core';
import type { NodeId } from '@devp2p/enode';
import { ERR_DISCV4_BUSY } from '../codes.ts';
import { MAX_PENDING_REPLIES } from '../constants.ts';
import { closedError, type Lifecycle } from '../lifecycle.ts';
import type { Packet } from './wire.ts';

/**
 * The packet types that answer a request.
 * @example replies.expect(id, ip, 'pong', onPacket)
 */
export type ReplyType = 'pong' | 'neighbors' | 'enrResponse';

interface PendingReply {
  readonly idHex: string;
  readonly ip: string;
  readonly type: ReplyType;
  /** Returns whether the packet matched, and whether the request is complete. */
  readonly onPacket: (packet: Packet) => ReplyProgress;
  readonly finish: (error?: Error) => void;
  /** Completes the request successfully `ms` from now (never past its reply deadline), unless a reply does first. */
  readonly settleAfter: (ms: number) => void;
}

/**
 * What a reply did to its request: matched it or not; completed it, or completes it if nothing follows soon.
 * @example return { matched: true, done: received >= BUCKET_SIZE, settleAfterMs: NEIGHBORS_FOLLOW_UP_MS }
 */
export interface ReplyProgress {
  matched: boolean;
  done: boolean;
  /** When not done: finish successfully if no further reply comes within this many ms. */
  settleAfterMs?: number;
}

/**
 * The requests waiting for a reply.
 * @example const { promise } = replies.expect(id, ip, 'pong', match); send(ping); await promise
 */
export class PendingReplies {
  readonly #lifecycle: Lifecycle;
  readonly #now: () => number;
  readonly #respTimeout: number;
  readonly #pending: PendingReply[] = [];

  constructor(lifecycle: Lifecycle, now: () => number, respTimeout: number) {
    this.#lifecycle = lifecycle;
    this.#now = now;
    this.#respTimeout = respTimeout;
  }

  /** Requests waiting for a reply right now. */
  get size(): number {
    return this.#pending.length;
  }

  /**
   * Waits for a reply of `type` from `id` at `ip`; the promise settles when `onPacket` says done, or on timeout.
   * Throws ERR_DISCV4_BUSY at once, before the caller sends its request, when {@link MAX_PENDING_REPLIES} wait.
   */
  expect(
    id: NodeId,
    ip: string,
    type: ReplyType,
    onPacket: (packet: Packet) => ReplyProgress,
    signal?: AbortSignal,
  ): { promise: Promise<void>; cancel: () => void } {
    if (this.#pending.length >= MAX_PENDING_REPLIES) {
      throw new Devp2pError(ERR_DISCV4_BUSY, `too many pending requests (${MAX_PENDING_REPLIES})`);
    }
    let entry: PendingReply | undefined;
    const promise = new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        const i = this.#pending.indexOf(entry!);
        if (i === -1) return;
        this.#pending.splice(i, 1);
        this.#lifecycle.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = (): void => finish(new AbortError('aborted', { cause: signal?.reason }));
      const deadline = this.#now() + this.#respTimeout;
      let timer = this.#lifecycle.setTimeout(
        () => finish(new TimeoutError(`discv4 ${type}`, this.#respTimeout, { remoteAddress: ip })),
        this.#respTimeout,
      );
      const settleAfter = (ms: number): void => {
        // Only ever brings the end closer: at the reply deadline the request then ends as a success.
        this.#lifecycle.clearTimeout(timer);
        timer = this.#lifecycle.setTimeout(() => finish(), Math.max(0, Math.min(ms, deadline - this.#now())));
      };
      entry = { idHex: id.hex, ip, type, onPacket, finish, settleAfter };
      this.#pending.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { promise, cancel: () => entry?.finish(new AbortError('cancelled')) };
  }

  /** Hands a reply to the first pending request it matches; false when it matches none (unsolicited). */
  handleReply(id: NodeId, ip: string, type: ReplyType, packet: Packet): boolean {
    const hex = id.hex;
    for (const entry of [...this.#pending]) {
      if (entry.type !== type || entry.idHex !== hex || entry.ip !== ip) continue;
      const { matched, done, settleAfterMs } = entry.onPacket(packet);
      if (matched) {
        if (done) entry.finish();
        else if (settleAfterMs !== undefined) entry.settleAfter(settleAfterMs);
        return true;
      }
    }
    return false;
  }

  /** Ends every waiting request with ConnectionClosedError (on close). */
  closeAll(): void {
    for (const entry of [...this.#pending]) entry.finish(closedError());
  }
}
