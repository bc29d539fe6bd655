/**
 * Entry point for test files: `describeLive` and the types of the injected live context.
 * Importing it loads no driver and no store; those live in `@user-engine/jest-live/store`,
 * `/driver` and `/conformance`.
 */
export { describeLive, LiveSkippedError } from './jest/test/describe-live';
export type {
  LiveContext,
  DisabledLive,
  FreshLiveStore,
  FreshLiveSchema,
  UserEngineLiveGlobal,
} from './jest/test/live-context';
// Errors a provider's run may meet, for `instanceof` and `code` checks in its own tooling; every
// error raised on purpose extends CodedError (codes: docs/errors.md).
export { CodedError } from './coded-error';
export { LiveRequiredError } from './jest/test/live-required-error';
export { PreflightError, RunLeaseLostError } from './live/errors';
