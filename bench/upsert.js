/**
 * Benchmark 4, bulk upsert: `store.upsertUsers` of 10,000 new users and then the same 10,000 with
 * a changed displayName, against (a) a one-by-one `upsertUser` loop and (b) the floor: one raw
 * unnest upsert statement into the same table, without and with an equivalent outbox insert.
 * Every variant starts from empty tables (TRUNCATE, untimed) and returns the written rows, as the
 * store must. Both drivers, pg first.
 */
'use strict';
const { connect, dist, dropSchema } = require('./lib/db');
const { migratedSchema } = require('./lib/schema');
const { nowMs, round, summarize, target } = require('./lib/stats');

const SCHEMA = 'ue_bench_upsert';
const BATCH = 10_000;
/** The loop is timed on this many users and scaled linearly to BATCH (each call is independent). */
const LOOP = 1_000;
const WARMUP = 1;
const RUNS = 5;

const RETURNED = 'id, email, email_key, display_name, status, revision, created_at, updated_at';

/** The floor: one statement, no events. */
const FLOOR = `INSERT INTO user_engine_users AS u (email, email_key, display_name, status)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
  ON CONFLICT (email_key) DO UPDATE SET email = EXCLUDED.email,
    display_name = EXCLUDED.display_name, status = EXCLUDED.status,
    revision = u.revision + 1, updated_at = statement_timestamp()
  RETURNING ${RETURNED}`;

/** The floor plus one outbox row per written user, with the store's payload shape. */
const FLOOR_WITH_OUTBOX = `WITH up AS (
    INSERT INTO user_engine_users AS u (email, email_key, display_name, status)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
    ON CONFLICT (email_key) DO UPDATE SET email = EXCLUDED.email,
      display_name = EXCLUDED.display_name, status = EXCLUDED.status,
      revision = u.revision + 1, updated_at = statement_timestamp()
    RETURNING ${RETURNED}, (u.xmax = 0) AS created
  ),
  ev AS (
    INSERT INTO user_engine_outbox (type, aggregate_id, payload, created_at)
    SELECT CASE WHEN created THEN 'user.created' ELSE 'user.updated' END, id,
      jsonb_build_object('userId', id, 'email', email, 'displayName', display_name,
        'status', status, 'revision', revision)
        || CASE WHEN created THEN '{}'::jsonb ELSE '{"changes":["displayName"]}'::jsonb END,
      statement_timestamp()
    FROM up
  )
  SELECT ${RETURNED} FROM up`;

function inputs(count, round, phase) {
  return Array.from({ length: count }, (_, i) => ({
    email: `bulk${i}@example.com`,
    displayName: phase === 'insert' ? `User ${i}` : `User ${i} (renamed in round ${round})`,
  }));
}

function floorParams(list) {
  return [
    list.map((u) => u.email),
    list.map((u) => u.email.toLowerCase()),
    list.map((u) => u.displayName),
    list.map(() => 'active'),
  ];
}

async function time(fn) {
  const start = nowMs();
  const value = await fn();
  return { ms: nowMs() - start, value };
}

