/** The project's own tests. Provider repos use `preset: "@user-engine/jest-live"` instead. */
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
};
