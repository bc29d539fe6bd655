/**
 * The one error type of the live configuration. `code` is stable for programs; `setting` names the
 * environment variable or option path at fault; the message never contains a password.
 */

import { CodedError } from '../../coded-error';
import { printable } from './text';

export type LiveConfigErrorCode =
  /** USER_ENGINE_LIVE_REQUIRED is on but USER_ENGINE_LIVE_DSN is unset or empty. */
  | 'dsn_missing'
  /** Unparsable, surrounding whitespace, control characters, ambiguous escapes. */
  | 'dsn_malformed'
  /** Not `postgres://` or `postgresql://`. */
  | 'dsn_scheme'
  /** Port not an integer in 1..65535. */
  | 'dsn_port'
  /** No database name in the path. */
  | 'dsn_no_database'
  /** More than one host: the run ledger and its locks need exactly one server. */
  | 'dsn_host_list'
  /** A yes/no variable holds something other than 1, true, 0, false or nothing. */
  | 'flag_invalid'
  /** USER_ENGINE_LIVE_RESET unset or empty while a DSN is given. */
  | 'reset_missing'
  /** USER_ENGINE_LIVE_RESET differs from the DSN's database name. */
  | 'reset_mismatch'
  /** USER_ENGINE_LIVE_DRIVER is not `pg` or `postgres`. */
  | 'driver_invalid'
  /** testEnvironmentOptions.userEngineLive is malformed. */
  | 'option_invalid';

export class LiveConfigError extends CodedError<LiveConfigErrorCode> {
  readonly setting: string;
  constructor(code: LiveConfigErrorCode, setting: string, message: string) {
    // One line whatever the input held: messages quote user-supplied text.
    super(code, printable(message));
    this.setting = setting;
  }
}