function expectCount(what, actual, expected) {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, got ${actual}`);
}

async function counts(conn) {
  const { rows } = await conn.query(
    'SELECT (SELECT count(*) FROM user_engine_users)::int AS users, (SELECT count(*) FROM user_engine_outbox)::int AS outbox',
  );
  return rows[0];
}

/** One round of every variant on `conn`; returns ms per variant (loop figures unscaled). */
async function oneRound(conn, store, roundNo) {
  const truncate = () =>
    conn.query('TRUNCATE user_engine_identities, user_engine_outbox, user_engine_users');
  const figures = {};
  const bulk = async () => {
    await truncate();
    const ins = await time(() => store.upsertUsers(inputs(BATCH, roundNo, 'insert')));
    expectCount('upsertUsers created', ins.value.filter((r) => r.created).length, BATCH);
    const upd = await time(() => store.upsertUsers(inputs(BATCH, roundNo, 'update')));
    expectCount(
      'upsertUsers changed',
      upd.value.filter((r) => r.changed && !r.created).length,
      BATCH,
    );
    expectCount('outbox rows after upsertUsers', (await counts(conn)).outbox, 2 * BATCH);
    figures.bulkInsert = ins.ms;
    figures.bulkUpdate = upd.ms;
  };
  const floor = (sql, key, outbox) => async () => {
    await truncate();
    const ins = await time(() => conn.query(sql, floorParams(inputs(BATCH, roundNo, 'insert'))));
    expectCount(`${key} insert rows`, ins.value.rows.length, BATCH);
    const upd = await time(() => conn.query(sql, floorParams(inputs(BATCH, roundNo, 'update'))));
    expectCount(`${key} update rows`, upd.value.rows.length, BATCH);
    expectCount(`outbox rows after ${key}`, (await counts(conn)).outbox, outbox ? 2 * BATCH : 0);
    figures[`${key}Insert`] = ins.ms;
    figures[`${key}Update`] = upd.ms;
  };
  const loop = async () => {
    // The warm-up round only needs the statements planned and the code hot, not 1,000 calls.
    const size = roundNo < 0 ? LOOP / 10 : LOOP;
    await truncate();
    const ins = await time(async () => {
      for (const input of inputs(size, roundNo, 'insert')) await store.upsertUser(input);
    });
    const upd = await time(async () => {
      for (const input of inputs(size, roundNo, 'update')) await store.upsertUser(input);
    });
    expectCount('outbox rows after the loop', (await counts(conn)).outbox, 2 * size);
    figures.loopInsert = ins.ms;
    figures.loopUpdate = upd.ms;
  };
  const variants = [
    bulk,
    floor(FLOOR, 'floor', false),
    floor(FLOOR_WITH_OUTBOX, 'floorOutbox', true),
    loop,
  ];
  // Rotate the order so no variant always runs right after the same neighbour.
  const shift = ((roundNo % variants.length) + variants.length) % variants.length;
  for (const variant of [...variants.slice(shift), ...variants.slice(0, shift)]) await variant();
  return figures;
}

async function measureDriver(dsn, driver, log) {
  const conn =
    driver === 'pg'
      ? await migratedSchema(dsn, SCHEMA, { driver, max: 2 })
      : await connect(dsn, { schema: SCHEMA, max: 2, driver });
  const { createPostgresStore } = dist('store/postgres/postgres-store.js');
  const store = createPostgresStore(conn);
  const samples = {};
  try {
    for (let i = -WARMUP; i < RUNS; i++) {
      log(`upsert: ${driver}, ${i < 0 ? 'warm-up' : `round ${i + 1}/${RUNS}`}`);
      const figures = await oneRound(conn, store, i);
      if (i < 0) continue;
      for (const [key, ms] of Object.entries(figures)) (samples[key] ??= []).push(ms);
    }
  } finally {
    await store.close();
    await conn.close();
  }
  const scale = BATCH / LOOP;
  const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
  const loopInsert10k = s.loopInsert.median * scale;
  const loopUpdate10k = s.loopUpdate.median * scale;
  return {
    driver,
    summaries: s,
    loopScaledTo10k: { insert: round(loopInsert10k), update: round(loopUpdate10k) },
    ratios: {
      insertSpeedupVsLoop: round(loopInsert10k / s.bulkInsert.median),
      updateSpeedupVsLoop: round(loopUpdate10k / s.bulkUpdate.median),
      insertVsFloorOutbox: round(s.bulkInsert.median / s.floorOutboxInsert.median),
      updateVsFloorOutbox: round(s.bulkUpdate.median / s.floorOutboxUpdate.median),
      insertVsFloor: round(s.bulkInsert.median / s.floorInsert.median),
      updateVsFloor: round(s.bulkUpdate.median / s.floorUpdate.median),
    },
  };
}

function rowsOf(r) {
  const s = r.summaries;
  return [
    [
      r.driver,
      'insert 10k new',
      s.bulkInsert.median,
      r.loopScaledTo10k.insert,
      s.floorInsert.median,
      s.floorOutboxInsert.median,
      r.ratios.insertSpeedupVsLoop,
      r.ratios.insertVsFloorOutbox,
      r.ratios.insertVsFloor,
    ],
    [
      r.driver,
      'update 10k (displayName)',
      s.bulkUpdate.median,
      r.loopScaledTo10k.update,
      s.floorUpdate.median,
      s.floorOutboxUpdate.median,
      r.ratios.updateSpeedupVsLoop,
      r.ratios.updateVsFloorOutbox,
      r.ratios.updateVsFloor,
    ],
  ];
}

async function run({ dsn, log }) {
  const results = [];
  try {
    for (const driver of ['pg', 'postgres']) results.push(await measureDriver(dsn, driver, log));
  } finally {
    const admin = await connect(dsn, { max: 1, driver: 'pg' });
    await dropSchema(admin, SCHEMA).catch(() => undefined);
    await admin.close();
  }
  const targets = [];
  for (const r of results) {
    for (const phase of ['insert', 'update']) {
      targets.push(
        target(
          `${r.driver}: ${phase}, speed-up vs upsertUser loop`,
          r.ratios[`${phase}SpeedupVsLoop`],
          20,
          'min',
          'x',
          `one-by-one upsertUser loop (${LOOP} timed, scaled x${BATCH / LOOP})`,
        ),
        target(
          `${r.driver}: ${phase}, vs floor with outbox`,
          r.ratios[`${phase}VsFloorOutbox`],
          1.5,
          'max',
          'x',
          'one unnest upsert statement with an outbox insert CTE',
        ),
      );
    }
  }
  return {
    title: `Bulk upsert of ${BATCH.toLocaleString('en')} users: upsertUsers vs loop vs raw floor`,
    notes: [
      `Medians of ${RUNS} rounds after ${WARMUP} warm-up; each variant starts from TRUNCATEd tables.`,
      `The upsertUser loop is timed on ${LOOP.toLocaleString('en')} users and scaled x${BATCH / LOOP} (per-call cost is constant).`,
      'Floor = one INSERT ... SELECT FROM unnest(...) ON CONFLICT (email_key) DO UPDATE ... RETURNING;',
      '"+outbox" adds one outbox row per user in a CTE (the store writes events too): the 1.5x target compares against it.',
    ],
    tables: [
      {
        headers: [
          'driver',
          'operation',
          'upsertUsers ms',
          'loop ms (scaled)',
          'floor ms',
          'floor+outbox ms',
          'speed-up vs loop',
          'vs floor+outbox',
          'vs floor',
        ],
        rows: results.flatMap(rowsOf),
      },
    ],
    targets,
    data: { batch: BATCH, loopTimedOn: LOOP, drivers: results },
  };
}

module.exports = { name: 'upsert', run };
