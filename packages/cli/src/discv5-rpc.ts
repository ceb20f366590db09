/**
 * The `discv5_*` JSON-RPC methods, as Portal clients (trin, fluffy, ultralight) serve them after the
 * portal-network-specs JSON-RPC spec (`jsonrpc/src/methods/discv5.json`): node ids as `0x` + 64 hex, records as
 * `enr:` text, TALKREQ protocol and payload as `0x` hex. The methods that send packets run with a deadline and at
 * most {@link MAX_DISCV5_RPC_CALLS} at once.
 */
import { isIP } from 'node:net';
import { bytesToHex, hexToBytes, type JsonValue, splitHostPort } from '@devp2p/core';
import { type Discv5, MAX_FINDNODE_DISTANCE, N_BUCKETS } from '@devp2p/discovery';
import { Enr, Node, NodeId, parseNode } from '@devp2p/enode';
import { RPC_ERROR, RpcError } from './rpc-error.ts';

/** How long a `discv5_*` method that sends packets may take (ping, findNode, talkReq, lookups), in ms. */
export const DISCV5_RPC_TIMEOUT_MS = 10_000;

/**
 * `discv5_*` methods that send packets running at once, over every endpoint (HTTP, WebSocket, IPC); more get
 * error -32005 at once rather than waiting in a queue.
 */
export const MAX_DISCV5_RPC_CALLS = 16;

/** Most distances one `discv5_findNode` may ask for: each of 0..256 once. */
export const MAX_FINDNODE_RPC_DISTANCES: number = MAX_FINDNODE_DISTANCE + 1;

/** Options of {@link Discv5Rpc}. */
export interface Discv5RpcOptions {
  /** Deadline of the methods that send packets (default {@link DISCV5_RPC_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** Methods that send packets running at once (default {@link MAX_DISCV5_RPC_CALLS}). */
  readonly maxCalls?: number;
}

type Discv5Method = (
  rpc: Discv5Rpc,
  params: readonly unknown[],
  cancel?: AbortSignal,
) => JsonValue | Promise<JsonValue>;

const prefixed = (id: NodeId): string => `0x${id.hex}`;

/** The `enr` and `nodeId` of our node, as `discv5_nodeInfo` answers. */
function nodeInfo(disc: Discv5): { enr: string; nodeId: string } {
  const self = disc.self;
  return { enr: self.record.toText(), nodeId: prefixed(self.id) };
}

/** Checks the number of arguments, with geth's messages. */
function arity(params: readonly unknown[], required: number, max: number = required): void {
  if (params.length > max) throw new RpcError(RPC_ERROR.invalidParams, `too many arguments, want at most ${max}`);
  for (let i = 0; i < required; i++) {
    if (params[i] === undefined || params[i] === null) {
      throw new RpcError(RPC_ERROR.invalidParams, `missing value for required argument ${i}`);
    }
  }
}

function invalid(index: number, message: string): RpcError {
  return new RpcError(RPC_ERROR.invalidParams, `invalid argument ${index}: ${message}`);
}

function stringArg(params: readonly unknown[], index: number, what: string): string {
  const value = params[index];
  if (typeof value !== 'string') throw invalid(index, `expected ${what}`);
  return value;
}

/** A signed `enr:` record (what `discv5_addEnr` stores and a table may hand out). */
function recordArg(params: readonly unknown[], index: number): Node {
  const text = stringArg(params, index, 'an ENR string (enr:…)');
  if (!text.startsWith('enr:')) throw invalid(index, 'expected an ENR string (enr:…)');
  try {
    return Node.fromRecord(Enr.decodeText(text));
  } catch (cause) {
    throw invalid(index, (cause as Error).message);
  }
}

/** A node to send a packet to: an `enr:` record (an `enode://` URL also works), with an IP, a UDP port and a key. */
function targetArg(params: readonly unknown[], index: number): Node {
  const text = stringArg(params, index, 'an ENR string (enr:…)');
  let node: Node;
  try {
    node = parseNode(text);
  } catch (cause) {
    throw invalid(index, (cause as Error).message);
  }
  if (!node.udpEndpoint()) throw invalid(index, 'the record has no IP address and UDP port');
  if (!node.publicKey) throw invalid(index, 'the record has no secp256k1 public key');
  return node;
}

function nodeIdArg(params: readonly unknown[], index: number): NodeId {
  const text = stringArg(params, index, 'a node id (0x and 64 hex characters)');
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text)) throw invalid(index, 'expected a node id (0x and 64 hex characters)');
  return NodeId.fromHex(text);
}

function hexArg(params: readonly unknown[], index: number, what: string): Uint8Array {
  const text = stringArg(params, index, `${what} as a hex string (0x…)`);
  try {
    return hexToBytes(text, what);
  } catch (cause) {
    throw invalid(index, (cause as Error).message);
  }
}

