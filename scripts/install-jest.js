#!/usr/bin/env node
/**
 * `node scripts/install-jest.js <version>`: installs jest@<version> (with its own
 * jest-environment-node, jest-runner, ...) into `.cache/jest-<version>/` once, through the
 * ordinary npm client, and prints the path of its CLI. The e2e suite uses it to run fixture
 * provider projects under the Jest versions the package supports (29.7 and 30). Installs into a
 * temporary folder first and renames it, so a killed install never leaves a half-made cache.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

/** The CLI of jest@version in the cache; installs it first when missing. */
function ensureJest(version) {
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`install-jest: expected an exact version such as 29.7.0, got ${version}`);
  }
  const dir = path.join(root, '.cache', `jest-${version}`);
  const bin = path.join(dir, 'node_modules', 'jest', 'bin', 'jest.js');
  if (fs.existsSync(bin)) return bin;
  const staging = `${dir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  fs.writeFileSync(
    path.join(staging, 'package.json'),
    JSON.stringify({ name: `jest-${version}-cache`, private: true }),
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    ['install', '--no-audit', '--no-fund', '--no-package-lock', `jest@${version}`],
    { cwd: staging, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  if (result.status !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(`install-jest: npm install jest@${version} failed\n${result.stderr}`);
  }
  try {
    fs.renameSync(staging, dir);
  } catch (error) {
    // Another process finished first: use its copy.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(bin)) throw error;
  }
  return bin;
}

module.exports = { ensureJest };

if (require.main === module) {
  try {
    process.stdout.write(`${ensureJest(process.argv[2] ?? '')}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
