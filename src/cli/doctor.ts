/**
 * `user-engine-live doctor`: says what a Jest run with this environment would do (skip, fail
 * closed, go live) and why, checking everything a live run needs without writing anything.
 */
import { decideLive, describeDecision, type LiveDecision } from '../live/config';
import { parseFlags } from './args';
import {
  JEST_DEFAULT_EXTENSIONS,
  checkEmbedded,
  checkStoreFactory,
  inspectDrivers,
} from './doctor-local';
import { renderDoctor } from './doctor-render';
import { verdictOf, type Check, type DoctorReport, type TargetInfo } from './doctor-report';
import { probeServer, type ResetPlanner, type ServerProbe } from './doctor-server';
import { EXIT_FAILED, EXIT_OK, scrubDeep, secretsOf } from './errors';
import type { CliIo } from './io';
import { readJestConfig, type JestConfigInfo } from './jest-config';

export const DOCTOR_USAGE = `Usage: user-engine-live doctor [--json] [--config <jest config>]

Says what a Jest run with the current environment would do with live tests: skip them (and why),
fail closed (naming the variable and the value it needs), or go live. When live, it connects and
checks the server version (13+), the driver, current_database() against USER_ENGINE_LIVE_RESET,
the CREATE privilege, advisory locks and the run ledger, and prints the reset plan as a DRY RUN.
It writes nothing (its queries run in a read-only transaction).

Options:
  --json             print the report as JSON (stable keys) instead of text
  --config <file>    the Jest config to read testEnvironmentOptions from (any form Jest reads:
                     jest.config.js|ts|mjs|cjs|json, a package.json); default: the one Jest finds
  --help             this text

Exit codes: 0 a live run would succeed; 1 it would not (skip or fail); 2 usage error.`;

function targetInfo(decision: LiveDecision): TargetInfo | null {
  if (decision.kind !== 'live') return null;
  const { target } = decision;
  return {
    redactedDsn: target.redactedDsn,
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user ?? null,
    resetAck: target.resetAck,
  };
}

function summaryOf(decision: LiveDecision, checks: readonly Check[]): string {
  const failed = checks.filter((check) => check.status === 'fail');
  switch (decision.kind) {
    case 'skip':
      return `skip: ${decision.reason}`;
    case 'error':
      return `fail: ${decision.error.message}`;
    default:
      if (failed.length > 0) {
        return `fail: ${failed.map((check) => `${check.name}: ${check.detail}`).join('; ')}`;
      }
      return decision.kind === 'embedded'
        ? 'live: a throwaway embedded PostgreSQL server would be started for the run'
        : `live: the run would use database ${JSON.stringify(decision.target.database)} (${decision.target.redactedDsn})`;
  }
}

function configCheck(config: JestConfigInfo): Check {
  if (config.note) return { name: 'jest-config', status: 'info', detail: config.note };
  return {
    name: 'jest-config',
    status: 'info',
    detail: config.path
      ? `${config.path} (testEnvironmentOptions ${config.testEnvironmentOptions === undefined ? 'not set' : 'read'})`
      : 'no Jest config found: testEnvironmentOptions assumed empty',
  };
}

export interface DoctorDeps {
  planner: ResetPlanner;
}

export async function buildDoctorReport(
  env: CliIo['env'],
  config: JestConfigInfo,
  deps: DoctorDeps,
  cwd: string,
): Promise<DoctorReport> {
  const decision = decideLive(env, config.testEnvironmentOptions);
  const checks: Check[] = [configCheck(config)];
  const decisionCheck: Check = {
    name: 'decision',
    status: decision.kind === 'error' ? 'fail' : decision.kind === 'skip' ? 'info' : 'ok',
    detail: describeDecision(decision),
  };
  checks.push(decisionCheck);

  const requested =
    decision.kind === 'live'
      ? decision.target.driver
      : decision.kind === 'embedded'
        ? decision.driver
        : undefined;
  const { drivers, check: driverCheck } = inspectDrivers(requested);
  let probe: ServerProbe = { checks: [], server: null, ledger: null, resetPlan: null };

  if (decision.kind === 'live' || decision.kind === 'embedded') {
    checks.push(
      driverCheck,
      checkStoreFactory(
        decision.options.storeFactory,
        config.rootDir,
        config.moduleFileExtensions ?? JEST_DEFAULT_EXTENSIONS,
      ),
    );
    if (decision.kind === 'embedded') {
      checks.push(...(await checkEmbedded(decision.createOsUser, cwd)));
    } else if (drivers.selected) {
      probe = await probeServer(
        decision.target,
        drivers.selected,
        {
          connectTimeoutMs: decision.options.connectTimeoutMs,
          // What this project's runs wait before collecting another run's expired lease.
          graceMs: decision.options.leaseMs,
        },
        deps.planner,
      );
      checks.push(...probe.checks);
    }
  }

  const verdict = verdictOf(decision.kind, checks);
  return {
    command: 'doctor',
    verdict,
    exitCode: verdict === 'live' ? EXIT_OK : EXIT_FAILED,
    summary: summaryOf(decision, checks),
    mode: decision.kind === 'live' ? 'dsn' : decision.kind === 'embedded' ? 'embedded' : null,
    decision: {
      kind: decision.kind,
      description: describeDecision(decision),
      error:
        decision.kind === 'error'
          ? {
              code: decision.error.code,
              setting: decision.error.setting,
              message: decision.error.message,
            }
          : null,
    },
    config: { path: config.path, note: config.note },
    target: targetInfo(decision),
    drivers,
    server: probe.server,
    checks,
    ledger: probe.ledger,
    resetPlan: probe.resetPlan,
  };
}

export async function runDoctor(
  argv: readonly string[],
  io: CliIo,
  deps: DoctorDeps,
): Promise<number> {
  const args = parseFlags('doctor', argv, { booleans: ['--json'], values: ['--config'] });
  const config = await readJestConfig('doctor', io.cwd, args.values.get('--config'));
  const report = await buildDoctorReport(io.env, config, deps, io.cwd);
  const safe = scrubDeep(report, secretsOf(io.env));
  io.out(args.flags.has('--json') ? JSON.stringify(safe, null, 2) : renderDoctor(safe));
  return report.exitCode;
}