function distancesArg(params: readonly unknown[], index: number): number[] {
  const value = params[index];
  const bad = (): RpcError =>
    invalid(index, `expected an array of 1 to ${MAX_FINDNODE_RPC_DISTANCES} distances, integers 0..256`);
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_FINDNODE_RPC_DISTANCES) throw bad();
  for (const d of value) {
    if (!Number.isInteger(d) || d < 0 || d > MAX_FINDNODE_DISTANCE) throw bad();
  }
  return value as number[];
}

/** `discv5_updateNodeInfo`'s socket address: `ip:port` (`[ip6]:port`), an IP literal and a port 1..65535. */
function socketAddrArg(params: readonly unknown[], index: number): { ip: string; port: number } {
  const text = stringArg(params, index, 'a socket address (ip:port)');
  const parsed = splitHostPort(text);
  if (!parsed || isIP(parsed.host) === 0 || parsed.port < 1 || parsed.port > 65535) {
    throw invalid(index, `expected a socket address like 203.0.113.7:9000 or [2001:db8::1]:9000, got ${text}`);
  }
  return { ip: parsed.host, port: parsed.port };
}

const METHODS: ReadonlyMap<string, Discv5Method> = new Map<string, Discv5Method>([
  [
    'discv5_nodeInfo',
    (rpc, p) => {
      arity(p, 0);
      return nodeInfo(rpc.discv5);
    },
  ],
  [
    'discv5_updateNodeInfo',
    (rpc, p) => {
      arity(p, 1, 2);
      const { ip, port } = socketAddrArg(p, 0);
      const isTcp = p[1] ?? false;
      if (typeof isTcp !== 'boolean') throw invalid(1, 'expected a boolean (isTcp)');
      const local = rpc.discv5.localNode;
      try {
        local.setStaticIp(ip);
        if (isTcp) local.set({ [isIP(ip) === 6 ? 'tcp6' : 'tcp']: port });
        else local.setFallbackUdp(port);
      } catch (cause) {
        throw new RpcError(RPC_ERROR.serverError, `the record cannot take it: ${(cause as Error).message}`);
      }
      // The spec names the id `localNodeId` here and `nodeId` in discv5_nodeInfo: both are given.
      const info = nodeInfo(rpc.discv5);
      return { ...info, localNodeId: info.nodeId };
    },
  ],
  [
    'discv5_routingTableInfo',
    (rpc, p) => {
      arity(p, 0);
      const { table } = rpc.discv5;
      return {
        localNodeId: prefixed(rpc.discv5.self.id),
        // Our buckets as they are (geth's layout): the first holds log distances up to 240, the last 256. Each
        // lists its nodes in the order they entered.
        buckets: Array.from({ length: N_BUCKETS }, (_, i) => table.bucket(i).entries.map((n) => prefixed(n.id))),
      };
    },
  ],
  [
    'discv5_addEnr',
    (rpc, p) => {
      arity(p, 1);
      const node = recordArg(p, 0);
      if (node.id.equals(rpc.discv5.self.id)) throw invalid(0, 'that is our own record');
      if (!node.udpEndpoint()) throw invalid(0, 'the record has no IP address and UDP port');
      const { table } = rpc.discv5;
      table.addFoundNode(node);
      // True when it is in the table now (added or updated), false when its bucket is full or its IP over the
      // table's limits (it may then wait in the bucket's replacement list).
      return table.get(node.id) !== undefined;
    },
  ],
  [
    'discv5_getEnr',
    (rpc, p) => {
      arity(p, 1);
      const id = nodeIdArg(p, 0);
      const disc = rpc.discv5;
      if (id.equals(disc.self.id)) return disc.self.record.toText();
      const node = disc.table.get(id);
      if (!node) throw new RpcError(RPC_ERROR.serverError, 'record not in the local routing table');
      return node.record.toText();
    },
  ],
  [
    'discv5_deleteEnr',
    (rpc, p) => {
      arity(p, 1);
      return rpc.discv5.table.delete(nodeIdArg(p, 0));
    },
  ],
  [
    'discv5_lookupEnr',
    (rpc, p, cancel) => {
      arity(p, 1);
      const id = nodeIdArg(p, 0);
      return rpc.run(id.short(), cancel, async (disc, signal) => {
        if (id.equals(disc.self.id)) return disc.self.record.toText();
        let node = disc.table.get(id);
        if (!node) node = (await disc.lookup(id, { signal })).find((n) => n.id.equals(id));
        if (!node) throw new RpcError(RPC_ERROR.serverError, 'record not found in the DHT lookup');
        // The newest record: the node asked directly (it may have moved on since its neighbours heard of it).
        return (await disc.resolve(node, { signal })).record.toText();
      });
    },
  ],
  [
    'discv5_ping',
    (rpc, p, cancel) => {
      arity(p, 1);
      const node = targetArg(p, 0);
      return rpc.run(node.id.short(), cancel, async (disc, signal) => {
        const pong = await disc.ping(node, { signal });
        return { enrSeq: Number(pong.enrSeq), recipientIP: pong.ip, recipientPort: pong.port };
      });
    },
  ],
  [
    'discv5_findNode',
    (rpc, p, cancel) => {
      arity(p, 2);
      const node = targetArg(p, 0);
      const distances = distancesArg(p, 1);
      return rpc.run(node.id.short(), cancel, async (disc, signal) =>
        (await disc.findNode(node, distances, { signal })).map((n) => n.record.toText()),
      );
    },
  ],
  [
    'discv5_talkReq',
    (rpc, p, cancel) => {
      arity(p, 3);
      const node = targetArg(p, 0);
      const protocol = hexArg(p, 1, 'protocol id');
      const payload = hexArg(p, 2, 'payload');
      return rpc.run(
        node.id.short(),
        cancel,
        async (disc, signal) => `0x${bytesToHex(await disc.talkRequest(node, protocol, payload, { signal }))}`,
      );
    },
  ],
  [
    'discv5_recursiveFindNodes',
    (rpc, p, cancel) => {
      arity(p, 1);
      const target = nodeIdArg(p, 0);
      return rpc.run(target.short(), cancel, async (disc, signal) =>
        (await disc.lookup(target, { signal })).map((n) => n.record.toText()),
      );
    },
  ],
]);

