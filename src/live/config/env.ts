import { DRIVER_NAMES, type DriverName } from '../../driver/port';
import { LiveConfigError } from './errors';
import { quoted } from './text';

/** The only environment variables the live configuration reads (never DATABASE_URL or PG*). */
export const ENV = {
  dsn: 'USER_ENGINE_LIVE_DSN',
  reset: 'USER_ENGINE_LIVE_RESET',
  required: 'USER_ENGINE_LIVE_REQUIRED',
  driver: 'USER_ENGINE_LIVE_DRIVER',
  createUser: 'USER_ENGINE_LIVE_EMBEDDED_CREATE_USER',
} as const;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Yes/no variables accept exactly `1`/`true` and `0`/`false`/empty; anything else is a typo that
 * would otherwise silently mean "off" (e.g. `USER_ENGINE_LIVE_REQUIRED=yes` in CI).
 */
export function readFlag(env: Env, name: string): boolean | LiveConfigError {
  const value = env[name];
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  return new LiveConfigError(
    'flag_invalid',
    name,
    `${name}=${quoted(value)} is not understood: use 1 or true to turn it on, 0, false or unset to turn it off`,
  );
}

export function readDriver(env: Env): DriverName | undefined | LiveConfigError {
  const value = env[ENV.driver];
  if (value === undefined || value === '') return undefined;
  const known = DRIVER_NAMES.find((name) => name === value);
  if (known) return known;
  return new LiveConfigError(
    'driver_invalid',
    ENV.driver,
    `${ENV.driver}=${quoted(value)} is not a supported driver: use ${DRIVER_NAMES.join(' or ')}, or leave it unset to use the first one installed`,
  );
}
