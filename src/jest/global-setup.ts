/**
 * Jest globalSetup of the preset (parent process, once per run). Skip: returns having printed
 * nothing and loaded no driver. Error: throws, so Jest fails before any test. Live or embedded:
 * starts the run (see ./run).
 */
import { decideLive } from '../live/config';

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
}
