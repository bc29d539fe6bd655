/**
 * Start and end of a live run, in Jest's parent process: admin connection (one session, holding
 * the run's lock for the whole run), server checks, bootstrap, run state for the workers.
 */
import { hostname } from 'os';
import { createConnection } from '../driver/create-connection';
import { redactDsn } from '../driver/dsn';
import type { Connection, DriverName } from '../driver/port';
import { beginRun, endRun } from '../live/bootstrap';
import type { LiveDecision, LiveOptions } from '../live/config';
import { applicationName, newRunId } from '../live/isolation';
import { clearRunState, writeRunState } from '../live/run-state';
import { LivePresetError } from '../live/preset-errors';
import { setCurrentRun } from './run-handle';
import { checkServer, readServerFacts } from '../live/server-check';

/** Bounded waits for the ledger and schema locks (a run never hangs on another's lock). */
const LOCK_TIMEOUT_MS = 5000;
interface RunTarget {
  dsn: string;
  redactedDsn: string;
  database: string;
  driver: DriverName | undefined;
  /** Stops a server started for this run (embedded). */
  stop?: () => Promise<void>;
}

type StartableDecision = Extract<LiveDecision, { kind: 'live' | 'embedded' }>;

async function resolveTarget(decision: StartableDecision): Promise<RunTarget> {
  if (decision.kind === 'live') {
    const { dsn, redactedDsn, database, driver } = decision.target;
    return { dsn, redactedDsn, database, driver };
  }
  let embedded: typeof import('../live/embedded');
  try {
    embedded = await import('../live/embedded');
  } catch (error) {
    throw new LivePresetError(
      'embedded_unavailable',
      `USER_ENGINE_LIVE_DSN=embedded is not available in this build: ${String(error)}`,
      'USER_ENGINE_LIVE_DSN',
    );
  }
  const server = await embedded.startEmbeddedPostgres({ createOsUser: decision.createOsUser });
  return {
    dsn: server.dsn,
    redactedDsn: redactDsn(server.dsn),
    database: server.database,
    driver: decision.driver,
    stop: () => server.stop(),
  };
}

async function closeQuietly(connection: Connection | undefined): Promise<void> {
  await connection?.close().catch(() => undefined);
}

export async function startRun(decision: StartableDecision): Promise<void> {
  const options: LiveOptions = decision.options;
  const target = await resolveTarget(decision);
  const runId = newRunId();
  let admin: Connection | undefined;
  let ledgerSchema = '';
  try {
    admin = await createConnection(target.dsn, {
      driver: target.driver,
      max: 1,
      connectTimeoutMs: options.connectTimeoutMs,
      // Above the lock timeout, or lock waits would surface as statement timeouts.
      statementTimeoutMs:
        options.statementTimeoutMs > 0
          ? Math.max(options.statementTimeoutMs, LOCK_TIMEOUT_MS + 1000)
          : 0,
      applicationName: applicationName(runId),
    });
    const facts = await readServerFacts(admin);
    const refusal = checkServer(facts, target.database);
    if (refusal) throw refusal;
    const begun = await beginRun(admin, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS });
    ledgerSchema = begun.ledgerSchema;
    writeRunState(process.env, {
      runId,
      driver: admin.driver,
      ledgerSchema,
      serverVersion: facts.version,
      redactedDsn: target.redactedDsn,
      embeddedDsn: decision.kind === 'embedded' ? target.dsn : undefined,
    });
  } catch (error) {
    await closeQuietly(admin);
    await target.stop?.();
    throw error;
  }
  const opened = admin;
  setCurrentRun({
    runId,
    finish: async () => {
      try {
        const { dropped } = await endRun(opened, {
          runId,
          keepSchemas: options.keepSchemas,
          ledgerSchema,
          lockTimeoutMs: LOCK_TIMEOUT_MS,
        });
        if (options.keepSchemas && dropped.length === 0) {
          process.stderr.write(
            `[user-engine-live] keepSchemas: run ${runId} left its user_engine_live_${runId}_* ` +
              `schemas in ${target.redactedDsn} (host ${hostname()})\n`,
          );
        }
      } finally {
        clearRunState(process.env);
        await closeQuietly(opened);
        await target.stop?.();
      }
    },
  });
}
