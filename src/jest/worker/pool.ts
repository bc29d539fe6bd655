/**
 * One schema-bound pool per worker process, handed from test file to test file. A new backend
 * costs a connect plus a cold session (catalog caches, plpgsql compile of the reset block): about
 * 15-25 ms per file on loopback, against ~1 ms for a reset on a warm session.
 *
 * Nothing may keep Jest (in band) or a worker process (which Jest gives 500 ms to exit once told
 * to end) alive, and we are never told which file is a worker's last. So when the last user
 * releases the pool, a short timer closes it; the next file, arriving sooner, cancels the timer
 * and reuses the pool. The timer is ref'd on purpose: it must fire to end the sockets, after which
 * the process exits by itself. Jest runs one file at a time per process, so a pool has at most
 * one user in practice; the count only keeps a late close from hitting a pool in use.
 */
import type { Connection } from '../../driver/port';

/** Longer than the gap between two files of one worker, far below Jest's 500 ms exit grace. */
export const IDLE_CLOSE_MS = 100;

interface Pooled {
  key: string;
  connection: Promise<Connection>;
  users: number;
  idleTimer: NodeJS.Timeout | undefined;
}

let pooled: Pooled | undefined;
let statementSink: ((sql: string) => void) | undefined;

/** The `onQuery` hook of the pooled connection: forwards to the file currently using it. */
export function forwardStatement(sql: string): void {
  statementSink?.(sql);
}

/** Where the SQL of the pooled connection goes now (the current file's recorder), or nowhere. */
export function routeStatements(sink: ((sql: string) => void) | undefined): void {
  statementSink = sink;
}

async function closeQuietly(entry: Pooled): Promise<void> {
  try {
    await (await entry.connection).close();
  } catch {
    // A pool that failed to open, or a server gone: nothing left to close.
  }
}

/**
 * The pool for `key` (run, schema, driver, DSN): reused if this process has it open, else opened
 * with `open` (a previous run's pool, e.g. in watch mode, is closed first).
 */
export async function acquireConnection(
  key: string,
  open: () => Promise<Connection>,
): Promise<Connection> {
  if (pooled && pooled.key !== key) {
    const stale = pooled;
    pooled = undefined;
    clearTimeout(stale.idleTimer);
    await closeQuietly(stale);
  }
  if (!pooled) {
    const entry: Pooled = { key, connection: open(), users: 0, idleTimer: undefined };
    pooled = entry;
    entry.connection.catch(() => {
      if (pooled === entry) pooled = undefined;
    });
  }
  const entry = pooled;
  clearTimeout(entry.idleTimer);
  entry.idleTimer = undefined;
  entry.users++;
  try {
    return await entry.connection;
  } catch (error) {
    entry.users--;
    throw error;
  }
}

/** The file is done with the pool; the last user leaves it to the idle timer. */
export function releaseConnection(key: string): void {
  const entry = pooled;
  if (!entry || entry.key !== key) return;
  entry.users = Math.max(0, entry.users - 1);
  if (entry.users > 0) return;
  entry.idleTimer = setTimeout(() => {
    if (pooled !== entry || entry.users > 0) return;
    pooled = undefined;
    void closeQuietly(entry);
  }, IDLE_CLOSE_MS);
}
