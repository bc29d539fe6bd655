/**
 * Errors of the Jest preset itself (the env/option mistakes are the config's LiveConfigError).
 * `code` is stable; `setting` names the variable or option to look at, when there is one.
 */
import { CodedError } from '../coded-error';

export type LivePresetErrorCode =
  /** Connected, but `current_database()` is not the acknowledged USER_ENGINE_LIVE_RESET. */
  | 'reset_database_mismatch'
  /** PostgreSQL older than the supported minimum. */
  | 'server_too_old'
  /** A worker found no run state: the preset's globalSetup did not run. */
  | 'run_state_missing'
  /** testEnvironmentOptions.userEngineLive.storeFactory cannot be resolved. */
  | 'store_factory_not_found'
  /** USER_ENGINE_LIVE_DSN=embedded, but embedded servers are unavailable. */
  | 'embedded_unavailable';

export class LivePresetError extends CodedError<LivePresetErrorCode> {
  readonly setting: string | undefined;
  constructor(code: LivePresetErrorCode, message: string, setting?: string) {
    super(code, message);
    this.setting = setting;
  }
}
