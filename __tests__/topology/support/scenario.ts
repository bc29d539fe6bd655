/**
 * One topology scenario = a provider project (the e2e fixture, or small test files of its own)
 * run by the real `jest` CLI against a database of the suite (`ue_topo_<name>`) with canaries
 * planted, then the verdict checked three ways: exit code, message text, and what the database
 * holds afterwards (nothing at all after a refusal, nothing of the run after a pass, canaries
 * byte-identical either way). The sentinel password must appear in no output.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runBuilt, type CliRun } from '../../cli/support';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import {
  cleanEnv,
  describeRun,
  prepareProject,
  runJest,
  startJest,
  type JestRun,
  type StartedJest,
} from '../../e2e/support/harness';
import { bodiesRun, faultsProject } from '../../faults/support/project';
import { expectNoSentinel } from '../../support/sentinel';
import { localTcpPorts } from './sockets';
import { RUN_SCHEMA_SQL } from '../../support/run-schemas';

export { assertBuilt, describeRun, removeProjects } from '../../e2e/support/harness';

export type Driver = 'pg' | 'postgres';
export const DRIVERS: readonly Driver[] = ['pg', 'postgres'];

export interface ScenarioDb extends TestDatabase {
  /** The canary fingerprint taken right after planting. */
  readonly canaries: string;
  /** Everything a run of the preset could have created: must be [] after a refusal. */
  written(): Promise<string[]>;
}

/** A fresh `ue_topo_<suffix>` with canaries planted and fingerprinted. */
export async function scenarioDb(suffix: string, encoding?: 'LATIN1'): Promise<ScenarioDb> {
  const db = await createTestDatabase(suffix, { prefix: 'ue_topo_', encoding });
  await db.plantCanaries();
  const canaries = await db.canarySnapshot();
  return Object.assign(db, {
    canaries,
    written: async () =>
      (
        await db.query<{ item: string }>(
          // Any schema of the preset (ledger or run), any ledger table left in public. The canary
          // schema user_engine_live_x is the provider's.
          `SELECT 'schema ' || nspname AS item FROM pg_namespace
            WHERE starts_with(nspname, 'user_engine_live') AND nspname <> 'user_engine_live_x'
           UNION ALL
           SELECT 'table ' || c.oid::regclass::text FROM pg_class c
            WHERE c.relname LIKE 'user\\_engine\\_live%' AND c.relnamespace = 'public'::regnamespace
           ORDER BY 1`,
        )
      ).map((row) => row.item),
  });
}

/** The e2e provider fixture: conformance suite, provider-style specs, a plain test. */
export function providerProject(): string {
  return prepareProject('provider');
}

/** Appended to by each test body that runs, so "no test body ran" is checkable. */
export function bodyLog(project: string): string {
  return path.join(project, 'bodies.log');
}

/**
 * A project with only `tests` (file name → source); bodies log to `bodyLog(project)`. With
 * `leaseMs`, its runs take that lease and wait that long past another run's expired lease before
 * collecting it (crash scenarios; the default is 30 s). `testTimeout` is Jest's (default 5 s).
 */
export function smallProject(
  tests: Record<string, string>,
  options: { leaseMs?: number; testTimeout?: number } = {},
): string {
  const { leaseMs, testTimeout } = options;
  return faultsProject({
    tests,
    config: {
      testEnvironmentOptions: leaseMs === undefined ? {} : { userEngineLive: { leaseMs } },
      ...(testTimeout === undefined ? {} : { testTimeout }),
    },
  });
}

/** Env that gives the e2e provider fixture a short lease (see its jest.config.js). */
export const shortLease = (leaseMs: number) => ({ E2E_LEASE_MS: String(leaseMs) });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ScenarioRunOptions {
  driver?: Driver;
  /** Extra env on top of a clean one (PG* variables, for instance). */
  env?: Record<string, string>;
  args?: string[];
  timeoutMs?: number;
}

function runEnv(db: { name: string }, dsn: string, project: string, options: ScenarioRunOptions) {
  return {
    USER_ENGINE_LIVE_DSN: dsn,
    USER_ENGINE_LIVE_RESET: db.name,
    USER_ENGINE_LIVE_REQUIRED: '1',
    USER_ENGINE_LIVE_DRIVER: options.driver ?? 'pg',
    FAULTS_BODY_LOG: bodyLog(project),
    ...options.env,
  };
}

/** A live run of `project` against database `db` through `dsn` (direct, pooler or TLS). */
export function runScenario(
  db: { name: string },
  dsn: string,
  project: string,
  options: ScenarioRunOptions = {},
): Promise<JestRun> {
  return runJest(project, {
    env: runEnv(db, dsn, project, options),
    args: options.args ?? ['--maxWorkers=2'],
    timeoutMs: options.timeoutMs ?? 170_000,
  });
}

