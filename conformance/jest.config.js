/**
 * The Jest project of `npm run conformance` (scripts/conformance.js): this repository's own preset,
 * consumed exactly as a provider would (compiled, from dist/), running the shared conformance
 * suite unchanged. Not part of `npm test` (the root config matches __tests__/ only).
 */
const path = require('path');

const root = path.resolve(__dirname, '..');

module.exports = {
  rootDir: __dirname,
  // An absolute path is taken as the preset module itself (a folder would resolve to its "main").
  preset: path.join(root, 'jest-preset.js'),
  testMatch: ['<rootDir>/*.test.js'],
  transform: {},
  reporters: ['default', path.join(root, 'dist', 'summary-reporter.js')],
};
