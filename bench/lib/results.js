/** Where bench/results.json lives, and the machine facts it records. */
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

module.exports = { RESULTS, machineInfo };
