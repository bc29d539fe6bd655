/**
 * The error of a run that USER_ENGINE_LIVE_REQUIRED demands be live but that did not (fully) run
 * live. Thrown by `describeLive` (a block outside the preset's environment) and by globalTeardown
 * (no live test executed in the whole run). `code` is stable; `setting` is always
 * USER_ENGINE_LIVE_REQUIRED, since unsetting it is the other way out.
 */
import { CodedError } from '../../coded-error';

export type LiveRequiredErrorCode =
  /** A `describeLive` block was declared in a file whose test environment is not the preset's. */
  | 'live_environment_inactive'
  /** The run ended without a single test inside a `describeLive` block executing live. */
  | 'no_live_tests_ran';

export class LiveRequiredError extends CodedError<LiveRequiredErrorCode> {
  readonly setting = 'USER_ENGINE_LIVE_REQUIRED';
}
