// Idle peers: the real `devp2p node` (the CLI from source, a child process on this bench's runtime) holding
// IDLE_PEERS (1,000) RLPx connections that this process opens over 127.0.0.1, each a real peer that completed the
// handshake and the Hello (png/1) and keeps the base protocol's Ping/Pong going both ways. Reports the node's memory
// per peer, its CPU while the peers idle, and its admin RPC latency meanwhile. Linux only (/proc). See README.md
// (idle-peers). Run through run.mjs, or alone:
//   node --import tsx --conditions devp2p-source tools/bench/src/idle-peers.ts
// Environment: IDLE_PEERS=1000, IDLE_SECONDS=30 (the idle window measured), IDLE_NODE_LOG=<file> (append what the
// node prints).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import type { RLPxConnection } from '@devp2p/rlpx';
import { BaseMessageCode, DEFAULT_DIAL_RATIO, PING_INTERVAL_MS } from '@devp2p/server';
import { runtime } from '@devp2p/test-utils';
import { type BenchRow, envNumber, progress, runBench } from './lib/harness.ts';
import {
  assertDistFresh,
  BASELINE_SETTLE_MS,
  cpuSeconds,
  type MemoryUsage,
  MiB,
  mib,
  type NodeCode,
  type NodeProcess,
  openFds,
  percentile,
  type Runtime,
  sleep,
  startNode,
  statusMiB,
  stopNode,
} from './lib/node-process.ts';
import { dialPingPeer } from './lib/ping-peer.ts';
import { callAdminPeers, callRpc } from './lib/rpc-probe.ts';

/** Peers held at once (issue 21: 1,000 per process). */
const DEFAULT_PEERS = 1_000;
/** The idle window over which the node's CPU and RPC latency are measured. */
const DEFAULT_IDLE_SECONDS = 30;
/** Connections being set up at once: enough to connect 1,000 in seconds, few enough not to time out in the queue. */
const CONNECT_CONCURRENCY = 16;
/** The pause after the last peer connected before the idle window opens (the node's start-up garbage settles). */
const SETTLE_MS = 5_000;
/** The window over which the node's CPU is measured before any peer connects. */
const BASELINE_CPU_MS = 10_000;
/** One RPC call this often while measuring CPU, with and without peers. */
const RPC_INTERVAL_MS = 1_000;
/**
 * The call whose latency says whether the RPC is responsive: a cheap one, so the latency is the node's and its cost
 * stays out of the CPU figure (admin_peers lists every peer, about 5 % of a core each second with 1,000).
 */
const LATENCY_METHOD = 'net_peerCount';
/** The peers' own deadlines for the handshake and the Hello (the node's are 5 s; ours wait in its queue too). */
const PEER_HANDSHAKE_TIMEOUT_MS = 15_000;
/** A Ping: base-protocol code 0x02 with an empty list; a Pong is 0x03 with the same payload. */
const EMPTY_LIST = Uint8Array.of(0xc0);

/** Targets (issue 21): memory per connected peer, and the node's CPU while its peers idle. */
const KIB_PER_PEER_TARGET = 64;
const IDLE_CPU_TARGET_PERCENT = 10;

/** The load generator's peers: how many are up, and what ended the others. */
interface Peers {
  readonly live: Set<RLPxConnection>;
  connected: number;
  failed: number;
  /** Connections that ended while the bench still held them: the node dropped them. */
  dropped: number;
  pingsAnswered: number;
  readonly errors: Map<string, number>;
}

function countError(peers: Peers, error: unknown): void {
  const text = `${(error as Error).name}: ${(error as Error).message}`.replace(/ \(remote [^)]*\)/g, '');
  peers.errors.set(text, (peers.errors.get(text) ?? 0) + 1);
}

/**
 * One peer: dials the node with a new key, completes the RLPx handshake and the Hello (png/1), then answers the
 * node's Pings and sends its own every PING_INTERVAL_MS (starting at a random point, so the peers' Pings spread out),
 * as a real peer's base protocol does, until the bench closes it.
 */
