/**
 * Sizes and fixed values of the Node Discovery v5.1 wire format (github:ethereum/devp2p discv5/discv5-wire.md),
 * each with where it comes from. geth's names (p2p/discover/v5wire) are given where it has one.
 */

/**
 * Largest datagram sent or accepted (discv5-wire.md "UDP Communication"; geth `maxPacketSize`): fits in the IPv6
 * minimum MTU, so a packet is never fragmented. Checked before any decryption.
 */
export const DISCV5_MAX_PACKET_SIZE: number = 1280;

/**
 * Smallest valid datagram (discv5-wire.md; geth `minPacketSize`): a WHOAREYOU packet, masking-iv (16) + static
 * header (23) + authdata (24), with no message. Anything shorter is rejected before any decryption.
 */
export const DISCV5_MIN_PACKET_SIZE: number = 63;

/** The protocol-id at the start of every static header: the ASCII bytes of "discv5". */
export const DISCV5_PROTOCOL_ID: string = 'discv5';

/** The header version of v5.1 (`version = 0x0001`); packets of any other version are rejected. */
export const DISCV5_VERSION: number = 1;

/** Length of the masking-iv (a uint128) in front of every packet: the AES-CTR IV of the header mask. */
export const MASKING_IV_SIZE: number = 16;

/** Length of the header-masking key: AES-128, keyed with the first 16 bytes of the destination node id. */
export const MASKING_KEY_SIZE: number = 16;

/** Length of the message nonce (a uint96): the AES-GCM nonce, unique for every message packet. */
export const NONCE_SIZE: number = 12;

/** Length of the static header: protocol-id (6) + version (2) + flag (1) + nonce (12) + authdata-size (2). */
export const STATIC_HEADER_SIZE: number = 23;

/** Length of an ordinary message packet's authdata: the 32-byte source node id. */
export const MESSAGE_AUTHDATA_SIZE: number = 32;

/** Length of a WHOAREYOU packet's authdata: id-nonce (16) + enr-seq (8). */
export const WHOAREYOU_AUTHDATA_SIZE: number = 24;

/** Length of the fixed head of a handshake packet's authdata: src-id (32) + sig-size (1) + eph-key-size (1). */
export const HANDSHAKE_AUTHDATA_HEAD_SIZE: number = 34;

/** Length of the WHOAREYOU id-nonce (a uint128): the random part of the identity challenge. */
export const ID_NONCE_SIZE: number = 16;

/** Length of the "v4" identity scheme's id-signature: r ‖ s without the recovery id. */
export const ID_SIGNATURE_SIZE: number = 64;

/** Length of the "v4" identity scheme's ephemeral public key: a compressed secp256k1 point. */
export const EPHEMERAL_KEY_SIZE: number = 33;

/** Length of each session key (AES-128): initiator-key and recipient-key. */
export const SESSION_KEY_SIZE: number = 16;

/**
 * Longest request-id (discv5-wire.md "Protocol Messages": an RLP byte array of length <= 8; geth
 * `ErrInvalidReqID`). Longer ones are rejected on decode and refused on encode.
 */
export const MAX_REQUEST_ID_SIZE: number = 8;

/**
 * Largest distance a FINDNODE may ask for: log2 distances of 256-bit node ids run from 0 (the node itself) to 256.
 * Larger values name no bucket; the decoder rejects them (geth decodes them and then skips them).
 */
export const MAX_FINDNODE_DISTANCE: number = 256;

/**
 * Largest NODES `total` (geth decodes it into a uint8, so a larger value does not decode there either). The spec
 * lets implementations limit it further; that is the session layer's policy, not the codec's.
 */
export const MAX_NODES_TOTAL: number = 255;

/**
 * Smallest message part of an ordinary or handshake packet: the 16-byte AES-GCM tag plus at least the one
 * message-type byte. A shorter one cannot hold any message, so it is rejected before decryption.
 */
export const MIN_MESSAGE_CIPHERTEXT_SIZE: number = 17;

/**
 * Message bytes of the packet that starts a handshake when no session keys exist (geth `randomPacketMsgSize`):
 * random data the recipient cannot decrypt, so it answers WHOAREYOU.
 */
export const RANDOM_MESSAGE_SIZE: number = 20;

