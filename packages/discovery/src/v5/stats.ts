/**
 * The counters of a discv5 service: datagrams in and out, challenges, handshakes, and drops by reason.
 */
import type { Discv5PacketErrorReason } from './errors.ts';

/**
 * Why a received datagram was dropped: a packet or message that breaks the protocol, or a valid one we must not
 * act on.
 * @example discv5.stats.dropped['rate-limited']
 */
export type Discv5DropReason =
  | Discv5PacketErrorReason
  | 'bad-message'
  | 'restricted'
  | 'self'
  | 'unsolicited'
  | 'second-challenge'
  | 'unexpected-handshake'
  | 'rate-limited'
  | 'talk-overload'
  | 'handler-error';

/**
 * Packet counters.
 * @example console.log(discv5.stats.received, discv5.stats.dropped['decrypt-failed'])
 */
export interface Discv5Stats {
  /** Datagrams received. */
  received: number;
  /** Packets sent. */
  sent: number;
  /** WHOAREYOU challenges sent (repeats included). */
  challenges: number;
  /** Handshakes made: ours answering a WHOAREYOU, and theirs verified. */
  handshakes: number;
  /** TALKREQs received (answered by a handler, answered empty, or dropped as `talk-overload`). */
  talkRequests: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Record<Discv5DropReason, number>;
}

const DROP_REASONS: readonly Discv5DropReason[] = [
  'too-small',
  'too-large',
  'bad-protocol-id',
  'bad-version',
  'unknown-flag',
  'bad-authdata-size',
  'bad-signature-size',
  'bad-key-size',
  'bad-record',
  'missing-record',
  'bad-ephemeral-key',
  'bad-id-signature',
  'message-too-short',
  'trailing-bytes',
  'decrypt-failed',
  'bad-message',
  'restricted',
  'self',
  'unsolicited',
  'second-challenge',
  'unexpected-handshake',
  'rate-limited',
  'talk-overload',
  'handler-error',
];

/** Every drop counter at zero. */
export function newDropCounters(): Record<Discv5DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<Discv5DropReason, number>;
}
