import type { Logger } from '@devp2p/core';
import { METRICS_PATH, type NodeMetrics } from '@devp2p/node';
import { type RunningHttpServer, reply, startHttpServer } from './http-server.ts';

/** geth's `--metrics.addr` default: metrics are for this machine unless the operator says otherwise. */
export const DEFAULT_METRICS_ADDR = '127.0.0.1';
/** geth's `--metrics.port` default. */
export const DEFAULT_METRICS_PORT = 6060;

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  readonly host: string;
  /** Port 0: a free one. */
  readonly port: number;
  readonly logger: Logger;
}

/**
 * Serves `metrics` in the Prometheus text format at geth's path, `/debug/metrics/prometheus` (GET or HEAD; other
 * paths get 404, other methods 405), with the same deadlines and connection cap as the admin JSON-RPC.
 * @example const server = await startMetricsServer(node.metrics!, { host: '127.0.0.1', port: 6060, logger })
 */
export function startMetricsServer(metrics: NodeMetrics, options: MetricsServerOptions): Promise<RunningHttpServer> {
  const logger = options.logger.child('cli:metrics');
  return startHttpServer({ host: options.host, port: options.port, logger }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) return reply(res, 404, `not found; metrics are at ${METRICS_PATH}\n`, 'text/plain');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n', 'text/plain');
    metrics.prometheus().then(
      (text) => reply(res, 200, req.method === 'HEAD' ? '' : text, metrics.registry.contentType),
      (error: unknown) => {
        logger.warn('metrics collection failed', { error: error instanceof Error ? error.message : String(error) });
        reply(res, 500, 'metrics collection failed\n', 'text/plain');
      },
    );
  });
}
