/**
 * Everything the preset hands from one process or realm to another, in one place: the names under
 * which it travels and how it is encoded. Both sides of each hand-over read this module.
 *
 *   parent -> workers  USER_ENGINE_LIVE_RUN (process.env, JSON): the run globalSetup started.
 *   worker -> sandbox  the bridge (sandbox global, registered symbol): the worker's pool and the
 *                      operations the test file may ask of it.
 *   sandbox -> worker  the live-test count (sandbox global, registered symbol): tests of
 *                      `describeLive` blocks that started live in this file.
 *   workers -> parent  USER_ENGINE_LIVE_TALLY (process.env names a directory of JSON entries):
 *                      the run-wide tally behind USER_ENGINE_LIVE_REQUIRED's "zero live tests".
 *
 * Values on `globalThis` do not reach Jest workers; `process.env` does, and workers inherit it. A
 * registered symbol is the same key in every realm, so the environment (outside the sandbox) and
 * `setup-store` (inside it) find the same slot. Loads no driver and no store. The sandbox's two
 * hand-overs live in ./bridge, which loads nothing at all (it is loaded once per test file).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DriverName } from '../../driver/port';
import { DRIVER_NAMES } from '../../driver/port';
import { redactDsn } from '../../driver/dsn';
import { InvalidArgumentError, InvalidRunStateError } from '../../live/errors';
import { isRunId } from '../../live/isolation';

type Env = Record<string, string | undefined>;

// ---- parent -> workers: the run state ------------------------------------------------------
// The user's DSN is deliberately not in it (workers read USER_ENGINE_LIVE_DSN themselves), so its
// password is never copied. The one exception is `embeddedDsn`: a server this run started itself,
// which workers cannot find any other way; its credentials die with that server.

export const RUN_STATE_ENV = 'USER_ENGINE_LIVE_RUN';
const FORMAT = 1;

export interface LiveRunState {
  runId: string;
  driver: DriverName;
  /** `SHOW server_version` of the run's server, for diagnostics. */
  serverVersion: string;
  /** The DSN with its password replaced by `***`, for diagnostics. */
  redactedDsn: string;
  /** DSN of the embedded server this run started (unset for a user-supplied DSN). */
  embeddedDsn?: string;
}

/** Stores `state` in `env[USER_ENGINE_LIVE_RUN]` (the DSN is redacted again, to be sure). */
export function writeRunState(env: Env, state: LiveRunState): void {
  const problem = checkState(state);
  if (problem) throw new InvalidArgumentError(`state.${problem.field}`, problem.message);
  env[RUN_STATE_ENV] = JSON.stringify({
    format: FORMAT,
    runId: state.runId,
    driver: state.driver,
    serverVersion: state.serverVersion,
    redactedDsn: redactDsn(state.redactedDsn),
    embeddedDsn: state.embeddedDsn,
  });
}

/**
 * The run state from `env`, or `undefined` when the variable is unset or empty (no live run).
 * Throws `InvalidRunStateError` naming the variable when it is present but malformed.
 */
export function readRunState(env: Env): LiveRunState | undefined {
  const raw = env[RUN_STATE_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidRunStateError(
      RUN_STATE_ENV,
      'not JSON (it is written by the live globalSetup; do not set it by hand)',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRunStateError(RUN_STATE_ENV, 'expected a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  if (record.format !== FORMAT) {
    throw new InvalidRunStateError(
      RUN_STATE_ENV,
      `format ${JSON.stringify(record.format)} is not ${FORMAT} (written by another version of @user-engine/jest-live?)`,
    );
  }
  const state = {
    runId: record.runId,
    driver: record.driver,
    serverVersion: record.serverVersion,
    redactedDsn: record.redactedDsn,
    embeddedDsn: record.embeddedDsn,
  } as LiveRunState;
  const problem = checkState(state);
  if (problem)
    throw new InvalidRunStateError(RUN_STATE_ENV, `${problem.field}: ${problem.message}`);
  const out: LiveRunState = {
    runId: state.runId,
    driver: state.driver,
    serverVersion: state.serverVersion,
    redactedDsn: redactDsn(state.redactedDsn),
  };
  if (state.embeddedDsn !== undefined) out.embeddedDsn = state.embeddedDsn;
  return out;
}

/** Removes the run state (globalTeardown), so a later in-process run cannot pick it up. */
export function clearRunState(env: Env): void {
  delete env[RUN_STATE_ENV];
}

function checkState(state: LiveRunState): { field: string; message: string } | undefined {
  if (!isRunId(state.runId))
    return { field: 'runId', message: 'expected 10 characters of [a-z0-9]' };
  if (!DRIVER_NAMES.includes(state.driver)) {
    return { field: 'driver', message: `expected one of ${DRIVER_NAMES.join(', ')}` };
  }
  if (
    state.embeddedDsn !== undefined &&
    (typeof state.embeddedDsn !== 'string' || state.embeddedDsn === '')
  ) {
    return { field: 'embeddedDsn', message: 'expected a non-empty string' };
  }
  if (typeof state.serverVersion !== 'string') {
    return { field: 'serverVersion', message: 'expected a string' };
  }
  if (typeof state.redactedDsn !== 'string') {
    return { field: 'redactedDsn', message: 'expected a string' };
  }
  return undefined;
}

// ---- workers -> parent: the run-wide tally ------------------------------------------------
// A directory that globalSetup creates (only for a required live run) and names in process.env;
// each file run in the preset's environment leaves one small JSON entry there; globalTeardown
// reads them all and removes the directory.

export const TALLY_ENV = 'USER_ENGINE_LIVE_TALLY';

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

export * from './bridge';
