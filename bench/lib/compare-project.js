/**
 * The comparison benchmark's provider project: the SAME generated spec files run under five
 * isolation strategies, chosen by `BENCH_MODE` in `harness.js` (written below):
 *
 * - `preset`: the preset (`describeLive`, `live.reset()` before each test, as the shared
 *   conformance suite does);
 * - `truncate`: a pool per file on a schema per Jest worker, migrated once, `TRUNCATE` of the
 *   three tables before each test;
 * - `rollback`: the same schema per worker, each test inside BEGIN ... ROLLBACK (store
 *   transactions become savepoints), as pgsql-test and jest-prisma do; it cannot test commits;
 * - `template`: a database per file cloned from a migrated template, the tables emptied with one
 *   DELETE text before each test, dropped at the end of the file;
 * - `memory`: the in-memory store, a new one per test (the floor).
 *
 * The non-preset harnesses use the package's own driver port and store (dist/), with the driver
 * of `BENCH_DRIVER`, so only the isolation strategy differs.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { BENCH_DATABASE } = require('./db');
const { newProject, writeConfig } = require('./fixtures');

/** Names the non-preset modes use; the orchestrator drops them at the end. */
const TEMPLATE_DATABASE = `${BENCH_DATABASE}_template`;
const TEMPLATE_SCHEMA = 'bench';
const WORKER_SCHEMA_PREFIX = 'bench_worker_';
const CLONE_PREFIX = `${BENCH_DATABASE}_clone_`;

const HARNESS = `/* global describe, beforeAll, beforeEach, afterEach, afterAll */
'use strict';
const { createConnection } = require('@user-engine/jest-live/driver');
const { createPostgresStore, InMemoryUserEngineStore, MANAGED_TABLES } = require('@user-engine/jest-live/store');

const MODE = process.env.BENCH_MODE;
const DSN = process.env.BENCH_DSN;
const DRIVER = process.env.BENCH_DRIVER;
const tables = (schema) => MANAGED_TABLES.map((t) => '"' + schema + '"."' + t + '"');

async function workerSchema() {
  const schema = ${JSON.stringify(WORKER_SCHEMA_PREFIX)} + MODE + '_' + DRIVER + '_' + (process.env.JEST_WORKER_ID || '1');
  const conn = await createConnection(DSN, { driver: DRIVER, schema, max: 2 });
  await conn.query('CREATE SCHEMA IF NOT EXISTS "' + schema + '"');
  await createPostgresStore(conn).migrate();
  return { conn, schema };
}

const ROLLBACK = new Error('rollback');
/** BEGIN now, ROLLBACK on release(): a Connection whose statements all run in that transaction. */
function heldTransaction(conn) {
  let release;
  const done = new Promise((resolve) => (release = resolve));
  let ready;
  const scope = new Promise((resolve) => (ready = resolve));
  const finished = conn
    .transaction(async (tx) => {
      ready(tx);
      await done;
      throw ROLLBACK;
    })
    .catch((error) => {
      if (error !== ROLLBACK) throw error;
    });
  return scope.then((tx) => ({
    connection: {
      driver: conn.driver,
      schema: conn.schema,
      query: (sql, params) => tx.query(sql, params),
      transaction: (fn) => tx.savepoint(fn),
      close: async () => undefined,
    },
    rollback: () => (release(), finished),
  }));
}

const strategies = {
  preset(name, body) {
    const { describeLive } = require('@user-engine/jest-live');
    describeLive(name, (live) => {
      beforeEach(() => live.reset());
      body(() => live.store);
    });
  },
  memory(name, body) {
    describe(name, () => {
      let store;
      beforeEach(async () => {
        store = new InMemoryUserEngineStore();
        await store.migrate();
      });
      body(() => store);
    });
  },
  truncate(name, body) {
    describe(name, () => {
      let conn;
      let store;
      let truncate;
      beforeAll(async () => {
        const worker = await workerSchema();
        conn = worker.conn;
        store = createPostgresStore(conn);
        truncate = 'TRUNCATE ' + tables(worker.schema).join(', ');
      });
      beforeEach(() => conn.query(truncate));
      afterAll(() => conn && conn.close());
      body(() => store);
    });
  },
  rollback(name, body) {
    describe(name, () => {
      let conn;
      let held;
      let store;
      beforeAll(async () => {
        conn = (await workerSchema()).conn;
      });
      beforeEach(async () => {
        held = await heldTransaction(conn);
        store = createPostgresStore(held.connection);
      });
      afterEach(() => held.rollback());
      afterAll(() => conn && conn.close());
      body(() => store);
    });
  },
  template(name, body) {
    describe(name, () => {
      let admin;
      let conn;
      let store;
      let empty;
      const database = ${JSON.stringify(CLONE_PREFIX)} + process.pid + '_' + Math.random().toString(36).slice(2, 8);
      beforeAll(async () => {
        admin = await createConnection(DSN, { driver: DRIVER, max: 1 });
        await admin.query('CREATE DATABASE "' + database + '" TEMPLATE "${TEMPLATE_DATABASE}"');
        const url = new URL(DSN);
        url.pathname = '/' + database;
        conn = await createConnection(url.toString(), { driver: DRIVER, schema: ${JSON.stringify(TEMPLATE_SCHEMA)}, max: 2 });
        store = createPostgresStore(conn);
        empty = tables(${JSON.stringify(TEMPLATE_SCHEMA)}).reverse().map((t) => 'DELETE FROM ' + t).join('; ');
      }, 60000);
      beforeEach(() => conn.query(empty));
      afterAll(async () => {
        if (conn) await conn.close();
        await admin.query('DROP DATABASE IF EXISTS "' + database + '" WITH (FORCE)');
        await admin.close();
      }, 60000);
      body(() => store);
    });
  },
};

exports.suite = (name, body) => {
  const strategy = strategies[MODE];
  if (!strategy) throw new Error('BENCH_MODE must be one of ' + Object.keys(strategies).join(', '));
  strategy(name, body);
};
`;

