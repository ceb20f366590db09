/**
 * The RLPx frame codec. A frame on the wire is
 *
 *     header-ciphertext(16) ‖ header-mac(16) ‖ frame-ciphertext(padded to 16) ‖ frame-mac(16)
 *
 * where the header is frame-size(3, big-endian) ‖ header-data (rlp([0, 0]) = c28080) ‖ zero padding, and the
 * frame content is rlp(message-code) ‖ message-data. Both parts are encrypted with one continuous AES-256-CTR
 * keystream per direction. The MACs come from a running keccak-256 state per direction:
 *
 *     header-mac = first16(mac.update(aes(mac-secret, first16(mac.digest())) ^ header-ciphertext).digest())
 *     frame-mac  = mac.update(frame-ciphertext); seed = first16(mac.digest());
 *                  first16(mac.update(aes(mac-secret, seed) ^ seed).digest())
 *
 * The decoder verifies each MAC before decrypting what it covers.
 */
import { ProtocolError, type RemoteContext, TooLargeError } from '@devp2p/core';
import {
  type AesBlockCipher,
  type AesCtrStream,
  CTR_JS_MAX_BYTES,
  createAes256Ecb,
  createAesCtr,
  type Keccak256Hasher,
} from '@devp2p/crypto';
import type { Secrets } from './handshake.ts';
import { ERR_BAD_MAC, ERR_BAD_MESSAGE, MAX_FRAME_SIZE } from './limits.ts';
import { sharedScratch } from './scratch.ts';

/** Header plus header MAC. */
const HEADER_SIZE = 32;
/**
 * The frames that follow one another complete in what has been received (a sender's burst arrives in one chunk) are
 * decrypted together: each one's MACs verified in turn, its header read through a keystream block peeked ahead
 * (`AesCtrStream.peekBlockInto`), its body copied out of the chunks into one array, side by side with the headers
 * (the keystream runs over both), and then all of it decrypted in one keystream call: one `node:crypto` call and one
 * array for a chunk's frames rather than one each. Their data are views of that array. A batch holds at most this
 * many bytes (the gathered headers and bodies): 64 KiB, a socket read; a frame whose body alone is larger is decoded
 * alone, from a view of its chunk where it can be.
 */
const BATCH_MAX_BYTES = 64 * 1024;
/**
 * The array where the spans one keystream call runs over are gathered side by side: a decoded batch's headers and
 * bodies, and the frames a send batch staged, sealed together (FrameEncoder `sealStagedFrames`: a turn's frames, a
 * sender's burst or a read loop's replies, cost one `node:crypto` call and one array for its output rather than one
 * each; 1 KiB messages in 16 KiB turns: 1,040 bytes took 1.1 µs a call on Node, 0.35 µs in one call for 16). Both
 * use it up within one synchronous call, so one array serves every encoder and decoder, grown to the largest batch
 * up to 64 KiB (a send batch is at most WRITE_BATCH_BYTES, the same); a larger one gets an array of its own.
 */
const gatherArray = sharedScratch(1024, BATCH_MAX_BYTES);
/**
 * Where each frame of a batch starts in the gathered bytes, and its content size (one batch at a time). Every frame
 * after the first adds at least its 16-byte header to the batch (an empty body, which fails its turn, adds nothing).
 */
const BATCH_FRAME_AT = new Int32Array(BATCH_MAX_BYTES / 16 + 1);
const BATCH_FRAME_SIZE = new Int32Array(BATCH_MAX_BYTES / 16 + 1);
/** Frames decoded with an earlier one and waiting for their `next()`: none. */
const NO_FRAMES: readonly DecodedFrame[] = [];
/**
 * Frame data up to this many bytes is copied out of the batch's decrypted array rather than viewed in it: a Ping
 * kept keeps no batch alive, and a batch decrypted in JavaScript (CTR_JS_MAX_BYTES at most) was decrypted in the
 * shared gathering array itself, so the copy is what makes its data the frame's own.
 */
const COPIED_DATA_BYTES = CTR_JS_MAX_BYTES;
/**
 * Spans of bytes up to this length are copied by a loop, longer ones by `set` on a view (a call, and a view object
 * each: a flood of Pings answered made three of them per message, about 330 bytes of garbage).
 */
