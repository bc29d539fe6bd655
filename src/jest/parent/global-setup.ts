/**
 * Jest globalSetup of the preset (parent process, once per run). Skip: returns having printed
 * nothing and loaded no driver. Error: throws, so Jest fails before any test. Live or embedded:
 * starts the run (see ./run), and with USER_ENGINE_LIVE_REQUIRED=1 a tally of the live tests.
 */
import { decideLive } from '../../live/config';
import { openTally } from '../handoff';

interface ProjectConfigLike {
  testEnvironmentOptions?: unknown;
}

export default async function globalSetup(
  _globalConfig: unknown,
  projectConfig: ProjectConfigLike | undefined,
): Promise<void> {
  const decision = decideLive(process.env, projectConfig?.testEnvironmentOptions);
  if (decision.kind === 'skip') return;
  if (decision.kind === 'error') throw decision.error;
  // Loaded only now: the driver, the bootstrap and the embedded server are live-run business.
  const { startRun } = await import('./run');
  await startRun(decision);
  // REQUIRED also means "some live test must run": the test files report to this tally.
  if (decision.required) openTally(process.env);
}
