/**
 * Benchmark 3, reset scaling: the preset's `resetWorkerSchema` against a bare TRUNCATE of the same
 * three tables, at 0, 10,000 and 100,000 rows in each managed table, measured alternately in the
 * same run at each size. The empty case is also compared with one bare round trip (SELECT 1).
 */
'use strict';
const { connect, dist, dropSchema } = require('./lib/db');
const { loadRows, managedTables, migratedSchema, rowCounts } = require('./lib/schema');
const { nowMs, round, summarize, target } = require('./lib/stats');

// A run-schema name (`user_engine_live_<10 chars>_<worker>`): resetWorkerSchema refuses others.
// No ledger row points at it, so no live run's garbage collection will ever touch it.
const SCHEMA = 'user_engine_live_benchreset_1';
const SIZES = [0, 10_000, 100_000];
/** Empty resets are cheap: take many samples; loaded ones need a reload per sample. */
const RUNS = { 0: 40, 10_000: 5, 100_000: 5 };

async function timeOnce(fn) {
  const start = nowMs();
  await fn();
  return nowMs() - start;
}

async function measureSize(conn, size, resetWorkerSchema) {
  const truncate = `TRUNCATE ${managedTables(SCHEMA).join(', ')}`;
  const variants = {
    reset: () => resetWorkerSchema(conn, SCHEMA),
    truncate: () => conn.query(truncate),
  };
  const samples = { reset: [], truncate: [] };
  const runs = RUNS[size];
  // One unrecorded round of each first; then alternate which variant goes first.
  for (let i = -1; i < runs; i++) {
    const order = i % 2 === 0 ? ['reset', 'truncate'] : ['truncate', 'reset'];
    for (const name of order) {
      await loadRows(conn, SCHEMA, size);
      const ms = await timeOnce(variants[name]);
      const left = await rowCounts(conn, SCHEMA);
      if (left.users + left.identities + left.outbox !== 0)
        throw new Error(`${name} at ${size} rows left rows behind: ${JSON.stringify(left)}`);
      if (i >= 0) samples[name].push(ms);
    }
  }
  return samples;
}

async function roundTrips(conn, count) {
  const samples = [];
  for (let i = -10; i < count; i++) {
    const ms = await timeOnce(() => conn.query('SELECT 1'));
    if (i >= 0) samples.push(ms);
  }
  return samples;
}

async function run({ dsn, log }) {
  const { resetWorkerSchema } = dist('live/reset.js');
  const drivers = ['pg', 'postgres'];
  const sizes = {};
  const rows = [];
  const conns = {};
  try {
    conns.pg = await migratedSchema(dsn, SCHEMA, { driver: 'pg' });
    conns.postgres = await connect(dsn, { schema: SCHEMA, max: 1, driver: 'postgres' });
    for (const driver of drivers) {
      const conn = conns[driver];
      // postgres.js only at 0 rows: above that the server's work dominates, not the driver.
      for (const size of driver === 'pg' ? SIZES : [0]) {
        log(`reset: ${driver}, ${size} rows per table`);
        const samples = await measureSize(conn, size, resetWorkerSchema);
        const reset = summarize(samples.reset);
        const truncate = summarize(samples.truncate);
        const ratio = round(reset.median / truncate.median);
        sizes[`${driver}:${size}`] = { driver, rowsPerTable: size, reset, truncate, ratio };
        rows.push([driver, size, size * 3, reset.median, truncate.median, ratio, reset.n]);
      }
      const trips = summarize(await roundTrips(conn, 60));
      sizes[`${driver}:roundTrip`] = { driver, selectOne: trips };
      rows.push([driver, 'SELECT 1', 0, trips.median, '', '', trips.n]);
    }
  } finally {
    await conns.postgres?.close();
    if (conns.pg) {
      await dropSchema(conns.pg, SCHEMA).catch(() => undefined);
      await conns.pg.close();
    }
  }

  const big = sizes['pg:100000'];
  const empty = sizes['pg:0'];
  const targets = [
    target(
      'reset at 100,000 rows/table vs TRUNCATE (pg)',
      big.ratio,
      2,
      'max',
      'x',
      'bare TRUNCATE of the same 3 tables, same run',
    ),
    target('reset of empty tables, median (pg)', empty.reset.median, 1, 'max', 'ms', 'absolute'),
    target(
      'reset of empty tables, median (postgres.js)',
      sizes['postgres:0'].reset.median,
      1,
      'max',
      'ms',
      'absolute',
    ),
  ];
  return {
    title: 'Reset scaling: resetWorkerSchema vs bare TRUNCATE',
    notes: [
      'Rows per table: N users + N identities (one per user) + N outbox events = 3N rows.',
      'Each sample reloads the rows (untimed), then times one reset or one TRUNCATE; order alternates.',
      `Samples per figure: ${RUNS[0]} at 0 rows, ${RUNS[10_000]} at 10k, ${RUNS[100_000]} at 100k, after one warm-up each.`,
    ],
    tables: [
      {
        headers: [
          'driver',
          'rows/table',
          'rows total',
          'reset ms (median)',
          'TRUNCATE ms (median)',
          'reset/TRUNCATE',
          'n',
        ],
        rows,
      },
    ],
    targets,
    data: { schema: SCHEMA, sizes },
  };
}

module.exports = { name: 'reset', run };
