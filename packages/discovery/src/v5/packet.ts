/**
 * The discv5 v5.1 packet codec (github:ethereum/devp2p discv5/discv5-wire.md "Packet Encoding"):
 *
 *     packet        = masking-iv ‖ masked-header ‖ message
 *     masked-header = aesctr_encrypt(dest-id[:16], masking-iv, static-header ‖ authdata)
 *     static-header = "discv5" ‖ version (0x0001) ‖ flag ‖ nonce (12) ‖ authdata-size (uint16)
 *     message       = aesgcm_encrypt(key, nonce, message-type ‖ rlp(message-data), masking-iv ‖ header)
 *
 * with three packet kinds: ordinary message (flag 0, authdata = src-id), WHOAREYOU (flag 1, authdata = id-nonce ‖
 * enr-seq, no message) and handshake message (flag 2, authdata = src-id ‖ sig-size ‖ eph-key-size ‖ id-signature ‖
 * eph-pubkey ‖ record). This is the codec only: which key to use, which challenge was sent and when to answer
 * WHOAREYOU is the session layer's business. Encoders take the nonce, masking-iv, id-nonce and ephemeral key as
 * options so test vectors reproduce; each defaults to fresh secure random bytes.
 */
import {
  bytesToBigInt,
  bytesToHex,
  CryptoError,
  concatBytes,
  equalBytes,
  type RemoteContext,
  utf8ToBytes,
} from '@devp2p/core';
import {
  aes128GcmDecrypt,
  aes128GcmEncrypt,
  aesCtr,
  compressPublicKey,
  createAesCtr,
  generatePrivateKey,
  isValidPublicKey,
  publicKeyFromPrivate,
  randomBytes,
} from '@devp2p/crypto';
import { Enr, EnrError, NODE_ID_LENGTH, NodeId } from '@devp2p/enode';
import {
  DISCV5_MAX_PACKET_SIZE,
  DISCV5_MIN_PACKET_SIZE,
  DISCV5_PROTOCOL_ID,
  DISCV5_VERSION,
  EPHEMERAL_KEY_SIZE,
  HANDSHAKE_AUTHDATA_HEAD_SIZE,
  ID_NONCE_SIZE,
  ID_SIGNATURE_SIZE,
  MASKING_IV_SIZE,
  MASKING_KEY_SIZE,
  MESSAGE_AUTHDATA_SIZE,
  MIN_MESSAGE_CIPHERTEXT_SIZE,
  NONCE_SIZE,
  RANDOM_MESSAGE_SIZE,
  SESSION_KEY_SIZE,
  STATIC_HEADER_SIZE,
  WHOAREYOU_AUTHDATA_SIZE,
} from './constants.ts';
import {
  type Discv5SessionKeys,
  deriveDiscv5SessionKeys,
  makeDiscv5IdSignature,
  verifyDiscv5IdSignature,
} from './crypto.ts';
import { Discv5PacketError } from './errors.ts';
import { type Discv5Message, decodeDiscv5Message, encodeDiscv5Message } from './messages.ts';

/**
 * Packet flags (the static header's `flag` byte).
 * @example if (packet.flag === DISCV5_FLAG.whoareyou) ...
 */
export const DISCV5_FLAG: { readonly message: 0; readonly whoareyou: 1; readonly handshake: 2 } = {
  message: 0,
  whoareyou: 1,
  handshake: 2,
};

const PROTOCOL_ID_BYTES = utf8ToBytes(DISCV5_PROTOCOL_ID);
/** Offset of the static header's fields after the protocol id. */
const VERSION_OFFSET = PROTOCOL_ID_BYTES.length;
const FLAG_OFFSET = VERSION_OFFSET + 2;
const NONCE_OFFSET = FLAG_OFFSET + 1;
const AUTHDATA_SIZE_OFFSET = NONCE_OFFSET + NONCE_SIZE;
/** masking-iv ‖ static-header: where authdata starts in a packet. */
const STATIC_PACKET_SIZE = MASKING_IV_SIZE + STATIC_HEADER_SIZE;
/** The handshake authdata of the "v4" scheme without a record. */
const HANDSHAKE_AUTHDATA_V4_SIZE = HANDSHAKE_AUTHDATA_HEAD_SIZE + ID_SIGNATURE_SIZE + EPHEMERAL_KEY_SIZE;

