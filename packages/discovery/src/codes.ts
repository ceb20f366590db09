/** Error codes of the discovery package: the stable `code` of its errors, for callers that branch on it. */

/** A datagram that is not a valid discv4 packet (`Discv4PacketError`). */
export const ERR_DISCV4_PACKET = 'ERR_DISCV4_PACKET';
/** A request refused because too many replies are already awaited (`MAX_PENDING_REPLIES`). */
export const ERR_DISCV4_BUSY = 'ERR_DISCV4_BUSY';
/** A request to an address outside the node's NetRestrict list. */
export const ERR_DISCV4_RESTRICTED = 'ERR_DISCV4_RESTRICTED';
/** An ENR response whose record does not verify, is another node's, or names an unusable address. */
export const ERR_DISCV4_ENR = 'ERR_DISCV4_ENR';
/** A datagram that is not a usable discv5 packet (`Discv5PacketError`). */
export const ERR_DISCV5_PACKET = 'ERR_DISCV5_PACKET';
/** A decrypted discv5 message that is malformed (`Discv5MessageError`). */
export const ERR_DISCV5_MESSAGE = 'ERR_DISCV5_MESSAGE';
/** A discv5 request refused because too many are already pending (`MAX_PENDING_CALLS`). */
export const ERR_DISCV5_BUSY = 'ERR_DISCV5_BUSY';
/** A discv5 request to an address outside the node's NetRestrict list. */
export const ERR_DISCV5_RESTRICTED = 'ERR_DISCV5_RESTRICTED';
/** A discv5 handshake that cannot be made (no record of the remote, or a second challenge for one request). */
export const ERR_DISCV5_HANDSHAKE = 'ERR_DISCV5_HANDSHAKE';
/** A record request (FINDNODE distance 0) answered with no record, several, or one that does not verify. */
export const ERR_DISCV5_ENR = 'ERR_DISCV5_ENR';
