/**
 * A PgBouncer 1.18 of the test's own: config written to a temporary directory, started on a free
 * loopback port as the `postgres` OS user (PgBouncer refuses to run as root), stopped by its pid.
 * Transaction mode with `ignore_startup_parameters = extra_float_digits,options`, the usual
 * managed-pooler setting: the `search_path` a client asks for at startup is dropped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer';

export interface RunningPgBouncer {
  /** `dsn` with host and port replaced by the bouncer's. */
  dsnThrough(dsn: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`pgbouncer exited with ${child.exitCode}: ${readLog(log)}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`pgbouncer did not listen on ${port}: ${readLog(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readLog(log: string): string {
  return existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no log)';
}

function osUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Starts a transaction-mode PgBouncer in front of the server `upstream` points at. */
export async function startTransactionPgBouncer(upstream: string): Promise<RunningPgBouncer> {
  const target = new URL(upstream);
  const dir = mkdtempSync(path.join(tmpdir(), 'ue_store_pgbouncer_'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const log = path.join(dir, 'pgbouncer.log');
  const user = decodeURIComponent(target.username || 'postgres');
  // Clients are trusted; the password (if the upstream has one, as the embedded server of
  // `npm test` does) is what PgBouncer logs in to the server with.
  const password = decodeURIComponent(target.password).replace(/"/g, '""');
  writeFileSync(path.join(dir, 'userlist.txt'), `"${user}" "${password}"\n`);
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      "unix_socket_dir = ''",
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'ignore_startup_parameters = extra_float_digits,options',
      'default_pool_size = 10',
      'max_client_conn = 200',
      `logfile = ${log}`,
      '',
    ].join('\n'),
  );
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const child = spawn(PGBOUNCER_BIN, [path.join(dir, 'pgbouncer.ini')], {
    stdio: 'ignore',
    ...(asRoot ? osUser('postgres') : {}),
  });
  try {
    await waitForPort(port, child, log);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dsnThrough(dsn) {
      const url = new URL(dsn);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGINT'); // immediate shutdown, by pid
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
