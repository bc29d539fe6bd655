/**
 * A FIFO async mutex. The in-memory store serializes every write with one, which stands in for the
 * row locks that serialize conflicting writers in PostgreSQL.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves once every earlier holder has released; the returned function releases. */
  async lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => held);
    await previous;
    return release;
  }

  /** Runs `fn` while holding the lock; releases however `fn` settles. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const release = await this.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