/** The `discv5_*` method names, in the spec's order. */
export const DISCV5_RPC_METHODS: readonly string[] = [...METHODS.keys()];

/**
 * The `discv5_*` methods over one running {@link Discv5}, shared by every endpoint of a node so that the limit on
 * methods running at once holds for all of them.
 * @example const api = new Discv5Rpc(node.discv5!); await api.call('discv5_ping', [enr])
 */
export class Discv5Rpc {
  readonly discv5: Discv5;
  readonly #timeoutMs: number;
  readonly #maxCalls: number;
  #running = 0;

  constructor(discv5: Discv5, options: Discv5RpcOptions = {}) {
    this.discv5 = discv5;
    this.#timeoutMs = options.timeoutMs ?? DISCV5_RPC_TIMEOUT_MS;
    this.#maxCalls = options.maxCalls ?? MAX_DISCV5_RPC_CALLS;
  }

  /** Methods that send packets running now. */
  get running(): number {
    return this.#running;
  }

  /** True for a `discv5_*` method this serves. */
  has(method: string): boolean {
    return METHODS.has(method);
  }

  /**
   * Runs a method: its result, or a promise of it for those that send packets (`cancel` stops them: the client
   * went away). Throws (or rejects with) an {@link RpcError}: -32602 for bad params, -32005 over the limit, -32000
   * when the network did not answer.
   */
  call(method: string, params: readonly unknown[], cancel?: AbortSignal): JsonValue | Promise<JsonValue> {
    const handler = METHODS.get(method);
    if (!handler) throw new RpcError(RPC_ERROR.methodNotFound, `the method ${method} does not exist/is not available`);
    return handler(this, params, cancel);
  }

  /**
   * Runs `request` with the deadline (or until `cancel` aborts), counted against the limit; failures become -32000
   * errors naming `who`.
   * @example return rpc.run(node.id.short(), cancel, (disc, signal) => disc.ping(node, { signal }))
   */
  async run<T extends JsonValue>(
    who: string,
    cancel: AbortSignal | undefined,
    request: (disc: Discv5, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (cancel?.aborted) throw new RpcError(RPC_ERROR.serverError, 'request cancelled: the client went away');
    if (this.#running >= this.#maxCalls) {
      throw new RpcError(
        RPC_ERROR.limitExceeded,
        `too many discv5 requests running (${this.#maxCalls}); try again when one has finished`,
      );
    }
    this.#running++;
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    const timer = setTimeout(stop, this.#timeoutMs);
    cancel?.addEventListener('abort', stop, { once: true });
    try {
      return await request(this.discv5, controller.signal);
    } catch (error) {
      if (error instanceof RpcError) throw error;
      if (cancel?.aborted) throw new RpcError(RPC_ERROR.serverError, 'request cancelled: the client went away');
      if (controller.signal.aborted) {
        throw new RpcError(RPC_ERROR.serverError, `no answer from ${who} within ${this.#timeoutMs} ms`);
      }
      throw new RpcError(RPC_ERROR.serverError, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', stop);
      this.#running--;
    }
  }
}
