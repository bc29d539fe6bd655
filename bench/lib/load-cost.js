#!/usr/bin/env node
/**
 * Child-process probe for the skip benchmark: in a fresh Node process, with no USER_ENGINE_LIVE_*
 * variables, how long loading (and, for the global hooks, calling) one preset entry point takes.
 * Prints one JSON line. jest-environment-node is loaded first: Jest loads it for a plain project
 * too, so it is not the preset's cost.
 */
'use strict';
const path = require('path');

const [, , file, call] = process.argv;
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  require('jest-environment-node');
  const before = Object.keys(require.cache).length;
  const start = now();
  const loaded = require(path.resolve(file));
  const loadMs = now() - start;
  const modules = Object.keys(require.cache).length - before;
  let callMs = 0;
  if (call === 'call') {
    const fn = loaded.default || loaded;
    const callStart = now();
    await fn({}, {});
    callMs = now() - callStart;
  }
  process.stdout.write(`${JSON.stringify({ loadMs, callMs, modules })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
