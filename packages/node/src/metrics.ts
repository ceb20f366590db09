/**
 * The node's Prometheus metrics, under go-ethereum's names (its `/` separators become `_`, as geth's exporter
 * writes them), so dashboards built for geth read ours: peers, dials and serves with failures by class, traffic in
 * and out, per protocol message, and discovery. Ours where geth has none are prefixed `devp2p_`. Built on
 * `prom-client` (kept, and it runs on Node, Bun and Deno); the registry is the application's to scrape or merge.
 */
import {
  type ByteStream,
  type DatagramTransport,
  DisconnectError,
  DisconnectReason,
  HandshakeMismatchError,
  ProtocolError,
  type Transport,
} from '@devp2p/core';
import type { DialOutcome } from '@devp2p/dial';
import { type Discv4Stats, type Discv5Stats, N_BUCKETS } from '@devp2p/discovery';
import { ERR_BAD_MAC, ERR_HANDSHAKE } from '@devp2p/rlpx';
import { type ConnectionEvent, ERR_HELLO, type PeerMessageEvent } from '@devp2p/server';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The path geth serves its Prometheus metrics on (`--metrics.addr`/`--metrics.port`). */
export const METRICS_PATH = '/debug/metrics/prometheus';

/** RLPx handshake duration buckets, in seconds: loopback takes milliseconds, a far peer a few hundred. */
const HANDSHAKE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Why a connection failed, in geth's classes (`p2p/metrics.go` `markDialError`). */
export type ConnectionErrorClass =
  | 'saturated'
  | 'known'
  | 'self'
  | 'useless'
  | 'id/unexpected'
  | 'rlpx/enc'
  | 'rlpx/proto'
  | 'other';

const CLASSES: readonly ConnectionErrorClass[] = [
  'saturated',
  'known',
  'self',
  'useless',
  'id/unexpected',
  'rlpx/enc',
  'rlpx/proto',
  'other',
];

/** geth's class of a failed connection: by the disconnect reason we sent or got, else by the stage that broke. */
export function connectionErrorClass(error: unknown): ConnectionErrorClass {
  if (error instanceof DisconnectError) {
    switch (error.reason) {
      case DisconnectReason.TooManyPeers:
        return 'saturated';
      case DisconnectReason.AlreadyConnected:
        return 'known';
      case DisconnectReason.ConnectedToSelf:
        return 'self';
      case DisconnectReason.UselessPeer:
        return 'useless';
      case DisconnectReason.UnexpectedIdentity:
        return 'id/unexpected';
      default:
        return 'other';
    }
  }
  if (error instanceof ProtocolError) {
    if (error.code === ERR_HANDSHAKE || error.code === ERR_BAD_MAC) return 'rlpx/enc';
    if (error.code === ERR_HELLO) return 'rlpx/proto';
  }
  return 'other';
}

/** The eth Status mismatches geth meters, by the name of their meter. */
const STATUS_MISMATCH_METER: Readonly<Record<string, string>> = {
  'network-id': 'network',
  version: 'version',
  genesis: 'genesis',
  'fork-id': 'forkid',
};

/** The meter name of an eth Status mismatch (a HandshakeMismatchError of `eth`) in `error` or its causes, if any. */
function statusMismatch(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof HandshakeMismatchError && e.protocol === 'eth') return STATUS_MISMATCH_METER[e.mismatch];
  }
  return undefined;
}

/** The two meters of one protocol message: its bytes and its packets. */
export interface MessageMeter {
  readonly bytes: Counter;
  readonly packets: Counter;
}

/**
 * The meters of protocol messages by (protocol, version, code, direction), each pair made once: counting a message
 * looks it up without building its name (the hot path allocates nothing). Bounded by the protocols' message counts:
 * the server reports only codes within a negotiated protocol's length.
 */
export class MessageMeters {
  /** Protocol → version → meters at `code * 2 + (sent ? 1 : 0)`. */
  readonly #byProtocol = new Map<string, Map<number, MessageMeter[]>>();
  readonly #create: (name: string) => Counter;
  #size = 0;

  /** `create` gives the counter of a geth meter name. */
  constructor(create: (name: string) => Counter) {
    this.#create = create;
  }

  /** How many messages have meters. */
  get size(): number {
    return this.#size;
  }

