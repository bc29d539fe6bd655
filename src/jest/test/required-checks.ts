/**
 * What USER_ENGINE_LIVE_REQUIRED=1 adds to a run: no live block may quietly not run live. Each
 * message names the cause it found and the fix; without REQUIRED, none of this runs.
 */
import { LiveRequiredError } from './live-required-error';
import type { RunTally } from '../handoff';

const PRESET = '@user-engine/jest-live';
const UNSET_HINT =
  'or, if this run is not meant to be live, unset USER_ENGINE_LIVE_REQUIRED (it demands that live tests run)';

/** Why a file's `describeLive` found no live context, as far as the file itself can tell. */
export type InactiveCause =
  /** The file's docblock picks another environment. */
  | { kind: 'docblock'; environment: string }
  /** globalSetup started a live run, so the preset is configured, but not this file's environment. */
  | { kind: 'environment_overridden' }
  /** No live run was started: the preset (or its globalSetup) is not in this project's config. */
  | { kind: 'preset_inactive' };

export function inactiveEnvironmentError(
  blockName: string,
  testPath: string | undefined,
  cause: InactiveCause,
): LiveRequiredError {
  const where = `describeLive(${JSON.stringify(blockName)})${testPath ? ` in ${testPath}` : ''}`;
  const head = `USER_ENGINE_LIVE_REQUIRED=1, but ${where} cannot run live`;
  switch (cause.kind) {
    case 'docblock':
      return new LiveRequiredError(
        'live_environment_inactive',
        `${head}: the file's docblock \`@jest-environment ${cause.environment}\` replaces the ` +
          `preset's test environment, so no live store is injected. Fix: remove that docblock ` +
          `line (or move the tests that need it to a file without describeLive), ${UNSET_HINT}.`,
      );
    case 'environment_overridden':
      return new LiveRequiredError(
        'live_environment_inactive',
        `${head}: the file runs in a test environment other than the preset's, because your Jest ` +
          `config sets \`testEnvironment\` (which overrides the preset's), or this file belongs to ` +
          `a project without preset "${PRESET}". Fix: remove \`testEnvironment\` from the Jest ` +
          `config of this project (the preset sets it), ${UNSET_HINT}.`,
      );
    case 'preset_inactive':
      return new LiveRequiredError(
        'live_environment_inactive',
        `${head}: the preset's test environment is not active here (no live run was started: ` +
          `the Jest config of this project does not use preset "${PRESET}", or replaces its ` +
          `globalSetup). Fix: add \`preset: '${PRESET}'\` to this project's Jest config (a ` +
          `globalSetup of your own must call the preset's, see docs/provider-setup.md), ${UNSET_HINT}.`,
      );
  }
}

export function noLiveTestsError(tally: RunTally): LiveRequiredError {
  const found =
    tally.files === 0
      ? "no test file ran in the preset's test environment: your Jest config sets " +
        '`testEnvironment` after the preset, or every file picks another one with a ' +
        '`@jest-environment` docblock. Fix: remove that `testEnvironment` setting or docblock, ' +
        `so that files using describeLive run in preset "${PRESET}"'s environment`
      : `${tally.files} test file(s) ran in the preset's test environment, but none of their ` +
        'tests inside a describeLive block ran (there is no describeLive block, they are all ' +
        'skipped, or -t / a path pattern filtered them out). Fix: declare live tests with ' +
        "describeLive from '@user-engine/jest-live', and select at least one of them";
  return new LiveRequiredError(
    'no_live_tests_ran',
    `USER_ENGINE_LIVE_REQUIRED=1, but no live test ran in this run: ${found}, ${UNSET_HINT}.`,
  );
}