/** Prefix of the id-signature input: sha256("discovery v5 identity proof" ‖ challenge-data ‖ eph-pubkey ‖ node-id-B). */
export const ID_SIGNATURE_TEXT: string = 'discovery v5 identity proof';

/** Prefix of the HKDF info: "discovery v5 key agreement" ‖ node-id-A ‖ node-id-B. */
export const KEY_AGREEMENT_TEXT: string = 'discovery v5 key agreement';

// ---------------------------------------------------------------------------------------------------------------
// Protocol timing and limits (geth p2p/discover/v5_udp.go, v5_talk.go, v5wire/session.go)

/**
 * How long a request waits for a response, reset by each response packet (geth `Config.V5RespTimeout` default):
 * longer than discv4's 500 ms because the first request to a node may need a handshake round trip.
 */
export const DISCV5_RESP_TIMEOUT_MS: number = 700;

/**
 * How long a WHOAREYOU challenge we sent stays answerable (geth v5wire `handshakeTimeout`): a handshake arriving
 * later finds no challenge and is dropped before any cryptography.
 */
export const HANDSHAKE_TIMEOUT_MS: number = 1_000;

/**
 * Records from NODES answers whose signature was verified, kept so the same record (byte for byte) answered again
 * is not verified again: the same few hundred records come back in every lookup, and verifying one costs a
 * secp256k1 verification (most of a lookup's CPU without this). A few hundred cover a table's worth of nodes and
 * their neighbourhoods while keeping memory per service small.
 */
export const VERIFIED_RECORDS_LIMIT: number = 256;

/** Sessions (keys per node id and address) kept, least recently used forgotten first (geth `NewSessionCache(1024)`). */
export const SESSION_CACHE_SIZE: number = 1_024;

/**
 * WHOAREYOU challenges awaiting a handshake at once. Each costs us a future ECDH and signature check, so an
 * unsolicited packet finding the pool full gets no challenge (dropped as `rate-limited`). geth bounds them by time
 * only; the pool is as large as the session cache, which is all the handshakes that could ever be kept.
 */
export const MAX_ACTIVE_CHALLENGES: number = 1_024;

/**
 * Challenges awaiting a handshake from one IP address at once. A host runs a handful of nodes; with the
 * {@link HANDSHAKE_TIMEOUT_MS} lifetime this caps one address at this many WHOAREYOUs a second, so one address cannot
 * take the whole {@link MAX_ACTIVE_CHALLENGES} pool (geth has no such limit).
 */
export const MAX_CHALLENGES_PER_IP: number = 16;

/** Handshakes one request may go through (geth `errChallengeTwice`): a second WHOAREYOU for it is ignored. */
export const MAX_HANDSHAKES_PER_CALL: number = 1;

/** Length of the request ids we choose (geth `initCall`: 8 random bytes, the most the spec allows). */
export const REQUEST_ID_SIZE: number = 8;

/**
 * Requests waiting for a response or queued behind another to the same node, in all. Each inbound handshake may
 * cause a revalidation ping, so this bounds what remote input can make us hold; requests beyond it fail at once
 * with `ERR_DISCV5_BUSY`. Same bound as discv4's pending replies.
 */
export const MAX_PENDING_CALLS: number = 2_048;

/** Distances asked per FINDNODE during a lookup (geth `lookupRequestLimit`): the target's and its two neighbours. */
export const LOOKUP_REQUEST_LIMIT: number = 3;

/** Nodes a FINDNODE answer carries at most (geth `findnodeResultLimit`), also what a lookup keeps per answer. */
export const FINDNODE_RESULT_LIMIT: number = 16;

/**
 * NODES packets of one answer we read at most (geth `totalNodesResponseLimit`): a `total` above it is cut to it,
 * so a remote cannot keep a request open with an endless answer.
 */
export const TOTAL_NODES_RESPONSE_LIMIT: number = 5;

/**
 * Bytes of records per NODES packet we send (geth `packNodes` `sizeLimit`): 1280 minus about 80 bytes of packet
 * framing leaves 1200; 1000 leaves room for the rest of the message.
 */
export const NODES_RESPONSE_SIZE_LIMIT: number = 1_000;

/** TALKREQ handlers running at once (geth `maxActiveTalkRequests`); requests beyond it are dropped. */
export const MAX_ACTIVE_TALK_REQUESTS: number = 1_024;