  /** The meters of one message, made on first use under geth's `p2p/{ingress,egress}/<proto>/<version>/<code>`. */
  get(protocol: string, version: number, code: number, direction: 'sent' | 'received'): MessageMeter {
    let versions = this.#byProtocol.get(protocol);
    if (!versions) {
      versions = new Map();
      this.#byProtocol.set(protocol, versions);
    }
    let meters = versions.get(version);
    if (!meters) {
      meters = [];
      versions.set(version, meters);
    }
    const slot = code * 2 + (direction === 'sent' ? 1 : 0);
    let meter = meters[slot];
    if (!meter) {
      const hex = `0x${code.toString(16).padStart(2, '0')}`;
      const name = `p2p/${direction === 'received' ? 'ingress' : 'egress'}/${protocol}/${version}/${hex}`;
      meter = { bytes: this.#create(name), packets: this.#create(`${name}/packets`) };
      meters[slot] = meter;
      this.#size++;
    }
    return meter;
  }
}

/** What the node reads at scrape time. */
export interface MetricsSources {
  peers(): readonly { readonly inbound: boolean; readonly queuedBytes: number }[];
  /** Nodes per discovery table bucket, nearest first; empty without discovery. */
  tableBuckets(): readonly number[];
  /** discv5's counters, when it runs. */
  discv5Stats(): Discv5Stats | undefined;
  /** discv4's counters, when it runs. */
  discv4Stats(): Discv4Stats | undefined;
}

/** `name` as geth's exporter writes it: slashes to underscores. */
function gethName(name: string): string {
  return name.replaceAll('/', '_');
}

/**
 * The metrics of one node. `prometheus()` gives the text exposition; `registry` can be merged into an
 * application's own (`Registry.merge`).
 * @example
 * const node = createNode({ metrics: true })
 * console.log(await node.metrics!.prometheus())
 */
export class NodeMetrics {
  readonly registry: Registry = new Registry();
  readonly #counters = new Map<string, Counter>();
  readonly #handshake: Histogram;
  readonly #packets: Counter<'direction'>;
  readonly #messages = new MessageMeters((name) => this.#counter(name));

