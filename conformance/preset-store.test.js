// The shared conformance suite, unchanged, against the store the preset injects: exactly what a
// provider repository writes (see docs/provider-setup.md), consuming the compiled package.
const { describeLive } = require('../dist/index.js');
const { runStoreConformance } = require('../dist/conformance/index.js');

describeLive('store conformance (live, preset store)', (live) => {
  runStoreConformance('preset store, all capabilities', {
    createStore: () => live.store,
    reset: () => live.reset(),
    closeStore: async () => {},
    createFreshStore: () => live.createFreshStore(),
  });
});
