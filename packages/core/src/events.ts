/** Options for {@link TypedEventTarget.on}. */
export interface ListenOptions {
  /** Removes the listener when aborted. */
  signal?: AbortSignal;
  /** Calls the listener at most once. */
  once?: boolean;
}

/**
 * An `EventTarget` whose events carry typed `detail`s. `on()` returns an unsubscribe function, and a
 * listener that throws is reported to `onListenerError` instead of escaping: a user's handler bug must not
 * take the networking stack (or the process) down with it.
 *
 * @example
 * type Events = { 'peer:added': { id: string } }
 * const events = new TypedEventTarget<Events>()
 * const off = events.on('peer:added', (peer) => console.log(peer.id))
 * events.emit('peer:added', { id: 'ab12' })
 * off()
 */
export class TypedEventTarget<EventMap extends object> extends EventTarget {
  readonly #counts = new Map<string, number>();
  /** Receives errors thrown by listeners. Defaults to `console.error`. */
  onListenerError: (error: unknown, type: string) => void = (error, type) => {
    console.error(`devp2p: listener for '${type}' threw`, error);
  };

  /** Subscribes to `type`; returns a function that unsubscribes. */
  on<K extends keyof EventMap & string>(
    type: K,
    listener: (detail: EventMap[K]) => void,
    options: ListenOptions = {},
  ): () => void {
    if (options.signal?.aborted) return () => {};
    let active = true;
    const handler = (event: Event): void => {
      if (options.once) off();
      try {
        listener((event as CustomEvent<EventMap[K]>).detail);
      } catch (error) {
        this.onListenerError(error, type);
      }
    };
    const onAbort = (): void => off();
    const off = (): void => {
      if (!active) return;
      active = false;
      this.removeEventListener(type, handler);
      options.signal?.removeEventListener('abort', onAbort);
      this.#counts.set(type, (this.#counts.get(type) ?? 1) - 1);
    };
    this.addEventListener(type, handler);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#counts.set(type, (this.#counts.get(type) ?? 0) + 1);
    return off;
  }

  /** Resolves with the next event's detail; rejects with the signal's reason when aborted first. */
  once<K extends keyof EventMap & string>(type: K, options: { signal?: AbortSignal } = {}): Promise<EventMap[K]> {
    return new Promise((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        off();
        reject(signal?.reason);
      };
      const off = this.on(
        type,
        (detail) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(detail);
        },
        { once: true },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Dispatches `type` with `detail` to every listener, synchronously. */
  emit<K extends keyof EventMap & string>(type: K, detail: EventMap[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Number of listeners added through `on()` / `once()` and not yet removed (for leak checks). */
  listenerCount(type: keyof EventMap & string): number {
    return this.#counts.get(type) ?? 0;
  }
}
