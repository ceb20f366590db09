// A ProtocolIO for unit tests of Protocol.attach that need no remote.
import type { Clock, ProtocolIO, RawMessage } from '../src/index.ts';
import { silentLogger } from '../src/index.ts';

/** A ProtocolIO whose sends go nowhere (unless `send` is given) and whose handshake reads fail. */
export function quietIO(options: { send?: ProtocolIO['send']; clock?: Clock } = {}): ProtocolIO {
  return {
    peer: {
      id: 'ab'.repeat(32),
      publicKey: new Uint8Array(64),
      clientName: 't',
      caps: [],
      remoteAddress: '',
      localAddress: '',
      inbound: false,
    },
    signal: new AbortController().signal,
    log: silentLogger,
    ...(options.clock && { clock: options.clock }),
    send: options.send ?? (async () => undefined),
    receive: async (): Promise<RawMessage> => {
      throw new Error('none');
    },
    disconnect: () => undefined,
  };
}
