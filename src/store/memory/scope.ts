/**
 * Scopes decide where a call reads and writes: the root scope reads committed tables and writes
 * through a layer under the store-wide write lock; a transaction scope reads and writes its own
 * layer, which only reaches the committed tables when the transaction's function resolves.
 */
import { CodedError } from '../../coded-error';
import { TransactionFinishedError } from '../errors';
import { Mutex } from './mutex';
import type { Engine } from './operations';
import { createTables, layerOver, type Tables } from './tables';

/** A call on a store after its close() (the same code as the Postgres store's). */
export class InMemoryStoreClosedError extends CodedError<'store_closed'> {
  constructor() {
    super('store_closed', 'InMemoryUserEngineStore is closed');
  }
}

export type Operation<T> = (tables: Tables, engine: Engine) => T;

export interface Scope {
  /** Throws when this scope can no longer be used (store closed, transaction finished). */
  assertUsable(): void;
  read<T>(op: Operation<T>): Promise<T>;
  /** Runs `op` atomically: a throw leaves no write behind. */
  write<T>(op: Operation<T>): Promise<T>;
  /** Runs `body` in a child scope whose writes land only if `body` resolves. */
  transaction<T>(body: (child: Scope) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Writes are applied to a fresh layer and committed only if `op` returns. */
function applyAtomically<T>(tables: Tables, engine: Engine, op: Operation<T>): T {
  const layer = layerOver(tables);
  const result = op(layer, engine);
  layer.commit();
  return result;
}

export class RootScope implements Scope {
  readonly #tables = createTables();
  readonly #writeLock = new Mutex();
  readonly #engine: Engine;
  #closed = false;

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  assertUsable(): void {
    if (this.#closed) throw new InMemoryStoreClosedError();
  }

  async read<T>(op: Operation<T>): Promise<T> {
    this.assertUsable();
    return op(this.#tables, this.#engine);
  }

  write<T>(op: Operation<T>): Promise<T> {
    return this.#exclusive(async () => applyAtomically(this.#tables, this.#engine, op));
  }

  transaction<T>(body: (child: Scope) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const layer = layerOver(this.#tables);
      const child = new TransactionScope(this, layer, this.#engine);
      let result: T;
      try {
        result = await body(child);
      } finally {
        child.finish();
      }
      layer.commit();
      return result;
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Holds the write lock for `body`; a writer queued behind a close() is turned away. */
  async #exclusive<T>(body: () => Promise<T>): Promise<T> {
    this.assertUsable();
    return this.#writeLock.run(async () => {
      this.assertUsable();
      return body();
    });
  }
}

export class TransactionScope implements Scope {
  readonly #root: Scope;
  readonly #tables: Tables;
  readonly #engine: Engine;
  #finished = false;

  constructor(root: Scope, tables: Tables, engine: Engine) {
    this.#root = root;
    this.#tables = tables;
    this.#engine = engine;
  }

  finish(): void {
    this.#finished = true;
  }

  assertUsable(): void {
    this.#root.assertUsable();
    if (this.#finished) throw new TransactionFinishedError();
  }

  async read<T>(op: Operation<T>): Promise<T> {
    this.assertUsable();
    return op(this.#tables, this.#engine);
  }

  async write<T>(op: Operation<T>): Promise<T> {
    this.assertUsable();
    return applyAtomically(this.#tables, this.#engine, op);
  }

  /** A savepoint: a layer over this transaction's layer. */
  async transaction<T>(body: (child: Scope) => Promise<T>): Promise<T> {
    this.assertUsable();
    const layer = layerOver(this.#tables);
    const child = new TransactionScope(this.#root, layer, this.#engine);
    let result: T;
    try {
      result = await body(child);
    } finally {
      child.finish();
    }
    // The enclosing transaction may have settled while the savepoint ran; its writes are gone.
    this.assertUsable();
    layer.commit();
    return result;
  }

  async close(): Promise<void> {
    this.assertUsable();
  }
}
