/**
 * One whole `jest` run as a child process, timed from spawn to exit, with Jest's JSON summary
 * read back so that a benchmark never times a run that failed or ran other tests than expected.
 */
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { REPO } = require('./db');
const { nowMs } = require('./stats');

const JEST = path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js');
/**
 * GNU time, when installed, reports the CPU time of the run including its worker processes (Jest
 * reaps them): less disturbed than wall time by other processes on a shared machine.
 */
const GNU_TIME = '/usr/bin/time';
const HAS_GNU_TIME = fs.existsSync(GNU_TIME);
const LIVE_VARS = /^USER_ENGINE_LIVE_/;

/** The parent's environment minus every USER_ENGINE_LIVE_* variable, plus `extra`. */
function childEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!LIVE_VARS.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** User + system ms of the run (GNU time's `%U %S`), or undefined without GNU time. */
function readCpu(file) {
  if (!HAS_GNU_TIME) return undefined;
  try {
    const [user, system] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    fs.rmSync(file, { force: true });
    return Number.isFinite(user + system) ? (user + system) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs jest with `config` in `dir`; resolves with { ms, summary } or rejects with the tail of
 * its output when it exits non-zero.
 */
function runJest({ dir, config, args = [], env = {} }) {
  const stamp = `${process.pid}-${Date.now()}`;
  const outputFile = path.join(dir, `.result-${stamp}.json`);
  const cpuFile = path.join(dir, `.cpu-${stamp}.txt`);
  const argv = [
    JEST,
    '--config',
    config,
    '--ci',
    '--silent',
    '--json',
    `--outputFile=${outputFile}`,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const start = nowMs();
    const [command, commandArgs] = HAS_GNU_TIME
      ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...argv]]
      : [process.execPath, argv];
    const child = spawn(command, commandArgs, {
      cwd: dir,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = nowMs() - start;
      let summary;
      try {
        summary = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
        fs.rmSync(outputFile, { force: true });
      } catch {
        summary = undefined;
      }
      if (code !== 0 || !summary) {
        reject(
          new Error(`jest ${path.basename(config)} ${args.join(' ')} exited ${code}:\n${output}`),
        );
        return;
      }
      resolve({
        ms,
        cpuMs: readCpu(cpuFile),
        tests: {
          total: summary.numTotalTests,
          passed: summary.numPassedTests,
          pending: summary.numPendingTests,
          failed: summary.numFailedTests,
          files: summary.numTotalTestSuites,
        },
      });
    });
  });
}

/** Throws unless two runs report the same test counts (the baseline ran the same work). */
function assertSameTests(a, b, what) {
  const keys = ['total', 'passed', 'pending', 'failed', 'files'];
  if (keys.some((k) => a[k] !== b[k]))
    throw new Error(
      `${what}: the runs differ in tests: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
}

/**
 * Alternates two commands: one unrecorded run of each, then `runs` pairs, the first of each pair
 * alternating, so drift (caches, a neighbour's load) hits both sides alike.
 */
async function alternate({ runs, a, b, log }) {
  const samples = { [a.name]: [], [b.name]: [] };
  const cpu = { [a.name]: [], [b.name]: [] };
  let tests = {};
  for (let i = -1; i < runs; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a];
    for (const side of order) {
      const result = await runJest(side);
      tests[side.name] = result.tests;
      if (i >= 0) {
        samples[side.name].push(result.ms);
        if (result.cpuMs !== undefined) cpu[side.name].push(result.cpuMs);
      }
      if (side.afterRun) side.afterRun(i);
    }
    log(
      `${i < 0 ? 'warm-up' : `pair ${i + 1}/${runs}`}: ${order.map((s) => s.name).join(' then ')}`,
    );
  }
  return { samples, cpu, tests };
}

module.exports = { runJest, childEnv, alternate, assertSameTests };
