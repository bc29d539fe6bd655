/**
 * Finds the Jest config a run would use and reads its `testEnvironmentOptions`, because the live
 * decision depends on `testEnvironmentOptions.userEngineLive` as well as on the environment.
 * Kept simple on purpose: `--config <file>`, else the first of jest.config.js|cjs|json or the
 * `jest` key of package.json in the working directory. TypeScript and ESM configs are not loaded
 * (that would need Jest's own loader); the report says so instead of guessing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError, UsageError } from './errors';

export interface JestConfigInfo {
  /** Absolute path of the file read, or null when none was found. */
  path: string | null;
  /** Directory module paths (storeFactory) are resolved from: the config's rootDir. */
  rootDir: string;
  /** What the config holds under testEnvironmentOptions (undefined when absent). */
  testEnvironmentOptions: unknown;
  /** The config's moduleFileExtensions, when it sets them as a list of strings. */
  moduleFileExtensions: string[] | undefined;
  /** Set when a config exists that this command cannot read (jest.config.ts, .mjs). */
  note: string | null;
}

const LOADABLE = ['jest.config.js', 'jest.config.cjs', 'jest.config.json'];
const NOT_LOADABLE = ['jest.config.ts', 'jest.config.mjs', 'jest.config.mts', 'jest.config.cts'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function loadFile(file: string): Promise<unknown> {
  if (path.basename(file) === 'package.json') {
    const pkg: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return isRecord(pkg) ? pkg.jest : undefined;
  }
  if (file.endsWith('.json')) return JSON.parse(fs.readFileSync(file, 'utf8'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded: unknown = require(file);
  const exported = isRecord(loaded) && 'default' in loaded ? loaded.default : loaded;
  // Jest accepts a function (sync or async) returning the config.
  return typeof exported === 'function' ? await (exported as () => unknown)() : exported;
}

function discover(cwd: string): { file: string | null; note: string | null } {
  for (const name of LOADABLE) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return { file, note: null };
  }
  const unreadable = NOT_LOADABLE.find((name) => fs.existsSync(path.join(cwd, name)));
  if (unreadable) {
    return {
      file: null,
      note:
        `${unreadable} is not read by this command: testEnvironmentOptions assumed empty; ` +
        `pass --config <file.js|.cjs|.json> to check the options a run uses`,
    };
  }
  const pkg = path.join(cwd, 'package.json');
  if (fs.existsSync(pkg)) {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(pkg, 'utf8'));
      if (isRecord(parsed) && parsed.jest !== undefined) return { file: pkg, note: null };
    } catch {
      // An unreadable package.json is not a Jest config; Jest would complain on its own.
    }
  }
  return { file: null, note: null };
}

export async function readJestConfig(
  command: string,
  cwd: string,
  given: string | undefined,
): Promise<JestConfigInfo> {
  let file: string | null;
  let note: string | null = null;
  if (given !== undefined) {
    file = path.resolve(cwd, given);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new UsageError(command, `--config ${JSON.stringify(given)}: no such file`);
    }
    if (!/\.(c?js|json)$/.test(file)) {
      throw new UsageError(
        command,
        `--config ${JSON.stringify(given)}: only .js, .cjs and .json Jest configs (or a ` +
          `package.json with a "jest" key) can be read`,
      );
    }
  } else {
    ({ file, note } = discover(cwd));
  }
  if (file === null) {
    return {
      path: null,
      rootDir: cwd,
      testEnvironmentOptions: undefined,
      moduleFileExtensions: undefined,
      note,
    };
  }

  let config: unknown;
  try {
    config = await loadFile(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError('config_unreadable', `could not read the Jest config ${file}: ${reason}`);
  }
  if (!isRecord(config)) {
    throw new CliError('config_unreadable', `the Jest config ${file} does not hold an object`);
  }
  const dir = path.dirname(file);
  const rootDir = typeof config.rootDir === 'string' ? path.resolve(dir, config.rootDir) : dir;
  const extensions = config.moduleFileExtensions;
  return {
    path: file,
    rootDir,
    testEnvironmentOptions: config.testEnvironmentOptions,
    moduleFileExtensions:
      Array.isArray(extensions) && extensions.every((ext) => typeof ext === 'string')
        ? extensions
        : undefined,
    note,
  };
}
