/**
 * A real PgBouncer for tests: its own config in a temp directory, a free loopback port, started
 * in the background as the OS user `postgres` (PgBouncer refuses to run as root) and stopped by
 * the pid it writes. It forwards every database to the machine's server on 127.0.0.1:5432.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

export type PoolMode = 'session' | 'transaction';

export interface PgBouncerOptions {
  mode: PoolMode;
  /** Default `extra_float_digits,options`: the usual setting, which drops the `options` packet. */
  ignoreStartupParameters?: string;
  /** Server connections per database/user pair; default 4. */
  poolSize?: number;
}

export interface RunningPgBouncer {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<db>` (db percent-encoded). */
  dsnFor(database: string): string;
  stop(): Promise<void>;
}

/** True when PgBouncer is installed: tests that need it skip otherwise. */
export const hasPgBouncer = existsSync(PGBOUNCER);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`PgBouncer did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The daemon's pid, once its pid file holds one. Never 0 or a negative number: process.kill would
 * signal this whole process group.
 */
async function readPid(pidfile: string, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(pidfile) ? readFileSync(pidfile, 'utf8').trim() : '';
    if (/^[1-9]\d*$/.test(text) && Number(text) > 1) return Number(text);
    if (Date.now() > until) throw new Error(`PgBouncer wrote no pid to ${pidfile}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids still running: killed when the test process exits, whatever happened to its hooks. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

export async function startPgBouncer(options: PgBouncerOptions): Promise<RunningPgBouncer> {
  const dir = mkdtempSync(join(tmpdir(), 'ue-drv-pgbouncer-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const pidfile = join(dir, 'pgbouncer.pid');
  const config = join(dir, 'pgbouncer.ini');
  writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(
    config,
    [
      '[databases]',
      '* = host=127.0.0.1 port=5432',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${options.mode}`,
      `ignore_startup_parameters = ${options.ignoreStartupParameters ?? 'extra_float_digits,options'}`,
      `default_pool_size = ${options.poolSize ?? 4}`,
      'max_client_conn = 200',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${pidfile}`,
      '',
    ].join('\n'),
  );
  for (const file of ['userlist.txt', 'pgbouncer.ini']) chmodSync(join(dir, file), 0o644);
  execFileSync('runuser', ['-u', 'postgres', '--', PGBOUNCER, '-d', config], { stdio: 'pipe' });
  await waitForPort(port, 5000);
  const pid = await readPid(pidfile, 5000);
  running.add(pid);
  return {
    port,
    dsnFor: (database) =>
      `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}?sslmode=disable`,
    async stop() {
      // SIGTERM is PgBouncer's immediate shutdown; clients still connected are cut.
      if (alive(pid)) process.kill(pid, 'SIGTERM');
      const until = Date.now() + 3000;
      while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      running.delete(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
