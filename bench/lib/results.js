/**
 * bench/results.json: machine facts, and per benchmark the date, the command, samples, medians,
 * ratios and target verdicts. Running one benchmark replaces only its own entry.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { REPO } = require('./db');

const RESULTS = path.join(REPO, 'bench', 'results.json');

function packageVersion(name) {
  try {
    return JSON.parse(
      fs.readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8'),
    ).version;
  } catch {
    return 'not installed';
  }
}

function machineInfo(postgresVersion) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0] ? cpus[0].model : 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: postgresVersion,
    packages: {
      jest: packageVersion('jest'),
      pg: packageVersion('pg'),
      postgres: packageVersion('postgres'),
    },
  };
}

function readResults() {
  try {
    return JSON.parse(fs.readFileSync(RESULTS, 'utf8'));
  } catch {
    return { benchmarks: {} };
  }
}

/**
 * Merges `entries` (name -> result) into results.json, benchmarks kept in `order`, and returns
 * the whole document.
 */
function writeResults(machine, entries, order) {
  const merged = { ...(readResults().benchmarks || {}), ...entries };
  const names = [
    ...order.filter((n) => n in merged),
    ...Object.keys(merged).filter((n) => !order.includes(n)),
  ];
  const doc = {
    machine,
    updatedAt: new Date().toISOString(),
    benchmarks: Object.fromEntries(names.map((n) => [n, merged[n]])),
  };
  fs.writeFileSync(RESULTS, `${JSON.stringify(doc, null, 2)}\n`);
  return doc;
}

module.exports = { RESULTS, machineInfo, readResults, writeResults };