/** Fields every decoded packet has. */
interface PacketBase {
  /** The 16-byte masking-iv the packet starts with. */
  readonly maskingIv: Uint8Array;
  /** The 12-byte nonce: the message's AES-GCM nonce, or for WHOAREYOU the nonce of the packet it answers. */
  readonly nonce: Uint8Array;
  /**
   * The unmasked `masking-iv ‖ static-header ‖ authdata`: the AES-GCM associated data (message-ad) of the
   * message, and for WHOAREYOU the challenge-data the handshake signs and derives keys from.
   */
  readonly headerData: Uint8Array;
}

/** An ordinary message packet (flag 0): from `srcId`, its message encrypted with the session key. */
export interface Discv5MessagePacket extends PacketBase {
  readonly kind: 'message';
  readonly srcId: NodeId;
  /** The message: AES-GCM ciphertext ‖ 16-byte tag (at least 17 bytes; random bytes to start a handshake). */
  readonly ciphertext: Uint8Array;
}

/** A WHOAREYOU packet (flag 1): the identity challenge. */
export interface Discv5WhoareyouPacket extends PacketBase {
  readonly kind: 'whoareyou';
  /** 16 random bytes of the challenge. */
  readonly idNonce: Uint8Array;
  /** The sequence number of the challenger's copy of our record (0 when it has none: send the record). */
  readonly enrSeq: bigint;
}

/** A handshake message packet (flag 2): the answer to WHOAREYOU, with the first message of the new session. */
export interface Discv5HandshakePacket extends PacketBase {
  readonly kind: 'handshake';
  readonly srcId: NodeId;
  /** 64 bytes r ‖ s: the sender's signature over the challenge (see {@link openDiscv5Handshake}). */
  readonly idSignature: Uint8Array;
  /** The sender's 33-byte compressed ephemeral public key (not yet checked to be a curve point). */
  readonly ephemeralPublicKey: Uint8Array;
  /** The sender's record, when it sent one (structure checked; signature and id checked by openDiscv5Handshake). */
  readonly record: Enr | undefined;
  /** The message: AES-GCM ciphertext ‖ 16-byte tag, under the new session's initiator key. */
  readonly ciphertext: Uint8Array;
}

/**
 * Any decoded discv5 packet, by `kind`.
 * @example const packet: Discv5Packet = decodeDiscv5Packet(datagram, localId)
 */
export type Discv5Packet = Discv5MessagePacket | Discv5WhoareyouPacket | Discv5HandshakePacket;

/**
 * An encoded packet: the datagram and what the sender needs to keep.
 * @example const { bytes, nonce } = encodeDiscv5MessagePacket({ srcId, destId, key, message })
 */
export interface Discv5EncodedPacket {
  /** The datagram (at most 1280 bytes). */
  readonly bytes: Uint8Array;
  /** The packet's nonce: a WHOAREYOU answering this packet carries it. */
  readonly nonce: Uint8Array;
  /** The unmasked `masking-iv ‖ static-header ‖ authdata` (for WHOAREYOU: the challenge-data to keep). */
  readonly headerData: Uint8Array;
}

/**
 * What a message or handshake packet encrypts: a message, encoded and checked by {@link encodeDiscv5Message}, or
 * a ready plaintext (`message-type ‖ rlp(message-data)`) encrypted as it is, unchecked. The bytes form exists for
 * conformance testing, to send what the encoder refuses (a request id over 8 bytes) and see the remote drop it.
 * @example encodeDiscv5MessagePacket({ srcId, destId, key, message: concatBytes(Uint8Array.of(1), rlpEncode(data)) })
 */
export type Discv5MessageInput = Discv5Message | Uint8Array;

function plaintextOf(message: Discv5MessageInput): Uint8Array {
  return message instanceof Uint8Array ? message : encodeDiscv5Message(message);
}

