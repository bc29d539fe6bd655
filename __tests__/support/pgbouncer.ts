/**
 * A PgBouncer of the test's own in front of the machine's PostgreSQL: ini and userlist written to
 * a temp dir, a random loopback port, no Unix socket, run as OS user `postgres` (PgBouncer refuses
 * root) and stopped by its pid. `bash .ci/ensure-pgbouncer` installs it where it is missing.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  chownToServer,
  freePort,
  serverTempDir,
  startServerProcess,
  waitForPort,
} from './processes';
import { SENTINEL_PASSWORD } from './sentinel';

export type PoolMode = 'session' | 'transaction';

export interface PgBouncerOptions {
  mode: PoolMode;
  /**
   * PgBouncer's `ignore_startup_parameters`. Transaction-mode deployments usually set
   * `extra_float_digits,options`, which silently drops `options` (and its `search_path`).
   * Default: none, so `options` in a startup packet is refused as PgBouncer ships.
   */
  ignoreStartupParameters?: string;
  /** `trust` (default: no password asked) or `md5` (the userlist's passwords are checked). */
  authType?: 'trust' | 'md5';
  /** Users PgBouncer knows, name → password. Default: `postgres` with the sentinel password. */
  users?: Record<string, string>;
  upstreamHost?: string;
  /** The PostgreSQL behind it. Default 5432. */
  upstreamPort?: number;
  /** Server connections per database/user pair. Default 20. */
  poolSize?: number;
}

export interface PgBouncer {
  readonly port: number;
  readonly mode: PoolMode;
  readonly pid: number;
  /** `postgres://user:password@127.0.0.1:<port>/<db>`, the password from the userlist. */
  dsnFor(db: string, user?: string): string;
  /** Adds (or changes) a user in the userlist and reloads PgBouncer (SIGHUP). */
  addUser(name: string, password: string): Promise<void>;
  /** PgBouncer's log so far, for failure messages. */
  log(): string;
  /** Stops it by pid and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** The PgBouncer binary, or undefined when it is not installed. */
export function pgBouncerBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  try {
    return (
      execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;

function writeUserlist(file: string, users: Record<string, string>): void {
  const lines = Object.entries(users).map(
    ([name, password]) => `${quote(name)} ${quote(password)}`,
  );
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  chownToServer(file);
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const binary = pgBouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed: run `bash .ci/ensure-pgbouncer`');
  const users = { ...(options.users ?? { postgres: SENTINEL_PASSWORD }) };
  const dir = serverTempDir(`pgbouncer-${options.mode}`);
  const ini = path.join(dir, 'pgbouncer.ini');
  const userlist = path.join(dir, 'userlist.txt');
  const logFile = path.join(dir, 'pgbouncer.log');
  writeUserlist(userlist, users);

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    fs.writeFileSync(
      ini,
      [
        '[databases]',
        `* = host=${options.upstreamHost ?? '127.0.0.1'} port=${options.upstreamPort ?? 5432}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        `auth_type = ${options.authType ?? 'trust'}`,
        `auth_file = ${userlist}`,
        `pool_mode = ${options.mode}`,
        `ignore_startup_parameters = ${options.ignoreStartupParameters ?? ''}`,
        `default_pool_size = ${options.poolSize ?? 20}`,
        'max_client_conn = 500',
        `logfile = ${logFile}`,
        'log_connections = 0',
        'log_disconnections = 0',
        '',
      ].join('\n'),
    );
    chownToServer(ini);
    const server = startServerProcess(binary, [ini], dir);
    const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
    try {
      await waitForPort(port, 10_000, () => !server.exited());
    } catch (error) {
      await server.stop('SIGKILL');
      // Someone took the port between freePort() and the bind: try another one.
      if (attempt < 3 && /Address already in use/.test(readLog())) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}\n${readLog()}${server.output()}`);
    }
    let stopped = false;
    return {
      port,
      mode: options.mode,
      pid: server.pid,
      dsnFor: (db, user = 'postgres') => {
        const password = users[user];
        if (password === undefined)
          throw new Error(`pgbouncer: user ${user} is not in its userlist`);
        const auth = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
        return `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
      },
      addUser: async (name, password) => {
        users[name] = password;
        writeUserlist(userlist, users);
        // PgBouncer logs the signal, then re-reads config and userlist in the same loop turn.
        const reloads = () => (readLog().match(/got SIGHUP, re-reading config/g) ?? []).length;
        const before = reloads();
        process.kill(server.pid, 'SIGHUP');
        for (let waited = 0; reloads() === before; waited += 25) {
          if (waited > 5000) throw new Error(`pgbouncer did not reload:\n${readLog()}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
      log: readLog,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        // SIGTERM is PgBouncer's immediate shutdown (SIGINT would wait for clients).
        await server.stop('SIGTERM');
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
