/**
 * `user-engine-live gc`: drops the schemas of crashed runs recorded in the run ledger (runs whose
 * lease expired long enough ago) and nothing else: never a schema that objects outside it depend
 * on, never another role's schemas, never anything of a ledger that is not ours. `--dry-run`
 * only lists them.
 */
import type { Connection } from '../driver/port';
import { checkServer, readServerFacts } from '../live/server-check';
import { decideLive, ENV, EMBEDDED_DSN, type LiveTarget } from '../live/config';
import { connectWithSessionGuards, ledgerSessionSettings } from '../live/session-guards';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../live/lock-wait';
import { parseFlags } from './args';
import { connectBounded } from './connect';
import { CliError, EXIT_OK, UsageError, scrubDeep, secretsOf } from './errors';
import type { CliIo } from './io';

export const GC_USAGE = `Usage: user-engine-live gc [--dry-run] [--json] [--grace-ms <ms>]

Drops the user_engine_live_* schemas of crashed runs (killed before their teardown) listed in the
run ledger (schema user_engine_live) of the database USER_ENGINE_LIVE_DSN names, and their ledger
rows. A run counts as crashed when its lease has been expired for at least the grace period.
Schemas of running runs, schemas not in the ledger and every other object are left alone; a
schema that objects outside it depend on (a view, a foreign key, a column of its row type) is
kept and named; crashed runs of other roles are skipped with a notice. A schema named
user_engine_live that is not a ledger of this package is refused: nothing is deleted. Needs the
same acknowledgement as a live run: USER_ENGINE_LIVE_RESET=<database name>.

Options:
  --dry-run         list what would be dropped; drop nothing
  --grace-ms <ms>   how long a lease must have been expired (default 30000)
  --json            print the result as JSON (stable keys)
  --help            this text

Exit codes: 0 done (also when there was nothing to drop, or something was kept or skipped);
1 failed (e.g. a foreign ledger); 2 usage error.`;

export interface CrashedRunInfo {
  runId: string;
  /** The role that ran it. */
  owner: string;
  host: string | null;
  pid: number | null;
  /** ISO 8601. */
  createdAt: string | null;
  /** Schemas dropped (or that would be). */
  schemas: string[];
  /** Schemas kept because objects outside them depend on them. */
  kept: { schema: string; dependents: string[] }[];
}

/** A crashed run of another role, left alone. */
export interface SkippedRunInfo {
  runId: string;
  owner: string;
  schemas: { schema: string; owner: string }[];
}

/** What gc needs from the run bootstrap (src/live), injected to keep this testable. */
export interface CrashCollector {
  collect(
    admin: Connection,
    options: { dryRun: boolean; graceMs: number },
  ): Promise<{ runs: CrashedRunInfo[]; skipped: SkippedRunInfo[] }>;
}

export interface GcReport {
  command: 'gc';
  dryRun: boolean;
  database: string;
  redactedDsn: string;
  runs: CrashedRunInfo[];
  /** Schemas dropped (empty on a dry run). */
  dropped: string[];
  /** Crashed runs of other roles, left alone. */
  skipped: SkippedRunInfo[];
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
  { dryRun, graceMs }: { dryRun: boolean; graceMs: number },
  collector: CrashCollector,
): Promise<GcReport> {
  let admin: Connection;
  try {
    admin = await connectBounded(
      () =>
        connectWithSessionGuards(
          target.dsn,
          {
            driver: target.driver,
            connectTimeoutMs: timeoutMs,
            max: 1,
            applicationName: 'user-engine-live:gc',
          },
          ledgerSessionSettings(DEFAULT_LOCK_TIMEOUT_MS),
        ),
      timeoutMs,
    );
  } catch (error) {
    throw new CliError('connect_failed', error instanceof Error ? error.message : String(error));
  }
  try {
    const refused = checkServer(await readServerFacts(admin), target.resetAck);
    if (refused) throw new CliError('server_rejected', refused.message);
    const { runs, skipped } = await collector.collect(admin, { dryRun, graceMs });
    return {
      command: 'gc',
      dryRun,
      database: target.database,
      redactedDsn: target.redactedDsn,
      runs,
      dropped: dryRun ? [] : runs.flatMap((run) => run.schemas),
      skipped,
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
  const skippedLines = report.skipped.map(
    (run) =>
      `  skipped run ${run.runId} of role "${run.owner}": ${run.schemas.map((s) => `${s.schema} (owner "${s.owner}")`).join(', ') || 'no schemas'}; run gc as "${run.owner}" to drop them`,
  );
  if (report.runs.length === 0) {
    return [`gc: no crashed runs of this role in ${where}; nothing to drop`, ...skippedLines].join(
      '\n',
    );
  }
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
    for (const kept of run.kept) {
      lines.push(
        `  kept ${kept.schema}: objects outside it depend on it (${kept.dependents.join('; ')}); remove them, then run gc again`,
      );
    }
  }
  return [...lines, ...skippedLines].join('\n');
}

/** `--grace-ms`: a non-negative integer of milliseconds; default 30000 (the default lease). */
function graceOf(value: string | undefined): number {
  if (value === undefined) return 30_000;
  if (!/^(0|[1-9][0-9]{0,8})$/.test(value)) {
    throw new UsageError(
      'gc',
      `--grace-ms must be a whole number of milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

export async function runGc(
  argv: readonly string[],
  io: CliIo,
  collector: CrashCollector,
): Promise<number> {
  const args = parseFlags('gc', argv, {
    booleans: ['--dry-run', '--json'],
    values: ['--grace-ms'],
  });
  const graceMs = graceOf(args.values.get('--grace-ms'));
  const live = liveTarget(io.env);
  const report = scrubDeep(
    await collect(live, { dryRun: args.flags.has('--dry-run'), graceMs }, collector),
    secretsOf(io.env),
  );
  io.out(args.flags.has('--json') ? JSON.stringify(report, null, 2) : renderGc(report));
  return EXIT_OK;
}