export function startScenario(
  db: { name: string },
  dsn: string,
  project: string,
  options: ScenarioRunOptions = {},
): StartedJest {
  return startJest(project, {
    env: runEnv(db, dsn, project, options),
    args: options.args ?? ['--maxWorkers=2'],
    timeoutMs: options.timeoutMs ?? 170_000,
  });
}

/**
 * Resolves when `marker` appears (a test parked mid-run wrote it); rejects, with the run's output,
 * if the run ends first.
 */
export async function untilParked(started: StartedJest, marker: string): Promise<void> {
  let ended = false;
  const endedEarly = started.done.then((run) => {
    ended = true;
    return run;
  });
  const deadline = Date.now() + 150_000;
  while (!fs.existsSync(marker)) {
    if (ended) throw new Error(`the run ended before ${marker}\n${describeRun(await endedEarly)}`);
    if (Date.now() > deadline) throw new Error(`${marker} did not appear in 150 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `user-engine-live <args>` (built) in `project`, with the env a run of this scenario gets. */
export function runCli(
  db: { name: string },
  dsn: string,
  project: string,
  args: string[],
  options: ScenarioRunOptions = {},
): Promise<CliRun> {
  const env = cleanEnv(runEnv(db, dsn, project, options));
  return runBuilt(args, env, project, 60_000).then((run) => {
    expectNoSentinel(`${run.stdout}\n${run.stderr}`, `user-engine-live ${args.join(' ')}`);
    return run;
  });
}

/** The run passed every test it had (at least `minPassed`), and printed no password. */
export function expectPassed(run: JestRun, minPassed: number): void {
  if (run.code !== 0 || !run.json?.success) throw new Error(describeRun(run));
  expect(run.json.numFailedTests).toBe(0);
  expect(run.json.numRuntimeErrorTestSuites).toBe(0);
  expect(run.json.numPassedTests).toBeGreaterThanOrEqual(minPassed);
  expectNoSentinel(run.allOutput, 'the run output');
}

/**
 * The run was refused before any test: Jest exit code 1, `message` in its output (once, when
 * `once`), no test body ran, and no password printed.
 */
export function expectRefused(
  run: JestRun,
  project: string,
  message: RegExp,
  options: { once?: boolean } = {},
): void {
  const output = `${run.stdout}\n${run.stderr}`;
  try {
    expect(run.code).toBe(1);
    expect(output).toMatch(message);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${describeRun(run)}`);
  }
  if (options.once) {
    // Once for the whole run, not once per test file.
    expect(output.split('\n').filter((line) => message.test(line))).toHaveLength(1);
  }
  expect(run.json?.numPassedTests ?? 0).toBe(0);
  expect(bodiesRun(bodyLog(project))).toEqual([]);
  expectNoSentinel(run.allOutput, 'the run output');
}

/** Nothing of the preset in the database, and the canaries byte-identical. */
export async function expectNothingWritten(db: ScenarioDb): Promise<void> {
  expect(await db.written()).toEqual([]);
  expect(await db.canarySnapshot()).toBe(db.canaries);
}

/**
 * A refusal a provider can see coming: `doctor` exits 1 naming it, the run is then refused once
 * before any test (see expectRefused), and nothing is written.
 */
export async function expectPredictedRefusal(
  db: ScenarioDb,
  dsn: string,
  project: string,
  message: RegExp,
): Promise<void> {
  const doctor = await runCli(db, dsn, project, ['doctor']);
  expect(doctor.code).toBe(1);
  expect(doctor.stdout).toMatch(message);

  const run = await runScenario(db, dsn, project);
  expectRefused(run, project, message, { once: true });
  await expectNothingWritten(db);
}

/**
 * No run schema, ledger row or session of a run left, and the canaries byte-identical. Behind a
 * pooler, the server sessions the pooler keeps for reuse (its own sockets, `poolerPid`) are the
 * pooler's, not the run's: only sessions from anywhere else count.
 */
export async function expectCleanAfterPass(db: ScenarioDb, poolerPid?: number): Promise<void> {
  if (poolerPid === undefined) {
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
  } else {
    const [left] = await db.query<{ schemas: string[]; rows: number; backends: number }>(
      `SELECT ARRAY(SELECT nspname::text FROM pg_namespace
                     WHERE nspname ~ '${RUN_SCHEMA_SQL}') AS schemas,
              CASE WHEN to_regclass('user_engine_live.runs') IS NULL THEN 0 ELSE
                (SELECT count(*) FROM user_engine_live.runs)
                + (SELECT count(*) FROM user_engine_live.schemas) END::int AS rows,
              (SELECT count(*)::int FROM pg_stat_activity WHERE datname = $1
                  AND starts_with(application_name, 'user-engine-live')
                  AND client_port <> ALL ($2::int[])) AS backends`,
      [db.name, localTcpPorts(poolerPid)],
    );
    expect(left).toEqual({ schemas: [], rows: 0, backends: 0 });
  }
  expect(await db.canarySnapshot()).toBe(db.canaries);
}
