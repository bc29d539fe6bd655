/**
 * The project's own tests. Provider repos use `preset: "@user-engine/jest-live"` instead.
 * Without USER_ENGINE_LIVE_DSN the global setup starts one embedded PostgreSQL for the run so the
 * live suites run too; USER_ENGINE_TEST_EMBEDDED=0 opts out (they then skip). See CONTRIBUTING.md.
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/fixtures/', '<rootDir>/.stryker-tmp/'],
  modulePathIgnorePatterns: [
    '<rootDir>/dist/',
    '<rootDir>/__tests__/.*/fixtures/',
    // StrykerJS sandboxes (`npm run mutation`) hold a copy of the package.
    '<rootDir>/.stryker-tmp/',
    '<rootDir>/reports/',
    '<rootDir>/.cache/',
  ],
  globalSetup: '<rootDir>/__tests__/support/embedded-global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/support/embedded-global-teardown.ts',
};
