/**
 * `@devp2p/plugin-snap`: the snap/1 state snapshot protocol as a devp2p.ts plugin.
 */
export * from './messages.ts';
export * from './protocol.ts';
