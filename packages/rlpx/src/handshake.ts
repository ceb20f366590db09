/**
 * The RLPx encryption handshake as pure functions: build and parse auth and ack messages (EIP-8, and the legacy
 * pre-EIP-8 format for receiving), and derive the session secrets. Nothing here does I/O; the randomness is
 * injectable so tests reproduce the published vectors.
 *
 * Wire formats (all ECIES-encrypted to the receiver's static key):
 * - EIP-8 auth: size(2) ‖ ECIES(rlp([sig, initiator-pubk, initiator-nonce, 4, ...]) ‖ padding), the size prefix
 *   being the ECIES shared MAC data.
 * - EIP-8 ack: size(2) ‖ ECIES(rlp([recipient-ephemeral-pubk, recipient-nonce, 4, ...]) ‖ padding).
 * - Legacy auth (307 bytes): ECIES(sig(65) ‖ keccak256(ephemeral-pubk)(32) ‖ pubk(64) ‖ nonce(32) ‖ 0x00).
 * - Legacy ack (210 bytes): ECIES(ephemeral-pubk(64) ‖ nonce(32) ‖ 0x00).
 *
 * The signature is sign(ephemeral key, ecdh(static keys) ^ initiator-nonce); the recipient recovers the
 * initiator's ephemeral public key from it.
 */
import {
  concatBytes,
  ProtocolError,
  type RemoteContext,
  type RlpValue,
  rlpBytes,
  rlpDecodePrefix,
  rlpEncode,
  rlpList,
  TooLargeError,
} from '@devp2p/core';
import {
  createKeccak256,
  ECIES_OVERHEAD,
  ecdhX,
  eciesDecrypt,
  eciesEncrypt,
  generatePrivateKey,
  isValidPublicKey,
  type Keccak256Hasher,
  keccak256,
  PUBLIC_KEY_LENGTH,
  publicKeyFromPrivate,
  randomBytes,
  recoverPublicKey,
  SIGNATURE_LENGTH,
  sign,
} from '@devp2p/crypto';
import { ERR_HANDSHAKE, HANDSHAKE_MAX_SIZE } from './limits.ts';

/**
 * Length of the initiator and recipient nonces.
 * @example encodeAuth({ privateKey, remotePublicKey, nonce: randomBytes(NONCE_LENGTH) })
 */
export const NONCE_LENGTH: number = 32;

/**
 * The handshake version we send (auth-vsn, ack-vsn); received versions are ignored, as EIP-8 requires.
 * @example decodeAuth(privateKey, packet).version // 4 from current peers, anything from future ones
 */
export const HANDSHAKE_VERSION: number = 4;

/**
 * Size of a legacy (pre-EIP-8) auth on the wire: 194 bytes of plaintext plus the ECIES overhead (307).
 * @example encodeAuth({ privateKey, remotePublicKey, legacy: true }).packet.length === LEGACY_AUTH_SIZE
 */
export const LEGACY_AUTH_SIZE: number = SIGNATURE_LENGTH + 32 + PUBLIC_KEY_LENGTH + NONCE_LENGTH + 1 + ECIES_OVERHEAD;

/**
 * Size of a legacy (pre-EIP-8) ack on the wire: 97 bytes of plaintext plus the ECIES overhead (210).
 * @example encodeAck({ remotePublicKey, legacy: true }).packet.length === LEGACY_ACK_SIZE
 */
export const LEGACY_ACK_SIZE: number = PUBLIC_KEY_LENGTH + NONCE_LENGTH + 1 + ECIES_OVERHEAD;

/**
 * Fewest random padding bytes in an EIP-8 message we send (geth: 100 to 299). At least 100 makes every EIP-8
 * auth longer than a legacy one, so old receivers that read 307 bytes first never stall on it.
 */
const MIN_PADDING = 100;
/** Padding lengths we choose from: MIN_PADDING to MIN_PADDING + PADDING_SPREAD - 1. */
const PADDING_SPREAD = 200;

/** A parsed auth message, with the initiator's ephemeral key recovered from its signature. */
export interface AuthMessage {
  /** The initiator's static public key (64 bytes): its node identity. */
  readonly initiatorPublicKey: Uint8Array;
  /** The initiator's 32-byte nonce. */
  readonly initiatorNonce: Uint8Array;
  /** The initiator's ephemeral public key (64 bytes), recovered from the signature. */
  readonly initiatorEphemeralPublicKey: Uint8Array;
  /** auth-vsn as sent (informational; 4 for legacy messages; undefined when absent or not an integer). */
  readonly version: number | undefined;
  /** True for the legacy pre-EIP-8 format: the recipient answers with a legacy ack. */
  readonly legacy: boolean;
}

