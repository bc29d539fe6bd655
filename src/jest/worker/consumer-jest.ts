/**
 * The preset's environment extends Jest's Node environment, and it must be the copy that belongs
 * to the Jest running the tests (29 or 30), not one of its own: this package does not depend on
 * `jest-environment-node`. The Jest that loads the environment has its `jest-runner` loaded
 * already (in a worker and in band alike), and `jest-runner` depends on the exact matching
 * `jest-environment-node`; so resolve it from there, then from the project's `jest-config` and
 * `jest`, and last from wherever this package can see one.
 */
import { createRequire } from 'module';
import { CodedError } from '../../coded-error';
import * as path from 'path';

/** A module file of a loaded `jest-runner` (npm, pnpm and Yarn layouts alike). */
const RUNNER_MODULE = /[\\/]jest-runner[\\/]build[\\/][^\\/]+\.js$/;

const ENVIRONMENT_PACKAGE = 'jest-environment-node';

export class JestEnvironmentNotFoundError extends CodedError<'jest_environment_not_found'> {
  constructor(tried: readonly string[]) {
    super(
      'jest_environment_not_found',
      `${ENVIRONMENT_PACKAGE} cannot be resolved from the Jest running these tests (tried from ` +
        `${tried.join(', ')}): install jest (29.7 or 30) in this project, e.g. ` +
        '`npm install --save-dev jest`',
    );
  }
}

function resolveFrom(from: string, request: string): string | undefined {
  try {
    return createRequire(from).resolve(request);
  } catch {
    return undefined;
  }
}

/**
 * The file `require('jest-environment-node')` means for the Jest in use. `loadedModules` is what
 * `require.cache` holds; `projectDir` the directory Jest runs in.
 */
export function resolveJestEnvironmentNode(
  loadedModules: readonly string[] = Object.keys(require.cache),
  projectDir: string = process.cwd(),
): string {
  const project = path.join(projectDir, 'package.json');
  const starts = [
    ...loadedModules.filter((file) => RUNNER_MODULE.test(file)),
    resolveFrom(project, 'jest-config/package.json'),
    resolveFrom(project, 'jest/package.json'),
    __filename,
  ].filter((from): from is string => from !== undefined);
  for (const from of starts) {
    const found = resolveFrom(from, ENVIRONMENT_PACKAGE);
    if (found) return found;
  }
  throw new JestEnvironmentNotFoundError([...new Set(starts.map((from) => path.dirname(from)))]);
}