const COPY_LOOP_MAX_BYTES = 64;
/**
 * Frame ciphertexts up to COPY_LOOP_MAX_BYTES are hashed for their MAC from one shared array (hashing is
 * synchronous), through a view of it for each length (a multiple of 16), rather than through a new view of the
 * frame's bytes: SMALL_SPANS[length / 16].
 */
const SMALL_SPAN_SCRATCH = new Uint8Array(COPY_LOOP_MAX_BYTES);
const SMALL_SPANS = Array.from({ length: COPY_LOOP_MAX_BYTES / 16 + 1 }, (_, i) =>
  SMALL_SPAN_SCRATCH.subarray(0, 16 * i),
);
/**
 * Bytes received just before a larger frame body (its header MAC) that the decoder passes with it to
 * `AesCtrStream.updateTail`: the header, decrypted in JavaScript, leaves the native cipher 16 bytes behind.
 */
const TAKE_LEAD_BYTES = 16;
/**
 * A larger frame body that spans received chunks is copied out of them into one array, for its MAC and the cipher,
 * which decrypts it into a new array of its own: the copy is garbage once the frame is decoded. Bodies up to this
 * size are copied into one array shared by every decoder (decoding is synchronous), grown to the largest such body
 * received, rather than into a new zeroed one each (1 MiB messages over one connection: 1.01–1.03× on Node, Bun and
 * Deno). 2 MiB holds geth's soft limit on a response (eth, snap); a process that never receives a body larger than
 * a chunk never allocates it.
 */
const SHARED_BODY_MAX_BYTES = 2 * 1024 * 1024;
const bodyCopyArray = sharedScratch(0, SHARED_BODY_MAX_BYTES);

/** Length of each MAC on the wire. */
const MAC_SIZE = 16;
/**
 * A header's ciphertext, its plaintext and a MAC as received, copied out of the chunks (no views): shared by every
 * decoder, as the body scratch is, since each is read and used within one synchronous call.
 */
const HEADER_CIPHERTEXT = new Uint8Array(16);
const HEADER_PLAIN = new Uint8Array(16);
const RECEIVED_MAC = new Uint8Array(MAC_SIZE);
/** header-data of every frame we send: rlp([capability-id 0, context-id 0]), as geth sends it. */
const HEADER_DATA = [0xc2, 0x80, 0x80] as const;

/** One decoded frame: the message code and the message data that followed it (still snappy-compressed, if so). */
export interface DecodedFrame {
  readonly code: number;
  /**
   * Safe to keep: nothing writes to it again. Up to 64 bytes, an array of its own; larger, a view into an array that
   * may hold the other frames decoded with it (from the same received bytes, at most 64 KiB), or into its own.
   */
  readonly data: Uint8Array;
}

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Largest frame content accepted, checked once the header is authenticated and its frame is next, before its body is
   * waited for; {@link MAX_FRAME_SIZE} by default.
   */
  readonly maxFrameSize?: number;
  /** Put into every error this decoder throws. */
  readonly remoteAddress?: string;
}

/**
 * One direction's MAC: a running keccak-256 state and the AES-256 block cipher keyed with the mac-secret. It works in
 * two scratch arrays of its own and returns the MAC as the first 16 bytes of one of them (valid until its next call),
 * so that a frame costs no array per digest: four digests a frame were a large share of what a flood of small
 * messages allocated.
 */
class MacState {
  readonly #hash: Keccak256Hasher;
  readonly #cipher: AesBlockCipher;
  /** The latest digest; its first 16 bytes are the MAC returned. */
  readonly #digest = new Uint8Array(32);
  readonly #block = new Uint8Array(16);
  /**
   * Whether #digest is the hash's current digest. The hash is this state's alone once the codec has it, and every
   * MAC ends by reading the digest, so only the first header MAC has to compute it: this saves one keccak
   * permutation per frame.
   */
  #digestCurrent = false;

  constructor(hash: Keccak256Hasher, macSecret: Uint8Array) {
    this.#hash = hash;
    this.#cipher = createAes256Ecb(macSecret);
  }