/** A parsed ack message. */
export interface AckMessage {
  /** The recipient's ephemeral public key (64 bytes). */
  readonly recipientEphemeralPublicKey: Uint8Array;
  /** The recipient's 32-byte nonce. */
  readonly recipientNonce: Uint8Array;
  /** ack-vsn as sent (informational; 4 for legacy messages; undefined when absent or not an integer). */
  readonly version: number | undefined;
  /** True for the legacy pre-EIP-8 format. */
  readonly legacy: boolean;
}

/** Randomness of a handshake message; every field is random when omitted (tests fix them to reproduce vectors). */
export interface HandshakeRandomness {
  /** Our ephemeral private key for this connection. */
  readonly ephemeralPrivateKey?: Uint8Array;
  /** Our 32-byte nonce. */
  readonly nonce?: Uint8Array;
  /** EIP-8 padding appended after the RLP body (100 to 299 random bytes when omitted). */
  readonly padding?: Uint8Array;
  /** The ECIES encryption's own ephemeral private key. */
  readonly eciesEphemeralPrivateKey?: Uint8Array;
  /** The ECIES encryption's 16-byte iv. */
  readonly eciesIv?: Uint8Array;
}

/** Input of {@link encodeAuth}. */
export interface AuthOptions extends HandshakeRandomness {
  /** Our static private key. */
  readonly privateKey: Uint8Array;
  /** The static public key (64 bytes) of the node we dial. */
  readonly remotePublicKey: Uint8Array;
  /** Send the legacy pre-EIP-8 format (for tests and for talking to very old peers); EIP-8 by default. */
  readonly legacy?: boolean;
}

/** Input of {@link encodeAck}. */
export interface AckOptions extends HandshakeRandomness {
  /** The initiator's static public key, from its auth. */
  readonly remotePublicKey: Uint8Array;
  /** Answer in the legacy format (do this exactly when the auth was legacy). */
  readonly legacy?: boolean;
}

/** A handshake message ready to send, with the secrets its sender keeps for {@link deriveSecrets}. */
export interface EncodedHandshakeMessage {
  /** The exact wire bytes (including the EIP-8 size prefix): also what seeds the MAC states. */
  readonly packet: Uint8Array;
  /** The ephemeral private key the message commits to. */
  readonly ephemeralPrivateKey: Uint8Array;
  /** The nonce the message carries. */
  readonly nonce: Uint8Array;
}

/** The session secrets of one side of a connection. */
export interface Secrets {
  /** AES-256-CTR key of the frame cipher (both directions, each with its own keystream from a zero iv). */
  readonly aesSecret: Uint8Array;
  /** AES-256 key of the MAC construction. */
  readonly macSecret: Uint8Array;
  /** Running keccak-256 state authenticating what we send. */
  readonly egressMac: Keccak256Hasher;
  /** Running keccak-256 state authenticating what we receive. */
  readonly ingressMac: Keccak256Hasher;
}

/** Input of {@link deriveSecrets}: what either side knows once auth and ack have been exchanged. */
export interface SecretsInput {
  /** True on the side that sent the auth. */
  readonly initiator: boolean;
  /** Our ephemeral private key. */
  readonly ephemeralPrivateKey: Uint8Array;
  /** The remote side's ephemeral public key (from the ack, or recovered from the auth). */
  readonly remoteEphemeralPublicKey: Uint8Array;
  readonly initiatorNonce: Uint8Array;
  readonly recipientNonce: Uint8Array;
  /** The auth exactly as it went over the wire. */
  readonly authPacket: Uint8Array;
  /** The ack exactly as it went over the wire. */
  readonly ackPacket: Uint8Array;
}

function handshakeError(message: string, context: RemoteContext, cause?: unknown): ProtocolError {
  return new ProtocolError(ERR_HANDSHAKE, message, { remoteAddress: context.remoteAddress, cause });
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function checkLength(value: Uint8Array, length: number, label: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new RangeError(
      `${label}: expected ${length} bytes, got ${value instanceof Uint8Array ? value.length : value}`,
    );
  }
  return value;
}

function randomPadding(): Uint8Array {
  const pick = randomBytes(1)[0]! | (randomBytes(1)[0]! << 8);
  return randomBytes(MIN_PADDING + (pick % PADDING_SPREAD));
}

