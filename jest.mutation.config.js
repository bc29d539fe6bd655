/**
 * The tests StrykerJS runs against each mutant (`npm run mutation`): the shared conformance suite
 * against the in-memory reference store, plus the unit tests of the mutated modules. None needs a
 * database.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/__tests__/conformance/memory.test.ts',
    '<rootDir>/__tests__/conformance/capabilities.test.ts',
    '<rootDir>/__tests__/unit/in-memory-store.test.ts',
    '<rootDir>/__tests__/unit/validation.test.ts',
  ],
};
