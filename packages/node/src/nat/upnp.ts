/**
 * A UPnP Internet Gateway Device client (UPnP IGD 1 and 2): finds the gateway with an SSDP search, reads its
 * description for the WAN connection service, and maps ports with SOAP `AddPortMapping` / `DeletePortMapping`, as
 * geth's `p2p/nat` does through goupnp. Ours because `@achingbrain/nat-port-mapper` deletes mappings without naming
 * their protocol, which the IGD specification requires. XML is read with `fast-xml-parser` (kept).
 */
import { request as httpRequest } from 'node:http';
import { AbortError, type DatagramTransport, Devp2pError, TimeoutError } from '@devp2p/core';
import { checkLoopbackOnly } from '@devp2p/transport-node';
import { XMLParser } from 'fast-xml-parser';

/** Where SSDP searches go: the UPnP multicast group (UPnP Device Architecture §1.3.2). */
export const SSDP_TARGET: { readonly host: string; readonly port: number } = { host: '239.255.255.250', port: 1900 };

/** How long to wait for gateways to answer a search: 3 s (geth waits as long through goupnp). */
export const UPNP_DISCOVERY_TIMEOUT_MS = 3_000;

/** Deadline of one HTTP request to the gateway (description or SOAP call). */
export const UPNP_REQUEST_TIMEOUT_MS = 5_000;

/** Largest description or SOAP answer read from a gateway: they are a few KiB; more is not a gateway. */
export const UPNP_MAX_RESPONSE_BYTES: number = 64 * 1024;

/** Error code of a UPnP exchange that failed (no service, a SOAP fault, a malformed answer). */
export const ERR_UPNP = 'ERR_UPNP';

/** The WAN connection services a mapping can be made on, preferred first. */
const SERVICE_TYPES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
];

const xml = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false });

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  /** Our address on the connection: the LAN address the gateway maps ports to. */
  readonly localAddress: string;
}