/** EIP-8 framing: size(2) ‖ ECIES(body ‖ padding), the size prefix authenticated as shared MAC data. */
function sealEip8(remotePublicKey: Uint8Array, body: Uint8Array, options: HandshakeRandomness): Uint8Array {
  const padding = options.padding ?? randomPadding();
  const size = body.length + padding.length + ECIES_OVERHEAD;
  if (size > HANDSHAKE_MAX_SIZE)
    throw new RangeError(`handshake message of ${size} bytes exceeds ${HANDSHAKE_MAX_SIZE}`);
  const prefix = new Uint8Array([size >> 8, size & 0xff]);
  const sealed = eciesEncrypt(remotePublicKey, concatBytes(body, padding), {
    sharedMacData: prefix,
    ...(options.eciesEphemeralPrivateKey ? { ephemeralPrivateKey: options.eciesEphemeralPrivateKey } : {}),
    ...(options.eciesIv ? { iv: options.eciesIv } : {}),
  });
  return concatBytes(prefix, sealed);
}

function sealLegacy(remotePublicKey: Uint8Array, plaintext: Uint8Array, options: HandshakeRandomness): Uint8Array {
  return eciesEncrypt(remotePublicKey, plaintext, {
    ...(options.eciesEphemeralPrivateKey ? { ephemeralPrivateKey: options.eciesEphemeralPrivateKey } : {}),
    ...(options.eciesIv ? { iv: options.eciesIv } : {}),
  });
}

/**
 * Builds the initiator's auth message (EIP-8 unless `legacy`). Keep the returned ephemeral key, nonce and packet
 * for {@link deriveSecrets}.
 * @example const auth = encodeAuth({ privateKey, remotePublicKey }); await stream.write(auth.packet);
 */
export function encodeAuth(options: AuthOptions): EncodedHandshakeMessage {
  const ephemeralPrivateKey = options.ephemeralPrivateKey ?? generatePrivateKey();
  const nonce = checkLength(options.nonce ?? randomBytes(NONCE_LENGTH), NONCE_LENGTH, 'nonce');
  checkLength(options.remotePublicKey, PUBLIC_KEY_LENGTH, 'remotePublicKey');
  const staticShared = ecdhX(options.privateKey, options.remotePublicKey);
  const signature = sign(xor(staticShared, nonce), ephemeralPrivateKey);
  const publicKey = publicKeyFromPrivate(options.privateKey);
  let packet: Uint8Array;
  if (options.legacy) {
    const ephemeralPublicKey = publicKeyFromPrivate(ephemeralPrivateKey);
    const plaintext = concatBytes(signature, keccak256(ephemeralPublicKey), publicKey, nonce, new Uint8Array(1));
    packet = sealLegacy(options.remotePublicKey, plaintext, options);
  } else {
    const body = rlpEncode([signature, publicKey, nonce, HANDSHAKE_VERSION]);
    packet = sealEip8(options.remotePublicKey, body, options);
  }
  return { packet, ephemeralPrivateKey, nonce };
}

/**
 * Builds the recipient's ack message (EIP-8 unless `legacy`).
 * @example const ack = encodeAck({ remotePublicKey: auth.initiatorPublicKey, legacy: auth.legacy });
 */
export function encodeAck(options: AckOptions): EncodedHandshakeMessage {
  const ephemeralPrivateKey = options.ephemeralPrivateKey ?? generatePrivateKey();
  const nonce = checkLength(options.nonce ?? randomBytes(NONCE_LENGTH), NONCE_LENGTH, 'nonce');
  checkLength(options.remotePublicKey, PUBLIC_KEY_LENGTH, 'remotePublicKey');
  const ephemeralPublicKey = publicKeyFromPrivate(ephemeralPrivateKey);
  const packet = options.legacy
    ? sealLegacy(options.remotePublicKey, concatBytes(ephemeralPublicKey, nonce, new Uint8Array(1)), options)
    : sealEip8(options.remotePublicKey, rlpEncode([ephemeralPublicKey, nonce, HANDSHAKE_VERSION]), options);
  return { packet, ephemeralPrivateKey, nonce };
}

/** A version field read leniently: EIP-8 says to ignore it, so a malformed one is reported as undefined. */
function readVersion(value: RlpValue | undefined): number | undefined {
  if (!(value instanceof Uint8Array) || value.length > 6) return undefined;
  let n = 0;
  for (let i = 0; i < value.length; i++) n = n * 256 + value[i]!;
  return n;
}

