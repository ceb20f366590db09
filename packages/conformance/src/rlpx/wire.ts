/**
 * The p2p base protocol as the cases craft it (rlpx.md, "p2p" Capability): Hello, Disconnect, Ping, Pong. Written
 * here from the spec rather than taken from `@devp2p/server`, so the cases can send what a server never would
 * (an old version, extra list elements, a foreign id, unsorted and duplicate caps) and read what a node sends
 * leniently enough to report on it.
 */
import {
  bytesToUtf8,
  type Cap,
  type RlpInput,
  type RlpValue,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
  rlpUint,
} from '@devp2p/core';

/** Base protocol message codes (0x00–0x0f are the p2p capability's). */
export const BaseCode: { readonly Hello: 0x00; readonly Disconnect: 0x01; readonly Ping: 0x02; readonly Pong: 0x03 } = {
  Hello: 0x00,
  Disconnect: 0x01,
  Ping: 0x02,
  Pong: 0x03,
};

/** The first message code of the first shared capability. */
export const FIRST_CAP_CODE: number = 0x10;

/** The payload of Ping and Pong: the empty list. */
export const EMPTY_LIST: Uint8Array = Uint8Array.of(0xc0);

/** Disconnect reasons the cases send or expect (rlpx.md, Disconnect). */
export const Reason: {
  readonly Requested: 0x00;
  readonly ProtocolError: 0x02;
  readonly IncompatibleVersion: 0x06;
  readonly UnexpectedIdentity: 0x09;
  readonly SubprotocolError: 0x10;
} = {
  Requested: 0x00,
  ProtocolError: 0x02,
  IncompatibleVersion: 0x06,
  UnexpectedIdentity: 0x09,
  SubprotocolError: 0x10,
};

const REASON_NAMES: Readonly<Record<number, string>> = {
  0: 'disconnect requested',
  1: 'TCP sub-system error',
  2: 'breach of protocol',
  3: 'useless peer',
  4: 'too many peers',
  5: 'already connected',
  6: 'incompatible p2p protocol version',
  7: 'null node identity',
  8: 'client quitting',
  9: 'unexpected identity',
  10: 'connected to self',
  11: 'ping timeout',
  16: 'subprotocol reason',
};

/** `0x06 (incompatible p2p protocol version)`, for reasons in results. */
export function reasonText(reason: number | undefined): string {
  if (reason === undefined) return 'no reason';
  return `0x${reason.toString(16).padStart(2, '0')} (${REASON_NAMES[reason] ?? 'unknown reason'})`;
}

/** A Hello as the cases send it: every field settable, and list elements after the five known ones. */
export interface HelloFields {
  readonly version: number;
  readonly clientName: string;
  readonly caps: readonly Cap[];
  readonly listenPort: number;
  /** The 64-byte public key the Hello claims. */
  readonly nodeId: Uint8Array;
  /** Appended after the five fields (rlpx.md: "implementations must ignore any additional list elements"). */
  readonly extra?: readonly RlpInput[];
}

/** A Hello as read from a node. */
export interface Hello {
  readonly version: number;
  readonly clientName: string;
  readonly caps: readonly Cap[];
  readonly listenPort: number;
  readonly nodeId: Uint8Array;
}

/** Encodes a Hello payload. */
export function encodeHello(hello: HelloFields): Uint8Array {
  return rlpEncode([
    hello.version,
    hello.clientName,
    hello.caps.map((c) => [c.name, c.version]),
    hello.listenPort,
    hello.nodeId,
    ...(hello.extra ?? []),
  ]);
}

/** Decodes a node's Hello; throws (RlpError or TypeError) when it is not one. Extra elements are ignored. */
export function decodeHello(payload: Uint8Array): Hello {
  const fields = rlpList(rlpDecode(payload), 'Hello', 5);
  const caps = rlpList(fields[2], 'Hello caps').map((item: RlpValue, i: number) => {
    const [name, version] = rlpList(item, `Hello cap ${i}`, 2);
    return { name: bytesToUtf8(rlpBytes(name, `Hello cap ${i} name`)), version: rlpUint(version, `cap ${i} version`) };
  });
  return {
    version: rlpUint(fields[0], 'Hello version'),
    clientName: bytesToUtf8(rlpBytes(fields[1], 'Hello client name')),
    caps,
    listenPort: rlpUint(fields[3], 'Hello listen port'),
    nodeId: rlpBytes(fields[4], 'Hello node id').slice(),
  };
}

/** Encodes a Disconnect payload: `[reason]`. */
export function encodeDisconnect(reason: number): Uint8Array {
  return rlpEncode([reason]);
}

/**
 * Reads a Disconnect payload leniently: `[reason]`, a bare reason, or nothing (reason 0); undefined when it holds
 * no readable reason.
 */
export function decodeDisconnect(payload: Uint8Array): number | undefined {
  if (payload.length === 0) return Reason.Requested;
  try {
    const value = rlpDecode(payload);
    const item = Array.isArray(value) ? (value[0] ?? new Uint8Array(0)) : value;
    return rlpUint(item, 'disconnect reason');
  } catch {
    return undefined;
  }
}

/** `eth/68, eth/69` for messages. */
export function capsText(caps: readonly Cap[]): string {
  return caps.map((c) => `${c.name}/${c.version}`).join(', ') || '(none)';
}
