import { createSocket, type Socket } from 'node:dgram';
import { getServers } from 'node:dns';
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  AbortError,
  Devp2pError,
  ERR_DNS,
  formatHostPort,
  type HostResolveOptions,
  splitHostPort,
  TimeoutError,
  type TxtResolveOptions,
  type TxtResolver,
} from '@devp2p/core';
import { checkLoopbackOnly } from './loopback.ts';

/** Deadline of one TXT lookup, as geth's DNS discovery client gives each query (`Config.Timeout`, 5 s). */
export const DNS_LOOKUP_TIMEOUT_MS = 5_000;

/**
 * The UDP payload size the UDP backend advertises with EDNS(0): 1,232 bytes, DNS Flag Day 2020's value, which fits
 * an IPv6 packet on any path without fragmenting. EIP-1459 entries fit 512 bytes; the room is for resolvers that
 * add records of their own.
 */
export const DNS_UDP_PAYLOAD_SIZE = 1_232;

/** The standard DNS port, for a server given without one. */
const DNS_PORT = 53;
/** RFC 1035 limits: 63 bytes per label, 253 characters per name in text form. */
const MAX_LABEL_LENGTH = 63;
const MAX_NAME_LENGTH = 253;
const TYPE_TXT = 16;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NAMES: Readonly<Record<number, string>> = {
  1: 'FORMERR',
  2: 'SERVFAIL',
  4: 'NOTIMP',
  5: 'REFUSED',
};

/** Which implementation looks names up; see {@link TxtResolverOptions.backend}. */
export type TxtResolverBackend = 'system' | 'udp';

/**
 * Options of {@link createTxtResolver}.
 * @example createTxtResolver({ server: '127.0.0.1:5353', timeoutMs: 2_000 })
 */
export interface TxtResolverOptions {
  /** A DNS server to ask instead of the system's: an IP address with an optional port (`1.1.1.1`, `[::1]:5353`). */
  readonly server?: string;
  /** Deadline of each lookup in ms (default {@link DNS_LOOKUP_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /**
   * `system`: `node:dns` (c-ares on Node, the runtime's resolver on Deno), following `/etc/resolv.conf`.
   * `udp`: this package's own DNS client over UDP, asking `server` or else the servers `node:dns` reports.
   * Default: `udp` on Bun, whose `resolveTxt` returns each character-string of a record as a record of its own
   * (so an ENR entry longer than 255 bytes comes apart), `system` on Node and Deno. On Deno the system resolver
   * reports a server failure (SERVFAIL) as a missing name, so such a lookup resolves to `[]`.
   */
  readonly backend?: TxtResolverBackend;
}

const isBun = 'Bun' in globalThis;

/**
 * A {@link TxtResolver} on the runtime's DNS: the system resolver, or the DNS server given. Lookups of names that do
 * not exist or have no TXT records resolve to `[]`; each record's character-strings come back joined.
 * @example
 * const resolver = createTxtResolver({ server: '127.0.0.1:5353' })
 * const records = await resolver.resolveTxt('nodes.example.org', { signal })
 */
