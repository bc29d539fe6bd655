/**
 * `preset: '@user-engine/jest-live'`. Jest does not transform node_modules, so every path points
 * at compiled JavaScript under dist/ (run `npm run build` before packing). Types: jest-preset.d.ts.
 */
const path = require('path');

const dist = path.join(__dirname, 'dist', 'jest');

const testEnvironment = path.join(dist, 'worker', 'environment.js');
const globalSetup = path.join(dist, 'parent', 'global-setup.js');
const globalTeardown = path.join(dist, 'parent', 'global-teardown.js');
// Builds the store inside each test file's sandbox (see src/jest/test/setup-store.ts); Jest
// concatenates a preset's setupFilesAfterEnv with the project's own, so users keep theirs.
const setupFilesAfterEnv = [path.join(dist, 'test', 'setup-store.js')];

// Shorthand properties, so that Node's ESM loader sees the names (named imports from ESM work).
module.exports = { testEnvironment, globalSetup, globalTeardown, setupFilesAfterEnv };
