/** The run-wide tally of live tests behind USER_ENGINE_LIVE_REQUIRED's "zero live tests" check. */
import * as fs from 'fs';
import * as path from 'path';
import { closeTally, openTally, recordTallyEntry, TALLY_ENV } from '../../src/jest/handoff';
import { noLiveTestsError } from '../../src/jest/test/required-checks';

describe('live tally', () => {
  test('no tally for this run: recording is a no-op and closing says so', () => {
    const env: Record<string, string | undefined> = {};
    recordTallyEntry(env, { testPath: '/a.test.js', liveTests: 3 });
    expect(closeTally(env)).toBeUndefined();
  });

  test('sums the files, ignores a half-written entry, and removes its directory', () => {
    const env: Record<string, string | undefined> = {};
    openTally(env);
    const dir = env[TALLY_ENV]!;
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    recordTallyEntry(env, { testPath: '/a.test.js', liveTests: 2 });
    recordTallyEntry(env, { testPath: '/b.test.js', liveTests: 0 });
    recordTallyEntry(env, { testPath: '/c.test.js', liveTests: 5 });
    fs.writeFileSync(path.join(dir, 'killed-mid-write.json'), '{"testPath":"/d.te');
    expect(closeTally(env)).toEqual({ files: 3, liveTests: 7 });
    expect(env[TALLY_ENV]).toBeUndefined();
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('the zero-live-tests error tells "no file in the environment" from "no live test"', () => {
    const none = noLiveTestsError({ files: 0, liveTests: 0 });
    expect(none.code).toBe('no_live_tests_ran');
    expect(none.message).toContain("no test file ran in the preset's test environment");
    const some = noLiveTestsError({ files: 4, liveTests: 0 });
    expect(some.message).toContain("4 test file(s) ran in the preset's test environment");
    expect(some.message).toContain('unset USER_ENGINE_LIVE_REQUIRED');
  });
});