/** Options every encoder takes. */
export interface Discv5PacketOptions {
  /** The node the packet goes to: its id's first 16 bytes key the header mask. */
  readonly destId: NodeId;
  /** The 16-byte masking-iv (default: random). */
  readonly maskingIv?: Uint8Array | undefined;
}

/** Options of {@link encodeDiscv5MessagePacket}. */
export interface Discv5MessagePacketOptions extends Discv5PacketOptions {
  /** Our node id (the authdata). */
  readonly srcId: NodeId;
  /** The session's 16-byte write key (initiator-key for the handshake's initiator, recipient-key for the other). */
  readonly key: Uint8Array;
  /** The message, or a plaintext sent as it is (see {@link Discv5MessageInput}). */
  readonly message: Discv5MessageInput;
  /** The 12-byte message nonce (default: random). It must never repeat under one key. */
  readonly nonce?: Uint8Array | undefined;
}

/** Options of {@link encodeDiscv5RandomPacket}. */
export interface Discv5RandomPacketOptions extends Discv5PacketOptions {
  readonly srcId: NodeId;
  /** The 12-byte nonce (default: random); the WHOAREYOU answering this packet will carry it. */
  readonly nonce?: Uint8Array | undefined;
  /** The undecryptable message bytes (default: 20 random bytes; at least 17). */
  readonly message?: Uint8Array | undefined;
}

/** Options of {@link encodeDiscv5WhoareyouPacket}. */
export interface Discv5WhoareyouPacketOptions extends Discv5PacketOptions {
  /** The nonce of the packet this challenge answers. */
  readonly nonce: Uint8Array;
  /** The 16-byte id-nonce (default: random). */
  readonly idNonce?: Uint8Array | undefined;
  /** The sequence number of our copy of the destination's record, 0 when we have none. */
  readonly enrSeq: bigint;
}

/** Options of {@link encodeDiscv5HandshakePacket}. */
export interface Discv5HandshakePacketOptions extends Discv5PacketOptions {
  readonly srcId: NodeId;
  /** Our static private key: signs the id-nonce proof. */
  readonly privateKey: Uint8Array;
  /** The destination's static public key (33, 64 or 65 bytes), e.g. from its record. */
  readonly destPublicKey: Uint8Array;
  /** The challenge-data of the WHOAREYOU we answer (its `headerData`). */
  readonly challengeData: Uint8Array;
  /**
   * Our current signed record. It is sent when the challenge's enr-seq is below its sequence number (always when
   * the challenger has none), as geth does.
   */
  readonly record: Enr;
  /** The message, or a plaintext sent as it is (see {@link Discv5MessageInput}). */
  readonly message: Discv5MessageInput;
  /** The 32-byte ephemeral private key (default: a fresh random key). */
  readonly ephemeralKey?: Uint8Array | undefined;
  /** The 12-byte message nonce (default: random). */
  readonly nonce?: Uint8Array | undefined;
}

/** A handshake packet and the session it starts. */
export interface Discv5EncodedHandshake extends Discv5EncodedPacket {
  /** The new session's keys: we (the initiator) write with `initiatorKey` and read with `recipientKey`. */
  readonly keys: Discv5SessionKeys;
  /** The 33-byte ephemeral public key the packet carries. */
  readonly ephemeralPublicKey: Uint8Array;
  /** Whether our record went in the packet. */
  readonly recordSent: boolean;
}

function fixedBytes(value: Uint8Array | undefined, length: number, label: string): Uint8Array {
  if (value === undefined) return randomBytes(length);
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new RangeError(`discv5: ${label} must be ${length} bytes`);
  }
  return value;
}

function maskingKey(destId: NodeId): Uint8Array {
  return destId.bytes.subarray(0, MASKING_KEY_SIZE);
}

function staticHeader(flag: number, nonce: Uint8Array, authdataSize: number): Uint8Array {
  const out = new Uint8Array(STATIC_HEADER_SIZE);
  out.set(PROTOCOL_ID_BYTES, 0);
  out[VERSION_OFFSET] = DISCV5_VERSION >> 8;
  out[VERSION_OFFSET + 1] = DISCV5_VERSION & 0xff;
  out[FLAG_OFFSET] = flag;
  out.set(nonce, NONCE_OFFSET);
  out[AUTHDATA_SIZE_OFFSET] = authdataSize >> 8;
  out[AUTHDATA_SIZE_OFFSET + 1] = authdataSize & 0xff;
  return out;
}