/** Decrypts an EIP-8 packet (size prefix as shared MAC data) and returns its RLP list (trailing padding ignored). */
function openEip8(privateKey: Uint8Array, packet: Uint8Array, what: string, minItems: number): RlpValue[] {
  const declared = packet.length >= 2 ? (packet[0]! << 8) | packet[1]! : -1;
  if (declared !== packet.length - 2) {
    throw new ProtocolError(
      ERR_HANDSHAKE,
      `${what}: size prefix ${declared} does not match ${packet.length - 2} bytes`,
    );
  }
  const plaintext = eciesDecrypt(privateKey, packet.subarray(2), packet.subarray(0, 2));
  return rlpList(rlpDecodePrefix(plaintext).value, what, minItems);
}

/** Recovers the initiator's ephemeral key: its signature covers ecdh(static keys) ^ initiator-nonce. */
function recoverEphemeral(
  privateKey: Uint8Array,
  initiatorPublicKey: Uint8Array,
  nonce: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
  const staticShared = ecdhX(privateKey, initiatorPublicKey);
  return recoverPublicKey(xor(staticShared, nonce), signature);
}

/** Runs `decode`, turning every failure that is not already a ProtocolError into one with ERR_HANDSHAKE. */
function guard<T>(what: string, context: RemoteContext, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof ProtocolError) {
      if (err.remoteAddress !== undefined || context.remoteAddress === undefined) throw err;
      throw handshakeError(err.message, context, err);
    }
    throw handshakeError(`${what}: ${err instanceof Error ? err.message : String(err)}`, context, err);
  }
}

function decodeAuthEip8(privateKey: Uint8Array, packet: Uint8Array): AuthMessage {
  const items = openEip8(privateKey, packet, 'auth', 3);
  const signature = rlpBytes(items[0], 'auth.signature', SIGNATURE_LENGTH);
  const initiatorPublicKey = rlpBytes(items[1], 'auth.initiatorPublicKey', PUBLIC_KEY_LENGTH).slice();
  const initiatorNonce = rlpBytes(items[2], 'auth.nonce', NONCE_LENGTH).slice();
  const initiatorEphemeralPublicKey = recoverEphemeral(privateKey, initiatorPublicKey, initiatorNonce, signature);
  return {
    initiatorPublicKey,
    initiatorNonce,
    initiatorEphemeralPublicKey,
    version: readVersion(items[3]),
    legacy: false,
  };
}

/** Parses a decrypted legacy auth: sig(65) ‖ keccak256(ephemeral-pubk)(32) ‖ pubk(64) ‖ nonce(32) ‖ 0x00. */
function parseAuthLegacy(privateKey: Uint8Array, plaintext: Uint8Array): AuthMessage {
  const signature = plaintext.subarray(0, SIGNATURE_LENGTH);
  // Bytes 65..97 hold keccak256(ephemeral public key): redundant with the signature, and skipped as geth did.
  let offset = SIGNATURE_LENGTH + 32;
  const initiatorPublicKey = plaintext.slice(offset, offset + PUBLIC_KEY_LENGTH);
  offset += PUBLIC_KEY_LENGTH;
  const initiatorNonce = plaintext.slice(offset, offset + NONCE_LENGTH);
  const initiatorEphemeralPublicKey = recoverEphemeral(privateKey, initiatorPublicKey, initiatorNonce, signature);
  return { initiatorPublicKey, initiatorNonce, initiatorEphemeralPublicKey, version: HANDSHAKE_VERSION, legacy: true };
}

function checkEphemeral(key: Uint8Array): Uint8Array {
  if (!isValidPublicKey(key)) throw new ProtocolError(ERR_HANDSHAKE, 'ack: ephemeral key is not a curve point');
  return key;
}

function decodeAckEip8(privateKey: Uint8Array, packet: Uint8Array): AckMessage {
  const items = openEip8(privateKey, packet, 'ack', 2);
  const key = rlpBytes(items[0], 'ack.ephemeralPublicKey', PUBLIC_KEY_LENGTH).slice();
  const recipientNonce = rlpBytes(items[1], 'ack.nonce', NONCE_LENGTH).slice();
  return {
    recipientEphemeralPublicKey: checkEphemeral(key),
    recipientNonce,
    version: readVersion(items[2]),
    legacy: false,
  };
}

