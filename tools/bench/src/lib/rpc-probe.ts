// One admin RPC call as the whole-node benches make it: through fetch, with its latency, or its timeout or failure.
// Used by the soak for its first call and by the prober process (rpc-prober.ts) for the calls during the attack, and
// by idle-peers.

/** An RPC call not answered within this counts as a timeout (and as this long in the percentiles). */
export const RPC_TIMEOUT_MS = 5_000;

/** The outcome of one call: its latency and result, or a timeout, or a failure. */
export type RpcCallOutcome =
  | { readonly ms: number; readonly result: unknown }
  | { readonly timeout: true }
  | { readonly error: string };

/** The outcome of one admin_peers call, with the number of peers it listed. */
export type RpcOutcome =
  | { readonly ms: number; readonly peers: number }
  | { readonly timeout: true }
  | { readonly error: string };

/** Calls `method` (no parameters) once at `url`. */
export async function callRpc(url: string, method: string): Promise<RpcCallOutcome> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    const body = (await response.json()) as { result?: unknown; error?: { message: string } };
    if (!response.ok || body.error || body.result === undefined) {
      throw new Error(`HTTP ${response.status}: ${body.error?.message ?? 'no result'}`);
    }
    return { ms: performance.now() - started, result: body.result };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') return { timeout: true };
    return { error: (error as Error).message };
  }
}

/** Calls admin_peers once at `url`. */
export async function callAdminPeers(url: string): Promise<RpcOutcome> {
  const outcome = await callRpc(url, 'admin_peers');
  if (!('ms' in outcome)) return outcome;
  if (!Array.isArray(outcome.result)) return { error: 'admin_peers: the result is not a list' };
  return { ms: outcome.ms, peers: outcome.result.length };
}
