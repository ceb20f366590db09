/** A small insertion-ordered map that forgets its oldest keys beyond `limit`. */
export class BoundedMap<V> {
  readonly #limit: number;
  readonly #map = new Map<string, V>();
  constructor(limit: number) {
    this.#limit = limit;
  }
  get(key: string): V | undefined {
    return this.#map.get(key);
  }
  has(key: string): boolean {
    return this.#map.has(key);
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#limit) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}
