/** The doctor's report for humans: one line per check, the reset plan, the verdict last. */
import type { CheckStatus, DoctorReport } from './doctor-report';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', fail: 'FAIL', info: '--  ' };

const VERDICT_LINE: Record<DoctorReport['verdict'], string> = {
  live: 'verdict: live — a live run would succeed (exit 0)',
  skip: 'verdict: skip — a run would not go live; live tests would be reported as skipped (exit 1)',
  fail: 'verdict: fail — a run would fail closed before any test (exit 1)',
};

export function renderDoctor(report: DoctorReport): string {
  const lines = ['user-engine-live doctor'];
  for (const check of report.checks)
    lines.push(`  ${MARK[check.status]} ${check.name}: ${check.detail}`);
  if (report.resetPlan) {
    lines.push('  reset plan (DRY RUN: nothing was changed):');
    if (report.resetPlan.length === 0) lines.push('    nothing to drop, empty or leave alone');
    for (const entry of report.resetPlan) {
      const tables = entry.tables.length ? ` [${entry.tables.join(', ')}]` : '';
      lines.push(`    ${entry.action} ${entry.object}${tables}: ${entry.reason}`);
    }
  }
  lines.push(report.summary, VERDICT_LINE[report.verdict]);
  return lines.join('\n');
}
