/**
 * `preset: '@user-engine/jest-live'`. Jest does not transform node_modules, so every path points
 * at compiled JavaScript under dist/ (run `npm run build` before packing).
 */
const path = require('path');

const dist = path.join(__dirname, 'dist', 'jest');

module.exports = {
  testEnvironment: path.join(dist, 'environment.js'),
  globalSetup: path.join(dist, 'global-setup.js'),
  globalTeardown: path.join(dist, 'global-teardown.js'),
  // Builds the store inside each test file's sandbox (see src/jest/setup-store.ts); Jest
  // concatenates a preset's setupFilesAfterEnv with the project's own, so users keep theirs.
  setupFilesAfterEnv: [path.join(dist, 'setup-store.js')],
};
