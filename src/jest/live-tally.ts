/**
 * The run-wide tally behind USER_ENGINE_LIVE_REQUIRED's "zero live tests" check. Test files run
 * in worker processes and globalTeardown in the parent, so the count travels through files: a
 * directory that globalSetup creates (only for a required live run) and names in process.env
 * (which workers inherit); each file run in the preset's environment leaves one small JSON entry
 * there; globalTeardown reads them all and removes the directory.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const TALLY_ENV = 'USER_ENGINE_LIVE_TALLY';

type Env = Record<string, string | undefined>;

/** One test file that ran in the preset's test environment. */
export interface TallyEntry {
  testPath: string;
  /** Tests of `describeLive` blocks that started live in that file. */
  liveTests: number;
}

export interface RunTally {
  /** Files run in the preset's test environment. */
  files: number;
  liveTests: number;
}

/** Starts a tally for this run; workers started after this call see it. */
export function openTally(env: Env): void {
  env[TALLY_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'user-engine-live-tally-'));
}

let written = 0;

/** Records one file's count, if this run keeps a tally (a no-op otherwise). */
export function recordTallyEntry(env: Env, entry: TallyEntry): void {
  const dir = env[TALLY_ENV];
  if (!dir) return;
  written += 1;
  const name = `${process.pid}-${written}-${Math.random().toString(36).slice(2, 8)}.json`;
  fs.writeFileSync(path.join(dir, name), JSON.stringify(entry));
}

function readEntry(file: string): TallyEntry | undefined {
  try {
    const entry = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<TallyEntry>;
    return typeof entry.liveTests === 'number' && typeof entry.testPath === 'string'
      ? { testPath: entry.testPath, liveTests: entry.liveTests }
      : undefined;
  } catch {
    return undefined; // a worker killed mid-write: that file did not finish, so it counts for nothing
  }
}

/** Ends the tally: its totals, or undefined when this run kept none. Removes the directory. */
export function closeTally(env: Env): RunTally | undefined {
  const dir = env[TALLY_ENV];
  if (!dir) return undefined;
  delete env[TALLY_ENV];
  try {
    const entries = fs
      .readdirSync(dir)
      .map((name) => readEntry(path.join(dir, name)))
      .filter((entry): entry is TallyEntry => entry !== undefined);
    return {
      files: entries.length,
      liveTests: entries.reduce((sum, entry) => sum + entry.liveTests, 0),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