async function connectPeer(node: NodeProcess, peers: Peers, stop: AbortSignal): Promise<void> {
  const conn = await dialPingPeer(node.p2pPort, node.publicKey, {
    clientName: 'idle-peer',
    timeoutMs: PEER_HANDSHAKE_TIMEOUT_MS,
    live: peers.live,
  });
  peers.connected++;
  // The first Ping at a random point of the interval, then one every PING_INTERVAL_MS (a timer's refresh() would
  // repeat the random first delay, and a peer that drew a few milliseconds would Ping hundreds of times a second).
  let pinger = setTimeout(function pingAgain() {
    try {
      conn.sendMessage(BaseMessageCode.Ping, EMPTY_LIST);
      pinger = setTimeout(pingAgain, PING_INTERVAL_MS);
    } catch {
      // Closed: the read loop below has seen it, or is about to, and counts it.
    }
  }, Math.random() * PING_INTERVAL_MS);
  void (async () => {
    try {
      for (;;) {
        const { code } = conn.readBufferedMessage() ?? (await conn.readMessage());
        if (code === BaseMessageCode.Ping) {
          conn.sendMessage(BaseMessageCode.Pong, EMPTY_LIST); // throws once closed, which ends the loop
          peers.pingsAnswered++;
        }
      }
    } catch (error) {
      if (!stop.aborted) {
        peers.dropped++;
        countError(peers, error);
      }
    } finally {
      clearTimeout(pinger);
      conn.close();
      peers.live.delete(conn);
    }
  })();
}

/** Opens `count` peers, CONNECT_CONCURRENCY at a time; a failed one is counted, not retried. */
async function connectAll(node: NodeProcess, count: number, peers: Peers, stop: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && !stop.aborted) {
      next++;
      try {
        await connectPeer(node, peers, stop);
      } catch (error) {
        peers.failed++;
        countError(peers, error);
      }
      if (next % 100 === 0) progress(`${peers.connected} peers connected, ${peers.failed} failed`);
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
}

