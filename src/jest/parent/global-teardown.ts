/**
 * Jest globalTeardown of the preset: ends the run globalSetup started, if any; then, for a run
 * with USER_ENGINE_LIVE_REQUIRED=1, fails it (Jest exits 1 when globalTeardown throws) when not a
 * single test of a `describeLive` block ran live. After a skipped run there is nothing to end.
 */
import { closeTally } from '../handoff';
import { noLiveTestsError } from '../test/required-checks';
import { currentRun, setCurrentRun } from './run-handle';

export default async function globalTeardown(): Promise<void> {
  const run = currentRun();
  setCurrentRun(undefined);
  try {
    await run?.finish();
  } catch (error) {
    closeTally(process.env);
    throw error;
  }
  const tally = closeTally(process.env);
  if (tally && tally.liveTests === 0) throw noLiveTestsError(tally);
}
