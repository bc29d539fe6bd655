/**
 * The live side of one test file, inside a Jest worker process (outside the sandbox). Loaded only
 * in live runs. Module state is per worker process: which schemas this worker already created and
 * migrated, so that only the first file of a worker pays for CREATE SCHEMA and the migrations.
 */
import { hostname } from 'os';
import type { Circus } from '@jest/types';
import type { Connection, DriverName } from '../../driver/port';
import { joinRun } from '../../live/bootstrap';
import type { LiveOptions } from '../../live/config';
import { createStatementRecorder, formatDiagnostics } from '../../live/diagnostics';
import { applicationName, quoteIdent, workerSchemaName } from '../../live/isolation';
import { resetWorkerSchema } from '../../live/reset';
import { describeKept } from '../../live/schema-drop';
import { connectWithSessionGuards, WORKER_SESSION_SETTINGS } from '../../live/session-guards';
import { readRunState, type FreshSchema, type LiveRunState, type WorkerBridge } from '../handoff';
import { MANAGED_TABLES, type RecordCounts, type UserEngineStore } from '../../store/contract';
import { MIGRATIONS } from '../../store/migrations';
import { LivePresetError } from '../../live/preset-errors';
import { bridgeConnection } from './realm';
import { resolveStoreFactory } from '../../live/store-factory-path';
import { acquireConnection, forwardStatement, releaseConnection, routeStatements } from './pool';

/** A few sessions: enough for the concurrency specs, few enough for many workers. */
const POOL_MAX = 3;

export interface FileSessionInput {
  /** The DSN the workers connect with (USER_ENGINE_LIVE_DSN, or the embedded server's). */
  dsn: string | undefined;
  driver: DriverName | undefined;
  /** Stripped from diagnostics on top of the DSN redaction. */
  password: string | undefined;
  options: LiveOptions;
  rootDir: string;
  moduleFileExtensions: readonly string[];
}

export interface FileSession {
  readonly bridge: WorkerBridge;
  handleTestEvent(event: Circus.Event): Promise<void>;
  close(): Promise<void>;
}

/** A fresh store runs one operation at a time; two sessions spare it a wait on its own pool. */
const FRESH_POOL_MAX = 2;

/** Schemas this worker process created (ledger row + CREATE SCHEMA) and migrated. */
const ensuredSchemas = new Set<string>();
const migratedSchemas = new Set<string>();
/** The next fresh schema number this worker process tries, per run (watch mode starts new runs). */
const nextFresh = new Map<string, number>();

function requireRunState(): LiveRunState {
  const state = readRunState(process.env);
  if (!state) {
    throw new LivePresetError(
      'run_state_missing',
      'live tests are on but the run was not started: the globalSetup of @user-engine/jest-live ' +
        'did not run (use preset "@user-engine/jest-live", or keep its globalSetup and ' +
        'globalTeardown when you set your own)',
    );
  }
  return state;
}

async function countRows(connection: Connection, schema: string): Promise<RecordCounts | string> {
  const selects = MANAGED_TABLES.map(
    (table) =>
      `(SELECT count(*) FROM ${quoteIdent(schema)}.${quoteIdent(table)}) AS ${quoteIdent(table)}`,
  );
  try {
    const { rows } = await connection.query<Record<string, string>>(`SELECT ${selects.join(', ')}`);
    const counts = {} as RecordCounts;
    for (const table of MANAGED_TABLES) counts[table] = Number(rows[0][table]);
    return counts;
  } catch (error) {
    return `unavailable (${error instanceof Error ? error.message : String(error)})`;
  }
}

function testPath(test: Circus.TestEntry): string {
  const names = [test.name];
  for (let block = test.parent; block && block.parent; block = block.parent) {
    names.unshift(block.name);
  }
  return names.join(' › ');
}