/**
 * One test: a handful of store calls with assertions that hold only if every test starts from
 * empty tables (so each strategy must really isolate). Every fifth test adds a store transaction.
 */
function specTest(file, t) {
  const tx =
    t % 5 === 0
      ? `
    await s.transaction(async (tx) => {
      await tx.upsertUser({ email: 'tx-${t}-a@example.com', displayName: 'A' });
      await tx.upsertUser({ email: 'tx-${t}-b@example.com', displayName: 'B' });
    });
    expect((await s.listUsers({ limit: 10 })).items).toHaveLength(3);`
      : `
    expect((await s.listUsers({ limit: 10 })).items).toHaveLength(1);`;
  return `  test('file ${file} case ${t}', async () => {
    const s = store();
    const { user } = await s.upsertUser({ email: 'user-${t}@example.com', displayName: 'User ${t}' });
    await s.linkIdentity({ userId: user.id, provider: 'github', subject: 'gh-${t}' });
    expect((await s.findUserByIdentity('github', 'gh-${t}')).id).toBe(user.id);
    const updated = await s.updateUser(user.id, { displayName: 'Renamed' }, { expectedRevision: user.revision });
    expect(updated.changed).toBe(true);${tx}
    const events = await s.outboxEvents();
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['user.created', 'identity.linked', 'user.updated']);
  });`;
}

function specFile(file, tests) {
  const body = Array.from({ length: tests }, (_, t) => specTest(file, t)).join('\n\n');
  return `/* global test, expect */
'use strict';
const { suite } = require('../harness');

suite('bench file ${file}', (store) => {
${body}
});
`;
}

/** A single test timing back-to-back `live.reset()` calls on an idle session (resetIdleMs). */
const RESET_IDLE_FILE = `/* global test, expect */
'use strict';
const fs = require('fs');
const { describeLive } = require('@user-engine/jest-live');

describeLive('reset on an idle session', (live) => {
  test('back-to-back resets', async () => {
    await live.store.upsertUser({ email: 'idle@example.com', displayName: 'Idle' });
    const samples = [];
    for (let i = -20; i < 200; i++) {
      const start = process.hrtime.bigint();
      await live.reset();
      if (i >= 0) samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    expect((await live.store.listUsers()).items).toHaveLength(0);
    fs.writeFileSync(process.env.BENCH_OUT, JSON.stringify(samples));
  });
});
`;

/**
 * Writes the project: `specs-<files>x<tests>/` directories of spec files (one per size asked
 * for), `idle/` with the reset-timing file, `harness.js`, and one config per directory. Jest
 * configs differ only by the preset (preset mode) or not.
 */
function compareProject(sizes) {
  const dir = newProject('compare');
  fs.writeFileSync(path.join(dir, 'harness.js'), HARNESS);
  const configs = {};
  for (const { files, tests } of sizes) {
    const name = `specs-${files}x${tests}`;
    fs.mkdirSync(path.join(dir, name));
    for (let f = 1; f <= files; f++) {
      const file = `spec-${String(f).padStart(2, '0')}.test.js`;
      fs.writeFileSync(path.join(dir, name, file), specFile(f, tests));
    }
    configs[name] = configPair(dir, name);
  }
  fs.mkdirSync(path.join(dir, 'idle'));
  fs.writeFileSync(path.join(dir, 'idle', 'reset-idle.test.js'), RESET_IDLE_FILE);
  configs.idle = configPair(dir, 'idle');
  return { dir, configs };
}

function configPair(dir, sub) {
  const common = {
    transform: {},
    testMatch: [`<rootDir>/${sub}/**/*.test.js`],
    // CREATE/DROP DATABASE and first connects take seconds on a loaded machine: a timeout must
    // not fail a strategy that is merely slow (its time is what is measured).
    testTimeout: 60_000,
  };
  return {
    preset: writeConfig(dir, `jest.${sub}.preset.config.js`, {
      ...common,
      preset: '@user-engine/jest-live',
      cacheDirectory: `<rootDir>/.jest-cache-${sub}-preset`,
    }),
    plain: writeConfig(dir, `jest.${sub}.plain.config.js`, {
      ...common,
      testEnvironment: 'node',
      cacheDirectory: `<rootDir>/.jest-cache-${sub}-plain`,
    }),
  };
}

module.exports = {
  compareProject,
  TEMPLATE_DATABASE,
  TEMPLATE_SCHEMA,
  WORKER_SCHEMA_PREFIX,
  CLONE_PREFIX,
};
