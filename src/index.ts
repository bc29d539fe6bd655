/**
 * Entry point for test files: `describeLive` and the types of the injected live context.
 * Importing it loads no driver and no store; those live in `@user-engine/jest-live/store`,
 * `/driver` and `/conformance`.
 */
export { describeLive, LiveSkippedError } from './jest/describe-live';
export type {
  LiveContext,
  DisabledLive,
  FreshLiveStore,
  FreshLiveSchema,
  UserEngineLiveGlobal,
} from './jest/live-context';
