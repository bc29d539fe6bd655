/**
 * Runs the real `jest` CLI in a child process against a copy of a fixture provider project that
 * consumes the BUILT package (`node_modules/@user-engine/jest-live` → this repository).
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..', '..');
const JEST_BIN = path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js');
const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const PACKAGE_NAME = '@user-engine/jest-live';

// The sentinel's home is ../../support/sentinel; re-exported because the e2e, faults and cli
// suites import it from here.
export { SENTINEL_PASSWORD } from '../../support/sentinel';

const BUILT_FILES = [
  'dist/index.js',
  'dist/jest/worker/environment.js',
  'dist/jest/parent/global-setup.js',
  'dist/jest/parent/global-teardown.js',
  'dist/jest/test/setup-store.js',
  'dist/conformance/index.js',
];

/** The e2e suite tests the compiled package; fail loudly rather than test a stale or absent one. */
export function assertBuilt(): void {
  const missing = BUILT_FILES.filter((file) => !fs.existsSync(path.join(REPO, file)));
  if (missing.length > 0) {
    throw new Error(
      `the e2e tests need the built package, but ${missing.join(', ')} ` +
        `${missing.length === 1 ? 'is' : 'are'} missing: run \`npm run build\` first`,
    );
  }
}

export type FixtureName = 'provider' | 'failing' | 'required' | 'esm' | 'oneliner';

export interface ProjectOptions {
  /**
   * Copy the package (dist, preset, package.json) instead of linking the repository, and link only
   * its declared dependencies: neither `pg` nor `postgres` can be resolved from the project.
   */
  withoutDrivers?: boolean;
  /**
   * Copy the package as `withoutDrivers` does, then link these packages of the repository into the
   * project (e.g. `['pg']`): nothing else of the repository's node_modules (not its Jest) can be
   * reached from the package, as after an `npm install` of the published package.
   */
  isolatedWith?: readonly string[];
}

/**
 * Links `name` into `dir`'s node_modules: this package (`@user-engine/jest-live`) to the
 * repository itself, anything else to the repository's own copy in its node_modules.
 */
export function linkFromRepo(dir: string, name: string): void {
  const link = path.join(dir, 'node_modules', name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  const target = name === PACKAGE_NAME ? REPO : path.join(REPO, 'node_modules', name);
  fs.symlinkSync(target, link, 'dir');
}

const projects: string[] = [];

/** A fresh temp copy of a fixture with the package installed into its node_modules. */
export function prepareProject(fixture: FixtureName, options: ProjectOptions = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ue-e2e-${fixture}-`));
  projects.push(dir);
  fs.cpSync(path.join(FIXTURES, fixture), dir, { recursive: true });
  if (!options.withoutDrivers && !options.isolatedWith) {
    linkFromRepo(dir, PACKAGE_NAME);
    return dir;
  }
  const target = path.join(dir, 'node_modules', PACKAGE_NAME);
  fs.mkdirSync(target, { recursive: true });
  for (const entry of ['package.json', 'jest-preset.js', 'esm-import.js', 'dist']) {
    fs.cpSync(path.join(REPO, entry), path.join(target, entry), { recursive: true });
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const name of Object.keys(manifest.dependencies ?? {})) linkFromRepo(dir, name);
  for (const name of options.isolatedWith ?? []) linkFromRepo(dir, name);
  return dir;
}

export function removeProjects(): void {
  for (const dir of projects.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface AssertionJson {
  title: string;
  fullName: string;
  status: 'passed' | 'failed' | 'pending' | 'todo' | 'skipped' | 'disabled';
}

export interface JestJson {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
  testResults: {
    name: string;
    status: string;
    message: string;
    assertionResults: AssertionJson[];
  }[];
  openHandles?: unknown[];
}

export interface JestRun {
  /** Process id of the Jest CLI. */
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The `--json --outputFile` result; undefined when Jest stopped before running tests. */
  json: JestJson | undefined;
  /** Everything the run printed or wrote, for "never contains" checks. */
  allOutput: string;
  durationMs: number;
}

export interface RunOptions {
  /** Added to a clean environment (no USER_ENGINE_LIVE_* or JEST_* inherited). */
  env?: Record<string, string>;
  args?: string[];
  /** Hard stop: the process group is killed and the run rejected. Default 120 s. */
  timeoutMs?: number;
  /** The Jest CLI to run (default: the repository's own Jest). */
  jestBin?: string;
}

/** The parent's environment minus anything that would steer the child run. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(USER_ENGINE_LIVE_|JEST_|E2E_)/.test(key) || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
}

export interface StartedJest {
  child: ChildProcess;
  /** Kills the whole process group (the CLI and its workers), like a crash would. */
  kill(signal: NodeJS.Signals): void;
  done: Promise<JestRun>;
}

export function startJest(projectDir: string, options: RunOptions = {}): StartedJest {
  const outputFile = path.join(projectDir, `result-${Date.now()}-${process.hrtime()[1]}.json`);
  const args = [
    options.jestBin ?? JEST_BIN,
    '--ci',
    '--json',
    `--outputFile=${outputFile}`,
    ...(options.args ?? []),
  ];
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: projectDir,
    env: cleanEnv(options.env),
    // Own process group, so a kill reaches the workers too.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const done = new Promise<JestRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill('SIGKILL');
      reject(new Error(`jest did not finish within ${timeoutMs} ms\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const jsonText = fs.existsSync(outputFile) ? fs.readFileSync(outputFile, 'utf8') : '';
      resolve({
        pid: child.pid,
        code,
        signal,
        stdout,
        stderr,
        json: jsonText ? (JSON.parse(jsonText) as JestJson) : undefined,
        allOutput: `${stdout}\n${stderr}\n${jsonText}`,
        durationMs: Date.now() - started,
      });
    });
  });
  return { child, kill, done };
}

export function runJest(projectDir: string, options: RunOptions = {}): Promise<JestRun> {
  return startJest(projectDir, options).done;
}

/** Titles of the assertions with a given status, across files. */
export function titles(run: JestRun, status: AssertionJson['status']): string[] {
  return (run.json?.testResults ?? []).flatMap((file) =>
    file.assertionResults.filter((a) => a.status === status).map((a) => a.fullName),
  );
}

/** A compact description of a run for failure messages. */
export function describeRun(run: JestRun): string {
  return `exit ${run.code} (${run.signal ?? 'no signal'}) after ${run.durationMs} ms\n--- stderr ---\n${run.stderr.slice(-6000)}\n--- stdout ---\n${run.stdout.slice(-2000)}`;
}

export function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (fs.existsSync(file)) return resolve();
      if (Date.now() > deadline)
        return reject(new Error(`${file} did not appear in ${timeoutMs} ms`));
      setTimeout(poll, 50);
    };
    poll();
  });
}
