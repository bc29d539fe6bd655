/**
 * Finds and loads a driver only when a connection is made: importing this package never loads pg
 * or postgres, and a project needs only the one it uses.
 */
import { DriverMissingError } from './errors';
import { DRIVER_NAMES, type DriverName } from './port';

/** How drivers are found and loaded; tests inject their own to simulate a missing one. */
export interface DriverLoader {
  /** The module's resolved path, or undefined when it is not installed. */
  resolve(name: DriverName): string | undefined;
  load(path: string): unknown;
}

/** Resolves from the caller's project first (cwd), then from this package's own location. */
export const nodeDriverLoader: DriverLoader = {
  resolve(name) {
    try {
      return require.resolve(name, { paths: [process.cwd(), __dirname] });
    } catch {
      return undefined;
    }
  },
  load(path) {
    // A dynamic path is the point here: the driver is whatever the project installed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path);
  },
};

export interface LoadedDriver {
  name: DriverName;
  module: unknown;
}

function installHint(names: readonly DriverName[]): string {
  return names.map((name) => `npm install --save-dev ${name}`).join(' or ');
}

/** The requested driver, or the first installed of pg, postgres. */
export function loadDriver(
  requested: DriverName | undefined,
  loader: DriverLoader = nodeDriverLoader,
): LoadedDriver {
  if (requested !== undefined && !DRIVER_NAMES.includes(requested))
    throw new TypeError(
      `options.driver must be one of ${DRIVER_NAMES.join(', ')}, got ${JSON.stringify(requested)}`,
    );
  const candidates = requested === undefined ? DRIVER_NAMES : [requested];
  for (const name of candidates) {
    const path = loader.resolve(name);
    if (path !== undefined) return { name, module: loader.load(path) };
  }
  throw new DriverMissingError(
    requested === undefined
      ? `no PostgreSQL driver is installed: neither pg nor postgres could be found. Install one: ${installHint(DRIVER_NAMES)}`
      : `the requested PostgreSQL driver ${requested} is not installed. Install it: ${installHint([requested])}`,
  );
}
