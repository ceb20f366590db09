import {
  bytesToUtf8,
  type Cap,
  ProtocolError,
  type RlpValue,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  rlpUint,
  TooLargeError,
} from '@devp2p/core';

/**
 * Error code of a Hello that breaks the base protocol: malformed, an unsupported version, a bad id, or another
 * message where the Hello must come first.
 * @example if (err instanceof ProtocolError && err.code === ERR_HELLO) log.debug('bad hello')
 */
export const ERR_HELLO = 'ERR_HELLO';

/** Base protocol message codes (devp2p `p2p` capability, below the subprotocols' 0x10). */
export const BaseMessageCode = {
  Hello: 0x00,
  Disconnect: 0x01,
  Ping: 0x02,
  Pong: 0x03,
} as const;

/** Codes below this belong to the base protocol; subprotocols start here (geth's baseProtocolLength). */
export const BASE_PROTOCOL_LENGTH = 16;

/** The p2p version we speak: 5 adds snappy compression after Hello (EIP-706). */
export const P2P_VERSION = 5;

/** Snappy compression applies when both Hellos advertise at least this version (EIP-706). */
export const SNAPPY_MIN_VERSION = 5;

/**
 * Oldest p2p version we talk to. Version 4 is the pre-snappy protocol some old clients still speak and costs
 * nothing to support (messages are simply not compressed); anything below it predates every live network.
 */
export const MIN_P2P_VERSION = 4;

/** Largest Hello payload accepted (geth caps it at 2 KiB as well: `baseProtocolMaxMsgSize`). */
export const MAX_HELLO_SIZE: number = 2 * 1024;

/** Most capabilities read from a Hello: a 2 KiB message cannot honestly carry more, but we bound it anyway. */
export const MAX_HELLO_CAPS = 256;

/** Largest p2p or capability version accepted in a Hello: versions are small numbers; 32 bits is generous. */
export const MAX_HELLO_VERSION = 0xffff_ffff;

function helloVersion(value: RlpValue | undefined, label: string): number {
  const version = rlpUint(value, label);
  if (version > MAX_HELLO_VERSION) {
    throw new ProtocolError(
      ERR_HELLO,
      `malformed Hello: ${label} ${version} is out of range (at most ${MAX_HELLO_VERSION})`,
    );
  }
  return version;
}

/** The Hello message, first message on every connection, in both directions. */
export interface Hello {
  /** p2p protocol version (we send {@link P2P_VERSION}). */
  readonly version: number;
  /** Client name, e.g. `devp2p.ts/0.1.0/node-v20`. */
  readonly clientName: string;
  readonly caps: readonly Cap[];
  /** Advertised TCP listen port (0 when not listening); informational only. */
  readonly listenPort: number;
  /** 64-byte public key of the sender. */
  readonly nodeId: Uint8Array;
}

/**
 * Encodes a Hello payload.
 * @example encodeHello({ version: 5, clientName: 'devp2p.ts', caps: [{ name: 'png', version: 1 }], listenPort: 30303, nodeId })
 */
export function encodeHello(hello: Hello): Uint8Array {
  return rlpEncode([
    hello.version,
    hello.clientName,
    hello.caps.map((cap) => [cap.name, cap.version]),
    hello.listenPort,
    hello.nodeId,
  ]);
}

/**
 * Decodes a Hello payload. Extra list elements are ignored (EIP-8); the size, caps count, versions (at most
 * {@link MAX_HELLO_VERSION}) and id length are checked; an all-zero id is rejected. Errors are ProtocolErrors with
 * code `ERR_HELLO` naming the field (or TooLargeError for the payload size).
 * @example decodeHello(payload).caps
 */
export function decodeHello(payload: Uint8Array): Hello {
  if (payload.length > MAX_HELLO_SIZE) throw new TooLargeError('Hello', payload.length, MAX_HELLO_SIZE);
  let fields: RlpValue[];
  try {
    fields = rlpList(rlpDecode(payload), 'Hello', 5);
  } catch (cause) {
    throw new ProtocolError(ERR_HELLO, `malformed Hello: ${(cause as Error).message}`, { cause });
  }
  try {
    const capList = rlpList(fields[2], 'Hello caps');
    if (capList.length > MAX_HELLO_CAPS) {
      throw new ProtocolError(
        ERR_HELLO,
        `Hello lists ${capList.length} caps, more than the ${MAX_HELLO_CAPS} accepted`,
      );
    }
    const caps = capList.map((item, i) => {
      const [name, version] = rlpList(item, `Hello cap ${i}`, 2);
      return {
        name: bytesToUtf8(rlpBytes(name, `Hello cap ${i} name`)),
        version: helloVersion(version, `Hello cap ${i} version`),
      };
    });
    const nodeId = rlpBytes(fields[4], 'Hello node id').slice();
    return {
      version: helloVersion(fields[0], 'Hello version'),
      clientName: bytesToUtf8(rlpBytes(fields[1], 'Hello client name')),
      caps,
      listenPort: rlpUint(fields[3], 'Hello listen port'),
      nodeId,
    };
  } catch (cause) {
    if (cause instanceof ProtocolError) throw cause;
    throw new ProtocolError(ERR_HELLO, `malformed Hello: ${(cause as Error).message}`, { cause });
  }
}

/** Reason code used when a Disconnect payload cannot be read (geth reports 0xff likewise). */
export const INVALID_DISCONNECT_REASON = 0xff;

/**
 * Encodes a Disconnect payload: the reason in a one-element list, as geth sends it.
 * @example encodeDisconnect(DisconnectReason.TooManyPeers) // c104
 */
export function encodeDisconnect(reason: number): Uint8Array {
  return rlpEncode([reason]);
}

/**
 * Reads a Disconnect payload: a list holding the reason, or a bare reason (some clients send that), or
 * nothing at all (reason 0). Unreadable input gives {@link INVALID_DISCONNECT_REASON}; it never throws.
 * @example decodeDisconnect(hexToBytes('c104')) // 4
 */
export function decodeDisconnect(payload: Uint8Array): number {
  if (payload.length === 0) return 0;
  try {
    const value = rlpDecode(payload);
    const item = Array.isArray(value) ? (value.length === 0 ? new Uint8Array(0) : value[0]) : value;
    const reason = rlpUint(item, 'disconnect reason');
    return reason <= 0xff ? reason : INVALID_DISCONNECT_REASON;
  } catch {
    return INVALID_DISCONNECT_REASON;
  }
}

/** The payload of base-protocol Ping and Pong: an empty list. */
export const EMPTY_LIST_PAYLOAD: Uint8Array = Uint8Array.of(0xc0);
