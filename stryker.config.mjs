/**
 * Mutation testing of the contract's executable definition: the in-memory reference store and the
 * shared input and event helpers, killed by the conformance suite run against that store (plus
 * the unit tests of those modules). See docs/internals/mutation.md.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: false,
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.stryker.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/store/memory/**/*.ts',
    'src/store/validation.ts',
    'src/store/events.ts',
    'src/store/errors.ts',
    'src/store/migrations.ts',
  ],
  ignorePatterns: ['dist', 'reports', 'bench', 'coverage', '.user-engine-live'],
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  // Default paths, spelled out because docs/internals/mutation.md points at them.
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  // Read and written by `--incremental` runs: a rerun retests only mutants whose code or tests
  // changed.
  incrementalFile: 'reports/stryker-incremental.json',
  thresholds: { high: 97, low: 96.5, break: null },
  // Mutants that hang (a lock never released, a loop that never ends) cost this much each.
  timeoutMS: 5000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};

export default config;