/** Builds `masking-iv ‖ masked-header ‖ message`, the message made from the unmasked header data. */
function sealPacket(
  destId: NodeId,
  maskingIv: Uint8Array,
  flag: number,
  nonce: Uint8Array,
  authdata: Uint8Array,
  message: (headerData: Uint8Array) => Uint8Array,
): Discv5EncodedPacket {
  const header = concatBytes(staticHeader(flag, nonce, authdata.length), authdata);
  const headerData = concatBytes(maskingIv, header);
  const body = message(headerData);
  const size = headerData.length + body.length;
  if (size > DISCV5_MAX_PACKET_SIZE) {
    throw new RangeError(`discv5: packet of ${size} bytes exceeds ${DISCV5_MAX_PACKET_SIZE}`);
  }
  const bytes = concatBytes(maskingIv, aesCtr(maskingKey(destId), maskingIv, header), body);
  return { bytes, nonce: nonce.slice(), headerData };
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== SESSION_KEY_SIZE) {
    throw new RangeError(`discv5: session key must be ${SESSION_KEY_SIZE} bytes`);
  }
  return key;
}

/**
 * Encodes an ordinary message packet (flag 0): `message` encrypted with the session's write `key`.
 * @example const { bytes } = encodeDiscv5MessagePacket({ srcId: self.id, destId: remote.id, key: writeKey, message })
 */
export function encodeDiscv5MessagePacket(options: Discv5MessagePacketOptions): Discv5EncodedPacket {
  const key = checkKey(options.key);
  const nonce = fixedBytes(options.nonce, NONCE_SIZE, 'nonce');
  const plaintext = plaintextOf(options.message);
  return sealPacket(
    options.destId,
    fixedBytes(options.maskingIv, MASKING_IV_SIZE, 'maskingIv'),
    DISCV5_FLAG.message,
    nonce,
    options.srcId.bytes,
    (headerData) => aes128GcmEncrypt(key, nonce, plaintext, headerData),
  );
}

/**
 * Encodes the ordinary message packet that starts a handshake when there are no session keys: random message
 * bytes the recipient cannot decrypt, so it answers WHOAREYOU (carrying this packet's nonce).
 * @example const { bytes, nonce } = encodeDiscv5RandomPacket({ srcId: self.id, destId: remote.id })
 */
export function encodeDiscv5RandomPacket(options: Discv5RandomPacketOptions): Discv5EncodedPacket {
  const message = options.message ?? randomBytes(RANDOM_MESSAGE_SIZE);
  if (!(message instanceof Uint8Array) || message.length < MIN_MESSAGE_CIPHERTEXT_SIZE) {
    throw new RangeError(`discv5: random message must be at least ${MIN_MESSAGE_CIPHERTEXT_SIZE} bytes`);
  }
  return sealPacket(
    options.destId,
    fixedBytes(options.maskingIv, MASKING_IV_SIZE, 'maskingIv'),
    DISCV5_FLAG.message,
    fixedBytes(options.nonce, NONCE_SIZE, 'nonce'),
    options.srcId.bytes,
    () => message,
  );
}

/**
 * Encodes a WHOAREYOU packet (flag 1) answering the packet with `nonce`. Keep the result's `headerData`: it is
 * the challenge-data the handshake answer must be checked against.
 * @example const { bytes, headerData: challengeData } = encodeDiscv5WhoareyouPacket({ destId, nonce, enrSeq: 0n })
 */
