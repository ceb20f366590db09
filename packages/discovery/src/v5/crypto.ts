/**
 * The discv5 handshake's cryptography for the "v4" identity scheme (discv5-theory.md "Handshake Steps"): session
 * key derivation (ECDH + HKDF-SHA256) and the id-nonce signature.
 */
import { concatBytes, utf8ToBytes } from '@devp2p/core';
import { ecdhCompressed, hkdfSha256, sha256, sign, verify } from '@devp2p/crypto';
import type { NodeId } from '@devp2p/enode';
import { ID_SIGNATURE_SIZE, ID_SIGNATURE_TEXT, KEY_AGREEMENT_TEXT, SESSION_KEY_SIZE } from './constants.ts';

const KEY_AGREEMENT_BYTES = utf8ToBytes(KEY_AGREEMENT_TEXT);
const ID_SIGNATURE_BYTES = utf8ToBytes(ID_SIGNATURE_TEXT);

/**
 * The two AES-128 keys of a session. The node that answered WHOAREYOU with a handshake (the initiator, node A)
 * writes with `initiatorKey` and reads with `recipientKey`; the other node the other way round.
 * @example const { initiatorKey, recipientKey } = deriveDiscv5SessionKeys(eph, destPub, idA, idB, challengeData)
 */
export interface Discv5SessionKeys {
  /** key-data[:16]: encrypts the initiator's messages (node A → node B). */
  readonly initiatorKey: Uint8Array;
  /** key-data[16:]: encrypts the recipient's messages (node B → node A). */
  readonly recipientKey: Uint8Array;
}

/**
 * Derives the session keys: `secret = ecdh(publicKey, privateKey)` (the 33-byte compressed shared point), then
 * HKDF-SHA256 with `salt = challengeData` and `info = "discovery v5 key agreement" ‖ initiatorId ‖ recipientId`,
 * 32 bytes split into initiator-key and recipient-key. Both sides get the same keys: the initiator passes its
 * ephemeral private key and the recipient's static public key, the recipient its static private key and the
 * ephemeral public key. Throws a CryptoError for a public key that is not a curve point.
 * @example const keys = deriveDiscv5SessionKeys(ephemeralKey, remotePublicKey, localId, remoteId, challengeData)
 */
export function deriveDiscv5SessionKeys(
  privateKey: Uint8Array,
  publicKey: Uint8Array,
  initiatorId: NodeId,
  recipientId: NodeId,
  challengeData: Uint8Array,
): Discv5SessionKeys {
  const secret = ecdhCompressed(privateKey, publicKey);
  const info = concatBytes(KEY_AGREEMENT_BYTES, initiatorId.bytes, recipientId.bytes);
  const keyData = hkdfSha256(secret, challengeData, info, 2 * SESSION_KEY_SIZE);
  secret.fill(0);
  return { initiatorKey: keyData.slice(0, SESSION_KEY_SIZE), recipientKey: keyData.slice(SESSION_KEY_SIZE) };
}

/**
 * The hash the id-signature signs: `sha256("discovery v5 identity proof" ‖ challengeData ‖ ephemeralPublicKey ‖
 * destId)`, where `destId` is the node that sent the challenge (node B).
 * @example const hash = discv5IdSignatureHash(challengeData, ephemeralPublicKey, remoteId)
 */
export function discv5IdSignatureHash(
  challengeData: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  destId: NodeId,
): Uint8Array {
  return sha256(concatBytes(ID_SIGNATURE_BYTES, challengeData, ephemeralPublicKey, destId.bytes));
}

/**
 * Signs the id-nonce proof with the node's static key: 64 bytes r ‖ s (low s, RFC 6979 deterministic, no
 * recovery id), as the handshake packet carries it.
 * @example const idSignature = makeDiscv5IdSignature(privateKey, challengeData, ephemeralPublicKey, remoteId)
 */
export function makeDiscv5IdSignature(
  privateKey: Uint8Array,
  challengeData: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  destId: NodeId,
): Uint8Array {
  return sign(discv5IdSignatureHash(challengeData, ephemeralPublicKey, destId), privateKey).slice(0, ID_SIGNATURE_SIZE);
}

/**
 * True when `signature` (64 bytes r ‖ s, low s) is the id-nonce proof of `publicKey` (any form: 33, 64 or 65
 * bytes) for these inputs; false for anything else, including malformed keys and signatures.
 * @example if (!verifyDiscv5IdSignature(record.publicKey, sig, challengeData, ephKey, localId)) drop()
 */
export function verifyDiscv5IdSignature(
  publicKey: Uint8Array,
  signature: Uint8Array,
  challengeData: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  destId: NodeId,
): boolean {
  if (signature.length !== ID_SIGNATURE_SIZE) return false;
  return verify(discv5IdSignatureHash(challengeData, ephemeralPublicKey, destId), signature, publicKey);
}