  /** Absorbs aes(first16(#digest)) ^ seed[at..at+16] and returns the new digest (its first 16 bytes: the MAC). */
  #reseed(seed: Uint8Array, at: number): Uint8Array {
    const block = this.#block;
    const digest = this.#digest;
    for (let i = 0; i < 16; i++) block[i] = digest[i]!;
    this.#cipher.encryptBlock(block, block);
    for (let i = 0; i < 16; i++) block[i]! ^= seed[at + i]!;
    this.#hash.update(block);
    this.#readDigest();
    return digest;
  }

  /** The hash's digest into #digest (through `digest()` for a hasher without `digestInto`). */
  #readDigest(): void {
    const hash = this.#hash;
    if (hash.digestInto) hash.digestInto(this.#digest);
    else this.#digest.set(hash.digest());
    this.#digestCurrent = true;
  }

  /** The header MAC of the header ciphertext at bytes[at..at+16]. */
  header(bytes: Uint8Array, at: number): Uint8Array {
    if (!this.#digestCurrent) this.#readDigest();
    return this.#reseed(bytes, at);
  }

  /**
   * The frame MAC of the frame ciphertext at bytes[at..at+length], padded (`length` a multiple of 16): hashed once,
   * then reseeded with its own digest.
   */
  frame(bytes: Uint8Array, at: number, length: number): Uint8Array {
    if (length <= COPY_LOOP_MAX_BYTES) {
      const span = SMALL_SPANS[length / 16]!;
      copyBytes(bytes, at, span, 0, length);
      this.#hash.update(span);
    } else this.#hash.update(at === 0 && length === bytes.length ? bytes : bytes.subarray(at, at + length));
    return this.frameEnd();
  }

  /** Hashes a part of a frame ciphertext given in parts: `frameEnd` then returns the frame MAC of them all. */
  framePart(part: Uint8Array): void {
    this.#hash.update(part);
  }

  /** The frame MAC of the frame ciphertext hashed so far. */
  frameEnd(): Uint8Array {
    this.#readDigest();
    return this.#reseed(this.#digest, 0);
  }
}

/** Whether a[aAt..aAt+16] and b[bAt..bAt+16] are equal, in time independent of where they differ. */
function equal16(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): boolean {
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= a[aAt + i]! ^ b[bAt + i]!;
  return diff === 0;
}

/** Length of rlp(code) for a message code. */
function codeLength(code: number): number {
  if (code < 0x80) return 1;
  let n = 1;
  for (let v = code; v > 0; v = Math.floor(v / 256)) n++;
  return n;
}

