export {
  type AdminBackend,
  type AdminRpcOptions,
  type AdminRpcServer,
  adminBackend,
  DEFAULT_HTTP_VHOSTS,
  HTTP_BODY_LIMIT,
  handleRpcBody,
  handleRpcRequest,
  hostAllowed,
  MAX_BATCH_ITEMS,
  originAllowed,
  RPC_ERROR,
  RPC_MODULES,
  type RpcId,
  type RpcResponse,
  startAdminRpc,
} from './admin-rpc.ts';
export {
  DEVNET_CHAIN,
  DEVNET_MAX_NODES,
  type Devnet,
  type DevnetMember,
  type DevnetOptions,
  startDevnet,
} from './commands/devnet.ts';
export {
  HTTP_DEADLINE_CHECK_MS,
  HTTP_TIMEOUTS,
  type HttpServerOptions,
  type HttpTimeouts,
  MAX_HTTP_CONNECTIONS,
  type RunningHttpServer,
  startHttpServer,
} from './http-server.ts';
export {
  DEFAULT_DATADIR,
  DEFAULT_HTTP_ADDR,
  DEFAULT_HTTP_PORT,
  DEFAULT_PORT,
  NODE_USAGE,
  type NodeOptions,
  parseNodeOptions,
  type RunningNode,
  startNode,
  UsageError,
} from './node-command.ts';
export { CLI_VERSION } from './version.ts';
