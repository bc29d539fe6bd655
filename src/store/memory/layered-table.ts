/**
 * Key-value tables with copy-on-write layers. A layer records its writes apart from its parent,
 * so the parent (and every reader of it) sees nothing until `commit()`, and discarding a layer
 * is a rollback that costs nothing. Transactions are a layer over the committed tables,
 * savepoints a layer over a transaction's layer.
 */

export interface Table<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  entries(): Iterable<[string, V]>;
  readonly size: number;
  set(key: string, value: V): void;
  delete(key: string): void;
}

/** Hides the parent's row for this key. */
const DELETED: unique symbol = Symbol('deleted');

export class Layer<V> implements Table<V> {
  readonly #parent: Table<V>;
  readonly #writes = new Map<string, V | typeof DELETED>();

  constructor(parent: Table<V>) {
    this.#parent = parent;
  }

  get(key: string): V | undefined {
    if (!this.#writes.has(key)) return this.#parent.get(key);
    const written = this.#writes.get(key);
    return written === DELETED ? undefined : written;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): Iterable<[string, V]> {
    for (const entry of this.#parent.entries()) if (!this.#writes.has(entry[0])) yield entry;
    for (const [key, written] of this.#writes) if (written !== DELETED) yield [key, written];
  }

  get size(): number {
    let size = this.#parent.size;
    for (const [key, written] of this.#writes) {
      const inParent = this.#parent.has(key);
      if (written === DELETED && inParent) size--;
      else if (written !== DELETED && !inParent) size++;
    }
    return size;
  }

  set(key: string, value: V): void {
    this.#writes.set(key, value);
  }

  delete(key: string): void {
    this.#writes.set(key, DELETED);
  }

  /** Applies this layer's writes to its parent and empties the layer. */
  commit(): void {
    for (const [key, written] of this.#writes) {
      if (written === DELETED) this.#parent.delete(key);
      else this.#parent.set(key, written);
    }
    this.#writes.clear();
  }
}
