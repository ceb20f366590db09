/**
 * The eth side of the RLPx cases: which eth version a Hello exchange agrees on, reading the node's Status and
 * answering it, with the codecs of `@devp2p/plugin-eth`.
 */
import { bytesToHex, type Cap, equalBytes } from '@devp2p/core';
import { eth68Messages, eth69Messages, type Status68, type Status69 } from '@devp2p/plugin-eth';
import type { CaseContext } from '../case.ts';
import { type Message, Probe } from './probe.ts';
import { FIRST_CAP_CODE, type Hello, type HelloFields } from './wire.ts';

/** The eth versions the cases speak, and announce in every Hello (a node may refuse a peer with no shared cap). */
export const ETH_CAPS: readonly Cap[] = [
  { name: 'eth', version: 68 },
  { name: 'eth', version: 69 },
];

/** A Status of either version. */
export type EthStatus =
  | { readonly version: 68; readonly status: Status68 }
  | { readonly version: 69; readonly status: Status69 };

/** Message codes within eth (the same in eth/68 and eth/69 for the ones the cases use). */
export const EthCode: {
  readonly Status: number;
  readonly GetBlockHeaders: number;
  readonly BlockHeaders: number;
  readonly GetBlockBodies: number;
  readonly BlockBodies: number;
} = {
  Status: eth69Messages.Status.code,
  GetBlockHeaders: eth69Messages.GetBlockHeaders.code,
  BlockHeaders: eth69Messages.BlockHeaders.code,
  GetBlockBodies: eth69Messages.GetBlockBodies.code,
  BlockBodies: eth69Messages.BlockBodies.code,
};

/**
 * The eth version two cap lists agree on: the highest version both list (rlpx.md: "if multiple versions are shared
 * of the same capability, the numerically highest wins"), among those the cases speak.
 */
export function sharedEthVersion(ours: readonly Cap[], theirs: readonly Cap[]): 68 | 69 | undefined {
  let best: 68 | 69 | undefined;
  for (const c of theirs) {
    if (c.name !== 'eth' || (c.version !== 68 && c.version !== 69)) continue;
    if (!ours.some((o) => o.name === 'eth' && o.version === c.version)) continue;
    if (best === undefined || c.version > best) best = c.version;
  }
  return best;
}

/**
 * The wire code of an eth message, when eth is the only capability both sides share (our Hellos announce nothing
 * else the node could share), so eth starts right after the base protocol.
 */
export function ethCode(code: number): number {
  return FIRST_CAP_CODE + code;
}

export function decodeStatus(version: 68 | 69, payload: Uint8Array): EthStatus {
  return version === 68
    ? { version, status: eth68Messages.Status.codec.decode(payload) }
    : { version, status: eth69Messages.Status.codec.decode(payload) };
}

export function encodeStatus(s: EthStatus): Uint8Array {
  return s.version === 68 ? eth68Messages.Status.codec.encode(s.status) : eth69Messages.Status.codec.encode(s.status);
}

/** An RLPx session with eth agreed and the node's Status read. */
export interface EthSession {
  readonly probe: Probe;
  readonly hello: Hello;
  readonly status: EthStatus;
}

/**
 * Dials, exchanges Hellos announcing {@link ETH_CAPS}, and reads the node's Status: fails the case when eth is not
 * shared, the Status does not come or does not decode, or (with `chain` in the options) names another network.
 */
export async function openEthSession(ctx: CaseContext, hello: Partial<HelloFields> = {}): Promise<EthSession> {
  const probe = await Probe.dial(ctx);
  const caps = hello.caps ?? ETH_CAPS;
  await probe.sendHello({ caps, ...hello });
  const theirs = await probe.readHello(hello.version);
  const version = sharedEthVersion(caps, theirs.caps);
  if (version === undefined) {
    ctx.fail(
      `the node shares no eth version with eth/68 and eth/69 (it announced ${theirs.caps.map((c) => `${c.name}/${c.version}`).join(', ') || 'no caps'})`,
    );
  }
  const m = await probe.expect(ethCode(EthCode.Status), 'the eth Status');
  const status = decodeStatusMessage(ctx, version, m);
  const chain = ctx.chain;
  if (chain) {
    if (status.status.networkId !== chain.networkId) {
      ctx.fail(`the node's Status names network ${status.status.networkId}, not ${chain.name} (${chain.networkId})`);
    }
    if (!equalBytes(status.status.genesis, chain.genesisHash)) {
      ctx.fail(`the node's Status names genesis ${bytesToHex(status.status.genesis)}, not ${chain.name}'s`);
    }
  }
  return { probe, hello: theirs, status };
}

/** Decodes a Status message; a malformed one fails the case. */
export function decodeStatusMessage(ctx: CaseContext, version: 68 | 69, m: Message): EthStatus {
  if (m.payload === undefined) ctx.fail(`the node's Status is not valid snappy: ${m.snappyError}`);
  try {
    return decodeStatus(version, m.payload);
  } catch (error) {
    ctx.fail(
      `the node's eth/${version} Status does not decode: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
