/**
 * What globalSetup leaves for globalTeardown. Both run in Jest's parent process, so the handle
 * sits on `globalThis` (a registered symbol: no clash, and teardown can look for it without
 * loading any driver). No imports on purpose: the teardown of a skipped run loads only this.
 */

export interface RunHandle {
  readonly runId: string;
  /** Ends the run (drops its schemas unless kept, releases the lock) and closes what it opened. */
  finish(): Promise<void>;
}

const HANDLE_KEY = Symbol.for('@user-engine/jest-live:run');

type HandleHolder = { [HANDLE_KEY]?: RunHandle };

export function currentRun(): RunHandle | undefined {
  return (globalThis as HandleHolder)[HANDLE_KEY];
}

export function setCurrentRun(handle: RunHandle | undefined): void {
  (globalThis as HandleHolder)[HANDLE_KEY] = handle;
}
