export {
  assertBytes,
  bigIntToFixedBytes,
  bytesToBigInt,
  bytesToHex,
  bytesToNumber,
  bytesToUtf8,
  concatBytes,
  equalBytes,
  hexToBytes,
  uintToBytes,
  utf8ToBytes,
} from './bytes.ts';
export { crc32 } from './crc32.ts';
export {
  DisconnectError,
  type DisconnectInitiator,
  DisconnectReason,
  type DisconnectReasonName,
  disconnectReasonName,
  disconnectReasonText,
  isDisconnectReason,
} from './disconnect.ts';
export type { Discovery, DiscoveryCallOptions } from './discovery.ts';
export type { TxtResolveOptions, TxtResolver } from './dns.ts';
export {
  AbortError,
  ConnectionClosedError,
  CryptoError,
  Devp2pError,
  ProtocolError,
  type RemoteContext,
  RlpError,
  TimeoutError,
  TooLargeError,
  throwIfAborted,
} from './errors.ts';
export { type ListenOptions, TypedEventTarget } from './events.ts';
export { formatHostPort, splitHostPort } from './hostport.ts';
export {
  createLogger,
  defaultLogger,
  jsonSink,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogRecord,
  type LogSink,
  silentLogger,
  textSink,
} from './logger.ts';
export {
  type AnyMessageSpec,
  type AnyProtocol,
  type Cap,
  defineProtocol,
  type HandshakeContext,
  type JsonValue,
  MAX_CAP_NAME_LENGTH,
  type MessageCodec,
  type MessageHandlers,
  type MessageMap,
  type MessageName,
  type MessageSpec,
  type PayloadOf,
  type PeerDescription,
  type Protocol,
  type ProtocolContext,
  type ProtocolInstance,
  type ProtocolIO,
  type ProtocolSender,
  type ProtocolSpec,
  type RawMessage,
  type ReceiveOptions,
} from './protocol.ts';
export { type PendingRequest, RequestTracker, type RequestTrackerOptions } from './request.ts';
export {
  RLP_MAX_DEPTH,
  type RlpInput,
  type RlpValue,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpDecodePrefix,
  rlpEncode,
  rlpEncodedLength,
  rlpList,
  rlpUint,
  rlpUtf8,
} from './rlp.ts';
export {
  type ByteStream,
  type DatagramAddress,
  type DatagramSocket,
  type DatagramTransport,
  type DialOptions,
  type StreamListener,
  systemTimers,
  type Timers,
  type Transport,
} from './stream.ts';