  constructor(sources: MetricsSources) {
    const registry = this.registry;
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name: gethName(name),
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    };
    gauge('p2p/peers', 'connected peers', () => sources.peers().length);
    gauge('p2p/peers/inbound', 'peers that connected to us', () => sources.peers().filter((p) => p.inbound).length);
    gauge('p2p/peers/outbound', 'peers we dialed', () => sources.peers().filter((p) => !p.inbound).length);
    const queued = (): number[] => sources.peers().map((p) => p.queuedBytes);
    new Gauge({
      name: 'devp2p_peers_queued_bytes',
      help: "bytes waiting in the peers' write queues, in all",
      registers: [registry],
      collect() {
        this.set(queued().reduce((a, b) => a + b, 0));
      },
    });
    new Gauge({
      name: 'devp2p_peers_queued_bytes_max',
      help: 'bytes waiting in the fullest peer write queue (bounded by MAX_WRITE_QUEUE_BYTES)',
      registers: [registry],
      collect() {
        this.set(Math.max(0, ...queued()));
      },
    });
    const v5 = (name: string, help: string, read: (stats: Discv5Stats) => number): void =>
      gauge(name, help, () => {
        const stats = sources.discv5Stats();
        return stats ? read(stats) : 0;
      });
    const v4 = (name: string, help: string, read: (stats: Discv4Stats) => number): void =>
      gauge(name, help, () => {
        const stats = sources.discv4Stats();
        return stats ? read(stats) : 0;
      });
    v4('devp2p/discv4/lookups', 'discv4 lookups run (a total)', (st) => st.lookups);
    v4('devp2p/discv4/bond/failures', 'discv4 endpoint proofs that failed (a total)', (st) => st.bondFailures);
    v5('devp2p/discv5/received', 'discv5 datagrams received (a total)', (st) => st.received);
    v5('devp2p/discv5/sent', 'discv5 packets sent (a total)', (st) => st.sent);
    v5('devp2p/discv5/handshakes', 'discv5 handshakes completed (a total)', (st) => st.handshakes);
    v5('devp2p/discv5/talkreq', 'TALKREQs received (a total)', (st) => st.talkRequests);
    new Gauge({
      name: 'devp2p_discv5_dropped',
      help: 'discv5 datagrams dropped, by reason (a total)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        const stats = sources.discv5Stats();
        if (!stats) return;
        for (const [reason, count] of Object.entries(stats.dropped)) if (count > 0) this.set({ reason }, count);
      },
    });
    for (let i = 0; i < N_BUCKETS; i++) {
      gauge(`discover/bucket/${i}/count`, `nodes in discovery table bucket ${i}`, () => sources.tableBuckets()[i] ?? 0);
    }
    this.#packets = new Counter({
      name: 'devp2p_discover_packets',
      help: 'discovery datagrams received (direction="in") and sent (direction="out")',
      labelNames: ['direction'],
      registers: [registry],
    });
    this.#handshake = new Histogram({
      name: 'devp2p_rlpx_handshake_seconds',
      help: 'RLPx (ECIES) handshake duration of connections that completed it',
      buckets: HANDSHAKE_BUCKETS,
      registers: [registry],
    });
    // Registered up front so a scrape shows every class at 0 before the first failure.
    for (const name of ['p2p/ingress', 'p2p/egress', 'discover/ingress', 'discover/egress']) this.#counter(name);
    for (const side of ['dials', 'serves']) {
      this.#counter(`p2p/${side}`);
      this.#counter(`p2p/${side}/success`);
      for (const cls of CLASSES) this.#counter(`p2p/${side}/error/${cls}`);
    }
    this.#counter('p2p/dials/error/connection');
    for (const side of ['ingress', 'egress']) {
      for (const kind of Object.values(STATUS_MISMATCH_METER)) {
        this.#counter(`eth/protocols/eth/${side}/handshake/error/${kind}`);
      }
    }
  }

  /** The text exposition format (what `/debug/metrics/prometheus` serves). */
  prometheus(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counts a dial the scheduler made, as geth's dial meters do. */
  dialed(outcome: DialOutcome): void {
    if (outcome.kind === 'aborted' || outcome.kind === 'unresolved') return;
    this.#inc('p2p/dials');
    if (outcome.kind === 'connected') this.#inc('p2p/dials/success');
    else if (outcome.kind === 'refused' || outcome.kind === 'timeout') this.#inc('p2p/dials/error/connection');
    else this.#inc(`p2p/dials/error/${connectionErrorClass(outcome.error)}`);
  }

  /** Counts a connection whose handshakes ended: inbound ones are geth's serves; dials are counted by `dialed`. */
  connection(event: ConnectionEvent): void {
    if (event.handshakeMs !== undefined) this.#handshake.observe(event.handshakeMs / 1000);
    if (!event.inbound) return;
    this.#inc('p2p/serves');
    if (event.peer) this.#inc('p2p/serves/success');
    else this.#inc(`p2p/serves/error/${connectionErrorClass(event.error)}`);
  }

  /**
   * A peer that ended: when an eth Status exchange failed on a mismatch (a HandshakeMismatchError of `eth`),
   * geth's `eth/protocols/eth/{ingress,egress}/handshake/error/<kind>` meter counts it.
   */
  peerRemoved(inbound: boolean, error: unknown): void {
    const mismatch = statusMismatch(error);
    if (mismatch === undefined) return;
    this.#inc(`eth/protocols/eth/${inbound ? 'ingress' : 'egress'}/handshake/error/${mismatch}`);
  }

  /** Per protocol message, as geth's `p2p/{ingress,egress}/<proto>/<version>/<code>` meters (bytes and packets). */
  message(event: PeerMessageEvent): void {
    if (event.protocol === 'p2p') return;
    const meter = this.#messages.get(event.protocol, event.version, event.code, event.direction);
    meter.bytes.inc(event.size);
    meter.packets.inc();
  }

  /** `transport` with its bytes counted as `p2p/ingress` and `p2p/egress` (geth's metered connection). */
  meterTransport(transport: Transport): Transport {
    const meter = (stream: ByteStream): ByteStream => this.#meterStream(stream);
    return {
      listen: (options, onStream) => transport.listen(options, (stream) => onStream(meter(stream))),
      dial: async (host, port, options) => meter(await transport.dial(host, port, options)),
    };
  }

  /** `transport` with its datagrams' bytes counted as `discover/ingress` and `discover/egress`. */
  meterDatagrams(transport: DatagramTransport): DatagramTransport {
    return {
      bind: async (options, onMessage) => {
        const socket = await transport.bind(options, (data, from) => {
          this.#inc('discover/ingress', data.length);
          this.#packets.inc({ direction: 'in' });
          onMessage(data, from);
        });
        return {
          address: socket.address,
          send: (data, host, port) => {
            this.#inc('discover/egress', data.length);
            this.#packets.inc({ direction: 'out' });
            socket.send(data, host, port);
          },
          close: () => socket.close(),
        };
      },
    };
  }

  #meterStream(stream: ByteStream): ByteStream {
    return {
      get remoteAddress() {
        return stream.remoteAddress;
      },
      get localAddress() {
        return stream.localAddress;
      },
      read: async () => {
        const chunk = await stream.read();
        if (chunk) this.#inc('p2p/ingress', chunk.length);
        return chunk;
      },
      write: (data) => {
        this.#inc('p2p/egress', data.length);
        return stream.write(data);
      },
      end: () => stream.end(),
      destroy: () => stream.destroy(),
    };
  }

  #inc(name: string, by = 1): void {
    this.#counter(name).inc(by);
  }

  /**
   * The counter for a geth meter name, registered on first use. Its value is the meter's count, as geth exports
   * meters; message names are bounded by the protocols' message codes (see {@link MessageMeters}).
   */
  #counter(name: string): Counter {
    let counter = this.#counters.get(name);
    if (!counter) {
      counter = new Counter({ name: gethName(name), help: `geth's ${name}`, registers: [this.registry] });
      this.#counters.set(name, counter);
    }
    return counter;
  }
}