export function encodeDiscv5WhoareyouPacket(
  options: Discv5WhoareyouPacketOptions,
): Discv5EncodedPacket & { readonly idNonce: Uint8Array } {
  if (!(options.nonce instanceof Uint8Array) || options.nonce.length !== NONCE_SIZE) {
    throw new RangeError(`discv5: nonce must be the ${NONCE_SIZE}-byte nonce of the packet answered`);
  }
  const nonce = options.nonce;
  const idNonce = fixedBytes(options.idNonce, ID_NONCE_SIZE, 'idNonce');
  const enrSeq = options.enrSeq;
  if (typeof enrSeq !== 'bigint' || enrSeq < 0n || enrSeq >= 1n << 64n) {
    throw new RangeError('discv5: enrSeq must be a bigint in 0..2^64-1');
  }
  const authdata = new Uint8Array(WHOAREYOU_AUTHDATA_SIZE);
  authdata.set(idNonce, 0);
  new DataView(authdata.buffer).setBigUint64(ID_NONCE_SIZE, enrSeq);
  const encoded = sealPacket(
    options.destId,
    fixedBytes(options.maskingIv, MASKING_IV_SIZE, 'maskingIv'),
    DISCV5_FLAG.whoareyou,
    nonce,
    authdata,
    () => new Uint8Array(0),
  );
  return { ...encoded, idNonce: idNonce.slice() };
}

/** The enr-seq of WHOAREYOU challenge-data, after checking it is one (caller input: a RangeError otherwise). */
function challengeEnrSeq(challengeData: Uint8Array): bigint {
  if (!(challengeData instanceof Uint8Array) || challengeData.length !== DISCV5_MIN_PACKET_SIZE) {
    throw new RangeError(`discv5: challengeData must be the ${DISCV5_MIN_PACKET_SIZE}-byte WHOAREYOU header`);
  }
  const header = challengeData.subarray(MASKING_IV_SIZE);
  const valid =
    equalBytes(header.subarray(0, VERSION_OFFSET), PROTOCOL_ID_BYTES) &&
    header[VERSION_OFFSET] === DISCV5_VERSION >> 8 &&
    header[VERSION_OFFSET + 1] === (DISCV5_VERSION & 0xff) &&
    header[FLAG_OFFSET] === DISCV5_FLAG.whoareyou &&
    header[AUTHDATA_SIZE_OFFSET] === 0 &&
    header[AUTHDATA_SIZE_OFFSET + 1] === WHOAREYOU_AUTHDATA_SIZE;
  if (!valid) throw new RangeError('discv5: challengeData is not an unmasked WHOAREYOU header');
  return bytesToBigInt(challengeData.subarray(STATIC_PACKET_SIZE + ID_NONCE_SIZE));
}

/**
 * Encodes a handshake message packet (flag 2) answering a WHOAREYOU: generates the ephemeral key, signs the
 * id-nonce proof, derives the session keys and encrypts `message` with the initiator key. The record goes along
 * when the challenger's copy is older. Returns the keys of the new session with the datagram.
 * @example
 * const hs = encodeDiscv5HandshakePacket({ srcId, destId, privateKey, destPublicKey, challengeData, record, message })
 * session = hs.keys
 */
export function encodeDiscv5HandshakePacket(options: Discv5HandshakePacketOptions): Discv5EncodedHandshake {
  const { srcId, destId, challengeData, record } = options;
  const remoteSeq = challengeEnrSeq(challengeData);
  const ephemeralKey = options.ephemeralKey ?? generatePrivateKey();
  const ephemeralPublicKey = compressPublicKey(publicKeyFromPrivate(ephemeralKey));
  const idSignature = makeDiscv5IdSignature(options.privateKey, challengeData, ephemeralPublicKey, destId);
  const keys = deriveDiscv5SessionKeys(ephemeralKey, options.destPublicKey, srcId, destId, challengeData);
  const recordSent = remoteSeq < record.seq;
  const authdata = concatBytes(
    srcId.bytes,
    Uint8Array.of(ID_SIGNATURE_SIZE, EPHEMERAL_KEY_SIZE),
    idSignature,
    ephemeralPublicKey,
    recordSent ? record.encode() : new Uint8Array(0),
  );
  const nonce = fixedBytes(options.nonce, NONCE_SIZE, 'nonce');
  const plaintext = plaintextOf(options.message);
  const encoded = sealPacket(
    destId,
    fixedBytes(options.maskingIv, MASKING_IV_SIZE, 'maskingIv'),
    DISCV5_FLAG.handshake,
    nonce,
    authdata,
    (headerData) => aes128GcmEncrypt(keys.initiatorKey, nonce, plaintext, headerData),
  );
  return { ...encoded, keys, ephemeralPublicKey, recordSent };
}

