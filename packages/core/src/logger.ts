/** Structured fields attached to a log line. Values should be small: ids, addresses, counts, reasons. */
export type LogFields = Readonly<Record<string, string | number | bigint | boolean | null | undefined>>;

/** Log levels, most verbose first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** One emitted log record, as a sink receives it. */
export interface LogRecord {
  readonly time: Date;
  readonly level: LogLevel;
  readonly namespace: string;
  readonly message: string;
  readonly fields: LogFields | undefined;
}

/** Where records go (stderr, JSON lines, a test's array, ...). */
export type LogSink = (record: LogRecord) => void;

/**
 * A namespaced logger. Every component takes one through its options (`logger?: Logger`), adds its own
 * `<package>:<part>` to the namespace (`devp2p:server`, `devp2p:discovery:v4`, `devp2p:enode:nodedb`) and defaults
 * to {@link defaultLogger}, so a library user sees nothing unless they ask. Several nodes in one process tell their
 * lines apart with {@link Logger.with}: `createNode({ logger: log.with({ node: 'a' }) })`.
 *
 * @example
 * const log = createLogger({ level: 'debug' }).child('rlpx')
 * log.debug('handshake failed', { remote: '1.2.3.4:30303', reason: err.message })
 */
export interface Logger {
  readonly namespace: string;
  /** Whether a record at `level` would be emitted (skip building expensive fields when not). */
  enabled(level: LogLevel): boolean;
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger for a sub-namespace: `devp2p:rlpx` → `devp2p:rlpx:handshake`. Keeps the fields of {@link Logger.with}. */
  child(name: string): Logger;
  /** The same namespace, with `fields` added to every record (and to those of its children). */
  with(fields: LogFields): Logger;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Root namespace (default `devp2p`). */
  namespace?: string;
  /** Least severe level emitted (default `info`). Namespaces matched by `debug` are emitted from `trace`. */
  level?: LogLevel;
  /**
   * `DEBUG`-style namespace patterns, comma-separated, `*` as wildcard, `-` to exclude (e.g. `devp2p:*,-devp2p:discv4`).
   * Defaults to the `DEBUG` environment variable where the runtime exposes `process.env`.
   */
  debug?: string;
  /** Where records go (default: one line per record on stderr through `console.error`). */
  sink?: LogSink;
}

function readDebugEnv(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  try {
    return env?.DEBUG ?? '';
  } catch {
    // Deno without --allow-env throws on access.
    return '';
  }
}

function compilePatterns(spec: string): (namespace: string) => boolean {
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const raw of spec.split(/[\s,]+/)) {
    if (!raw) continue;
    const negative = raw.startsWith('-');
    const pattern = negative ? raw.slice(1) : raw;
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*?')}$`);
    (negative ? exclude : include).push(re);
  }
  return (namespace) => !exclude.some((re) => re.test(namespace)) && include.some((re) => re.test(namespace));
}

function formatValue(value: LogFields[string]): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return String(value);
}

/** The default sink: `time level namespace message key=value ...` on stderr. */
export const textSink: LogSink = (record) => {
  let line = `${record.time.toISOString()} ${record.level.toUpperCase().padEnd(5)} ${record.namespace} ${record.message}`;
  if (record.fields) {
    for (const [key, value] of Object.entries(record.fields)) {
      if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
    }
  }
  console.error(line);
};

/** A sink writing one JSON object per line on stderr. */
export const jsonSink: LogSink = (record) => {
  const fields: Record<string, unknown> = {};
  if (record.fields) {
    for (const [key, value] of Object.entries(record.fields)) {
      if (value !== undefined) fields[key] = typeof value === 'bigint' ? value.toString() : value;
    }
  }
  console.error(
    JSON.stringify({
      t: record.time.toISOString(),
      lvl: record.level,
      ns: record.namespace,
      msg: record.message,
      ...fields,
    }),
  );
};

class SinkLogger implements Logger {
  readonly namespace: string;
  readonly #min: number;
  readonly #debugMatch: (namespace: string) => boolean;
  readonly #sink: LogSink;
  readonly #verbose: boolean;
  readonly #bound: LogFields | undefined;

  constructor(
    namespace: string,
    min: number,
    debugMatch: (namespace: string) => boolean,
    sink: LogSink,
    bound: LogFields | undefined,
  ) {
    this.namespace = namespace;
    this.#min = min;
    this.#debugMatch = debugMatch;
    this.#sink = sink;
    this.#verbose = debugMatch(namespace);
    this.#bound = bound;
  }

  enabled(level: LogLevel): boolean {
    return this.#verbose || LEVEL_RANK[level] >= this.#min;
  }

  #emit(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (!this.enabled(level)) return;
    const all = this.#bound === undefined ? fields : { ...this.#bound, ...fields };
    this.#sink({ time: new Date(), level, namespace: this.namespace, message, fields: all });
  }

  trace(message: string, fields?: LogFields): void {
    this.#emit('trace', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.#emit('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.#emit('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#emit('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.#emit('error', message, fields);
  }
  child(name: string): Logger {
    return new SinkLogger(`${this.namespace}:${name}`, this.#min, this.#debugMatch, this.#sink, this.#bound);
  }
  with(fields: LogFields): Logger {
    return new SinkLogger(this.namespace, this.#min, this.#debugMatch, this.#sink, { ...this.#bound, ...fields });
  }
}

/**
 * A logger writing to `sink` (stderr by default).
 * @example createLogger({ level: 'info', sink: jsonSink }).child('server')
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const debug = options.debug ?? readDebugEnv();
  return new SinkLogger(
    options.namespace ?? 'devp2p',
    LEVEL_RANK[options.level ?? 'info'],
    compilePatterns(debug),
    options.sink ?? textSink,
    undefined,
  );
}

class SilentLogger implements Logger {
  readonly namespace: string;
  constructor(namespace: string) {
    this.namespace = namespace;
  }
  enabled(): boolean {
    return false;
  }
  trace(): void {}
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(): void {}
  child(name: string): Logger {
    return new SilentLogger(`${this.namespace}:${name}`);
  }
  with(): Logger {
    return this;
  }
}

/** A logger that drops everything: the default for every component. */
export const silentLogger: Logger = new SilentLogger('devp2p');

/**
 * The logger components use when given none: silent, unless `DEBUG` names devp2p namespaces
 * (`DEBUG=devp2p:*`), in which case matching namespaces log to stderr.
 * @example const log = (options.logger ?? defaultLogger()).child('rlpx')
 */
export function defaultLogger(): Logger {
  return readDebugEnv().includes('devp2p') ? createLogger({ level: 'error' }) : silentLogger;
}
