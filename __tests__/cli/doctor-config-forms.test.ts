/**
 * `doctor` reads the Jest config the way Jest does (through `jest-config`'s readInitialOptions):
 * every file form Jest accepts, the `jest` key of package.json, ESM projects, a config exporting a
 * function, and Jest's own refusal of two configs in one folder. Each form carries an invalid
 * option, so the report's decision proves the options were read. The built CLI runs as a child
 * process (loading .mjs/.ts configs needs Node's real `import()`, which a Jest sandbox lacks).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DoctorReport } from '../../src/cli/doctor-report';
import { cleanEnv, runBuilt, scratchDir, SENTINEL_PASSWORD } from './support';

jest.setTimeout(60_000);

const OPTIONS = '{ testEnvironmentOptions: { userEngineLive: { connectTimeoutMs: 5 } } }';
const ENV = cleanEnv({
  USER_ENGINE_LIVE_DSN: `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:5432/ue_ergo_doctor`,
  USER_ENGINE_LIVE_RESET: 'ue_ergo_doctor',
});

interface Form {
  name: string;
  files: Record<string, string>;
  /** The file the report must name. */
  read: string;
}

const FORMS: Form[] = [
  {
    name: 'jest.config.js',
    files: { 'jest.config.js': `module.exports = ${OPTIONS};` },
    read: 'jest.config.js',
  },
  {
    name: 'jest.config.cjs',
    files: { 'jest.config.cjs': `module.exports = ${OPTIONS};` },
    read: 'jest.config.cjs',
  },
  {
    name: 'jest.config.mjs',
    files: { 'jest.config.mjs': `export default ${OPTIONS};` },
    read: 'jest.config.mjs',
  },
  {
    name: 'jest.config.ts (ts-node)',
    files: {
      'jest.config.ts':
        `interface Config { testEnvironmentOptions: Record<string, unknown> }\n` +
        `const config: Config = ${OPTIONS};\nexport default config;\n`,
    },
    read: 'jest.config.ts',
  },
  {
    name: 'jest.config.json',
    files: {
      'jest.config.json': JSON.stringify({
        testEnvironmentOptions: { userEngineLive: { connectTimeoutMs: 5 } },
      }),
    },
    read: 'jest.config.json',
  },
  {
    name: 'the jest key of package.json',
    files: {
      'package.json': JSON.stringify({
        jest: { testEnvironmentOptions: { userEngineLive: { connectTimeoutMs: 5 } } },
      }),
    },
    read: 'package.json',
  },
  {
    name: 'an ESM project ("type": "module", jest.config.js with export default)',
    files: {
      'package.json': JSON.stringify({ type: 'module' }),
      'jest.config.js': `export default ${OPTIONS};`,
    },
    read: 'jest.config.js',
  },
  {
    name: 'a config exporting an async function',
    files: { 'jest.config.js': `module.exports = async () => (${OPTIONS});` },
    read: 'jest.config.js',
  },
];

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(scratchDir(), 'forms-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('doctor reads every Jest config form', () => {
  test.each(FORMS)('$name', async ({ files, read }) => {
    const dir = project(files);
    // A TypeScript config is compiled by ts-node (type-checked): seconds idle, far more on busy CPUs.
    const run = await runBuilt(['doctor', '--json'], ENV, dir, 55_000);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.config.path).toBe(path.join(dir, read));
    expect(report.decision.error?.setting).toBe(
      'testEnvironmentOptions.userEngineLive.connectTimeoutMs',
    );
    expect(run.code).toBe(1);
  });

  test('--config names a TypeScript config anywhere', async () => {
    const dir = project({
      'ci.jest.config.ts': `const timeout: number = 5;\nexport default { testEnvironmentOptions: { userEngineLive: { connectTimeoutMs: timeout } } };\n`,
    });
    const run = await runBuilt(
      ['doctor', '--json', '--config', 'ci.jest.config.ts'],
      ENV,
      dir,
      55_000,
    );
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.config.path).toBe(path.join(dir, 'ci.jest.config.ts'));
    expect(report.decision.error?.setting).toBe(
      'testEnvironmentOptions.userEngineLive.connectTimeoutMs',
    );
  });

  test('two configs in one folder: Jest refuses, and so does doctor', async () => {
    const dir = project({
      'jest.config.js': `module.exports = ${OPTIONS};`,
      'jest.config.json': '{}',
    });
    const run = await runBuilt(['doctor', '--json'], ENV, dir);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('could not read the Jest config');
    expect(run.stderr).toContain('Multiple configurations found');
    expect(run.stderr).not.toContain('\u001b[');
  });

  test('no config and no package.json up to the root: options assumed empty, said so', async () => {
    const run = await runBuilt(['doctor', '--json'], ENV, project({}));
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.config.path).toBeNull();
    expect(report.checks.find((check) => check.name === 'jest-config')?.detail).toBe(
      'no Jest config found: testEnvironmentOptions assumed empty',
    );
  });
});
