export {
  type AdminBackend,
  type AdminRpcServer,
  HTTP_BODY_LIMIT,
  handleRpcBody,
  handleRpcRequest,
  MAX_BATCH_ITEMS,
  RPC_ERROR,
  type RpcId,
  type RpcResponse,
  startAdminRpc,
} from './admin-rpc.ts';
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
