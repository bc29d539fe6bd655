/**
 * Finds and reads the Jest config a run would use, for its `testEnvironmentOptions` (the live
 * decision depends on `testEnvironmentOptions.userEngineLive` as well as on the environment).
 * Read by Jest's own `readInitialOptions` from the project's `jest-config` (29.7 or 30): every
 * form Jest accepts (jest.config.js|ts|mjs|cjs|mts|cts|json, the `jest` key of package.json,
 * a config exporting a function), found the way Jest finds it (the working directory, then its
 * parents), with Jest's own errors (e.g. two configs in one folder).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
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
  /** Set when the config could not be looked for (no Jest installed) or was not found. */
  note: string | null;
}

/** The part of `jest-config` used here (the same in Jest 29.7 and 30). */
interface JestConfigModule {
  readInitialOptions(
    config: string | undefined,
    options: { packageRootOrConfig: string },
  ): Promise<{ config: Record<string, unknown>; configPath: string | null }>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadFrom(from: string, request: string): unknown {
  try {
    return createRequire(from)(request);
  } catch {
    return undefined;
  }
}

/** The project's own `jest-config` (beside its `jest`), else the one this package can see. */
function findJestConfig(cwd: string): JestConfigModule | undefined {
  const project = path.join(cwd, 'package.json');
  let jestCli: string | undefined;
  try {
    jestCli = createRequire(project).resolve('jest-cli/package.json');
  } catch {
    jestCli = undefined;
  }
  const candidates = [
    () => loadFrom(project, 'jest-config'),
    () => (jestCli ? loadFrom(jestCli, 'jest-config') : undefined),
    () => loadFrom(__filename, 'jest-config'),
  ];
  for (const candidate of candidates) {
    const loaded = candidate();
    if (isRecord(loaded) && typeof loaded.readInitialOptions === 'function') {
      return loaded as unknown as JestConfigModule;
    }
  }
  return undefined;
}

/** Jest's "no config file and no package.json up to the root" error. */
function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Could not find a config file');
}

function noConfig(cwd: string, note: string | null): JestConfigInfo {
  return {
    path: null,
    rootDir: cwd,
    testEnvironmentOptions: undefined,
    moduleFileExtensions: undefined,
    note,
  };
}

/** Jest's messages carry terminal styling when colours are on; the report is plain text. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

export async function readJestConfig(
  command: string,
  cwd: string,
  given: string | undefined,
): Promise<JestConfigInfo> {
  let file: string | undefined;
  if (given !== undefined) {
    file = path.resolve(cwd, given);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new UsageError(command, `--config ${JSON.stringify(given)}: no such file`);
    }
  }
  const jestConfig = findJestConfig(cwd);
  if (!jestConfig) {
    return noConfig(
      cwd,
      `jest-config (part of jest) cannot be found from ${cwd}: install jest (29.7 or 30) in ` +
        'this project to let this command read its Jest config; testEnvironmentOptions assumed empty',
    );
  }

  let read: { config: Record<string, unknown>; configPath: string | null };
  try {
    read = await jestConfig.readInitialOptions(file, { packageRootOrConfig: cwd });
  } catch (error) {
    if (file === undefined && isNotFound(error)) {
      return noConfig(cwd, 'no Jest config found: testEnvironmentOptions assumed empty');
    }
    const reason = plain(error instanceof Error ? error.message : String(error));
    throw new CliError(
      'config_unreadable',
      `could not read the Jest config${file ? ` ${file}` : ` of ${cwd}`}: ${reason}`,
    );
  }
  const { config, configPath } = read;
  if (!isRecord(config)) {
    throw new CliError(
      'config_unreadable',
      `the Jest config ${configPath} does not hold an object`,
    );
  }
  const extensions = config.moduleFileExtensions;
  return {
    path: configPath,
    // Jest sets rootDir to an absolute path (the config's folder unless the config says otherwise).
    rootDir: typeof config.rootDir === 'string' ? config.rootDir : cwd,
    testEnvironmentOptions: config.testEnvironmentOptions,
    moduleFileExtensions:
      Array.isArray(extensions) && extensions.every((ext) => typeof ext === 'string')
        ? extensions
        : undefined,
    note: null,
  };
}
