/**
 * A DNS server for tests: UDP on 127.0.0.1 (an OS-assigned port), answering TXT questions from a zone the test
 * sets and changes, and misbehaving on request (silence, truncation, garbage, server failure). Built on the
 * `dns-packet` codec, so the bytes it sends are independent of the resolvers under test.
 */
import { createSocket, type Socket } from 'node:dgram';
import packet from 'dns-packet';

/**
 * One TXT record: a text (sent as 255-byte character-strings, the way DNS servers split long records) or the
 * exact character-strings to send.
 */
export type TestTxtRecord = string | readonly string[];

/**
 * How the server answers a name:
 * - `answer`: its records (NXDOMAIN for a name the zone lacks);
 * - `silent`: never answers;
 * - `truncated`: the TC flag with no records, as a server does when the answer does not fit in UDP;
 * - `garbled`: the real answer cut off in the middle of its records (a malformed packet);
 * - `servfail`: RCODE 2 (server failure).
 */
export type DnsTestBehaviour = 'answer' | 'silent' | 'truncated' | 'garbled' | 'servfail';

/** A running {@link startDnsServer}. */
export interface DnsTestServer {
  /** `127.0.0.1:<port>`, what resolvers are pointed at. */
  readonly address: string;
  readonly port: number;
  /** Every name asked, lower case, in order. */
  readonly queries: string[];
  /** Replaces the zone: name (any case, no trailing dot) → its TXT records. */
  setZone(zone: Readonly<Record<string, readonly TestTxtRecord[]>>): void;
  /** Sets or replaces one name's records. */
  setRecords(name: string, records: readonly TestTxtRecord[]): void;
  /** How to answer `name` from now on (`answer` restores the default). */
  setBehaviour(name: string, behaviour: DnsTestBehaviour): void;
  /** How to answer every name without its own behaviour. */
  setDefaultBehaviour(behaviour: DnsTestBehaviour): void;
  close(): Promise<void>;
}

/** The largest character-string in a TXT record (RFC 1035 §3.3: one length byte). */
const MAX_CHARACTER_STRING = 255;

function chunks(record: TestTxtRecord): string[] {
  if (typeof record !== 'string') return [...record];
  const out: string[] = [];
  for (let i = 0; i < record.length; i += MAX_CHARACTER_STRING) out.push(record.slice(i, i + MAX_CHARACTER_STRING));
  return out.length === 0 ? [''] : out;
}

const normalise = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * Starts a DNS server on 127.0.0.1 with an OS-assigned port.
 * @example
 * const dns = await startDnsServer({ 'nodes.example.org': ['enrtree-root:v1 ...'] })
 * const resolver = createTxtResolver({ server: dns.address })
 * await dns.close()
 */
export async function startDnsServer(
  zone: Readonly<Record<string, readonly TestTxtRecord[]>> = {},
): Promise<DnsTestServer> {
  const records = new Map<string, readonly TestTxtRecord[]>();
  const behaviours = new Map<string, DnsTestBehaviour>();
  let fallback: DnsTestBehaviour = 'answer';
  const queries: string[] = [];
  const socket: Socket = createSocket('udp4');
  socket.on('error', () => undefined);
  socket.on('message', (message, from) => {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = normalise(question.name);
    queries.push(name);
    const behaviour = behaviours.get(name) ?? fallback;
    if (behaviour === 'silent') return;
    const found = records.get(name);
    const answers: packet.Answer[] =
      (behaviour === 'answer' || behaviour === 'garbled') && question.type === 'TXT' && found
        ? found.map((record) => ({ type: 'TXT', name: question.name, ttl: 60, class: 'IN', data: chunks(record) }))
        : [];
    let flags =
      packet.AUTHORITATIVE_ANSWER | packet.RECURSION_AVAILABLE | ((query.flags ?? 0) & packet.RECURSION_DESIRED);
    if (behaviour === 'truncated') flags |= packet.TRUNCATED_RESPONSE;
    if (behaviour === 'servfail') flags |= 2;
    else if (behaviour === 'answer' && !found) flags |= 3;
    let reply: Uint8Array = packet.encode({
      type: 'response',
      id: query.id ?? 0,
      flags,
      questions: query.questions ?? [],
      answers,
    });
    if (behaviour === 'garbled') reply = reply.subarray(0, Math.max(12, reply.length - 7));
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  const server: DnsTestServer = {
    address: `127.0.0.1:${port}`,
    port,
    queries,
    setZone(next) {
      records.clear();
      for (const [name, txt] of Object.entries(next)) records.set(normalise(name), txt);
    },
    setRecords(name, txt) {
      records.set(normalise(name), txt);
    },
    setBehaviour(name, behaviour) {
      if (behaviour === 'answer') behaviours.delete(normalise(name));
      else behaviours.set(normalise(name), behaviour);
    },
    setDefaultBehaviour(behaviour) {
      fallback = behaviour;
    },
    close: () =>
      new Promise<void>((resolve) => {
        socket.removeAllListeners('message');
        try {
          socket.close(() => resolve());
        } catch {
          resolve();
        }
      }),
  };
  server.setZone(zone);
  return server;
}
