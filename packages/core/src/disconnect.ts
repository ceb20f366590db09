import { Devp2pError, ERR_DISCONNECTED } from './errors.ts';

/**
 * Disconnect reasons as they go on the wire (devp2p base protocol), with geth's codes.
 * @example peer.disconnect(DisconnectReason.TooManyPeers)
 */
export const DisconnectReason = {
  /** The local user asked for it. */
  Requested: 0x00,
  /** TCP-level failure; never sent (the connection is already gone). */
  NetworkError: 0x01,
  /** The remote broke the protocol: undecodable message, unknown code, bad handshake message. */
  ProtocolError: 0x02,
  /** No capability in common. */
  UselessPeer: 0x03,
  TooManyPeers: 0x04,
  AlreadyConnected: 0x05,
  /** p2p version mismatch. */
  IncompatibleVersion: 0x06,
  InvalidIdentity: 0x07,
  ClientQuitting: 0x08,
  /** The remote's Hello id is not the key it proved in the RLPx handshake. */
  UnexpectedIdentity: 0x09,
  ConnectedToSelf: 0x0a,
  ReadTimeout: 0x0b,
  /** A subprotocol (plugin) ended the peer. */
  SubprotocolError: 0x10,
} as const;

/** One of the {@link DisconnectReason} codes. */
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

const REASON_TEXT: Readonly<Record<number, string>> = {
  0: 'disconnect requested',
  1: 'network error',
  2: 'breach of protocol',
  3: 'useless peer',
  4: 'too many peers',
  5: 'already connected',
  6: 'incompatible p2p protocol version',
  7: 'invalid node identity',
  8: 'client quitting',
  9: 'unexpected identity',
  10: 'connected to self',
  11: 'read timeout',
  16: 'subprotocol error',
};

/**
 * Geth's text for a reason code (`unknown disconnect reason N` for codes outside the table).
 * @example disconnectReasonText(0x04) // 'too many peers'
 */
export function disconnectReasonText(reason: number): string {
  return REASON_TEXT[reason] ?? `unknown disconnect reason ${reason}`;
}

/**
 * True for the codes in {@link DisconnectReason}.
 * @example isDisconnectReason(0x10) // true
 */
export function isDisconnectReason(code: number): code is DisconnectReason {
  return code in REASON_TEXT;
}

/** The name of a {@link DisconnectReason} code: `TooManyPeers`, `UselessPeer`, … */
export type DisconnectReasonName = keyof typeof DisconnectReason;

const REASON_NAME: ReadonlyMap<number, DisconnectReasonName> = new Map(
  (Object.entries(DisconnectReason) as [DisconnectReasonName, number][]).map(([name, code]) => [code, name]),
);

/**
 * The name of a reason code, or `Unknown` for a code outside {@link DisconnectReason}.
 * @example disconnectReasonName(0x04) // 'TooManyPeers'
 */
export function disconnectReasonName(reason: number): DisconnectReasonName | 'Unknown' {
  return REASON_NAME.get(reason) ?? 'Unknown';
}

/** Who ended a peer connection. */
export type DisconnectInitiator = 'local' | 'remote';

/**
 * A peer connection ended for `reason`; `initiator` says which side ended it.
 * @example if (err instanceof DisconnectError && err.reason === DisconnectReason.TooManyPeers) retryLater()
 */
export class DisconnectError extends Devp2pError {
  readonly reason: number;
  readonly initiator: DisconnectInitiator;
  constructor(reason: number, initiator: DisconnectInitiator, options?: { cause?: unknown }) {
    super(ERR_DISCONNECTED, `${initiator === 'remote' ? 'remote' : 'local'}: ${disconnectReasonText(reason)}`, options);
    this.reason = reason;
    this.initiator = initiator;
  }
}

/**
 * A subprotocol's handshake found the remote incompatible: its Status names another network, genesis, fork or
 * version. `protocol` is the capability (`eth`), `mismatch` what differed, in that protocol's words (eth's
 * `network-id`, `genesis`, ...). The peer ends with "subprotocol error" (0x10), as geth ends it for a plain error
 * from a protocol's handshake. Plugins throw it (or a subclass) so that callers and metrics need not know the plugin.
 * @example if (err instanceof HandshakeMismatchError && err.protocol === 'eth') meter(err.mismatch)
 */
export class HandshakeMismatchError extends DisconnectError {
  readonly protocol: string;
  readonly mismatch: string;
  constructor(protocol: string, mismatch: string, detail: string) {
    super(DisconnectReason.SubprotocolError, 'local');
    this.protocol = protocol;
    this.mismatch = mismatch;
    this.message = `${this.message}: ${protocol} status ${mismatch} mismatch: ${detail}`;
  }
}
