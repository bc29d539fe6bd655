/**
 * The CLI's bridge to the run bootstrap in src/live: the preflight and reset planner for `doctor`
 * and the crash collector for `gc`, adapted to the flat shapes the commands report.
 */
import { collectCrashedRuns, planReset, type ResetPlan } from '../live/bootstrap';
import { describeForeignLedger, inspectLedger } from '../live/ledger-identity';
import { LEDGER_SCHEMA } from '../live/ledger';
import { runPreflight } from '../live/preflight';
import { PreflightError } from '../live/errors';
import type { LedgerInfo, PlanEntryJson } from './doctor-report';
import type { ResetPlanner } from './doctor-server';
import type { CrashCollector } from './gc';

export interface CliDeps {
  planner: ResetPlanner;
  collector: CrashCollector;
}

/** Drops first, then empties, kept and skipped, then what is left alone: risk order. */
export function flattenPlan(plan: ResetPlan): PlanEntryJson[] {
  const missing = (exists: boolean) =>
    exists ? '' : ' (already gone; only its ledger row remains)';
  const entries = (action: PlanEntryJson['action'], list: ResetPlan['drop']): PlanEntryJson[] =>
    list.map((entry) => ({
      action,
      object: entry.schema,
      reason: `${entry.reason}${missing(entry.exists)}`,
      tables: entry.tables,
    }));
  return [
    ...entries('drop-schema', plan.drop),
    ...entries('empty-tables', plan.empty),
    ...entries('keep-schema', plan.kept),
    ...entries('skip-schema', plan.skipped),
    ...plan.leftAlone.map((entry) => ({
      action: 'leave-alone' as const,
      object: entry.name,
      reason: entry.reason,
      tables: [],
    })),
  ];
}

export const liveDeps: CliDeps = {
  planner: {
    preflight: async (scope) => {
      const report = await runPreflight(scope);
      const ledger: LedgerInfo = {
        schema: LEDGER_SCHEMA,
        state: report.ledger.kind,
        owner: report.ledger.kind === 'absent' ? null : report.ledger.owner,
      };
      return { checks: report.checks, ledger };
    },
    plan: async (scope, { graceMs }) => flattenPlan(await planReset(scope, { graceMs })),
  },
  collector: {
    collect: async (admin, { dryRun, graceMs }) => {
      // gc never writes to, nor deletes from, a ledger that is not ours.
      const ledger = await inspectLedger(admin);
      if (ledger.kind === 'foreign') {
        throw new PreflightError('foreign_ledger', describeForeignLedger(ledger));
      }
      if (ledger.kind === 'absent') return { runs: [], skipped: [] };
      const { runs, skipped } = await collectCrashedRuns(admin, { dryRun, graceMs });
      return {
        runs: runs.map((run) => ({
          runId: run.runId,
          owner: run.owner,
          host: run.host,
          pid: run.pid,
          createdAt: run.createdAt.toISOString(),
          schemas: run.schemas,
          kept: run.kept,
        })),
        skipped,
      };
    },
  },
};
