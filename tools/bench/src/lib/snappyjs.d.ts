// Types for snappyjs (plain CommonJS, no types of its own): the snappy block codec @ethereumjs/devp2p uses, which
// the rlpx bench calls on the ethjs sender exactly as ethjs's own subprotocols (ETH, SNAP) do before sending.
declare module 'snappyjs' {
  export function compress(data: Uint8Array): Uint8Array;
  export function uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
}
