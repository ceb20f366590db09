/**
 * Keeps our ports mapped on a gateway (NAT-PMP or UPnP) and our record's address in step with it, as geth's server does
 * (`p2p/server_nat.go`): the external IP goes into the ENR, each port is mapped for {@link PORT_MAP_LIFETIME_S} and
 * refreshed before that, a failed mapping is retried later, and every mapping is removed on close.
 */
import { type Clock, type Logger, systemClock } from '@devp2p/core';
import type { LocalNode } from '@devp2p/enode';
/** A gateway that maps ports: NAT-PMP's `PmpClient` or UPnP's `UpnpClient`. */
export interface PortMappingClient {
  readonly gateway: string;
  externalAddress(signal?: AbortSignal): Promise<string>;
  /** Maps for `lifetime` seconds; lifetime 0 removes the mapping. */
  map(
    protocol: 'tcp' | 'udp',
    internalPort: number,
    externalPort: number,
    lifetime: number,
    signal?: AbortSignal,
  ): Promise<{ readonly externalPort: number }>;
  close(): Promise<void>;
}

/** How long each mapping is asked for (geth's `portMapDuration`, 10 min). */
export const PORT_MAP_LIFETIME_S = 600;
/** When a mapping is renewed, well before it lapses (geth's `portMapRefreshInterval`, 8 min). */
export const PORT_MAP_REFRESH_MS: number = 8 * 60_000;
/** When a failed mapping or external-address request is tried again (geth's `portMapRetryInterval`, 5 min). */
export const PORT_MAP_RETRY_MS: number = 5 * 60_000;
/** How long removing the mappings on close may take before we give up on the gateway. */
export const PORT_UNMAP_TIMEOUT_MS = 2_000;

interface Mapping {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  mapped: boolean;
  /** A request to map it was sent: the gateway may hold it even if its answer never came (close removes it). */
  requested: boolean;
  timer: unknown;
}

/** Options of {@link PortMapper}. */
export interface PortMapperOptions {
  readonly localNode: LocalNode;
  readonly clock?: Clock;
  readonly logger: Logger;
}

/**
 * One gateway's mappings for this node.
 * @example
 * const mapper = new PortMapper(pmp, { localNode, logger })
 * mapper.add('tcp', 30303); mapper.add('udp', 30303)
 * await mapper.close()
 */
export class PortMapper {
  readonly #client: PortMappingClient;
  readonly #localNode: LocalNode;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #mappings: Mapping[] = [];
  readonly #closing = new AbortController();
  #ipTimer: unknown;
  #closed: Promise<void> | undefined;

  constructor(client: PortMappingClient, options: PortMapperOptions) {
    this.#client = client;
    this.#localNode = options.localNode;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger;
    void this.#refreshExternalIp();
  }

  /** Maps `port` for `protocol` now and keeps it mapped until {@link PortMapper.close}. */
  add(protocol: 'tcp' | 'udp', port: number): void {
    const mapping: Mapping = { protocol, port, mapped: false, requested: false, timer: undefined };
    this.#mappings.push(mapping);
    void this.#map(mapping);
  }

  /** Stops refreshing, removes every mapping made (lifetime 0) and releases the socket. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing.abort();
    this.#clock.clearTimeout(this.#ipTimer);
    for (const mapping of this.#mappings) this.#clock.clearTimeout(mapping.timer);
    const signal = AbortSignal.timeout(PORT_UNMAP_TIMEOUT_MS);
    for (const mapping of this.#mappings.filter((m) => m.requested)) {
      try {
        // External port 0 with lifetime 0: delete (RFC 6886 §3.4; the UPnP client deletes the port itself).
        await this.#client.map(mapping.protocol, mapping.port, 0, 0, signal);
        this.#log.debug('removed port mapping', { proto: mapping.protocol, port: mapping.port });
      } catch (error) {
        this.#log.debug('could not remove port mapping', { port: mapping.port, reason: (error as Error).message });
      }
    }
    await this.#client.close();
  }

  async #refreshExternalIp(): Promise<void> {
    try {
      const ip = await this.#client.externalAddress(this.#closing.signal);
      this.#localNode.setStaticIp(ip);
      this.#log.info('NAT gateway reports our external IP', { gateway: this.#client.gateway, ip });
    } catch (error) {
      if (this.#closing.signal.aborted) return;
      this.#log.warn('NAT gateway did not give its external IP', { reason: (error as Error).message });
      this.#ipTimer = this.#clock.setTimeout(() => void this.#refreshExternalIp(), PORT_MAP_RETRY_MS);
    }
  }

  async #map(mapping: Mapping): Promise<void> {
    const { protocol, port } = mapping;
    mapping.requested = true;
    try {
      const granted = await this.#client.map(protocol, port, port, PORT_MAP_LIFETIME_S, this.#closing.signal);
      if (!mapping.mapped) {
        this.#log.info('mapped network port', { proto: protocol, port, external: granted.externalPort });
      }
      mapping.mapped = true;
      // A gateway may hand out another external port: announce the one that reaches us.
      if (granted.externalPort !== port) {
        if (protocol === 'tcp') this.#localNode.set({ tcp: granted.externalPort });
        else this.#localNode.setFallbackUdp(granted.externalPort);
      }
      mapping.timer = this.#clock.setTimeout(() => void this.#map(mapping), PORT_MAP_REFRESH_MS);
    } catch (error) {
      if (this.#closing.signal.aborted) return;
      this.#log.warn('could not map network port', { proto: protocol, port, reason: (error as Error).message });
      mapping.timer = this.#clock.setTimeout(() => void this.#map(mapping), PORT_MAP_RETRY_MS);
    }
  }
}