export function createTxtResolver(options: TxtResolverOptions = {}): TxtResolver {
  const timeoutMs = options.timeoutMs ?? DNS_LOOKUP_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs: expected > 0, got ${timeoutMs}`);
  const server = options.server === undefined ? undefined : parseServer(options.server);
  const backend = options.backend ?? (isBun ? 'udp' : 'system');
  if (backend !== 'system' && backend !== 'udp') throw new TypeError(`backend: expected system or udp, got ${backend}`);
  return {
    resolveTxt(name: string, call: TxtResolveOptions = {}): Promise<string[]> {
      if (call.signal?.aborted)
        return Promise.reject(new AbortError('DNS lookup aborted', { cause: call.signal.reason }));
      let checked: string;
      try {
        checked = checkName(name);
      } catch (error) {
        return Promise.reject(error);
      }
      return backend === 'system'
        ? systemLookup(checked, server, timeoutMs, call.signal)
        : udpLookup(checked, server ? [server] : systemServers(), timeoutMs, call.signal);
    },
  };
}

/**
 * The system resolver (see {@link createTxtResolver}), with the default deadline.
 * @example const records = await systemTxtResolver.resolveTxt('all.mainnet.ethdisco.net')
 */
export const systemTxtResolver: TxtResolver = createTxtResolver();

interface Server {
  readonly host: string;
  readonly port: number;
}

function parseServer(text: string): Server {
  if (typeof text !== 'string') throw new TypeError('server: expected "ip" or "ip:port"');
  if (isIP(text)) return { host: text, port: DNS_PORT };
  const bracketless = /^\[(.*)\]$/.exec(text)?.[1];
  if (bracketless !== undefined && isIP(bracketless) === 6) return { host: bracketless, port: DNS_PORT };
  const split = splitHostPort(text);
  if (!split || !isIP(split.host) || split.port === 0) {
    throw new TypeError(`server: expected an IP address and a port 1..65535, got ${JSON.stringify(text)}`);
  }
  return split;
}

function systemServers(): Server[] {
  const servers: Server[] = [];
  for (const entry of getServers()) {
    try {
      servers.push(parseServer(entry));
    } catch {
      // An entry this client cannot reach (a zone-scoped address, ...) is skipped.
    }
  }
  return servers;
}

/** The name without a trailing dot, checked against RFC 1035's lengths; ERR_DNS when it cannot be asked. */
function checkName(name: string): string {
  if (typeof name !== 'string') throw new TypeError('name: expected a string');
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = trimmed.split('.');
  const bad =
    trimmed.length === 0 ||
    trimmed.length > MAX_NAME_LENGTH ||
    /[^\x21-\x7e]/.test(trimmed) ||
    labels.some((label) => label.length === 0 || label.length > MAX_LABEL_LENGTH);
  if (bad) throw new Devp2pError(ERR_DNS, `cannot look up ${JSON.stringify(name)}: not a valid DNS name`);
  return trimmed;
}

/** Each record's character-strings joined: Node and Deno give arrays of strings, other resolvers strings. */
export function joinTxtRecords(records: readonly unknown[]): string[] {
  return records.map((record) => (Array.isArray(record) ? record.join('') : String(record)));
}

/** Runs `lookup` under the deadline and `signal`; `cancel` stops the work when either ends it. */
function withDeadline<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  lookup: Promise<T>,
  cancel: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      finish();
      cancel();
      reject(new TimeoutError(what, timeoutMs));
    }, timeoutMs);
    const onAbort = (): void => {
      finish();
      cancel();
      reject(new AbortError('DNS lookup aborted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    lookup.then(
      (value) => {
        finish();
        resolve(value);
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}

async function systemLookup(
  name: string,
  server: Server | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  // Without a named server the query goes wherever the system sends it: only `localhost` stays on this machine.
  if (server) checkLoopbackOnly('DNS TXT lookup via', server.host);
  else checkLoopbackOnly('DNS TXT lookup (system resolver) of', name);
  // A resolver per lookup, so that cancelling one (deadline, abort) leaves the others running. Two tries share
  // the deadline: one lost datagram does not fail the lookup.
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 });
  if (server) resolver.setServers([formatHostPort(server.host, server.port)]);
  const lookup = resolver.resolveTxt(name).then(joinTxtRecords, (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
    if (code === 'ETIMEOUT') throw new TimeoutError(`DNS TXT lookup of ${name}`, timeoutMs);
    throw new Devp2pError(ERR_DNS, `DNS TXT lookup of ${name} failed: ${String(code ?? error)}`, { cause: error });
  });
  // The lookup settles (cancelled) after a deadline or abort; nobody awaits it then.
  lookup.catch(() => undefined);
  return withDeadline(`DNS TXT lookup of ${name}`, timeoutMs, signal, lookup, () => resolver.cancel());
}

async function udpLookup(
  name: string,
  servers: readonly Server[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  if (servers.length === 0) throw new Devp2pError(ERR_DNS, `DNS TXT lookup of ${name}: no DNS server configured`);
  for (const server of servers) checkLoopbackOnly('DNS TXT lookup via', server.host);
  // The servers are asked in turn, sharing the deadline.
  const share = Math.max(1, Math.floor(timeoutMs / servers.length));
  let last: unknown;
  for (const server of servers) {
    try {
      return await udpQuery(name, server, share, signal);
    } catch (error) {
      if (error instanceof AbortError) throw error;
      last = error;
    }
  }
  if (last instanceof TimeoutError) throw new TimeoutError(`DNS TXT lookup of ${name}`, timeoutMs);
  throw last;
}

function udpQuery(name: string, server: Server, timeoutMs: number, signal: AbortSignal | undefined): Promise<string[]> {
  const id = crypto.getRandomValues(new Uint16Array(1))[0]!;
  const query = encodeTxtQuery(name, id);
  let socket: Socket | undefined;
  const close = (): void => {
    try {
      socket?.close();
    } catch {
      // Already closed.
    }
    socket = undefined;
  };
  const lookup = new Promise<string[]>((resolve, reject) => {
    socket = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (error) => {
      close();
      reject(new Devp2pError(ERR_DNS, `DNS TXT lookup of ${name}: ${error.message}`, { cause: error }));
    });
    socket.on('message', (message: Uint8Array, from: { address: string; port: number }) => {
      // Answers from elsewhere, or to another question, are not ours: keep waiting.
      if (from.port !== server.port || from.address !== server.host) return;
      const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
      if (bytes.length < 2 || ((bytes[0]! << 8) | bytes[1]!) !== id) return;
      close();
      try {
        resolve(decodeTxtResponse(bytes, name));
      } catch (error) {
        reject(error);
      }
    });
    socket.send(query, server.port, server.host, (error) => {
      if (!error) return;
      close();
      reject(new Devp2pError(ERR_DNS, `DNS TXT lookup of ${name}: ${error.message}`, { cause: error }));
    });
  });
  lookup.catch(() => undefined);
  return withDeadline(`DNS TXT lookup of ${name}`, timeoutMs, signal, lookup, close);
}

/** A DNS query for the TXT records of `name` (recursion desired), with an EDNS(0) OPT record. */
export function encodeTxtQuery(name: string, id: number): Uint8Array {
  const labels = name.split('.').map((label) => new TextEncoder().encode(label));
  const nameLength = labels.reduce((n, label) => n + 1 + label.length, 1);
  const out = new Uint8Array(12 + nameLength + 4 + 11);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1); // QDCOUNT
  view.setUint16(10, 1); // ARCOUNT: the OPT record
  let o = 12;
  for (const label of labels) {
    out[o++] = label.length;
    out.set(label, o);
    o += label.length;
  }
  out[o++] = 0;
  view.setUint16(o, TYPE_TXT);
  view.setUint16(o + 2, CLASS_IN);
  o += 4;
  // OPT: root name, type 41, class = UDP payload size, TTL 0 (no extended flags), no data.
  out[o++] = 0;
  view.setUint16(o, TYPE_OPT);
  view.setUint16(o + 2, DNS_UDP_PAYLOAD_SIZE);
  return out;
}

const utf8 = new TextDecoder();

function malformed(name: string, why: string): Devp2pError {
  return new Devp2pError(ERR_DNS, `DNS TXT lookup of ${name}: malformed answer (${why})`);
}

/**
 * The TXT records in a DNS response (each record's strings joined), `[]` for NXDOMAIN; ERR_DNS for a truncated,
 * failed or malformed response. Only network bytes go in: every input either decodes or throws ERR_DNS.
 */
export function decodeTxtResponse(bytes: Uint8Array, name: string): string[] {
  if (bytes.length < 12) throw malformed(name, 'shorter than a header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  if ((flags & 0x8000) === 0) throw malformed(name, 'not a response');
  if (flags & 0x0200) throw new Devp2pError(ERR_DNS, `DNS TXT lookup of ${name}: the answer is truncated (TC)`);
  const rcode = flags & 0x000f;
  if (rcode === RCODE_NXDOMAIN) return [];
  if (rcode !== 0) {
    throw new Devp2pError(ERR_DNS, `DNS TXT lookup of ${name} failed: ${RCODE_NAMES[rcode] ?? `RCODE ${rcode}`}`);
  }
  const questions = view.getUint16(4);
  const answers = view.getUint16(6);
  let o = 12;
  const skipName = (): void => {
    for (;;) {
      if (o >= bytes.length) throw malformed(name, 'name runs past the end');
      const length = bytes[o]!;
      if ((length & 0xc0) === 0xc0) {
        if (o + 2 > bytes.length) throw malformed(name, 'name pointer runs past the end');
        o += 2;
        return;
      }
      if (length & 0xc0) throw malformed(name, 'reserved label type');
      o += 1 + length;
      if (length === 0) return;
    }
  };
  for (let i = 0; i < questions; i++) {
    skipName();
    o += 4;
    if (o > bytes.length) throw malformed(name, 'question runs past the end');
  }
  const records: string[] = [];
  for (let i = 0; i < answers; i++) {
    skipName();
    if (o + 10 > bytes.length) throw malformed(name, 'record header runs past the end');
    const type = view.getUint16(o);
    const klass = view.getUint16(o + 2);
    const length = view.getUint16(o + 8);
    o += 10;
    const end = o + length;
    if (end > bytes.length) throw malformed(name, 'record data runs past the end');
    if (type === TYPE_TXT && klass === CLASS_IN) {
      const parts: Uint8Array[] = [];
      let size = 0;
      while (o < end) {
        const n = bytes[o]!;
        if (o + 1 + n > end) throw malformed(name, 'character-string runs past its record');
        parts.push(bytes.subarray(o + 1, o + 1 + n));
        size += n;
        o += 1 + n;
      }
      const joined = new Uint8Array(size);
      let at = 0;
      for (const part of parts) {
        joined.set(part, at);
        at += part.length;
      }
      records.push(utf8.decode(joined));
    }
    o = end;
  }
  return records;
}

/**
 * The `HostResolver` of `@devp2p/core` on the system resolver through `node:dns` (`getaddrinfo`, so `/etc/hosts`
 * counts), on Node, Bun and Deno alike. The lookup itself cannot be cancelled; callers stop waiting for it on abort.
 * @example await lookupHost('localhost') // '127.0.0.1'
 */
export async function lookupHost(hostname: string, _options?: HostResolveOptions): Promise<string> {
  checkLoopbackOnly('DNS lookup of', hostname);
  const { address } = await lookup(hostname);
  return address;
}
