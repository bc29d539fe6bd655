/**
 * Start and end of a live run, in Jest's parent process: admin connection (a small pool), server
 * checks, preflight and bootstrap, the lease heartbeat, run state for the workers.
 */
import { hostname } from 'os';
import { redactDsn } from '../../driver/dsn';
import type { Connection, DriverName } from '../../driver/port';
import {
  describeSkipped,
  openRun,
  type KeptSchema,
  type LiveRun,
  type SkippedRun,
} from '../../live/bootstrap';
import type { Heartbeat } from '../../live/lease';
import { describeKept } from '../../live/schema-drop';
import { connectWithSessionGuards, ledgerSessionSettings } from '../../live/session-guards';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../../live/lock-wait';
import type { LiveDecision, LiveOptions } from '../../live/config';
import { applicationName, newRunId } from '../../live/isolation';
import { clearRunState, writeRunState } from '../handoff';
import { LivePresetError } from '../../live/preset-errors';
import { setCurrentRun } from './run-handle';

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
  let embedded: typeof import('../../live/embedded');
  try {
    embedded = await import('../../live/embedded');
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

/** `[user-engine-live] ...` lines on stderr: notices the run owes its user, never failures. */
function notice(line: string): void {
  process.stderr.write(`[user-engine-live] ${line}\n`);
}

function reportCleanup(kept: readonly KeptSchema[], skipped: readonly SkippedRun[]): void {
  for (const k of kept) notice(describeKept(k.schema, k.dependents));
  for (const run of skipped) notice(describeSkipped(run));
}

export async function startRun(decision: StartableDecision): Promise<void> {
  const options: LiveOptions = decision.options;
  const target = await resolveTarget(decision);
  const runId = newRunId();
  let admin: Connection | undefined;
  let run: LiveRun | undefined;
  let heartbeat: Heartbeat | undefined;
  try {
    // A small pool, not one pinned session: the run's liveness is its lease in the ledger, so a
    // killed or pooled session changes nothing; the heartbeat shares this pool.
    admin = await connectWithSessionGuards(
      target.dsn,
      {
        driver: target.driver,
        max: 2,
        connectTimeoutMs: options.connectTimeoutMs,
        // Above the lock timeout, or lock waits would surface as statement timeouts.
        statementTimeoutMs:
          options.statementTimeoutMs > 0
            ? Math.max(options.statementTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS + 1000)
            : 0,
        applicationName: applicationName(runId),
      },
      ledgerSessionSettings(DEFAULT_LOCK_TIMEOUT_MS),
    );
    // The preflight's one read also checks the server (acknowledged database, version).
    run = await openRun(admin, {
      database: target.database,
      runId,
      leaseMs: options.leaseMs,
      heartbeatMs: options.heartbeatMs,
      lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
    });
    reportCleanup(run.kept, run.skipped);
    heartbeat = run.startHeartbeat({ onLost: (lost) => notice(lost.message) });
    writeRunState(process.env, {
      runId,
      driver: admin.driver,
      serverVersion: run.server?.version ?? '',
      redactedDsn: target.redactedDsn,
      embeddedDsn: decision.kind === 'embedded' ? target.dsn : undefined,
    });
  } catch (error) {
    await heartbeat?.stop();
    await closeQuietly(admin);
    await target.stop?.();
    throw error;
  }
  const opened = admin;
  const live = run;
  const beating = heartbeat;
  setCurrentRun({
    runId,
    finish: async () => {
      try {
        await beating.stop();
        const { dropped, kept } = await live.close({ keepSchemas: options.keepSchemas });
        reportCleanup(kept, []);
        if (options.keepSchemas && dropped.length === 0) {
          notice(
            `keepSchemas: run ${runId} left its user_engine_live_${runId}_* ` +
              `schemas in ${target.redactedDsn} (host ${hostname()})`,
          );
        }
        // The run's tests may have passed while its schemas were exposed: fail it anyway.
        if (beating.lost) throw beating.lost;
      } finally {
        clearRunState(process.env);
        await closeQuietly(opened);
        await target.stop?.();
      }
    },
  });
}
