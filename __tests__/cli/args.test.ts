/** Command line handling: help, usage errors (exit 2), one-line errors, redaction helpers. */
import { parseFlags } from '../../src/cli/args';
import { UsageError, scrub, secretsOf } from '../../src/cli/errors';
import { SENTINEL_PASSWORD, cleanEnv, runInProcess } from './support';

describe('parseFlags', () => {
  const spec = { booleans: ['--json'], values: ['--config'] };

  test('reads booleans and values in both spellings', () => {
    expect(parseFlags('doctor', ['--json', '--config', 'a.js'], spec)).toEqual({
      flags: new Set(['--json']),
      values: new Map([['--config', 'a.js']]),
    });
    expect(parseFlags('doctor', ['--config=b.js'], spec).values.get('--config')).toBe('b.js');
  });

  test.each([
    [['--jsn'], /unknown option "--jsn"/],
    [['extra'], /unexpected argument "extra"/],
    [['--config'], /--config needs a value/],
    [['--config', '--json'], /--config needs a value/],
    [['--json=1'], /--json takes no value/],
    [['--config', 'a', '--config', 'b'], /given more than once/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseFlags('doctor', argv, spec)).toThrow(UsageError);
    expect(() => parseFlags('doctor', argv, spec)).toThrow(message);
  });
});

describe('runCli', () => {
  test('no command: usage on stderr, exit 2', async () => {
    const run = await runInProcess([], cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Usage: user-engine-live <command>/);
  });

  test.each([['--help'], ['doctor', '--help'], ['gc', '--help'], ['doctor', '--json', '-h']])(
    '%j prints help on stdout, exit 0',
    async (...argv) => {
      const run = await runInProcess(argv, cleanEnv());
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: user-engine-live/);
      expect(run.stdout).toMatch(/Exit codes|Commands/);
    },
  );

  test.each([
    [['doctor', '--bogus'], 'user-engine-live doctor: unknown option "--bogus"'],
    [['gc', '--json', '--force'], 'user-engine-live gc: unknown option "--force"'],
    [['frobnicate'], 'user-engine-live: unknown command "frobnicate"'],
    [['doctor', '--config', '/nonexistent/jest.config.js'], 'user-engine-live doctor: --config'],
  ])('%j: one line on stderr, exit 2', async (argv, start) => {
    const run = await runInProcess(argv, cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.startsWith(start)).toBe(true);
    expect(run.stderr).toContain('--help)');
    expect(run.stderr.split('\n')).toHaveLength(1);
  });

  test.each([
    [{}, /USER_ENGINE_LIVE_DSN is not set/],
    [{ USER_ENGINE_LIVE_DSN: 'embedded' }, /embedded/],
    [
      { USER_ENGINE_LIVE_DSN: `postgres://u:${SENTINEL_PASSWORD}@127.0.0.1/db` },
      /USER_ENGINE_LIVE_RESET is not set/,
    ],
    [
      { USER_ENGINE_LIVE_DSN: `mysql://u:${SENTINEL_PASSWORD}@h/db`, USER_ENGINE_LIVE_RESET: 'db' },
      /mysql/,
    ],
  ])('gc without a live decision (%j): one redacted line, exit 1', async (env, message) => {
    const run = await runInProcess(['gc'], cleanEnv(env));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^user-engine-live gc: /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(run.stderr).not.toContain(SENTINEL_PASSWORD);
  });

  test('gc against an unreachable server: one line naming the target, no password', async () => {
    const run = await runInProcess(
      ['gc', '--dry-run'],
      cleanEnv({
        USER_ENGINE_LIVE_DSN: `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:1/ue_cli_test`,
        USER_ENGINE_LIVE_RESET: 'ue_cli_test',
      }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^user-engine-live gc: .*127\.0\.0\.1:1/);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(run.stderr).not.toContain(SENTINEL_PASSWORD);
  });
});

describe('redaction helpers', () => {
  test.each([
    [`postgres://u:${SENTINEL_PASSWORD}@h/db`, SENTINEL_PASSWORD],
    [`postgres://u:${encodeURIComponent(`${SENTINEL_PASSWORD}@/`)}@h/db`, `${SENTINEL_PASSWORD}@/`],
    [`postgres://u@h/db?password=${SENTINEL_PASSWORD}`, SENTINEL_PASSWORD],
    [`postgres://u@h/db?sslpassword=${SENTINEL_PASSWORD}&x=1`, SENTINEL_PASSWORD],
    [`not a url u:${SENTINEL_PASSWORD}@h`, SENTINEL_PASSWORD],
  ])('secretsOf(%s) covers the password in every form', (dsn, password) => {
    const secrets = secretsOf({ USER_ENGINE_LIVE_DSN: dsn });
    const text = `failed: ${dsn} / ${password} / ${encodeURIComponent(password)}`;
    expect(scrub(text, secrets)).not.toContain(SENTINEL_PASSWORD);
  });

  test('a DSN without password leaves the output readable', () => {
    const dsn = 'postgres://postgres@127.0.0.1:5432/test';
    expect(scrub(`using ${dsn}`, secretsOf({ USER_ENGINE_LIVE_DSN: dsn }))).toBe(`using ${dsn}`);
  });
});
