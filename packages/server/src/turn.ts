/**
 * How a busy loop (a peer's read loop taking a burst of buffered messages) gives the rest of the process a turn.
 *
 * Node and Bun poll their sockets before every round of `setImmediate` callbacks. Deno does not: while immediates
 * keep coming it polls them only every few dozen (measured on Deno 2.9: a task doing 1 ms of work and rescheduling
 * itself with `setImmediate` let a socket deliver 61 of the 200 writes sent to it in 2 s, against 188 when it
 * rescheduled itself with a 0 ms timer; Node delivered 192 either way). In the soak, ten flooding peers whose read
 * loops yielded that way kept every other socket waiting for up to seconds, the admin RPC's included. A 0 ms timer
 * lets Deno poll its sockets before the loop goes on.
 */
const immediate =
  'Deno' in globalThis ? undefined : (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/**
 * Resolves on a later event-loop turn, once pending I/O has been polled, on every runtime.
 * @example if (++handled % MESSAGES_PER_TURN === 0) await nextTurn();
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}