/** Parses a decrypted legacy ack: ephemeral-pubk(64) ‖ nonce(32) ‖ 0x00. */
function parseAckLegacy(plaintext: Uint8Array): AckMessage {
  const key = plaintext.slice(0, PUBLIC_KEY_LENGTH);
  const recipientNonce = plaintext.slice(PUBLIC_KEY_LENGTH, PUBLIC_KEY_LENGTH + NONCE_LENGTH);
  return { recipientEphemeralPublicKey: checkEphemeral(key), recipientNonce, version: HANDSHAKE_VERSION, legacy: true };
}

/**
 * Decodes one complete packet: a legacy one has exactly the legacy size and starts with the ECIES key's 0x04
 * (an EIP-8 packet starting with 0x04 declares at least 1024 bytes, so the two never collide).
 */
function decodeEither<T>(
  privateKey: Uint8Array,
  packet: Uint8Array,
  legacySize: number,
  legacy: (plaintext: Uint8Array) => T,
  eip8: (packet: Uint8Array) => T,
): T {
  return packet.length === legacySize && packet[0] === 0x04 ? legacy(eciesDecrypt(privateKey, packet)) : eip8(packet);
}

/**
 * Decrypts and parses one complete auth message (EIP-8 or legacy) with our static key, and recovers the
 * initiator's ephemeral key. Throws ProtocolError (code ERR_HANDSHAKE) on anything invalid.
 * @example const auth = decodeAuth(privateKey, packet); // auth.initiatorPublicKey is the remote node id
 */
export function decodeAuth(privateKey: Uint8Array, packet: Uint8Array, context: RemoteContext = {}): AuthMessage {
  return guard('auth', context, () =>
    decodeEither(
      privateKey,
      packet,
      LEGACY_AUTH_SIZE,
      (plaintext) => parseAuthLegacy(privateKey, plaintext),
      (p) => decodeAuthEip8(privateKey, p),
    ),
  );
}

/**
 * Decrypts and parses one complete ack message (EIP-8 or legacy) with our static key. Throws ProtocolError
 * (code ERR_HANDSHAKE) on anything invalid.
 * @example const ack = decodeAck(privateKey, packet);
 */
export function decodeAck(privateKey: Uint8Array, packet: Uint8Array, context: RemoteContext = {}): AckMessage {
  return guard('ack', context, () =>
    decodeEither(privateKey, packet, LEGACY_ACK_SIZE, parseAckLegacy, (p) => decodeAckEip8(privateKey, p)),
  );
}

/** A complete handshake message cut from the stream, and the bytes that followed it. */
export interface HandshakeRead<T> {
  readonly message: T;
  /** The exact wire bytes of the message. */
  readonly packet: Uint8Array;
  /** Bytes received after the message (the start of the first frame); empty usually. */
  readonly rest: Uint8Array;
}

/**
 * Cuts one handshake message out of a byte stream fed in arbitrary chunks. It never holds more than the
 * message (at most {@link HANDSHAKE_MAX_SIZE} + 2 bytes) plus the last chunk.
 */
export interface HandshakeReader<T> {
  /** Adds received bytes; returns the message once complete, else undefined. Throws a typed error. */
  push(chunk: Uint8Array): HandshakeRead<T> | undefined;
}

class MessageReader<T> implements HandshakeReader<T> {
  #buffer: Uint8Array = new Uint8Array(0);
  #legacyChecked = false;
  readonly #privateKey: Uint8Array;
  readonly #legacySize: number;
  readonly #legacy: (plaintext: Uint8Array) => T;
  readonly #eip8: (packet: Uint8Array) => T;
  readonly #what: string;
  readonly #context: RemoteContext;

  constructor(
    what: string,
    privateKey: Uint8Array,
    legacySize: number,
    legacy: (plaintext: Uint8Array) => T,
    eip8: (packet: Uint8Array) => T,
    context: RemoteContext,
  ) {
    this.#what = what;
    this.#privateKey = privateKey;
    this.#legacySize = legacySize;
    this.#legacy = legacy;
    this.#eip8 = eip8;
    this.#context = context;
  }

