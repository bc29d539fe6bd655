/**
 * Small provider test files for topology scenarios (sources written into a temp project). Each
 * body appends its name to $FAULTS_BODY_LOG, so a refusal can prove no test body ran.
 */
export { QUICK_TEST } from '../../faults/support/project';

const BODY_LOG = `
const fs = require('fs');
function bodyRan(name) {
  if (process.env.FAULTS_BODY_LOG) fs.appendFileSync(process.env.FAULTS_BODY_LOG, name + '\\n');
}
`;

/**
 * What a provider's own store relies on: unqualified names resolve to the run schema on every
 * statement (in and out of transactions, on whichever pooled server connection), never to the
 * provider's public.user_engine_users. Also records whether the session is encrypted to
 * $TOPO_PROBE_OUT (one JSON line per file), for the TLS scenarios.
 */
export const SCHEMA_PROBE_TEST = `/* global test, expect */
const { describeLive } = require('@user-engine/jest-live');
${BODY_LOG}
describeLive('schema probe (live)', (live) => {
  test('unqualified names resolve to the run schema on every statement', async () => {
    bodyRan('probe');
    await live.store.upsertUser({ email: 'probe@example.org', displayName: 'Probe' });
    for (let i = 0; i < 20; i++) {
      const { rows } = await live.connection.query(
        'SELECT current_schema() AS schema, (SELECT count(*)::int FROM user_engine_users) AS n',
      );
      expect(rows).toEqual([{ schema: live.schema, n: 1 }]);
    }
    const { rows: ssl } = await live.connection.query(
      'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    if (process.env.TOPO_PROBE_OUT) {
      fs.appendFileSync(process.env.TOPO_PROBE_OUT, JSON.stringify(ssl[0]) + '\\n');
    }
  });
});
`;

/** Idles longer than a provider's idle_session_timeout of 1s between statements. */
export const IDLE_TEST = `/* global test, expect, setTimeout */
const { describeLive } = require('@user-engine/jest-live');
${BODY_LOG}
const idle = () => new Promise((resolve) => setTimeout(resolve, 1500));
describeLive('idle sessions (live)', (live) => {
  test('a write, an idle pause, a read', async () => {
    bodyRan('idle-1');
    await live.store.upsertUser({ email: 'idle@example.org', displayName: 'Idle' });
    await idle();
    expect((await live.recordCounts()).user_engine_users).toBe(1);
  });

  test('after another idle pause, reset and the store still work', async () => {
    bodyRan('idle-2');
    await idle();
    await live.reset();
    await live.store.upsertUser({ email: 'again@example.org', displayName: 'Again' });
    expect((await live.recordCounts()).user_engine_users).toBe(1);
  });
});
`;
