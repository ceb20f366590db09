export {
  type ConnectionErrorClass,
  connectionErrorClass,
  METRICS_PATH,
  type MetricsSources,
  NodeMetrics,
} from './metrics.ts';
export {
  createNode,
  DevP2PNode,
  type DiscoveryConfig,
  MAX_PARALLEL_ENR_REQUESTS,
  type NatConfig,
  type NetworkPreset,
  type NodeConfig,
  type NodeEvents,
  type NodeInput,
  type PeerRemovedReason,
  type StartOptions,
} from './node.ts';
