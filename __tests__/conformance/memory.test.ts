import { runStoreConformance } from '../../src/conformance';
import type { UserEngineStore } from '../../src/store/contract';
import { InMemoryUserEngineStore } from '../../src/store/memory/in-memory-store';

runStoreConformance('InMemoryUserEngineStore', {
  createStore: () => new InMemoryUserEngineStore(),
  createFreshStore: async () => ({ store: new InMemoryUserEngineStore(), dispose: async () => {} }),
});

// The reset path: one store for the whole run, emptied between tests. The memory store has no
// truncate, so `reset` swaps in a new instance behind a stable facade the suite holds on to.
function resettableStore(): { facade: UserEngineStore; reset(): Promise<void> } {
  let target = new InMemoryUserEngineStore();
  const facade = new Proxy({} as UserEngineStore, {
    get(_, key: keyof UserEngineStore) {
      const value = target[key];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    facade,
    async reset() {
      await target.close();
      target = new InMemoryUserEngineStore();
      await target.migrate();
    },
  };
}

const shared = resettableStore();
runStoreConformance('InMemoryUserEngineStore (one store, reset between tests)', {
  createStore: () => shared.facade,
  reset: () => shared.reset(),
  capabilities: { concurrentWriters: true, savepoints: true },
});
