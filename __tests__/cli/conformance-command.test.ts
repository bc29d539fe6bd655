/**
 * `npm run conformance` (scripts/conformance.js) end to end against a database of its own
 * (`ue_cli_conformance`): fails closed without the acknowledgement, and a live run passes with
 * two workers, prints the summary and leaves no schema behind. Skipped without
 * USER_ENGINE_LIVE_DSN; needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import {
  REPO,
  SENTINEL_PASSWORD,
  createTestDatabase,
  liveCliEnv,
  describeWithDatabase,
  requireDist,
  type CliRun,
  type Env,
  type TestDatabase,
} from './support';

const SCRIPT = path.join(REPO, 'scripts', 'conformance.js');

function runConformance(env: Env, timeoutMs: number): Promise<CliRun> {
  requireDist();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, '--ci'], {
      cwd: REPO,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm run conformance did not finish within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describeWithDatabase('npm run conformance', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('conformance', { prefix: 'ue_cli_' });
  }, 30_000);

  afterAll(async () => {
    await db?.drop();
  }, 30_000);

  test('fails closed when the DSN is not acknowledged (REQUIRED is forced: no green skip)', async () => {
    const run = await runConformance(liveCliEnv(db, { USER_ENGINE_LIVE_RESET: undefined }), 60_000);
    expect(run.code).not.toBe(0);
    const output = run.stdout + run.stderr;
    expect(output).toContain('USER_ENGINE_LIVE_RESET is not set');
    expect(output).toContain('USER_ENGINE_LIVE_RESET=ue_cli_conformance');
    expect(output).not.toMatch(/conformance: \d+ passed/);
    expect(output).not.toContain(SENTINEL_PASSWORD);
  }, 60_000);

  test('a live run passes with 2 workers, prints the summary and leaves nothing behind', async () => {
    const run = await runConformance(liveCliEnv(db), 180_000);
    const output = run.stdout + run.stderr;
    // Compared with the output's tail so that a failure shows what Jest said.
    expect({ code: run.code, tail: output.slice(-3000) }).toEqual({
      code: 0,
      tail: expect.any(String),
    });
    expect(output).not.toContain(SENTINEL_PASSWORD);
    const counts = /^conformance: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(run.stdout);
    expect(counts).not.toBeNull();
    const [passed, failed, skipped] = (counts ?? []).slice(1).map(Number);
    expect(failed).toBe(0);
    expect(passed).toBeGreaterThan(300);
    // Only the declared-capabilities file skips (savepoints, concurrent writers); the 22
    // readiness/migration specs run in both files through live.createFreshStore().
    expect(skipped).toBeGreaterThan(0);
    expect(skipped).toBeLessThan(22);
    // The run's own DSN (whatever server the suite runs on), its password shown as ***.
    const redactedDsn = db.dsn.replace(`:${SENTINEL_PASSWORD}@`, ':***@');
    expect(redactedDsn).toMatch(/:\*\*\*@.*\/ue_cli_conformance$/);
    const dsnPattern = redactedDsn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(run.stdout).toMatch(
      new RegExp(
        `^user-engine-live: PostgreSQL \\d+\\.\\d+.* \\(${dsnPattern}\\), driver (pg|postgres), 2 workers$`,
        'm',
      ),
    );
    expect(run.stdout).toMatch(/^wall time \d+\.\d s$/m);
    const leftovers = await db.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'user\\_engine\\_live\\_%'",
    );
    expect(leftovers).toEqual([]);
    expect(await db.query('SELECT * FROM user_engine_live.runs')).toEqual([]);
    expect(await db.query('SELECT * FROM user_engine_live.schemas')).toEqual([]);
    expect(
      await db.query("SELECT relname FROM pg_class WHERE relname = 'user_engine_live_ledger'"),
    ).toEqual([]);
  }, 180_000);
});
