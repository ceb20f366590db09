/**
 * Limits, deadlines and error codes of the RLPx transport. Each value is geth's (`p2p/rlpx`, `p2p/transport.go`,
 * `p2p/peer.go`) unless stated otherwise.
 */

/**
 * Deadline for the whole encryption handshake (auth and ack), geth's `handshakeTimeout`. A peer that has not
 * completed it by then is dropped.
 * @example new RLPxConnection(stream, { privateKey, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS })
 */
export const HANDSHAKE_TIMEOUT_MS: number = 5_000;

/**
 * Deadline for reading one frame once a read has started, geth's `frameReadTimeout`: peers ping every 15 s,
 * so a live connection always delivers a frame well within it.
 * @example new RLPxConnection(stream, { privateKey, readTimeoutMs: FRAME_READ_TIMEOUT_MS })
 */
export const FRAME_READ_TIMEOUT_MS: number = 30_000;

/**
 * Deadline for handing one frame to the socket (including waiting for it to drain), geth's `frameWriteTimeout`.
 * @example new RLPxConnection(stream, { privateKey, writeTimeoutMs: FRAME_WRITE_TIMEOUT_MS })
 */
export const FRAME_WRITE_TIMEOUT_MS: number = 20_000;

/**
 * Largest frame content (message code plus payload, before padding): the header's frame-size field has
 * 24 bits, so 16 MiB - 1 (geth's `maxUint24`).
 * @example if (frameSize > MAX_FRAME_SIZE) throw new TooLargeError('frame', frameSize, MAX_FRAME_SIZE);
 */
export const MAX_FRAME_SIZE: number = 0xffffff;

/**
 * Largest message payload after snappy decompression, checked against the declared length before anything is
 * allocated: 16 MiB - 1, geth's `maxUint24` check (`errPlainMessageTooLarge`).
 * @example snappyUncompress(data, MAX_MESSAGE_SIZE)
 */
export const MAX_MESSAGE_SIZE: number = 0xffffff;

/**
 * Largest EIP-8 handshake message (auth or ack) we read: the 2-byte size prefix may declare at most this many
 * bytes (geth reads at most 2 KiB; a real auth with padding is under 500 bytes).
 * @example if (declared > HANDSHAKE_MAX_SIZE) throw new TooLargeError('handshake message', declared, HANDSHAKE_MAX_SIZE);
 */
export const HANDSHAKE_MAX_SIZE: number = 2048;

/**
 * Error code of a handshake that fails: undecryptable or malformed auth/ack, bad signature, invalid key.
 * @example if (err instanceof ProtocolError && err.code === ERR_HANDSHAKE) log.debug('bad handshake');
 */
export const ERR_HANDSHAKE = 'ERR_HANDSHAKE';

/**
 * Error code of a frame whose header MAC or frame MAC does not verify (corrupt or forged bytes).
 * @example if (err instanceof ProtocolError && err.code === ERR_BAD_MAC) metrics.increment('rlpx.bad_mac');
 */
export const ERR_BAD_MAC = 'ERR_BAD_MAC';

/**
 * Error code of a frame that authenticates but does not hold a valid message (bad message code).
 * @example if (err instanceof ProtocolError && err.code === ERR_BAD_MESSAGE) disconnect(DisconnectReason.Protocol);
 */
export const ERR_BAD_MESSAGE = 'ERR_BAD_MESSAGE';

/**
 * Bytes of encoded frames an RLPx connection holds for a slow reader before it refuses more. Geth has no queue (a
 * write blocks its goroutine for up to the write deadline); we queue so that writers need not wait one by one, and
 * bound the queue so that a remote that does not read costs at most this much (plus the one message that crossed
 * it: any single message is admitted while the queue is below the bound). Each queued frame is counted with
 * {@link QUEUED_FRAME_OVERHEAD} on top of its bytes. `writable()` waits for room below the bound; a write that finds
 * the queue at the bound fails the connection, since its sender ignored that. 1 MiB: a full eth or snap response
 * (2 MiB soft limit) still goes out whole, and ten peers that never read cost about 10 MiB.
 * @example if (conn.queuedBytes >= MAX_WRITE_QUEUE_BYTES) await conn.writable();
 */
export const MAX_WRITE_QUEUE_BYTES: number = 1024 * 1024;

/**
 * What a queued frame costs beside its bytes (its promise, callbacks, closures and queue slot), counted against
 * {@link MAX_WRITE_QUEUE_BYTES} so that a flood of tiny frames (Pongs) is bounded in memory, not only in bytes.
 * Measured with a Node 20 heap snapshot of a full queue of Pongs: about 850 bytes per 64-byte frame.
 */
export const QUEUED_FRAME_OVERHEAD: number = 800;

/**
 * Most bytes of queued frames handed to the stream in one write. Frames queued in the same turn (a burst of replies:
 * a read loop answering many Pings) are joined into one write instead of one per frame: a write costs a system call
 * and a write request whatever its size, which under a flood of small frames cost more than the frames (on Deno,
 * thousands of socket writes a second delayed the admin RPC by seconds). 64 KiB: the size of one socket read, large
 * enough that the per-write cost vanishes, small enough that the copy is cheap; a larger frame is written alone,
 * uncopied.
 */
export const WRITE_BATCH_BYTES: number = 64 * 1024;

/**
 * Error code of a connection failed because a write found the write queue full: the remote does not take what we
 * send and the sender did not wait for `writable()`.
 * @example if (err instanceof ProtocolError && err.code === ERR_WRITE_QUEUE_FULL) log.debug('peer too slow');
 */
export const ERR_WRITE_QUEUE_FULL = 'ERR_WRITE_QUEUE_FULL';