function writeCode(out: Uint8Array, offset: number, code: number, length: number): void {
  if (code === 0) out[offset] = 0x80;
  else if (code < 0x80) out[offset] = code;
  else {
    out[offset] = 0x80 + length - 1;
    for (let i = offset + length - 1, v = code; i > offset; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  }
}

/** The plaintext header's first six bytes at out[at..]: the content size (3 bytes, big-endian) and header-data. */
function writeHeader(out: Uint8Array, at: number, size: number): void {
  out[at] = size >>> 16;
  out[at + 1] = (size >>> 8) & 0xff;
  out[at + 2] = size & 0xff;
  out[at + 3] = HEADER_DATA[0];
  out[at + 4] = HEADER_DATA[1];
  out[at + 5] = HEADER_DATA[2];
}

/** Copies src[from..from+n] to out[at..]. */
function copyBytes(src: Uint8Array, from: number, out: Uint8Array, at: number, n: number): void {
  if (n > COPY_LOOP_MAX_BYTES) out.set(src.subarray(from, from + n), at);
  else for (let i = 0; i < n; i++) out[at + i] = src[from + i]!;
}

/** The content size in the plaintext header at bytes[at..] (see writeHeader). */
function readSize(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
}

/** Rounds up to the AES block size. */
function padded(size: number): number {
  return (size + 15) & ~15;
}

/**
 * Encrypts and authenticates outgoing frames (the egress half of a connection). Calls must be made in the order
 * the frames go out on the wire: each one advances the keystream and the MAC state.
 * @example const wire = new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.egressMac).encodeFrame(0x10, payload);
 */
export class FrameEncoder {
  readonly #cipher: AesCtrStream;
  readonly #mac: MacState;
  /** Wire bytes of the frames staged by `stageFrameInto` and not yet sealed. */
  #staged = 0;

  constructor(aesSecret: Uint8Array, macSecret: Uint8Array, egressMac: Keccak256Hasher) {
    this.#cipher = createAesCtr(aesSecret, new Uint8Array(16));
    this.#mac = new MacState(egressMac, macSecret);
  }

  /**
   * One complete frame holding rlp(code) ‖ data, in a single buffer ready for the socket. Throws a RangeError for
   * a code that is not a non-negative safe integer and a TooLargeError (nothing is consumed) when the frame
   * content exceeds {@link MAX_FRAME_SIZE}.
   */
  encodeFrame(code: number, data: Uint8Array): Uint8Array {
    const out = new Uint8Array(frameLength(code, data.length));
    this.encodeFrameInto(code, data, out, 0);
    return out;
  }

  /**
   * The frame of rlp(code) ‖ data in three parts, to be written one after another: the header, its MAC and the
   * encrypted code; the encrypted data, as the cipher returns it; the encrypted padding and the frame MAC. Nothing
   * of the frame's size is allocated or copied besides what the cipher returns, which suits large messages. Throws as
   * {@link FrameEncoder.encodeFrame} does (nothing is consumed).
   */
  encodeFrameParts(code: number, data: Uint8Array): [head: Uint8Array, body: Uint8Array, tail: Uint8Array] {
    this.#checkNothingStaged();
    frameLength(code, data.length);
    const codeLen = codeLength(code);
    const size = codeLen + data.length;
    const padding = padded(size) - size;
    const head = new Uint8Array(HEADER_SIZE + codeLen);
    writeHeader(head, 0, size);
    writeCode(head, HEADER_SIZE, code, codeLen);
    const cipher = this.#cipher;
    const mac = this.#mac;
    cipher.updateInto(head, 0, 16, head, 0);
    cipher.updateInto(head, HEADER_SIZE, codeLen, head, HEADER_SIZE);
    head.set(mac.header(head, 0).subarray(0, 16), 16);
    const body = cipher.update(data);
    const tail = new Uint8Array(padding + MAC_SIZE);
    cipher.updateInto(tail, 0, padding, tail, 0);
    mac.framePart(head.subarray(HEADER_SIZE));
    mac.framePart(body);
    mac.framePart(tail.subarray(0, padding));
    tail.set(mac.frameEnd().subarray(0, MAC_SIZE), padding);
    return [head, body, tail];
  }

  /**
   * Encodes the frame of rlp(code) ‖ data into `out` at `offset`, which must have room for
   * {@link frameLength}(code, data.length) bytes, and returns that length. Throws as
   * {@link FrameEncoder.encodeFrame} does, and a RangeError when `out` has no room (nothing is consumed either way).
   */
  encodeFrameInto(code: number, data: Uint8Array, out: Uint8Array, offset: number): number {
    this.#checkNothingStaged();
    const length = this.stageFrameInto(code, data, out, offset);
    this.sealStagedFrames(out, offset, offset + length);
    return length;
  }

  /**
   * Lays out the frame of rlp(code) ‖ data in `out` at `offset`, not yet encrypted: the plaintext header where its
   * MAC will go and the plaintext content (padded) where its ciphertext will, until `sealStagedFrames` encrypts and
   * authenticates it with the frames staged before it, in one keystream call. Frames written one after another into
   * one buffer (a turn's burst of sends or replies) are staged so, then sealed together before the buffer goes to the
   * socket; no other frame can be encoded meanwhile. Returns the frame's length; throws as `encodeFrameInto` does.
   */
  stageFrameInto(code: number, data: Uint8Array, out: Uint8Array, offset: number): number {
    const length = frameLength(code, data.length);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > out.length) {
      throw new RangeError(`no room for a ${length}-byte frame at ${offset} of ${out.length} bytes`);
    }
    const codeLen = codeLength(code);
    const size = codeLen + data.length;
    // Header and content side by side, as the keystream runs over them.
    writeHeader(out, offset + 16, size);
    out.fill(0, offset + 22, offset + HEADER_SIZE);
    const content = offset + HEADER_SIZE;
    writeCode(out, content, code, codeLen);
    out.set(data, content + codeLen);
    out.fill(0, content + size, content + padded(size));
    this.#staged += length;
    return length;
  }

  /**
   * Encrypts and authenticates every staged frame, which must be exactly out[from..to) as `stageFrameInto` laid them
   * out (a RangeError otherwise, and nothing is consumed): the bytes are then ready for the socket.
   */
  sealStagedFrames(out: Uint8Array, from: number, to: number): void {
    if (!Number.isSafeInteger(from) || from < 0 || to > out.length || to - from !== this.#staged) {
      throw new RangeError(`the ${this.#staged} staged bytes are not out[${from}..${to}] of ${out.length}`);
    }
    const firstBody = padded(readSize(out, from + 16));
    if (from + HEADER_SIZE + firstBody + MAC_SIZE === to) {
      // One frame: its header and content are side by side already, and are encrypted where they are.
      this.#staged = 0;
      this.#cipher.updateInto(out, from + 16, 16 + firstBody, out, from + 16);
      for (let i = 0; i < 16; i++) out[from + i] = out[from + 16 + i]!;
      this.#authenticate(out, from, firstBody);
      return;
    }
    // Each frame's header and content gathered after the last one's, for one keystream call over them all.
    const gathered = gatherArray(to - from);
    let keyed = 0;
    for (let at = from; at < to; ) {
      const body = padded(readSize(out, at + 16));
      if (at + HEADER_SIZE + body + MAC_SIZE > to) throw new RangeError(`a staged frame at ${at} runs past ${to}`);
      copyBytes(out, at + 16, gathered, keyed, 16 + body);
      keyed += 16 + body;
      at += HEADER_SIZE + body + MAC_SIZE;
    }
    this.#staged = 0;
    this.#cipher.updateInto(gathered, 0, keyed, gathered, 0);
    for (let at = from, k = 0; at < to; ) {
      const body = padded(readSize(out, at + 16));
      for (let i = 0; i < 16; i++) out[at + i] = gathered[k + i]!;
      copyBytes(gathered, k + 16, out, at + HEADER_SIZE, body);
      this.#authenticate(out, at, body);
      k += 16 + body;
      at += HEADER_SIZE + body + MAC_SIZE;
    }
  }

  /** Writes the MACs of the frame at out[at..] whose header and `body` bytes of content are there, encrypted. */
  #authenticate(out: Uint8Array, at: number, body: number): void {
    const mac = this.#mac;
    const headerMac = mac.header(out, at);
    for (let i = 0; i < 16; i++) out[at + 16 + i] = headerMac[i]!;
    const content = at + HEADER_SIZE;
    const frameMac = mac.frame(out, content, body);
    for (let i = 0; i < MAC_SIZE; i++) out[content + body + i] = frameMac[i]!;
  }

  #checkNothingStaged(): void {
    if (this.#staged !== 0) throw new Error(`FrameEncoder: ${this.#staged} staged bytes must be sealed first`);
  }
}

