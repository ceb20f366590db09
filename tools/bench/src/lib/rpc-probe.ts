// One admin RPC call as the soak makes it: admin_peers through fetch, with its latency, or its timeout or failure.
// Used by the soak for its first call and by the prober process (rpc-prober.ts) for the calls during the attack.

/** An RPC call not answered within this counts as a timeout (and as this long in the percentiles). */
export const RPC_TIMEOUT_MS = 5_000;

/** The outcome of one call. */
export type RpcOutcome =
  | { readonly ms: number; readonly peers: number }
  | { readonly timeout: true }
  | { readonly error: string };

/** Calls admin_peers once at `url`. */
export async function callAdminPeers(url: string): Promise<RpcOutcome> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin_peers', params: [] }),
      signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
    });
    const body = (await response.json()) as { result?: unknown[]; error?: { message: string } };
    if (!response.ok || body.error || !Array.isArray(body.result)) {
      throw new Error(`HTTP ${response.status}: ${body.error?.message ?? 'no result'}`);
    }
    return { ms: performance.now() - started, peers: body.result.length };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') return { timeout: true };
    return { error: (error as Error).message };
  }
}
