/**
 * The typed errors of the discv5 wire codec. Both are {@link ProtocolError}s (bytes from the network that break
 * the protocol); callers branch on `reason`.
 */
import { ProtocolError, type RemoteContext } from '@devp2p/core';
import { ERR_DISCV5_MESSAGE, ERR_DISCV5_PACKET } from '../codes.ts';

/**
 * Why a datagram is not a usable discv5 packet:
 * - `too-small` / `too-large`: outside 63..1280 bytes (checked before any decryption).
 * - `bad-protocol-id`: the unmasked header does not start with "discv5" (not for us, or not discv5 at all).
 * - `bad-version`: a header version other than 0x0001.
 * - `unknown-flag`: a flag other than 0 (message), 1 (WHOAREYOU) or 2 (handshake).
 * - `bad-authdata-size`: authdata-size does not fit the packet or is wrong for the flag.
 * - `bad-signature-size` / `bad-key-size`: a handshake's sig-size is not 64 or its eph-key-size not 33 ("v4").
 * - `bad-record`: a handshake's record is not a valid ENR, has a bad signature, or belongs to another node.
 * - `missing-record`: a handshake carries no record and none is known for the sender.
 * - `bad-ephemeral-key`: a handshake's ephemeral public key is not a curve point.
 * - `bad-id-signature`: a handshake's id-signature does not verify.
 * - `message-too-short`: the message part of a message or handshake packet cannot hold a message.
 * - `trailing-bytes`: a WHOAREYOU packet carries bytes after its authdata.
 * - `decrypt-failed`: the message does not authenticate with the key (for an ordinary packet: answer WHOAREYOU).
 * @example if (err instanceof Discv5PacketError && err.reason === 'decrypt-failed') sendWhoareyou()
 */
export type Discv5PacketErrorReason =
  | 'too-small'
  | 'too-large'
  | 'bad-protocol-id'
  | 'bad-version'
  | 'unknown-flag'
  | 'bad-authdata-size'
  | 'bad-signature-size'
  | 'bad-key-size'
  | 'bad-record'
  | 'missing-record'
  | 'bad-ephemeral-key'
  | 'bad-id-signature'
  | 'message-too-short'
  | 'trailing-bytes'
  | 'decrypt-failed';

/**
 * A datagram that is not a usable discv5 packet (`ERR_DISCV5_PACKET`); `reason` says why.
 * @example try { decodeDiscv5Packet(bytes, localId) } catch (err) { if (err instanceof Discv5PacketError) drop(err.reason) }
 */
export class Discv5PacketError extends ProtocolError {
  readonly reason: Discv5PacketErrorReason;
  constructor(reason: Discv5PacketErrorReason, message: string, context: RemoteContext & { cause?: unknown } = {}) {
    super(ERR_DISCV5_PACKET, `discv5 packet: ${message}`, context);
    this.reason = reason;
  }
}

/**
 * Why a decrypted message plaintext is not a valid discv5 message:
 * - `empty`: no message-type byte.
 * - `unknown-type`: a message type this codec does not know (not 0x01..0x06).
 * - `bad-request-id`: a request-id longer than 8 bytes (or not a byte string).
 * - `bad-record`: a NODES record that is not a structurally valid ENR.
 * - `malformed`: anything else: bad RLP, wrong element count or type, out-of-range value, trailing bytes.
 * @example if (err instanceof Discv5MessageError && err.reason === 'unknown-type') ignore()
 */
export type Discv5MessageErrorReason = 'empty' | 'unknown-type' | 'bad-request-id' | 'bad-record' | 'malformed';

/**
 * A message plaintext that is not a valid discv5 message (`ERR_DISCV5_MESSAGE`); `reason` says why.
 * @example try { decodeDiscv5Message(plaintext) } catch (err) { if (err instanceof Discv5MessageError) drop(err.reason) }
 */
export class Discv5MessageError extends ProtocolError {
  readonly reason: Discv5MessageErrorReason;
  constructor(reason: Discv5MessageErrorReason, message: string, context: RemoteContext & { cause?: unknown } = {}) {
    super(ERR_DISCV5_MESSAGE, `discv5 message: ${message}`, context);
    this.reason = reason;
  }
}