export async function openFileSession(input: FileSessionInput): Promise<FileSession> {
  const state = requireRunState();
  const dsn = state.embeddedDsn ?? input.dsn;
  if (!dsn) throw new LivePresetError('run_state_missing', 'no DSN for the live run');
  const workerId = process.env.JEST_WORKER_ID ?? '1';
  const schema = workerSchemaName(state.runId, workerId);
  const storeFactory = resolveStoreFactory(
    input.options.storeFactory,
    input.rootDir,
    input.moduleFileExtensions,
  );

  const driver = input.driver ?? state.driver;
  const poolKey = JSON.stringify([state.runId, schema, driver, dsn]);
  const connection = await acquireConnection(poolKey, () =>
    connectWithSessionGuards(
      dsn,
      {
        driver,
        schema,
        max: POOL_MAX,
        connectTimeoutMs: input.options.connectTimeoutMs,
        statementTimeoutMs: input.options.statementTimeoutMs,
        applicationName: applicationName(state.runId),
        onQuery: forwardStatement,
      },
      WORKER_SESSION_SETTINGS,
    ),
  );
  const run = joinRun(connection, { runId: state.runId });
  const recorder = createStatementRecorder();
  routeStatements(recorder.onQuery);
  try {
    if (!ensuredSchemas.has(schema)) {
      await run.createWorkerSchema({ workerId, host: hostname(), pid: process.pid });
      ensuredSchemas.add(schema);
    }
  } catch (error) {
    routeStatements(undefined);
    releaseConnection(poolKey);
    throw error;
  }

  /** Closers of the fresh pools this file opened and has not disposed of. */
  const freshPools = new Set<() => Promise<void>>();

  const openFreshSchema = async (): Promise<FreshSchema> => {
    const { schema: fresh, n } = await run.createFreshSchema({
      workerId,
      host: hostname(),
      pid: process.pid,
      from: nextFresh.get(state.runId) ?? 1,
    });
    nextFresh.set(state.runId, n + 1);
    const drop = async (): Promise<void> => {
      const { dependents } = await run.dropFreshSchema({ schema: fresh });
      // Kept with its ledger row, so `gc` and `doctor` name it too; the test itself is not failed.
      if (dependents.length > 0)
        process.stderr.write(`[user-engine-live] ${describeKept(fresh, dependents)}\n`);
    };
    let pool: Connection;
    try {
      pool = await connectWithSessionGuards(
        dsn,
        {
          driver,
          schema: fresh,
          max: FRESH_POOL_MAX,
          connectTimeoutMs: input.options.connectTimeoutMs,
          statementTimeoutMs: input.options.statementTimeoutMs,
          applicationName: applicationName(state.runId),
          onQuery: forwardStatement,
        },
        WORKER_SESSION_SETTINGS,
      );
    } catch (error) {
      await drop().catch(() => undefined);
      throw error;
    }
    let closing: Promise<void> | undefined;
    const closePool = (): Promise<void> => (closing ??= pool.close());
    freshPools.add(closePool);
    let disposing: Promise<void> | undefined;
    return {
      connection: bridgeConnection(pool, 'worker'),
      schema: fresh,
      dispose: () =>
        (disposing ??= (async () => {
          freshPools.delete(closePool);
          await closePool();
          await drop();
        })()),
    };
  };

  const bridge: WorkerBridge = {
    connection: bridgeConnection(connection, 'worker'),
    schema,
    runId: state.runId,
    workerId,
    serverVersion: state.serverVersion,
    redactedDsn: state.redactedDsn,
    storeFactory,
    async prepare(store: UserEngineStore) {
      if (!migratedSchemas.has(schema)) {
        const { applied } = await store.migrate();
        migratedSchemas.add(schema);
        // Every table was created just now: nothing to empty, the file's first reset is not needed.
        if (applied.length === MIGRATIONS.length) return;
      }
      await resetWorkerSchema(connection, schema);
    },
    openFreshSchema,
    reset: () => resetWorkerSchema(connection, schema),
  };

  const reported = new Set<Circus.TestEntry>();
  return {
    bridge,
    async handleTestEvent(event) {
      if (event.name === 'test_start') {
        recorder.start();
      } else if (event.name === 'test_done') {
        const statements = recorder.stop();
        if (event.test.errors.length === 0 || reported.has(event.test)) return;
        reported.add(event.test);
        const counts = await countRows(connection, schema);
        process.stderr.write(
          `${formatDiagnostics({
            testName: testPath(event.test),
            redactedDsn: state.redactedDsn,
            serverVersion: state.serverVersion,
            schema,
            counts,
            statements,
            omittedStatements: recorder.omitted,
            secrets: [input.password],
          })}\n`,
        );
      }
    },
    async close() {
      recorder.stop();
      routeStatements(undefined);
      // Fresh schemas not disposed of stay until the run's end drops them; their pools must not
      // outlive the file (they would keep the worker alive).
      const pools = [...freshPools];
      freshPools.clear();
      await Promise.allSettled(pools.map((closePool) => closePool()));
      releaseConnection(poolKey);
    },
  };
}
