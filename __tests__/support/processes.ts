/**
 * What the servers the topology tests start (PgBouncer, a second PostgreSQL) have in common: a
 * free loopback port, a temp dir the OS user `postgres` owns, a child process run as that user
 * (both refuse to run as root) and stopped by its own pid, never by name.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** A loopback port nobody listens on right now (the OS picks it; we close it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

export interface OsUser {
  uid: number;
  gid: number;
}

let postgresUser: OsUser | undefined;

/** The OS user `postgres` (ids looked up once), that the servers run as. */
export function postgresOsUser(): OsUser {
  postgresUser ??= {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
  return postgresUser;
}

/** Only root may start a process as another user; as any other user we run servers as ourselves. */
function runAs(): OsUser | undefined {
  return process.getuid?.() === 0 ? postgresOsUser() : undefined;
}

/** A fresh temp dir `/tmp/ue_topo_<label>-XXXX`, mode 0700, owned by the user servers run as. */
export function serverTempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ue_topo_${label}-`));
  chownToServer(dir);
  return dir;
}

/** Hands a file or dir to the user the servers run as (a no-op when we are not root). */
export function chownToServer(file: string): void {
  const user = runAs();
  if (user) fs.chownSync(file, user.uid, user.gid);
}

/** Runs a command to completion as the server user; throws with its output when it fails. */
export function runAsServerUser(command: string, args: string[]): string {
  return execFileSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...runAs(),
  });
}

export interface ServerProcess {
  readonly pid: number;
  /** Everything it printed so far (for failure messages). */
  output(): string;
  /** True once it exited. */
  exited(): boolean;
  /** Sends `signal` to this pid, waits for the exit, SIGKILL after `graceMs`. Idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test process that dies without its afterAll must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `command` in the foreground as the server user; its pid is the server's own. */
export function startServerProcess(command: string, args: string[], cwd: string): ServerProcess {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...runAs() });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let hasExited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      hasExited = true;
      running.delete(child);
      resolve();
    }),
  );
  return {
    pid,
    output: () => output,
    exited: () => hasExited,
    stop: async (signal = 'SIGTERM', graceMs = 10_000) => {
      if (hasExited) return;
      process.kill(pid, signal);
      const timer = setTimeout(() => !hasExited && process.kill(pid, 'SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (!alive()) throw new Error(`the server exited before listening on port ${port}`);
    if (Date.now() > deadline)
      throw new Error(`nothing listened on port ${port} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
