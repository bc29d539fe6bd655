/**
 * Shared by the live-overhead and worker-scaling benchmarks: the environment of a live child run,
 * and reading back what the timed wrappers (bench/fixture/) recorded during it.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { BENCH_DATABASE } = require('./db');

/** How many files the suite is split over: several per worker, so later files can be seen. */
const SUITE_FILES = 6;

/**
 * Two worker processes for sure: Jest otherwise runs <= 20 files in band once its cache knows
 * them to be fast (< 1 s each), which a quiet machine makes happen and a busy one does not. A
 * worker memory limit makes Jest always use workers; 4GB is never reached, so none is recycled.
 */
const TWO_WORKERS = ['--maxWorkers=2', '--workerIdleMemoryLimit=4GB'];

function liveEnv(dsn, timingsFile) {
  return {
    USER_ENGINE_LIVE_DSN: dsn,
    USER_ENGINE_LIVE_RESET: BENCH_DATABASE,
    // A misconfiguration must fail the benchmark, never time a run that skipped everything.
    USER_ENGINE_LIVE_REQUIRED: '1',
    BENCH_TIMINGS_FILE: timingsFile,
  };
}

function timingsFileOf(dir) {
  return path.join(dir, 'timings.jsonl');
}

/** The records of the last run, and an empty file for the next. */
function takeTimings(file) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  fs.writeFileSync(file, '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/**
 * Splits one run's file records: the first file each worker process ran (it creates the worker
 * schema and migrates it) and every later one (schema already there).
 */
function splitFirstFiles(records) {
  const files = records.filter((r) => r.kind === 'file').sort((a, b) => a.startedAt - b.startedAt);
  const seen = new Set();
  const first = [];
  const later = [];
  for (const file of files) {
    (seen.has(file.pid) ? later : first).push(file);
    seen.add(file.pid);
  }
  return { first, later };
}

module.exports = { SUITE_FILES, TWO_WORKERS, liveEnv, timingsFileOf, takeTimings, splitFirstFiles };
