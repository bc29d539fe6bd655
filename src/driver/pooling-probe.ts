/**
 * For `doctor`: which pooling mode a DSN leads to, told apart with two clients. Whether a pooler
 * is there at all comes from the first session (topology.ts); session and transaction pooling
 * differ in whether a client keeps its server session while another client holds a transaction:
 *
 * 1. client A sets a session-level placeholder setting and notes its backend pid;
 * 2. client B opens a transaction (taking a server session, in transaction mode likely A's, as
 *    PgBouncer reuses the most recently released one);
 * 3. while B's transaction is open, A reads the setting and its pid again.
 *
 * Same pid and the setting kept: session pooling. Another pid or the setting gone: transaction
 * (or statement) pooling. A's statement waiting for B's transaction to end: the pool had no other
 * server session for A, so sessions are shared between clients: transaction pooling too. The probe
 * leaves a placeholder setting (`user_engine.pooling_probe`, no effect on anything) on at most one
 * server session.
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from './create-connection';
import type { DriverLoader } from './load-driver';
import { nodeDriverLoader } from './load-driver';
import type { BoundConnection, ConnectionOptions } from './port';

export type PoolingMode = 'none' | 'session' | 'transaction' | 'unknown';

export interface PoolingProbe {
  mode: PoolingMode;
  /** One or two sentences: what was measured, for doctor's output. */
  evidence: string;
}

const PROBE_SETTING = 'user_engine.pooling_probe';
/** How long A's read may wait behind B's transaction before that counts as shared sessions. */
const BLOCKED_AFTER_MS = 1500;

interface Seen {
  value: string | null;
  pid: number;
}

async function readBack(a: BoundConnection): Promise<Seen> {
  const { rows } = await a.query<{ v: string | null; pid: number }>(
    `SELECT current_setting('${PROBE_SETTING}', true) AS v, pg_backend_pid() AS pid`,
  );
  return { value: rows[0].v, pid: Number(rows[0].pid) };
}

async function compare(a: BoundConnection, b: BoundConnection): Promise<PoolingProbe> {
  const token = randomBytes(6).toString('hex');
  const first = await a.query<{ pid: number }>(
    `SELECT set_config('${PROBE_SETTING}', $1, false), pg_backend_pid() AS pid`,
    [token],
  );
  const pidBefore = Number(first.rows[0].pid);
  let pending: Promise<Seen> | undefined;
  const during = await b.transaction(async (tx) => {
    await tx.query('SELECT pg_backend_pid()');
    pending = readBack(a);
    let timer: NodeJS.Timeout | undefined;
    const blocked = new Promise<'blocked'>((resolve) => {
      timer = setTimeout(() => resolve('blocked'), BLOCKED_AFTER_MS);
    });
    try {
      return await Promise.race([pending, blocked]);
    } finally {
      clearTimeout(timer);
    }
  });
  if (during === 'blocked') {
    await pending; // it runs once B's transaction has ended
    return {
      mode: 'transaction',
      evidence: `a statement of one client waited for another client's transaction to end: the pooler shares server sessions between clients (transaction pooling)`,
    };
  }
  if (during.pid === pidBefore && during.value === token)
    return {
      mode: 'session',
      evidence: `a client kept its server session (pid ${pidBefore}) and a session setting while another client held a transaction (session pooling)`,
    };
  return {
    mode: 'transaction',
    evidence: `a client's next statement ran on server session pid ${during.pid} (before: ${pidBefore}) and ${
      during.value === token ? 'kept' : 'lost'
    } its session setting: server sessions change between statements (transaction pooling)`,
  };
}

/**
 * Tells the pooling mode behind `dsn`: `none` (a direct server), `session`, `transaction`, or
 * `unknown` (the probe's statements failed; `evidence` says how). Opens two one-session pools and
 * closes them; connect failures reject as createConnection's do.
 */
export async function probePoolingMode(
  dsn: string,
  options: Pick<ConnectionOptions, 'driver' | 'connectTimeoutMs'> = {},
  loader: DriverLoader = nodeDriverLoader,
): Promise<PoolingProbe> {
  const base = { driver: options.driver, connectTimeoutMs: options.connectTimeoutMs, max: 1 };
  const a = await createConnection(dsn, base, loader);
  try {
    if (a.topology.pooler === 'none') return { mode: 'none', evidence: a.topology.evidence };
    const b = await createConnection(dsn, base, loader);
    try {
      return await compare(a, b);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        mode: 'unknown',
        evidence: `a pooler answers, but probing its mode failed: ${reason}`,
      };
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}