function packetError(
  reason: ConstructorParameters<typeof Discv5PacketError>[0],
  message: string,
  context: RemoteContext,
  cause?: unknown,
): Discv5PacketError {
  return new Discv5PacketError(reason, message, { ...context, cause });
}

/**
 * Decodes a datagram addressed to `localId`: checks its size (63..1280 bytes) before anything else, unmasks the
 * header, checks protocol id, version, flag and authdata layout, and splits out the message. The message is not
 * decrypted here (see {@link decryptDiscv5Message} and {@link openDiscv5Handshake}). Throws only a
 * {@link Discv5PacketError} for any input bytes.
 * @example
 * const packet = decodeDiscv5Packet(datagram, self.id)
 * if (packet.kind === 'message') handle(decryptDiscv5Message(packet, sessionFor(packet.srcId).readKey))
 */
export function decodeDiscv5Packet(bytes: Uint8Array, localId: NodeId, context: RemoteContext = {}): Discv5Packet {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('discv5: expected a Uint8Array');
  if (bytes.length > DISCV5_MAX_PACKET_SIZE) {
    throw packetError('too-large', `${bytes.length} bytes exceeds ${DISCV5_MAX_PACKET_SIZE}`, context);
  }
  if (bytes.length < DISCV5_MIN_PACKET_SIZE) {
    throw packetError('too-small', `${bytes.length} bytes is below ${DISCV5_MIN_PACKET_SIZE}`, context);
  }
  const maskingIv = bytes.slice(0, MASKING_IV_SIZE);
  const mask = createAesCtr(maskingKey(localId), maskingIv);
  const header = mask.update(bytes.subarray(MASKING_IV_SIZE, STATIC_PACKET_SIZE));
  if (!equalBytes(header.subarray(0, VERSION_OFFSET), PROTOCOL_ID_BYTES)) {
    throw packetError('bad-protocol-id', 'protocol id is not "discv5"', context);
  }
  const version = (header[VERSION_OFFSET]! << 8) | header[VERSION_OFFSET + 1]!;
  if (version !== DISCV5_VERSION)
    throw packetError('bad-version', `version ${version}, want ${DISCV5_VERSION}`, context);
  const flag = header[FLAG_OFFSET]!;
  if (flag > DISCV5_FLAG.handshake) throw packetError('unknown-flag', `unknown flag ${flag}`, context);
  const nonce = header.slice(NONCE_OFFSET, NONCE_OFFSET + NONCE_SIZE);
  const authdataSize = (header[AUTHDATA_SIZE_OFFSET]! << 8) | header[AUTHDATA_SIZE_OFFSET + 1]!;
  const remaining = bytes.length - STATIC_PACKET_SIZE;
  if (authdataSize > remaining) {
    throw packetError(
      'bad-authdata-size',
      `authdata-size ${authdataSize} exceeds the ${remaining} bytes left`,
      context,
    );
  }
  const wantSize =
    flag === DISCV5_FLAG.message
      ? MESSAGE_AUTHDATA_SIZE
      : flag === DISCV5_FLAG.whoareyou
        ? WHOAREYOU_AUTHDATA_SIZE
        : undefined;
  if (wantSize !== undefined && authdataSize !== wantSize) {
    throw packetError('bad-authdata-size', `authdata-size ${authdataSize} for flag ${flag}, want ${wantSize}`, context);
  }
  if (flag === DISCV5_FLAG.handshake && authdataSize < HANDSHAKE_AUTHDATA_HEAD_SIZE) {
    throw packetError(
      'bad-authdata-size',
      `handshake authdata-size ${authdataSize} is below ${HANDSHAKE_AUTHDATA_HEAD_SIZE}`,
      context,
    );
  }
  const messageSize = remaining - authdataSize;
  if (flag === DISCV5_FLAG.whoareyou) {
    if (messageSize !== 0)
      throw packetError('trailing-bytes', `WHOAREYOU with ${messageSize} bytes of message`, context);
  } else if (messageSize < MIN_MESSAGE_CIPHERTEXT_SIZE) {
    throw packetError(
      'message-too-short',
      `message of ${messageSize} bytes, want at least ${MIN_MESSAGE_CIPHERTEXT_SIZE}`,
      context,
    );
  }
  const authdataEnd = STATIC_PACKET_SIZE + authdataSize;
  const authdata = mask.update(bytes.subarray(STATIC_PACKET_SIZE, authdataEnd));
  const headerData = concatBytes(maskingIv, header, authdata);
  const ciphertext = bytes.slice(authdataEnd);
  switch (flag) {
    case DISCV5_FLAG.whoareyou:
      return {
        kind: 'whoareyou',
        maskingIv,
        nonce,
        headerData,
        idNonce: authdata.slice(0, ID_NONCE_SIZE),
        enrSeq: bytesToBigInt(authdata.subarray(ID_NONCE_SIZE)),
      };
    case DISCV5_FLAG.message:
      return { kind: 'message', maskingIv, nonce, headerData, srcId: NodeId.fromBytes(authdata), ciphertext };
    default:
      return decodeHandshake(authdata, { maskingIv, nonce, headerData }, ciphertext, context);
  }
}