async function* idlePeers(): AsyncGenerator<BenchRow> {
  if (process.platform !== 'linux') {
    yield { name: 'idle peers', unit: 'count', value: null, note: 'idle-peers reads /proc: Linux only' };
    return;
  }
  const count = Math.floor(envNumber('IDLE_PEERS', DEFAULT_PEERS));
  const idleMs = envNumber('IDLE_SECONDS', DEFAULT_IDLE_SECONDS) * 1000;
  const datadir = mkdtempSync(join(tmpdir(), 'devp2p-idle-'));
  // Inbound connections may take maxPeers - maxPeers / dialRatio slots (geth's rule): leave room for all of ours.
  const maxPeers = Math.ceil((count * DEFAULT_DIAL_RATIO) / (DEFAULT_DIAL_RATIO - 1)) + 10;
  // On Node the node runs its built dist/, not the sources through tsx (see NodeCode): memory per peer is the figure.
  const from: NodeCode = runtime === 'node' ? 'dist' : 'source';
  if (from === 'dist') assertDistFresh();
  const node = await startNode(
    datadir,
    process.env.IDLE_NODE_LOG,
    runtime as Runtime,
    ['--maxpeers', String(maxPeers)],
    from,
  );
  const stop = new AbortController();
  const peers: Peers = { live: new Set(), connected: 0, failed: 0, dropped: 0, pingsAnswered: 0, errors: new Map() };
  try {
    await callAdminPeers(node.rpcUrl);
    await sleep(BASELINE_SETTLE_MS);
    // The node's CPU with no peer: its own timers and the probe's, and the same RPC calls as in the idle window.
    const baselineStart = performance.now();
    const baselineCpuStart = cpuSeconds(node.pid);
    while (performance.now() - baselineStart < BASELINE_CPU_MS) {
      await callRpc(node.rpcUrl, LATENCY_METHOD);
      await sleep(RPC_INTERVAL_MS);
    }
    const baselineCpuPercent =
      ((cpuSeconds(node.pid) - baselineCpuStart) / ((performance.now() - baselineStart) / 1000)) * 100;
    const baselineRss = statusMiB(node.pid, 'VmRSS');
    const baselineHeap = node.memory.latest?.heapUsed;
    const baselineCollected = await node.collect();
    progress(`node up (pid ${node.pid}), RSS ${baselineRss.toFixed(1)} MiB; connecting ${count} peers`);

    const connectStart = performance.now();
    const connectCpu = cpuSeconds(node.pid);
    // In two halves: the RSS between them, after a forced GC each time, gives what one more peer costs once the
    // engine's heap has grown to hold connections (the first half pays for that growth).
    const half = Math.floor(count / 2);
    await connectAll(node, half, peers, stop.signal);
    let connectMs = performance.now() - connectStart;
    let connectCpuSeconds = cpuSeconds(node.pid) - connectCpu;
    await sleep(SETTLE_MS);
    const halfPeers = peers.connected;
    const halfCollected = await node.collect();
    const secondStart = performance.now();
    const secondCpu = cpuSeconds(node.pid);
    await connectAll(node, count - half, peers, stop.signal);
    connectMs += performance.now() - secondStart;
    connectCpuSeconds += cpuSeconds(node.pid) - secondCpu;
    progress(`${peers.connected} connected in ${(connectMs / 1000).toFixed(1)} s; settling`);
    await sleep(SETTLE_MS);

    const latencies: number[] = [];
    let rpcFailures = 0;
    const windowStart = performance.now();
    const cpuStart = cpuSeconds(node.pid);
    const answeredStart = peers.pingsAnswered;
    while (performance.now() - windowStart < idleMs) {
      const outcome = await callRpc(node.rpcUrl, LATENCY_METHOD);
      if ('ms' in outcome) latencies.push(outcome.ms);
      else rpcFailures++;
      await sleep(RPC_INTERVAL_MS);
    }
    const windowSeconds = (performance.now() - windowStart) / 1000;
    const cpuPercent = ((cpuSeconds(node.pid) - cpuStart) / windowSeconds) * 100;
    const listed = await callAdminPeers(node.rpcUrl);
    const rpcPeers = 'peers' in listed ? listed.peers : undefined;
    const heldRss = statusMiB(node.pid, 'VmRSS');
    const held: MemoryUsage | undefined = node.memory.latest;
    const fds = openFds(node.pid, [node.p2pPort]);
    const collected = await node.collect();
    const collectedRss = collected ? collected.rss / MiB : undefined;
    progress(
      `idle ${windowSeconds.toFixed(0)} s: node CPU ${cpuPercent.toFixed(1)} %, RSS ${heldRss.toFixed(1)} MiB ` +
        `(${collectedRss?.toFixed(1) ?? '?'} after a forced GC), ${fds.connections[0]} P2P connections, ` +
        `${peers.pingsAnswered - answeredStart} node Pings answered`,
    );
    const heapPerPeerKiB =
      held && baselineHeap !== undefined
        ? (held.heapUsed - baselineHeap) / 1024 / Math.max(1, peers.connected)
        : undefined;
    const perPeerKiB = (rss: number): number => ((rss - baselineRss) * 1024) / Math.max(1, peers.connected);

    yield { name: `peers connected (of ${count} dialed)`, unit: 'count', value: peers.connected };
    yield {
      name: 'peers the node reports (admin_peers)',
      unit: 'count',
      value: rpcPeers ?? null,
      ...(rpcPeers === undefined ? { note: 'admin_peers did not answer' } : {}),
    };
    yield { name: 'peers dropped by the node while idle', unit: 'count', value: peers.dropped, lowerIsBetter: true };
    yield { name: 'P2P connections the node holds', unit: 'count', value: fds.connections[0] ?? null };
    yield { name: 'time to connect all', unit: 's', value: connectMs / 1000, lowerIsBetter: true };
    yield {
      name: 'node CPU per connection set up (handshake + Hello)',
      unit: 'ms',
      value: (connectCpuSeconds * 1000) / Math.max(1, peers.connected),
      lowerIsBetter: true,
    };
    yield { name: 'RSS baseline', unit: 'MiB', value: baselineRss };
    yield { name: 'RSS with the peers', unit: 'MiB', value: heldRss };
    yield {
      name: 'RSS per peer (RSS with the peers − baseline) / peers',
      unit: 'KiB',
      value: perPeerKiB(heldRss),
      lowerIsBetter: true,
    };
    const marginal =
      halfCollected && collected && peers.connected > halfPeers
        ? (collected.rss - halfCollected.rss) / 1024 / (peers.connected - halfPeers)
        : undefined;
    yield {
      name: `RSS per added peer, ${halfPeers} → ${peers.connected} peers, after forced GCs (target ≤ ${KIB_PER_PEER_TARGET} KiB)`,
      unit: 'KiB',
      value: marginal ?? null,
      ...(marginal === undefined ? { note: 'the node did not answer the GC probe' } : {}),
      target: KIB_PER_PEER_TARGET,
      lowerIsBetter: true,
    };
    yield {
      name: 'RSS per peer after a forced full GC',
      unit: 'KiB',
      value: collectedRss === undefined ? null : perPeerKiB(collectedRss),
      ...(collectedRss === undefined ? { note: 'the node did not answer the GC probe' } : {}),
      lowerIsBetter: true,
    };
    yield {
      name: 'JS heap used per peer after a forced GC',
      unit: 'KiB',
      value:
        collected && baselineCollected
          ? (collected.heapUsed - baselineCollected.heapUsed) / 1024 / Math.max(1, peers.connected)
          : null,
      ...(collected && baselineCollected ? {} : { note: 'the node did not answer the GC probe' }),
      lowerIsBetter: true,
    };
    yield {
      name: 'JS heap used per peer',
      unit: 'KiB',
      value: heapPerPeerKiB ?? null,
      ...(heapPerPeerKiB === undefined ? { note: 'no probe sample' } : {}),
      lowerIsBetter: true,
    };
    yield { name: 'node CPU with no peers', unit: '%', value: baselineCpuPercent, lowerIsBetter: true };
    yield {
      name: `node CPU while idle (target ≤ ${IDLE_CPU_TARGET_PERCENT} % of a core)`,
      unit: '%',
      value: cpuPercent,
      target: IDLE_CPU_TARGET_PERCENT,
      lowerIsBetter: true,
    };
    yield {
      name: `admin RPC p50 while idle (${LATENCY_METHOD})`,
      unit: 'ms',
      value: percentile(latencies, 0.5) ?? null,
      lowerIsBetter: true,
    };
    yield {
      name: `admin RPC p99 while idle (${LATENCY_METHOD})`,
      unit: 'ms',
      value: percentile(latencies, 0.99) ?? null,
      lowerIsBetter: true,
    };
    yield { name: 'admin RPC failures', unit: 'count', value: rpcFailures, lowerIsBetter: true };
    if (peers.errors.size > 0) {
      progress(`peer errors: ${[...peers.errors].map(([e, n]) => `${n}× ${e}`).join('; ')}`);
    }
    progress(
      `heap used ${mib(baselineHeap)} MiB at baseline, ${mib(held?.heapUsed)} with the peers, ` +
        `${mib(collected?.heapUsed)} after a forced GC (RSS ${collectedRss?.toFixed(1) ?? '?'} MiB)`,
    );
  } finally {
    stop.abort();
    for (const conn of peers.live) conn.close();
    await stopNode(node);
    rmSync(datadir, { recursive: true, force: true });
  }
}

await runBench('idle-peers', idlePeers);
