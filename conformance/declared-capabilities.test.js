// The same suite, unchanged, in a second worker (its own schema) with a store that declares
// neither savepoints nor concurrent writers: every spec needing them must be reported as skipped
// with the reason in its name, and everything else must still pass. The two files together keep
// both workers busy and prove the per-worker schemas do not interfere.
const { describeLive } = require('../dist/index.js');
const { runStoreConformance } = require('../dist/conformance/index.js');

describeLive('store conformance (live, declared capabilities)', (live) => {
  runStoreConformance('preset store, declared without savepoints and concurrent writers', {
    createStore: () => live.store,
    reset: () => live.reset(),
    closeStore: async () => {},
    createFreshStore: () => live.createFreshStore(),
    capabilities: { savepoints: false, concurrentWriters: false },
  });
});
