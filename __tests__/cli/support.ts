/**
 * Helpers of the CLI tests: run the CLI in-process (src) or as a child process (dist), and a
 * database of their own (`ue_cli_test`) created through the admin DSN in USER_ENGINE_LIVE_DSN.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { hostname } from 'node:os';
import * as path from 'node:path';
import {
  ADMIN_DSN,
  createTestDatabase,
  describeWithDatabase,
  type TestDatabase,
} from '../support/database';
import { SENTINEL_PASSWORD } from '../support/sentinel';
import { createConnection } from '../../src/driver/create-connection';
import type { Connection } from '../../src/driver/port';
import { ensureWorkerSchema, openRun } from '../../src/live/bootstrap';
import { newRunId } from '../../src/live/isolation';
import { captureIo } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';

// The one sentinel password (../support/sentinel), re-exported for the cli suites.
export { SENTINEL_PASSWORD };

export const REPO = path.resolve(__dirname, '..', '..');
export const DIST_MAIN = path.join(REPO, 'dist', 'cli', 'main.js');
export const BIN = path.join(REPO, 'bin', 'user-engine-live.js');

let emptyDir: string | undefined;

/**
 * An empty folder of this test file (no Jest config is discovered from it), made on first use.
 * Each test file has its own instance of this module, so its own folder, removed after the file.
 */
export function scratchDir(): string {
  emptyDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'ue-cli-'));
  return emptyDir;
}

afterAll(() => {
  if (emptyDir !== undefined) fs.rmSync(emptyDir, { recursive: true, force: true });
});

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export type Env = Record<string, string | undefined>;

export async function runInProcess(argv: string[], env: Env, cwd = scratchDir()): Promise<CliRun> {
  const io = captureIo(env, cwd);
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

/** The environment of this process without any USER_ENGINE_LIVE_* variable. */
export function cleanEnv(extra: Env = {}): Env {
  const env: Env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('USER_ENGINE_LIVE_')) env[key] = value;
  }
  return { ...env, ...extra };
}

export function requireDist(): void {
  if (!fs.existsSync(DIST_MAIN)) {
    throw new Error(`${DIST_MAIN} is missing: run \`npm run build\` before the CLI tests`);
  }
}

/** Runs the built CLI through the bin shim, as a user would. */
export function runBuilt(
  argv: string[],
  env: Env,
  cwd = scratchDir(),
  timeoutMs = 20_000,
): Promise<CliRun> {
  requireDist();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`user-engine-live ${argv.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

// ---- live database ---------------------------------------------------------------------------

export { ADMIN_DSN, createTestDatabase, describeWithDatabase, type TestDatabase };

/** The env of a live CLI run against `db`; an `undefined` in `extra` unsets that variable. */
export function liveCliEnv(db: TestDatabase, extra: Env = {}): Env {
  return cleanEnv({ ...db.liveEnv(), ...extra });
}

/** Every schema and relation of the database, to prove nothing was created or dropped. */
export async function catalogSnapshot(
  db: TestDatabase,
): Promise<{ namespaces: number; classes: number; names: string }> {
  const [row] = await db.query<{ namespaces: string; classes: string; names: string }>(
    `SELECT (SELECT count(*) FROM pg_namespace) AS namespaces,
            (SELECT count(*) FROM pg_class) AS classes,
            (SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY n.nspname, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')) AS names`,
  );
  return {
    namespaces: Number(row.namespaces),
    classes: Number(row.classes),
    names: row.names ?? '',
  };
}

// ---- runs, as the preset would leave them --------------------------------------------------

export interface StartedRun {
  runId: string;
  schemas: string[];
  /** The run's admin connection (its lease is long enough for any test here). */
  admin: Connection;
}

/** Begins a run on its own connection and creates `workers` worker schemas. */
export async function startRun(dsn: string, workers: number): Promise<StartedRun> {
  const runId = newRunId();
  const admin = await createConnection(dsn, { max: 1 });
  await openRun(admin, { runId, leaseMs: 600_000 });
  const schemas: string[] = [];
  for (let worker = 1; worker <= workers; worker++) {
    const schema = await ensureWorkerSchema(admin, {
      runId,
      workerId: worker,
      host: hostname(),
      pid: process.pid,
    });
    await admin.query(`CREATE TABLE "${schema}".user_engine_users (id int)`);
    schemas.push(schema);
  }
  return { runId, schemas, admin };
}

/**
 * A run killed an hour ago, before its teardown: no close, and its lease (which nothing renews
 * any more) expired long before any grace period ends.
 */
export async function crashedRun(dsn: string, workers: number): Promise<StartedRun> {
  const run = await startRun(dsn, workers);
  await run.admin.query(
    `UPDATE user_engine_live.runs SET lease_expires_at = now() - interval '1 hour' WHERE run_id = $1`,
    [run.runId],
  );
  await run.admin.close();
  return run;
}

export async function schemaExists(db: TestDatabase, schema: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length === 1;
}