/**
 * Bytes on the wire of the frame holding rlp(code) and `dataLength` bytes of message data: header, header MAC, the
 * content padded to 16 bytes, frame MAC. Throws a RangeError for a code that is not a non-negative safe integer and
 * a TooLargeError when the content exceeds {@link MAX_FRAME_SIZE}.
 * @example frameLength(0x03, 3) // 64: a Pong
 */
export function frameLength(code: number, dataLength: number): number {
  if (!Number.isSafeInteger(code) || code < 0) throw new RangeError(`message code must be a non-negative integer`);
  const size = codeLength(code) + dataLength;
  if (size > MAX_FRAME_SIZE) throw new TooLargeError('frame', size, MAX_FRAME_SIZE);
  return HEADER_SIZE + padded(size) + MAC_SIZE;
}

/**
 * Authenticates and decrypts incoming frames (the ingress half of a connection) from bytes fed in arbitrary
 * chunks. It keeps references to the chunks it is given (no copy until a frame is complete) and allocates
 * nothing for a frame's declared size up front, so a peer announcing a large frame costs only what it sends.
 * Feed it only while {@link FrameDecoder.next} returns undefined and it never holds more than one frame plus one
 * chunk, and the frames decoded together from them (at most 64 KiB of their content) until `next` has returned them.
 * After it throws, it is unusable (the MAC state is lost) and throws the same error again; the frames before the bad
 * one are returned first.
 *
 * @example
 * decoder.push(chunk);
 * for (let frame = decoder.next(); frame; frame = decoder.next()) handle(frame.code, frame.data);
 */
