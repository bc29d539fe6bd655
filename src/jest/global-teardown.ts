/**
 * Jest globalTeardown of the preset: ends the run globalSetup started, if any. After a skipped
 * run there is nothing to end and nothing is loaded.
 */
import { currentRun, setCurrentRun } from './run-handle';

export default async function globalTeardown(): Promise<void> {
  const run = currentRun();
  if (!run) return;
  setCurrentRun(undefined);
  await run.finish();
}
