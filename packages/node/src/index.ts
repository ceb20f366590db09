export {
  createNode,
  DevP2PNode,
  type DiscoveryConfig,
  type NatConfig,
  type NodeConfig,
  type NodeEvents,
  type NodeInput,
  type PeerRemovedReason,
  type StartOptions,
} from './node.ts';
