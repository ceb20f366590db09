/**
 * `@devp2p/plugin-eth`: the Ethereum wire protocol, eth/68 to eth/72, as a devp2p.ts plugin.
 */
export {
  type ChainConfig,
  type CustomChainOptions,
  customChain,
  type Fork,
  hoodi,
  mainnet,
  sepolia,
} from './chains.ts';
export {
  FORK_TIMESTAMP_THRESHOLD,
  type ForkHead,
  type ForkId,
  type ForkIdCheck,
  forkHashUpdate,
  forkId,
  validateForkId,
} from './forkid.ts';
export * from './limits.ts';
export * from './messages.ts';
export * from './protocol.ts';