function decodeHandshake(
  authdata: Uint8Array,
  base: PacketBase,
  ciphertext: Uint8Array,
  context: RemoteContext,
): Discv5HandshakePacket {
  const srcId = NodeId.fromBytes(authdata.subarray(0, NODE_ID_LENGTH));
  const sigSize = authdata[NODE_ID_LENGTH]!;
  const keySize = authdata[NODE_ID_LENGTH + 1]!;
  if (sigSize !== ID_SIGNATURE_SIZE) {
    throw packetError('bad-signature-size', `sig-size ${sigSize}, want ${ID_SIGNATURE_SIZE} ("v4")`, context);
  }
  if (keySize !== EPHEMERAL_KEY_SIZE) {
    throw packetError('bad-key-size', `eph-key-size ${keySize}, want ${EPHEMERAL_KEY_SIZE} ("v4")`, context);
  }
  if (authdata.length < HANDSHAKE_AUTHDATA_V4_SIZE) {
    throw packetError(
      'bad-authdata-size',
      `handshake authdata-size ${authdata.length} cannot hold a ${sigSize}-byte signature and ${keySize}-byte key`,
      context,
    );
  }
  const keyOffset = HANDSHAKE_AUTHDATA_HEAD_SIZE + ID_SIGNATURE_SIZE;
  const recordBytes = authdata.subarray(HANDSHAKE_AUTHDATA_V4_SIZE);
  let record: Enr | undefined;
  if (recordBytes.length > 0) {
    try {
      record = Enr.decode(recordBytes, { verify: false, remoteAddress: context.remoteAddress });
    } catch (cause) {
      if (!(cause instanceof EnrError)) throw cause;
      throw packetError('bad-record', `handshake record: ${cause.message}`, context, cause);
    }
  }
  return {
    kind: 'handshake',
    ...base,
    srcId,
    idSignature: authdata.slice(HANDSHAKE_AUTHDATA_HEAD_SIZE, keyOffset),
    ephemeralPublicKey: authdata.slice(keyOffset, HANDSHAKE_AUTHDATA_V4_SIZE),
    record,
    ciphertext,
  };
}

/**
 * Decrypts and decodes the message of an ordinary or handshake packet with the session's read `key`. Throws a
 * {@link Discv5PacketError} `decrypt-failed` when it does not authenticate (for an ordinary packet: answer with
 * WHOAREYOU), and a {@link Discv5MessageError} when the plaintext is not a valid message.
 * @example const message = decryptDiscv5Message(packet, session.readKey)
 */
