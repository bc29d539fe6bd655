/**
 * The per-run data folder: `<base>/user-engine-live-embedded/<pid>-<random>/` holding an owner
 * marker and the PostgreSQL data directory. A run killed before its teardown leaves its folder
 * (and maybe a running postmaster) behind; the next start finds and removes those.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT_FOLDER = 'user-engine-live-embedded';
export const MARKER_FILE = 'owner.json';
export const PGDATA_FOLDER = 'pgdata';

export interface OwnerMarker {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Kernel start time of `pid` (Linux), so a recycled pid is not mistaken for the owner. */
  processStart: string | null;
}

export interface RunFolder {
  /** The run's folder; removing it removes everything the run put on disk. */
  dir: string;
  /** PostgreSQL data directory inside it (`initdb` wants it absent or empty). */
  pgdata: string;
}

/** Field 22 of /proc/<pid>/stat; `null` where /proc does not exist or the pid is gone. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live process. A zombie counts as dead: an orphaned postmaster we stopped may
 * linger unreaped when PID 1 is not a reaping init (containers, microVMs).
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: unknown }).code === 'EPERM';
  }
  const state = procState(pid);
  return state !== 'Z' && state !== 'X';
}

export interface OwnerFacts {
  hostname: string;
  isAlive(pid: number): boolean;
  startTicks(pid: number): string | null;
}

/**
 * Pure: is the run that made `folderName` certainly gone? Unknown folders and runs on another host
 * (a shared temp folder) are left alone; only a provably dead owner makes a folder stale.
 */
export function isOwnerGone(
  folderName: string,
  marker: OwnerMarker | undefined,
  facts: OwnerFacts,
): boolean {
  if (!marker) {
    // The owner dies between mkdir and writing the marker, or is still about to write it.
    const match = /^(\d+)-[0-9a-f]+$/.exec(folderName);
    return match !== null && !facts.isAlive(Number(match[1]));
  }
  if (marker.hostname !== facts.hostname) return false;
  if (!facts.isAlive(marker.pid)) return true;
  const now = facts.startTicks(marker.pid);
  return marker.processStart !== null && now !== null && now !== marker.processStart;
}

function parseMarker(text: string): OwnerMarker | undefined {
  try {
    const value = JSON.parse(text) as Partial<OwnerMarker>;
    if (!Number.isInteger(value.pid) || typeof value.hostname !== 'string') return undefined;
    return {
      pid: value.pid as number,
      hostname: value.hostname,
      startedAt: String(value.startedAt ?? ''),
      processStart: typeof value.processStart === 'string' ? value.processStart : null,
    };
  } catch {
    return undefined;
  }
}

async function readMarker(dir: string): Promise<OwnerMarker | undefined> {
  try {
    return parseMarker(await fsp.readFile(path.join(dir, MARKER_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Makes `<base>/user-engine-live-embedded`, enterable by a `postgres` user when run as root. */
export async function ensureRoot(base: string): Promise<string> {
  const root = path.join(path.resolve(base), ROOT_FOLDER);
  await fsp.mkdir(root, { recursive: true });
  // A symlink planted at a well-known temp path would send our files somewhere else.
  const stat = await fsp.lstat(root);
  if (!stat.isDirectory()) throw new Error(`${root} exists but is not a folder`);
  if (stat.uid === process.getuid?.() && (stat.mode & 0o755) !== 0o755) {
    await fsp.chmod(root, (stat.mode & 0o7777) | 0o755);
  }
  return root;
}

/** Creates this run's folder and writes its owner marker straight away. */
export async function createRunFolder(root: string): Promise<RunFolder> {
  const dir = path.join(root, `${process.pid}-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(dir, { mode: 0o755 });
  // mkdir's mode is filtered by umask; the server's OS user must be able to enter this folder.
  await fsp.chmod(dir, 0o755);
  const marker: OwnerMarker = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    processStart: processStartTicks(process.pid),
  };
  await fsp.writeFile(path.join(dir, MARKER_FILE), `${JSON.stringify(marker)}\n`);
  return { dir, pgdata: path.join(dir, PGDATA_FOLDER) };
}

export async function removeFolder(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/** Sends `signal`, then SIGKILL if the process outlives `graceMs`. Resolves once it is gone. */
export async function terminate(
  pid: number,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 2_000);
}

/**
 * Stops a postmaster left running in a stale data directory. The pid in postmaster.pid is only
 * trusted when /proc confirms it is a postgres serving that directory (pids get recycled).
 */
export async function stopLeftoverPostmaster(pgdata: string): Promise<number | undefined> {
  let lines: string[];
  try {
    lines = (await fsp.readFile(path.join(pgdata, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(pgdata)) return undefined;
  } catch {
    // No /proc (macOS): postmaster.pid is all there is to go on, as pg_ctl does.
    if (process.platform === 'linux') return undefined;
  }
  // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down with it.
  await terminate(pid, 'SIGQUIT', 5_000);
  return pid;
}

export interface StaleCleanup {
  removed: string[];
  /** Postmasters of dead runs that were stopped. */
  stoppedPids: number[];
  /** Stale folders that could not be removed (e.g. another user's), with the reason. */
  failed: { dir: string; reason: string }[];
}

/** Removes folders (and stops servers) of runs on this host whose owner process is dead. */
export async function cleanStaleRuns(
  root: string,
  facts: OwnerFacts = {
    hostname: os.hostname(),
    isAlive: isProcessAlive,
    startTicks: processStartTicks,
  },
): Promise<StaleCleanup> {
  const result: StaleCleanup = { removed: [], stoppedPids: [], failed: [] };
  let entries: string[];
  try {
    entries = await fsp.readdir(root);
  } catch {
    return result;
  }
  for (const name of entries) {
    const dir = path.join(root, name);
    try {
      if (!(await fsp.lstat(dir)).isDirectory()) continue;
      if (!isOwnerGone(name, await readMarker(dir), facts)) continue;
      const stopped = await stopLeftoverPostmaster(path.join(dir, PGDATA_FOLDER));
      if (stopped !== undefined) result.stoppedPids.push(stopped);
      await removeFolder(dir);
      result.removed.push(dir);
    } catch (error) {
      result.failed.push({ dir, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}