  push(chunk: Uint8Array): HandshakeRead<T> | undefined {
    const buffer = this.#buffer.length === 0 ? chunk : concatBytes(this.#buffer, chunk);
    this.#buffer = buffer;
    if (buffer.length < 2) return undefined;
    // A legacy message starts with the ECIES key's 0x04; an EIP-8 one starting with 0x04 declares at least
    // 1024 bytes, more than a legacy message, so waiting for the legacy size first never stalls either kind.
    if (!this.#legacyChecked && buffer[0] === 0x04) {
      if (buffer.length < this.#legacySize) return undefined;
      this.#legacyChecked = true;
      const packet = buffer.subarray(0, this.#legacySize);
      let plaintext: Uint8Array | undefined;
      try {
        plaintext = eciesDecrypt(this.#privateKey, packet);
      } catch {
        plaintext = undefined; // not a legacy message: read it as EIP-8 below
      }
      if (plaintext !== undefined) {
        const legacy = plaintext;
        return this.#done(
          packet,
          guard(this.#what, this.#context, () => this.#legacy(legacy)),
        );
      }
    }
    const declared = (buffer[0]! << 8) | buffer[1]!;
    if (declared > HANDSHAKE_MAX_SIZE) {
      throw new TooLargeError(`${this.#what} message`, declared, HANDSHAKE_MAX_SIZE, this.#context);
    }
    if (declared < ECIES_OVERHEAD) {
      throw handshakeError(`${this.#what}: declared size ${declared} is below the ECIES overhead`, this.#context);
    }
    if (buffer.length < declared + 2) return undefined;
    const packet = buffer.subarray(0, declared + 2);
    return this.#done(
      packet,
      guard(this.#what, this.#context, () => this.#eip8(packet)),
    );
  }

  #done(packet: Uint8Array, message: T): HandshakeRead<T> {
    const rest = this.#buffer.subarray(packet.length);
    this.#buffer = new Uint8Array(0);
    return { message, packet, rest };
  }
}

/**
 * A reader for the auth message the recipient receives (EIP-8 up to {@link HANDSHAKE_MAX_SIZE} bytes, or legacy).
 * @example const reader = createAuthReader(privateKey); let read; while (!(read = reader.push(await next())));
 */
export function createAuthReader(privateKey: Uint8Array, context: RemoteContext = {}): HandshakeReader<AuthMessage> {
  return new MessageReader(
    'auth',
    privateKey,
    LEGACY_AUTH_SIZE,
    (plaintext) => parseAuthLegacy(privateKey, plaintext),
    (p) => decodeAuthEip8(privateKey, p),
    context,
  );
}

/**
 * A reader for the ack message the initiator receives (EIP-8 up to {@link HANDSHAKE_MAX_SIZE} bytes, or legacy).
 * @example const reader = createAckReader(privateKey); let read; while (!(read = reader.push(await next())));
 */
export function createAckReader(privateKey: Uint8Array, context: RemoteContext = {}): HandshakeReader<AckMessage> {
  return new MessageReader(
    'ack',
    privateKey,
    LEGACY_ACK_SIZE,
    parseAckLegacy,
    (p) => decodeAckEip8(privateKey, p),
    context,
  );
}

/**
 * Derives the session secrets as the RLPx spec defines them:
 * shared = keccak(ecdhe ‖ keccak(recipient-nonce ‖ initiator-nonce)), aes = keccak(ecdhe ‖ shared),
 * mac = keccak(ecdhe ‖ aes); the initiator's egress MAC starts as keccak((mac ^ recipient-nonce) ‖ auth) and its
 * ingress MAC as keccak((mac ^ initiator-nonce) ‖ ack); the recipient's are the same two, swapped.
 * Throws CryptoError when the remote ephemeral key is not a curve point (decodeAck already rejects those).
 * @example const secrets = deriveSecrets({ initiator: true, ephemeralPrivateKey, remoteEphemeralPublicKey, ... });
 */
export function deriveSecrets(input: SecretsInput): Secrets {
  checkLength(input.initiatorNonce, NONCE_LENGTH, 'initiatorNonce');
  checkLength(input.recipientNonce, NONCE_LENGTH, 'recipientNonce');
  const ecdhe = ecdhX(input.ephemeralPrivateKey, input.remoteEphemeralPublicKey);
  const nonceHash = createKeccak256().update(input.recipientNonce).update(input.initiatorNonce).digest();
  const shared = createKeccak256().update(ecdhe).update(nonceHash).digest();
  const aesSecret = createKeccak256().update(ecdhe).update(shared).digest();
  const macSecret = createKeccak256().update(ecdhe).update(aesSecret).digest();
  const authMac = createKeccak256().update(xor(macSecret, input.recipientNonce)).update(input.authPacket);
  const ackMac = createKeccak256().update(xor(macSecret, input.initiatorNonce)).update(input.ackPacket);
  return input.initiator
    ? { aesSecret, macSecret, egressMac: authMac, ingressMac: ackMac }
    : { aesSecret, macSecret, egressMac: ackMac, ingressMac: authMac };
}
