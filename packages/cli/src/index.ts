export {
  DEFAULT_DATADIR,
  DEFAULT_PORT,
  NODE_USAGE,
  type NodeOptions,
  parseNodeOptions,
  type RunningNode,
  startNode,
  UsageError,
} from './node-command.ts';
