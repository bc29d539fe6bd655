/**
 * Zero-infrastructure mode (`USER_ENGINE_LIVE_DSN=embedded`): the global setup starts a private
 * PostgreSQL with `startEmbeddedPostgres` and the teardown calls the handle's `stop()`.
 * See docs/embedded.md.
 */
export { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded/start';
export {
  DEFAULT_DATABASE as EMBEDDED_DEFAULT_DATABASE,
  type EmbeddedPostgresOptions,
} from './embedded/options';
export { EmbeddedPostgresError, type EmbeddedPostgresErrorCode } from './embedded/errors';
export { decideOsUser, type OsUserPlan, type OsUserFacts } from './embedded/os-user';
