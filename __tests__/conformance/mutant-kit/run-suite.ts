/**
 * A small in-process runner over the spec table: runs every spec of the shared suite against a
 * store, the way `runStoreConformance` would (a new migrated store per spec, fresh unmigrated
 * stores on demand), and reports which specs failed. Much faster than a child Jest run per
 * mutant, which is what makes a kit of dozens of broken stores affordable in `npm test`.
 */
import { SPEC_GROUPS } from '../../../src/conformance/specs';
import type { Spec, SpecContext } from '../../../src/conformance/spec';
import type { UserEngineStore } from '../../../src/store/contract';

export interface SuiteOutcome {
  ran: number;
  failed: Array<{ spec: string; error: string }>;
}

/** A store for one spec, and how to get rid of it (close it, drop its schema...). */
export interface OpenedStore {
  store: UserEngineStore;
  dispose(): Promise<void>;
}

/** Opens a new, empty, unmigrated store. */
export type OpenStore = () => Promise<OpenedStore>;

/** Opens a store made by `make` in memory: closing it is all the cleanup there is. */
export function inMemory(make: () => UserEngineStore): OpenStore {
  return async () => {
    const store = make();
    return { store, dispose: () => store.close() };
  };
}

export interface RunOptions {
  /** A spec still running after this long has failed (a broken store may hang). */
  timeoutMs: number;
  /** Stop after this many failures (the suite already failed). */
  stopAfter: number;
  /** Run only these specs (`group > name`); all when omitted. */
  only?: ReadonlySet<string>;
}

async function withTimeout(run: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runSpec(s: Spec, open: OpenStore, timeoutMs: number): Promise<string | null> {
  const opened: OpenedStore[] = [];
  try {
    const main = await open();
    opened.push(main);
    await main.store.migrate();
    const ctx: SpecContext = {
      store: main.store,
      freshStore: async () => {
        const fresh = await open();
        opened.push(fresh);
        return fresh.store;
      },
    };
    await withTimeout(s.run(ctx), timeoutMs);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  } finally {
    // A broken store may fail to close; that is not what the kit measures.
    await Promise.allSettled(opened.map((o) => o.dispose()));
  }
}

/** Every spec applies: the stores given here claim every capability. */
export async function runSuite(open: OpenStore, options: RunOptions): Promise<SuiteOutcome> {
  const outcome: SuiteOutcome = { ran: 0, failed: [] };
  for (const group of SPEC_GROUPS)
    for (const s of group.specs) {
      const name = `${group.title} > ${s.name}`;
      if (options.only && !options.only.has(name)) continue;
      outcome.ran++;
      const error = await runSpec(s, open, options.timeoutMs);
      if (error !== null) {
        outcome.failed.push({ spec: name, error });
        if (outcome.failed.length >= options.stopAfter) return outcome;
      }
    }
  return outcome;
}
