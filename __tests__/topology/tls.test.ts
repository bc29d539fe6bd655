/**
 * Topology: a PostgreSQL 15 server of the test's own with `ssl = on` (the machine's cluster has no
 * TLS). `sslmode=require` encrypts without verifying, like libpq: it works against a self-signed
 * certificate. `sslmode=verify-full` with `sslrootcert` naming a CA generated with openssl
 * verifies chain and host name. Both drivers, and the sessions of the run are really encrypted
 * (pg_stat_ssl). Without the CA, verify-full is refused naming the host, the mode and how to supply
 * the CA, before anything is written.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fingerprint, plantCanaries, type Query } from '../support/canaries';
import { startTlsServer, type TlsServer } from '../support/tls-server';
import { describeTopology } from './gate';
import { EXPECTED } from './support/expected';
import { SCHEMA_PROBE_TEST } from './support/provider-tests';
import {
  DRIVERS,
  assertBuilt,
  expectPassed,
  expectRefused,
  removeProjects,
  runScenario,
  smallProject,
} from './support/scenario';

jest.setTimeout(200_000);

const DB = 'ue_topo_tls';

interface TlsTarget {
  server: TlsServer;
  query: Query;
  canaries: string;
}

/** Starts a server, creates the database and plants canaries in it. */
async function tlsTarget(certificate: 'ca-signed' | 'self-signed'): Promise<TlsTarget> {
  const server = await startTlsServer({ certificate });
  await server.query(`CREATE DATABASE ${DB}`);
  const query: Query = (sql, params) => server.query(sql, params, DB);
  await plantCanaries(query);
  return { server, query, canaries: await fingerprint(query) };
}

/** Any schema or ledger of the preset on that server's database. */
async function presetObjects(target: TlsTarget): Promise<string[]> {
  const rows = await target.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace
      WHERE starts_with(nspname, 'user_engine_live') AND nspname <> 'user_engine_live_x'
        AND nspname !~ '^user_engine_live$' ORDER BY 1`,
  );
  return rows.map((row) => row.nspname);
}

describeTopology('TLS', () => {
  let caSigned: TlsTarget;
  let selfSigned: TlsTarget;
  let project: string;

  beforeAll(async () => {
    assertBuilt();
    [caSigned, selfSigned] = [await tlsTarget('ca-signed'), await tlsTarget('self-signed')];
    project = smallProject({ 'probe.test.js': SCHEMA_PROBE_TEST });
  });
  afterAll(async () => {
    removeProjects();
    await caSigned?.server.stop();
    await selfSigned?.server.stop();
  });

  /** Runs the probe; returns what pg_stat_ssl said about the run's own session. */
  async function probeRun(dsn: string, driver: (typeof DRIVERS)[number]) {
    const out = path.join(project, `ssl-${Date.now()}.jsonl`);
    const run = await runScenario({ name: DB }, dsn, project, {
      driver,
      env: { TOPO_PROBE_OUT: out },
    });
    return { run, ssl: fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : [] };
  }

  test.each(DRIVERS)('%s: sslmode=require against a self-signed certificate', async (driver) => {
    const { run, ssl } = await probeRun(
      selfSigned.server.dsnFor(DB, { sslmode: 'require' }),
      driver,
    );
    expectPassed(run, 1);
    expect(ssl.map((line) => JSON.parse(line).ssl)).toEqual([true]);
    expect(await presetObjects(selfSigned)).toEqual([]);
    expect(await fingerprint(selfSigned.query)).toBe(selfSigned.canaries);
  });

  test.each(DRIVERS)('%s: sslmode=verify-full with the generated CA', async (driver) => {
    const dsn = caSigned.server.dsnFor(DB, {
      sslmode: 'verify-full',
      sslrootcert: caSigned.server.caPath,
    });
    const { run, ssl } = await probeRun(dsn, driver);
    expectPassed(run, 1);
    expect(ssl.map((line) => JSON.parse(line).ssl)).toEqual([true]);
    expect(await presetObjects(caSigned)).toEqual([]);
    expect(await fingerprint(caSigned.query)).toBe(caSigned.canaries);
  });

  test.each(DRIVERS)(
    '%s: verify-full without the CA is refused, naming host, mode and sslrootcert',
    async (driver) => {
      const freshProject = smallProject({ 'probe.test.js': SCHEMA_PROBE_TEST });
      const run = await runScenario(
        { name: DB },
        caSigned.server.dsnFor(DB, { sslmode: 'verify-full' }),
        freshProject,
        { driver },
      );
      expectRefused(run, freshProject, EXPECTED.tlsUnverified('localhost', 'verify-full'));
      expect(await presetObjects(caSigned)).toEqual([]);
      expect(await fingerprint(caSigned.query)).toBe(caSigned.canaries);
    },
  );
});
