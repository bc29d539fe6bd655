/**
 * The CLI's bridge to the run bootstrap in src/live: the reset planner for `doctor` and the crash
 * collector for `gc`, adapted to the flat shapes the commands report.
 */
import { collectCrashedRuns, planReset, type ResetPlan } from '../live/bootstrap';
import { LEDGER_TABLE } from '../live/ledger';
import type { PlanEntryJson } from './doctor-report';
import type { ResetPlanner } from './doctor-server';
import type { CrashCollector } from './gc';

export interface CliDeps {
  planner: ResetPlanner;
  collector: CrashCollector;
}

/** Drops first, then empties, then what is left alone: the order a reader scans for risk. */
export function flattenPlan(plan: ResetPlan): PlanEntryJson[] {
  const missing = (exists: boolean) =>
    exists ? '' : ' (already gone; only its ledger row remains)';
  return [
    ...plan.drop.map((entry) => ({
      action: 'drop-schema' as const,
      object: entry.schema,
      reason: `${entry.reason}${missing(entry.exists)}`,
      tables: entry.tables,
    })),
    ...plan.empty.map((entry) => ({
      action: 'empty-tables' as const,
      object: entry.schema,
      reason: `${entry.reason}${missing(entry.exists)}`,
      tables: entry.tables,
    })),
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
    ledgerTable: LEDGER_TABLE,
    plan: async (scope) => flattenPlan(await planReset(scope)),
  },
  collector: {
    collect: async (admin, { dryRun }) => {
      const { runs } = await collectCrashedRuns(admin, { dryRun });
      return runs.map((run) => ({
        runId: run.runId,
        host: run.host,
        pid: run.pid,
        createdAt: run.createdAt.toISOString(),
        schemas: run.schemas,
      }));
    },
  },
};