export function decryptDiscv5Message(
  packet: Discv5MessagePacket | Discv5HandshakePacket,
  key: Uint8Array,
  context: RemoteContext = {},
): Discv5Message {
  let plaintext: Uint8Array;
  try {
    plaintext = aes128GcmDecrypt(checkKey(key), packet.nonce, packet.ciphertext, packet.headerData);
  } catch (cause) {
    if (!(cause instanceof CryptoError)) throw cause;
    throw packetError('decrypt-failed', 'message does not authenticate', context, cause);
  }
  return decodeDiscv5Message(plaintext);
}

/** Options of {@link openDiscv5Handshake}. */
export interface Discv5OpenHandshakeOptions {
  /** Our static private key. */
  readonly privateKey: Uint8Array;
  /** Our node id (the id-signature covers it). */
  readonly localId: NodeId;
  /** The challenge-data of the WHOAREYOU we sent to the packet's source. */
  readonly challengeData: Uint8Array;
  /** Our copy of the source's record, if any: used when the packet brings no newer one. */
  readonly knownRecord?: Enr | undefined;
  /** The remote address, for error messages. */
  readonly remoteAddress?: string | undefined;
}

/** What a verified handshake gives the recipient. */
export interface Discv5OpenedHandshake {
  /** The new session's keys: we (the recipient) read with `initiatorKey` and write with `recipientKey`. */
  readonly keys: Discv5SessionKeys;
  /** The sender's record (the packet's when newer than the known one, signature and id verified). */
  readonly record: Enr;
  /** The message the handshake carried. */
  readonly message: Discv5Message;
}

/**
 * Verifies a handshake packet against the WHOAREYOU we sent and opens it: picks the sender's record (the packet's,
 * verified and checked to belong to `srcId`, when newer than `knownRecord`), checks the ephemeral key is a curve
 * point and the id-signature verifies, derives the session keys and decrypts the message. Throws a
 * {@link Discv5PacketError} (`bad-record`, `missing-record`, `bad-ephemeral-key`, `bad-id-signature`,
 * `decrypt-failed`) or a {@link Discv5MessageError}.
 * @example const { keys, record, message } = openDiscv5Handshake(packet, { privateKey, localId, challengeData })
 */
export function openDiscv5Handshake(
  packet: Discv5HandshakePacket,
  options: Discv5OpenHandshakeOptions,
): Discv5OpenedHandshake {
  const context = { remoteAddress: options.remoteAddress };
  const { knownRecord } = options;
  if (knownRecord !== undefined && !knownRecord.nodeId?.equals(packet.srcId)) {
    throw new RangeError(`discv5: knownRecord is not the record of ${packet.srcId.short()}`);
  }
  let record = knownRecord;
  if (packet.record !== undefined && (knownRecord === undefined || packet.record.seq > knownRecord.seq)) {
    if (!packet.record.verify()) throw packetError('bad-record', 'handshake record signature does not verify', context);
    if (!packet.record.nodeId?.equals(packet.srcId)) {
      throw packetError(
        'bad-record',
        `handshake record belongs to ${packet.record.nodeId?.short()}, not the sender`,
        context,
      );
    }
    record = packet.record;
  }
  if (record === undefined) throw packetError('missing-record', 'no record sent and none known', context);
  const publicKey = record.publicKey;
  if (publicKey === undefined) throw packetError('bad-record', 'record has no secp256k1 public key', context);
  if (!isValidPublicKey(packet.ephemeralPublicKey)) {
    throw packetError(
      'bad-ephemeral-key',
      `ephemeral key ${bytesToHex(packet.ephemeralPublicKey)} is not a curve point`,
      context,
    );
  }
  if (
    !verifyDiscv5IdSignature(
      publicKey,
      packet.idSignature,
      options.challengeData,
      packet.ephemeralPublicKey,
      options.localId,
    )
  ) {
    throw packetError('bad-id-signature', 'id-signature does not verify', context);
  }
  const keys = deriveDiscv5SessionKeys(
    options.privateKey,
    packet.ephemeralPublicKey,
    packet.srcId,
    options.localId,
    options.challengeData,
  );
  return { keys, record, message: decryptDiscv5Message(packet, keys.initiatorKey, context) };
}
