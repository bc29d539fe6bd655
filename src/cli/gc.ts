/**
 * `user-engine-live gc`: drops the schemas of crashed runs recorded in the run ledger (runs whose
 * session lock nobody holds any more) and nothing else. `--dry-run` only lists them.
 */
import { createConnection } from '../driver/create-connection';
import type { Connection } from '../driver/port';
import { checkServer, readServerFacts } from '../live/server-check';
import { decideLive, ENV, EMBEDDED_DSN, type LiveTarget } from '../live/config';
import { parseFlags } from './args';
import { connectBounded } from './connect';
import { CliError, EXIT_OK, scrubDeep, secretsOf } from './errors';
import type { CliIo } from './io';

export const GC_USAGE = `Usage: user-engine-live gc [--dry-run] [--json]

Drops the user_engine_live_* schemas of crashed runs (killed before their teardown) listed in the
run ledger of the database USER_ENGINE_LIVE_DSN names, and their ledger rows. A run counts as
crashed when nobody holds its session lock; schemas of running runs, schemas not in the ledger
and every other object are left alone. Needs the same acknowledgement as a live run:
USER_ENGINE_LIVE_RESET=<database name>.

Options:
  --dry-run   list what would be dropped; drop nothing
  --json      print the result as JSON (stable keys)
  --help      this text

Exit codes: 0 done (also when there was nothing to drop); 1 failed; 2 usage error.`;

export interface CrashedRunInfo {
  runId: string;
  host: string | null;
  pid: number | null;
  /** ISO 8601. */
  createdAt: string | null;
  schemas: string[];
}

/** What gc needs from the run bootstrap (src/live), injected to keep this testable. */
export interface CrashCollector {
  collect(admin: Connection, options: { dryRun: boolean }): Promise<CrashedRunInfo[]>;
}

export interface GcReport {
  command: 'gc';
  dryRun: boolean;
  database: string;
  redactedDsn: string;
  runs: CrashedRunInfo[];
  /** Schemas dropped (empty on a dry run). */
  dropped: string[];
}

function liveTarget(env: CliIo['env']): { target: LiveTarget; connectTimeoutMs: number } {
  const decision = decideLive(env);
  switch (decision.kind) {
    case 'live':
      return { target: decision.target, connectTimeoutMs: decision.options.connectTimeoutMs };
    case 'error':
      throw new CliError('not_live', decision.error.message);
    case 'embedded':
      throw new CliError(
        'not_live',
        `gc needs a database: ${ENV.dsn}=${EMBEDDED_DSN} servers are thrown away with their run ` +
          `(the next embedded run removes a killed run's folder)`,
      );
    case 'skip':
      throw new CliError(
        'not_live',
        `gc needs a database: ${ENV.dsn} is not set (set it to postgres://user@host:port/database ` +
          `and ${ENV.reset}=<database>)`,
      );
  }
}

async function collect(
  { target, connectTimeoutMs: timeoutMs }: ReturnType<typeof liveTarget>,
  dryRun: boolean,
  collector: CrashCollector,
): Promise<GcReport> {
  let admin: Connection;
  try {
    admin = await connectBounded(
      () =>
        createConnection(target.dsn, {
          driver: target.driver,
          connectTimeoutMs: timeoutMs,
          max: 1,
          applicationName: 'user-engine-live:gc',
        }),
      timeoutMs,
    );
  } catch (error) {
    throw new CliError('connect_failed', error instanceof Error ? error.message : String(error));
  }
  try {
    const refused = checkServer(await readServerFacts(admin), target.resetAck);
    if (refused) throw new CliError('server_rejected', refused.message);
    const runs = await collector.collect(admin, { dryRun });
    return {
      command: 'gc',
      dryRun,
      database: target.database,
      redactedDsn: target.redactedDsn,
      runs,
      dropped: dryRun ? [] : runs.flatMap((run) => run.schemas),
    };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('gc_failed', error instanceof Error ? error.message : String(error));
  } finally {
    await admin.close().catch(() => undefined);
  }
}

function renderGc(report: GcReport): string {
  const where = `database ${JSON.stringify(report.database)} (${report.redactedDsn})`;
  if (report.runs.length === 0) return `gc: no crashed runs in ${where}; nothing to drop`;
  const verb = report.dryRun ? 'would drop' : 'dropped';
  const lines = [
    `gc${report.dryRun ? ' (DRY RUN: nothing was dropped)' : ''}: ${report.runs.length} crashed run(s) in ${where}`,
  ];
  for (const run of report.runs) {
    const origin = [
      run.host && `host ${run.host}`,
      run.pid !== null && `pid ${run.pid}`,
      run.createdAt && `since ${run.createdAt}`,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `  run ${run.runId}${origin ? ` (${origin})` : ''}: ${verb} ${run.schemas.length ? run.schemas.join(', ') : 'no schemas (ledger rows only)'}`,
    );
  }
  return lines.join('\n');
}

export async function runGc(
  argv: readonly string[],
  io: CliIo,
  collector: CrashCollector,
): Promise<number> {
  const args = parseFlags('gc', argv, { booleans: ['--dry-run', '--json'], values: [] });
  const live = liveTarget(io.env);
  const report = scrubDeep(
    await collect(live, args.flags.has('--dry-run'), collector),
    secretsOf(io.env),
  );
  io.out(args.flags.has('--json') ? JSON.stringify(report, null, 2) : renderGc(report));
  return EXIT_OK;
}
