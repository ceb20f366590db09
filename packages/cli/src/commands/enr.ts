import { bytesToHex } from '@devp2p/core';
import { Enr, Node, parseEnodeUrl } from '@devp2p/enode';
import { UsageError } from '../node-command.ts';
import { expectPositionals, parseToolArgs, type ToolCommand, withUsage } from './common.ts';

/** Usage of `devp2p enr`. */
export const ENR_USAGE: string = `devp2p enr decode [--json] <enr|enode>

Decodes a node record (enr:… text, or its base64 without the prefix) or an enode:// URL and prints its sequence
number, whether its signature is valid, the node id and every key/value pair: known keys decoded (ip, tcp, udp,
ip6, tcp6, udp6, quic, quic6, secp256k1, id, eth), other keys as their raw RLP in hex (like geth's
\`devp2p enrdump\`).

  --json   print one JSON object instead of text`;

/** Keys whose values are shown decoded; anything else is shown as raw RLP. */
const DECODERS: Readonly<Record<string, (record: Enr) => string | number | undefined>> = {
  id: (r) => r.id,
  secp256k1: (r) => (r.secp256k1 ? bytesToHex(r.secp256k1) : undefined),
  ip: (r) => r.ip,
  ip6: (r) => r.ip6,
  tcp: (r) => r.tcp,
  udp: (r) => r.udp,
  tcp6: (r) => r.tcp6,
  udp6: (r) => r.udp6,
  quic: (r) => r.quic,
  quic6: (r) => r.quic6,
  eth: (r) => {
    const fork = r.eth;
    return fork ? `forkHash=${fork.hash.toString(16).padStart(8, '0')} forkNext=${fork.next}` : undefined;
  },
};

/** One key/value pair as printed. */
interface Field {
  readonly key: string;
  /** The decoded value, when the key is known and its value well formed. */
  readonly value: string | number | undefined;
  /** The value's RLP encoding, hex. */
  readonly raw: string;
}

/** What `enr decode` reports about one record. */
interface Decoded {
  readonly source: 'enr' | 'enode';
  readonly seq: bigint;
  readonly scheme: string | undefined;
  readonly signature: string;
  readonly signatureValid: boolean;
  readonly signatureError: string | undefined;
  readonly nodeId: string | undefined;
  readonly enode: string | undefined;
  readonly text: string;
  readonly fields: readonly Field[];
}

function decodeFields(record: Enr): Field[] {
  return record.keys().map((key) => {
    let value: string | number | undefined;
    try {
      value = DECODERS[key]?.(record);
    } catch {
      value = undefined;
    }
    return { key, value, raw: bytesToHex(record.get(key) ?? new Uint8Array(0)) };
  });
}

function parseRecord(text: string): Decoded {
  if (text.startsWith('enode://')) {
    let node: Node;
    try {
      node = parseEnodeUrl(text);
    } catch (cause) {
      throw new UsageError(`<enr|enode>: ${(cause as Error).message}`);
    }
    return {
      source: 'enode',
      seq: node.seq,
      scheme: node.record.id,
      signature: '',
      signatureValid: false,
      signatureError: 'unsigned (an enode URL carries no signature)',
      nodeId: node.id.hex,
      enode: node.toEnodeUrl(),
      text: node.record.toText(),
      fields: decodeFields(node.record),
    };
  }
  const withPrefix = text.startsWith('enr:') ? text : `enr:${text}`;
  let record: Enr;
  try {
    record = Enr.decodeText(withPrefix, { verify: false });
  } catch (cause) {
    throw new UsageError(`<enr|enode>: ${(cause as Error).message}`);
  }
  let signatureError: string | undefined;
  try {
    record.verifyOrThrow();
  } catch (cause) {
    signatureError = (cause as Error).message;
  }
  let nodeId: string | undefined;
  let enode: string | undefined;
  try {
    nodeId = record.nodeId?.hex;
  } catch {
    nodeId = undefined;
  }
  if (signatureError === undefined) {
    try {
      enode = Node.fromRecord(record).toEnodeUrl();
    } catch {
      enode = undefined;
    }
  }
  return {
    source: 'enr',
    seq: record.seq,
    scheme: record.id,
    signature: bytesToHex(record.signature),
    signatureValid: signatureError === undefined,
    signatureError,
    nodeId,
    enode,
    text: record.toText(),
    fields: decodeFields(record),
  };
}

function printText(d: Decoded): void {
  console.log(`Node ID: ${d.nodeId ?? '(none: no valid secp256k1 key)'}`);
  if (d.enode !== undefined) console.log(`Enode:   ${d.enode}`);
  console.log(`Record has sequence number ${d.seq} and ${d.fields.length} key/value pairs.`);
  if (d.source === 'enode') console.log('Signature: none (enode URL)');
  else console.log(d.signatureValid ? `Signature: valid (${d.scheme})` : `Signature: INVALID (${d.signatureError})`);
  const width = Math.max(0, ...d.fields.map((f) => f.key.length)) + 2;
  for (const field of d.fields) {
    const shown = field.value === undefined ? `0x${field.raw} (raw RLP)` : String(field.value);
    console.log(`  ${JSON.stringify(field.key).padEnd(width + 1)} ${shown}`);
  }
}

function toJson(d: Decoded): Record<string, unknown> {
  const fields: Record<string, string | number> = {};
  const raw: Record<string, string> = {};
  for (const field of d.fields) {
    raw[field.key] = `0x${field.raw}`;
    if (field.value !== undefined) fields[field.key] = field.value;
  }
  return {
    nodeId: d.nodeId ?? null,
    seq: Number(d.seq) <= Number.MAX_SAFE_INTEGER ? Number(d.seq) : d.seq.toString(),
    scheme: d.scheme ?? null,
    signature: d.source === 'enode' ? null : `0x${d.signature}`,
    signatureValid: d.signatureValid,
    ...(d.signatureError !== undefined && d.source === 'enr' ? { signatureError: d.signatureError } : {}),
    enode: d.enode ?? null,
    record: d.source === 'enr' ? d.text : null,
    fields,
    raw,
  };
}

const decode: ToolCommand = async (args) => {
  const { values, positionals } = parseToolArgs(args, { json: { type: 'boolean' } });
  expectPositionals(positionals, 1);
  const input = positionals[0];
  if (input === undefined) throw new UsageError('missing <enr|enode>');
  const decoded = parseRecord(input.trim());
  if (values.json === true) console.log(JSON.stringify(toJson(decoded), null, 2));
  else printText(decoded);
  return decoded.source === 'enode' || decoded.signatureValid ? 0 : 1;
};

/**
 * `devp2p enr decode`: prints a node record's fields (geth's `devp2p enrdump`). Exit code 1 when the record's
 * signature is not valid.
 * @example process.exitCode = await runEnr(['decode', 'enr:-IS4Q…'])
 */
export const runEnr: ToolCommand = withUsage(ENR_USAGE, async (args) => {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') return decode(['--help']);
  if (sub !== 'decode') throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand ${sub}`);
  return decode(rest);
});