function http(
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: string },
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  checkLoopbackOnly('UPnP request to', url.hostname);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method, headers: init.headers, timeout: UPNP_REQUEST_TIMEOUT_MS, ...(signal ? { signal } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > UPNP_MAX_RESPONSE_BYTES) {
            req.destroy(new Devp2pError(ERR_UPNP, `answer from ${url.host} over ${UPNP_MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            localAddress: req.socket?.localAddress?.replace(/^::ffff:/, '') ?? '',
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new TimeoutError(`UPnP request to ${url.host}`, UPNP_REQUEST_TIMEOUT_MS)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Every `service` element in a parsed description, however deeply the device list nests. */
function services(node: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(node)) for (const item of node) services(item, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'service')
        for (const s of Array.isArray(value) ? value : [value]) out.push(s as Record<string, unknown>);
      else services(value, out);
    }
  }
  return out;
}

/** The mapping a gateway made (UPnP keeps the port asked for). */
export interface UpnpMapping {
  readonly protocol: 'tcp' | 'udp';
  readonly internalPort: number;
  readonly externalPort: number;
  readonly lifetime: number;
}

/**
 * One gateway's WAN connection service.
 * @example
 * const upnp = await UpnpClient.discover(udpTransport)
 * if (upnp) await upnp.map('tcp', 30303, 30303, 600)
 */
export class UpnpClient {
  readonly gateway: string;
  readonly #control: URL;
  readonly #service: string;
  /** Our LAN address as the gateway sees it (the local end of our connection to it): where mappings point. */
  readonly #localAddress: string;

  private constructor(control: URL, service: string, localAddress: string) {
    this.gateway = control.hostname;
    this.#control = control;
    this.#service = service;
    this.#localAddress = localAddress;
  }

  /**
   * Searches for an Internet Gateway Device (SSDP) and reads the first answering one's description; undefined
   * when none answers within `timeoutMs` or none has a WAN connection service.
   */
  static async discover(
    transport: DatagramTransport,
    options: {
      readonly target?: { host: string; port: number };
      readonly timeoutMs?: number;
      readonly signal?: AbortSignal;
    } = {},
  ): Promise<UpnpClient | undefined> {
    const target = options.target ?? SSDP_TARGET;
    const locations: string[] = [];
    let found: (() => void) | undefined;
    const socket = await transport.bind({ host: '0.0.0.0', port: 0 }, (data) => {
      const text = new TextDecoder().decode(data);
      const location = /^location:\s*(\S+)\s*$/im.exec(text)?.[1];
      if (location && !locations.includes(location)) {
        locations.push(location);
        found?.();
      }
    });
    try {
      const search = [
        'M-SEARCH * HTTP/1.1',
        `HOST: ${SSDP_TARGET.host}:${SSDP_TARGET.port}`,
        'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1',
        'MAN: "ssdp:discover"',
        'MX: 2',
        '',
        '',
      ].join('\r\n');
      socket.send(new TextEncoder().encode(search), target.host, target.port);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.timeoutMs ?? UPNP_DISCOVERY_TIMEOUT_MS);
        found = () => {
          clearTimeout(timer);
          resolve();
        };
        options.signal?.addEventListener('abort', () => found?.(), { once: true });
      });
    } finally {
      await socket.close();
    }
    for (const location of locations) {
      try {
        const client = await UpnpClient.fromDescription(new URL(location), options.signal);
        if (client) return client;
      } catch {
        // Not a usable gateway: try the next one.
      }
    }
    return undefined;
  }

  /** Reads a gateway's description at `location` and picks its WAN connection service. */
  static async fromDescription(location: URL, signal?: AbortSignal): Promise<UpnpClient | undefined> {
    const answer = await http(location, { method: 'GET' }, signal);
    if (answer.status !== 200)
      throw new Devp2pError(ERR_UPNP, `description at ${location} answered HTTP ${answer.status}`);
    const parsed = xml.parse(answer.body) as Record<string, unknown>;
    const all = services(parsed);
    for (const type of SERVICE_TYPES) {
      const service = all.find((s) => s.serviceType === type);
      if (typeof service?.controlURL === 'string') {
        return new UpnpClient(new URL(service.controlURL, location), type, answer.localAddress);
      }
    }
    return undefined;
  }

  /** The gateway's external IP address (`GetExternalIPAddress`). */
  async externalAddress(signal?: AbortSignal): Promise<string> {
    const { body } = await this.#soap('GetExternalIPAddress', [], signal);
    const ip = this.#field(body, 'GetExternalIPAddressResponse', 'NewExternalIPAddress');
    if (!ip) throw new Devp2pError(ERR_UPNP, `${this.gateway} gave no external IP address`);
    return ip;
  }

  /** Maps `internalPort` to `externalPort` for `lifetime` seconds; lifetime 0 deletes the mapping. */
  async map(
    protocol: 'tcp' | 'udp',
    internalPort: number,
    externalPort: number,
    lifetime: number,
    signal?: AbortSignal,
  ): Promise<UpnpMapping> {
    const proto = protocol.toUpperCase();
    if (lifetime === 0) {
      const args: [string, string][] = [
        ['NewRemoteHost', ''],
        ['NewExternalPort', String(externalPort || internalPort)],
        ['NewProtocol', proto],
      ];
      await this.#soap('DeletePortMapping', args, signal);
      return { protocol, internalPort, externalPort: externalPort || internalPort, lifetime: 0 };
    }
    const args: [string, string][] = [
      ['NewRemoteHost', ''],
      ['NewExternalPort', String(externalPort)],
      ['NewProtocol', proto],
      ['NewInternalPort', String(internalPort)],
      ['NewInternalClient', this.#localAddress],
      ['NewEnabled', '1'],
      ['NewPortMappingDescription', `devp2p.ts ${proto} ${internalPort}`],
      ['NewLeaseDuration', String(lifetime)],
    ];
    await this.#soap('AddPortMapping', args, signal);
    return { protocol, internalPort, externalPort, lifetime };
  }

  /** Nothing to release: each call is its own HTTP request. */
  async close(): Promise<void> {}

  async #soap(action: string, args: readonly [string, string][], signal?: AbortSignal): Promise<HttpAnswer> {
    if (signal?.aborted) throw new AbortError('UPnP request aborted', { cause: signal.reason });
    const escapeXml = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const body =
      '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
      's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
      `<u:${action} xmlns:u="${this.#service}">${args.map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('')}</u:${action}>` +
      '</s:Body></s:Envelope>';
    const answer = await http(
      this.#control,
      {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset="utf-8"', soapaction: `"${this.#service}#${action}"` },
        body,
      },
      signal,
    );
    if (answer.status !== 200) {
      const fault = this.#field(answer.body, 'Fault', 'errorDescription') ?? `HTTP ${answer.status}`;
      throw new Devp2pError(ERR_UPNP, `UPnP ${action} on ${this.gateway}: ${fault}`);
    }
    return answer;
  }

  /** A text field of a SOAP answer, found under `element` anywhere in the envelope. */
  #field(body: string, element: string, field: string): string | undefined {
    try {
      const value = findElement(findElement(xml.parse(body), element), field);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The first element named `name` anywhere in a parsed document. */
function findElement(node: unknown, name: string): unknown {
  if (typeof node !== 'object' || node === null) return undefined;
  for (const [key, value] of Object.entries(node)) {
    if (key === name) return value;
    const inner = findElement(value, name);
    if (inner !== undefined) return inner;
  }
  return undefined;
}