export class FrameDecoder {
  readonly #cipher: AesCtrStream;
  readonly #mac: MacState;
  #maxFrameSize: number;
  readonly #context: RemoteContext;
  #chunks: Uint8Array[] = [];
  /** Read position in #chunks[0]. */
  #offset = 0;
  #buffered = 0;
  /** Content size of the frame whose header has been read and authenticated, or -1 while waiting for a header. */
  #frameSize = -1;
  /** Frames decoded with an earlier one (a batch), returned by the next calls, from #readyAt on. */
  #ready: readonly DecodedFrame[] = NO_FRAMES;
  #readyAt = 0;
  /** What a batch's decoding failed with after the frames before it: thrown once they are returned. */
  #failureAfterReady: unknown;
  /** The message code of the frame being decoded (see #readCode). */
  #code = 0;
  /** Bytes before the data in the last view #take returned. */
  #lead = 0;
  #failure: unknown;

  constructor(
    aesSecret: Uint8Array,
    macSecret: Uint8Array,
    ingressMac: Keccak256Hasher,
    options: FrameDecoderOptions = {},
  ) {
    this.#cipher = createAesCtr(aesSecret, new Uint8Array(16));
    this.#mac = new MacState(ingressMac, macSecret);
    this.#maxFrameSize = Math.min(options.maxFrameSize ?? MAX_FRAME_SIZE, MAX_FRAME_SIZE);
    this.#context = { remoteAddress: options.remoteAddress };
  }

  /** Largest frame content accepted from the next frame on, whether its header was read or not (≤ MAX_FRAME_SIZE). */
  get maxFrameSize(): number {
    return this.#maxFrameSize;
  }

  set maxFrameSize(size: number) {
    if (!Number.isSafeInteger(size) || size < 1)
      throw new RangeError('FrameDecoder: maxFrameSize must be a positive integer');
    this.#maxFrameSize = Math.min(size, MAX_FRAME_SIZE);
  }

