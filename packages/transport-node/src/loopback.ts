/**
 * A safety switch for tests and sandboxes: with `DEVP2P_LOOPBACK_ONLY=1` in the environment, the transports here
 * refuse to open a connection, send a datagram or resolve a name beyond the local machine, and the process exits at
 * once with {@link LOOPBACK_ONLY_EXIT_CODE} after printing why: a test (or a child process a test runs) that tries
 * to reach the network fails loudly, whatever the caller does with errors, instead of quietly reaching a real
 * bootnode. The test runner and the benchmarks set it.
 */
import { Devp2pError } from '@devp2p/core';

/** The environment variable that turns the switch on (value `1`). */
export const LOOPBACK_ONLY_ENV = 'DEVP2P_LOOPBACK_ONLY';

/** Exit status of a process stopped by the switch (70, EX_SOFTWARE: a program that did what it must not). */
export const LOOPBACK_ONLY_EXIT_CODE = 70;

/** Error code of a {@link LoopbackOnlyError}. */
export const ERR_LOOPBACK_ONLY = 'ERR_LOOPBACK_ONLY';

/** An attempt to reach a non-local address while {@link LOOPBACK_ONLY_ENV} is set. */
export class LoopbackOnlyError extends Devp2pError {
  constructor(what: string, host: string) {
    super(ERR_LOOPBACK_ONLY, `${what} ${host} refused: ${LOOPBACK_ONLY_ENV}=1 allows only this machine`);
  }
}

function enabled(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  try {
    return env?.[LOOPBACK_ONLY_ENV] === '1';
  } catch {
    return false; // Deno without --allow-env
  }
}

/** True for addresses of this machine: 127.0.0.0/8, ::1, IPv4-mapped loopback, the unspecified addresses, localhost. */
function isLocal(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h === '::1' ||
    h === '::' ||
    h === '0.0.0.0' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

/**
 * Ends the process (see above) when the switch is on and `host` is not local; nothing otherwise.
 * @example checkLoopbackOnly('TCP dial to', host)
 */
export function checkLoopbackOnly(what: string, host: string): void {
  if (!enabled() || isLocal(host)) return;
  const error = new LoopbackOnlyError(what, host);
  console.error(`${ERR_LOOPBACK_ONLY}: ${error.stack ?? error.message}`);
  const proc = (globalThis as { process?: { exit(code: number): never } }).process;
  if (proc) proc.exit(LOOPBACK_ONLY_EXIT_CODE);
  throw error;
}
