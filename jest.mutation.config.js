/**
 * The tests StrykerJS runs against each mutant (`npm run mutation`): the shared conformance suite
 * against the in-memory reference store, plus the unit tests of the mutated modules. None needs a
 * database. The suite's own wiring tests (capabilities.test.ts) and the mutant kit are left out:
 * they test the harness, not the store, and would only slow every mutant down.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  // No database: do not start the embedded server of `npm test` for every mutant.
  globalSetup: undefined,
  globalTeardown: undefined,
  // Transpile each file on its own (no type information; `tsc` and Stryker's checker type-check):
  // ts-jest then skips resolving every import to build its cache key, which cut Jest's fixed cost
  // per mutant run from about 3.6 s to 1 s on this machine.
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true }, diagnostics: false }],
  },
  testMatch: [
    '<rootDir>/__tests__/conformance/memory.test.ts',
    '<rootDir>/__tests__/unit/in-memory-store.test.ts',
    '<rootDir>/__tests__/unit/validation.test.ts',
    '<rootDir>/__tests__/unit/store-errors.test.ts',
  ],
};