  /** Bytes received but not yet consumed by a complete frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Bytes still missing before the next frame can complete (at least 1 when nothing is buffered); 0 when
   * {@link FrameDecoder.next} has enough to return a frame or fail.
   */
  get bytesNeeded(): number {
    if (this.#readyAt < this.#ready.length || this.#failureAfterReady !== undefined) return 0;
    const need = this.#frameSize < 0 ? HEADER_SIZE : padded(this.#frameSize) + MAC_SIZE;
    return Math.max(0, need - this.#buffered);
  }

  /** Adds received bytes (kept by reference: do not modify them afterwards). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next complete frame, or undefined when more bytes are needed. Throws ProtocolError with code ERR_BAD_MAC
   * for a header or frame MAC that does not verify, ERR_BAD_MESSAGE for content without a valid message code,
   * and TooLargeError for a declared size above the limit. The frames before a bad one are returned first.
   */
  next(): DecodedFrame | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    const ready = this.#ready;
    if (this.#readyAt < ready.length) {
      const frame = ready[this.#readyAt++]!;
      if (this.#readyAt === ready.length) {
        this.#ready = NO_FRAMES;
        this.#readyAt = 0;
      }
      return frame;
    }
    try {
      if (this.#failureAfterReady !== undefined) throw this.#failureAfterReady;
      return this.#next();
    } catch (err) {
      this.#failure = err;
      this.#chunks = [];
      this.#buffered = 0;
      throw err;
    }
  }

  #next(): DecodedFrame | undefined {
    if (this.#frameSize < 0) {
      if (this.#buffered < HEADER_SIZE) return undefined;
      this.#takeInto(HEADER_CIPHERTEXT, 0, 16);
      this.#takeInto(RECEIVED_MAC, 0, MAC_SIZE);
      if (!equal16(this.#mac.header(HEADER_CIPHERTEXT, 0), 0, RECEIVED_MAC, 0)) {
        throw new ProtocolError(ERR_BAD_MAC, 'bad frame header MAC', this.#context);
      }
      this.#cipher.updateInto(HEADER_CIPHERTEXT, 0, 16, HEADER_PLAIN, 0);
      this.#frameSize = readSize(HEADER_PLAIN, 0);
    }
    // Checked when the frame's turn comes, against the limit then: a header read ahead with a batch waits for it.
    const size = this.#frameSize;
    if (size > this.#maxFrameSize) throw new TooLargeError('frame', size, this.#maxFrameSize, this.#context);
    const bodySize = padded(size);
    if (this.#buffered < bodySize + MAC_SIZE) return undefined;
    return TAKE_LEAD_BYTES + bodySize <= BATCH_MAX_BYTES ? this.#nextBatch() : this.#nextAlone();
  }

  /**
   * The frame whose header has been read and whose body is here, and with it every following frame that is complete
   * in what has been received and fits the batch (BATCH_MAX_BYTES): returns the first, queues the rest in #ready.
   * The header after the last of them, when it is here, is read too (the next call takes its frame).
   */
  #nextBatch(): DecodedFrame {
    const gather = gatherArray(Math.min(TAKE_LEAD_BYTES + this.#buffered, BATCH_MAX_BYTES));
    // gather[0..TAKE_LEAD_BYTES) stands before the first body for `updateTail` (its bytes do not matter); after it,
    // each body and then the next header, as the keystream runs.
    let keyed = TAKE_LEAD_BYTES;
    let count = 0;
    let failure: unknown;
    let size = this.#frameSize;
    for (;;) {
      const bodySize = padded(size);
      this.#takeInto(gather, keyed, bodySize);
      this.#takeInto(RECEIVED_MAC, 0, MAC_SIZE);
      if (!equal16(this.#mac.frame(gather, keyed, bodySize), 0, RECEIVED_MAC, 0)) {
        failure = new ProtocolError(ERR_BAD_MAC, 'bad frame MAC', this.#context);
        break;
      }
      BATCH_FRAME_AT[count] = keyed;
      BATCH_FRAME_SIZE[count] = size;
      count++;
      keyed += bodySize;
      this.#frameSize = -1;
      if (this.#buffered < HEADER_SIZE || keyed + 16 > BATCH_MAX_BYTES) break;
      this.#takeInto(gather, keyed, 16);
      this.#takeInto(RECEIVED_MAC, 0, MAC_SIZE);
      if (!equal16(this.#mac.header(gather, keyed), 0, RECEIVED_MAC, 0)) {
        failure = new ProtocolError(ERR_BAD_MAC, 'bad frame header MAC', this.#context);
        break;
      }
      this.#cipher.peekBlockInto(keyed - TAKE_LEAD_BYTES, gather, keyed, HEADER_PLAIN, 0);
      keyed += 16;
      size = readSize(HEADER_PLAIN, 0);
      this.#frameSize = size;
      // Its frame joins the batch when it is all here, within the limit and fits; else it waits for the next call.
      const next = padded(size);
      if (size > this.#maxFrameSize || this.#buffered < next + MAC_SIZE || keyed + next > BATCH_MAX_BYTES) break;
    }
    if (count === 0) throw failure;
    // Decrypted in place when JavaScript does it (the data is then copied out), else into a new array.
    const jsSpan = keyed - TAKE_LEAD_BYTES <= CTR_JS_MAX_BYTES;
    if (jsSpan) this.#cipher.updateInto(gather, TAKE_LEAD_BYTES, keyed - TAKE_LEAD_BYTES, gather, TAKE_LEAD_BYTES);
    const plain = jsSpan ? gather : this.#cipher.updateTail(gather.subarray(0, keyed), TAKE_LEAD_BYTES);
    const shift = jsSpan ? 0 : TAKE_LEAD_BYTES;
    let first: DecodedFrame | undefined;
    let rest: DecodedFrame[] | undefined;
    for (let i = 0; i < count; i++) {
      const at = BATCH_FRAME_AT[i]! - shift;
      const end = at + BATCH_FRAME_SIZE[i]!;
      let dataAt: number;
      try {
        dataAt = at + this.#readCode(plain, at, end - at);
      } catch (err) {
        failure = err;
        break;
      }
      const data = end - dataAt <= COPIED_DATA_BYTES ? plain.slice(dataAt, end) : plain.subarray(dataAt, end);
      const frame: DecodedFrame = { code: this.#code, data };
      if (first === undefined) first = frame;
      else if (rest === undefined) rest = [frame];
      else rest.push(frame);
    }
    if (first === undefined) throw failure;
    this.#failureAfterReady = failure;
    if (rest !== undefined) this.#ready = rest;
    return first;
  }

  /** The frame whose header has been read, too large for a batch: its body a view of its chunk where it can be. */
  #nextAlone(): DecodedFrame {
    const frameSize = this.#frameSize;
    const taken = this.#take(padded(frameSize));
    const lead = this.#lead;
    const ciphertext = lead === 0 ? taken : taken.subarray(lead);
    this.#takeInto(RECEIVED_MAC, 0, MAC_SIZE);
    if (!equal16(this.#mac.frame(ciphertext, 0, ciphertext.length), 0, RECEIVED_MAC, 0)) {
      throw new ProtocolError(ERR_BAD_MAC, 'bad frame MAC', this.#context);
    }
    this.#frameSize = -1;
    // The bytes before the body (its header MAC) stand in for the header's keystream, which JavaScript used.
    const content = lead === 0 ? this.#cipher.update(ciphertext) : this.#cipher.updateTail(taken, lead);
    const at = this.#readCode(content, 0, frameSize);
    return { code: this.#code, data: content.subarray(at, frameSize) };
  }

  /**
   * Reads the RLP-encoded message code (a canonical integer) that starts the frame content of `size` bytes at
   * content[at..] into #code, and returns its length: the message data follows it.
   */
  #readCode(content: Uint8Array, at: number, size: number): number {
    if (size === 0) throw new ProtocolError(ERR_BAD_MESSAGE, 'empty frame', this.#context);
    const first = content[at]!;
    if (first < 0x80) {
      this.#code = first;
      return 1;
    }
    const length = first - 0x80;
    if (length > 7 || length >= size) {
      throw new ProtocolError(ERR_BAD_MESSAGE, `frame does not start with an RLP message code`, this.#context);
    }
    if ((length === 1 && content[at + 1]! < 0x80) || (length > 1 && content[at + 1] === 0)) {
      throw new ProtocolError(ERR_BAD_MESSAGE, 'message code is not canonical RLP', this.#context);
    }
    let code = 0;
    for (let i = 1; i <= length; i++) code = code * 256 + content[at + i]!;
    if (code > Number.MAX_SAFE_INTEGER) {
      throw new ProtocolError(ERR_BAD_MESSAGE, 'message code exceeds 2^53', this.#context);
    }
    this.#code = code;
    return 1 + length;
  }

  /** Removes `n` buffered bytes (at most #buffered) into out[at..at+n]. */
  #takeInto(out: Uint8Array, at: number, n: number): void {
    this.#buffered -= n;
    for (let filled = 0; filled < n; ) {
      const chunk = this.#chunks[0]!;
      const offset = this.#offset;
      const count = Math.min(n - filled, chunk.length - offset);
      copyBytes(chunk, offset, out, at + filled, count);
      filled += count;
      this.#offset += count;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
  }

  /**
   * Removes `n` buffered bytes (n <= #buffered): a view when one chunk holds them all, which then also holds the
   * #lead (up to TAKE_LEAD_BYTES) bytes before them in that chunk; else a copy (see bodyCopyArray), and #lead is 0.
   */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length - this.#offset >= n) {
      this.#buffered -= n;
      const lead = Math.min(this.#offset, TAKE_LEAD_BYTES);
      this.#lead = lead;
      const view = first.subarray(this.#offset - lead, this.#offset + n);
      this.#offset += n;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
      return view;
    }
    this.#lead = 0;
    const out = bodyCopyArray(n).subarray(0, n);
    this.#takeInto(out, 0, n);
    return out;
  }
}

/** The two halves of a connection's frame codec. */
export interface FrameCodec {
  readonly encoder: FrameEncoder;
  readonly decoder: FrameDecoder;
}

/**
 * The frame encoder (egress) and decoder (ingress) for a connection's secrets.
 * @example const { encoder, decoder } = createFrameCodec(deriveSecrets(input), { remoteAddress });
 */
export function createFrameCodec(secrets: Secrets, options: FrameDecoderOptions = {}): FrameCodec {
  return {
    encoder: new FrameEncoder(secrets.aesSecret, secrets.macSecret, secrets.egressMac),
    decoder: new FrameDecoder(secrets.aesSecret, secrets.macSecret, secrets.ingressMac, options),
  };
}
