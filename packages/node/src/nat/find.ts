import type { Clock, DatagramTransport } from '@devp2p/core';
import { PmpClient } from './pmp.ts';

/** How long guessed gateways have to answer (geth: "discovery needs to be quick", 1 s). */
export const PMP_DISCOVERY_TIMEOUT_MS = 1_000;

/**
 * Asks each of `gateways` for its external address at once and keeps the first that answers within
 * {@link PMP_DISCOVERY_TIMEOUT_MS}; the others' sockets are closed. Undefined when none answers.
 * @example const client = await findPmpGateway(udpTransport, guessGateways(), systemClock)
 */
export async function findPmpGateway(
  transport: DatagramTransport,
  gateways: readonly string[],
  clock: Clock,
): Promise<PmpClient | undefined> {
  if (gateways.length === 0) return undefined;
  const clients = await Promise.all(gateways.map((gateway) => PmpClient.open(transport, gateway, { clock })));
  const deadline = AbortSignal.timeout(PMP_DISCOVERY_TIMEOUT_MS);
  let winner: PmpClient | undefined;
  try {
    winner = await Promise.any(
      clients.map(async (client) => {
        await client.externalAddress(deadline);
        return client;
      }),
    );
  } catch {
    winner = undefined;
  }
  await Promise.all(clients.filter((client) => client !== winner).map((client) => client.close()));
  return winner;
}
