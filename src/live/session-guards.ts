/**
 * Settings every session the preset opens starts with, so that a provider role's defaults cannot
 * break a run: an idle pooled session or an idle transaction is never killed under the run, and
 * transactions run at READ COMMITTED (the contract's concurrency specs are written for it; a
 * SERIALIZABLE default would turn their expected waits into serialization failures). Lock waits of
 * the preset itself are bounded by `lock_timeout` (./lock-wait): a session setting of the ledger's
 * own pools, transaction-local elsewhere; a test's own waits keep the server's setting. `default_transaction_read_only` is deliberately NOT overridden:
 * a read-only role or standby is refused by ./preflight instead of being written through.
 */
import { createConnection } from '../driver/create-connection';
import type { BoundConnection, ConnectionOptions } from '../driver/port';
import { lockTimeoutSetting } from './lock-wait';

export const PRESET_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  idle_session_timeout: '0',
  idle_in_transaction_session_timeout: '0',
  default_transaction_isolation: 'read committed',
});

/**
 * Added to the sessions of worker pools only (the worker schema and fresh schemas): their data is
 * disposable, so a commit need not wait for the WAL flush (~10% of a live run on this kind of
 * machine). Never for the run's own ledger writes (globalSetup, teardown, gc), nor for any session
 * the preset does not open: a provider's own sessions keep the server's setting.
 */
export const WORKER_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  ...PRESET_SESSION_SETTINGS,
  synchronous_commit: 'off',
});

/**
 * The sessions of the run's own ledger work (the Jest parent's pool, `gc`): every statement on
 * them is the preset's, so the bound on lock waits is a session setting there, which spares each
 * lock-bounded transaction its `set_config` (./lock-wait). Never on worker pools, where a test's
 * own lock waits keep the server's setting.
 */
export function ledgerSessionSettings(lockTimeoutMs: number): Readonly<Record<string, string>> {
  return Object.freeze({
    ...PRESET_SESSION_SETTINGS,
    lock_timeout: lockTimeoutSetting(lockTimeoutMs),
    ...NO_JIT,
  });
}

/**
 * The check for objects outside a run schema that depend on it (./schema-drop) is estimated far
 * above `jit_above_cost` (its per-row catalog lookups), and JIT-compiling it took 40-90 ms per
 * schema here, for a query that runs in under 1 ms: that was most of a run's teardown. Nothing the
 * preset runs on its own sessions gains from JIT. Worker pools keep the server's setting (a test's
 * own queries run there), so a fresh schema's drop turns it off for its transaction only.
 */
export const NO_JIT: Readonly<Record<string, string>> = Object.freeze({ jit: 'off' });

/**
 * Settings an older server does not know, and so refuses the whole session over. Each only guards
 * something that server cannot do anyway: `idle_session_timeout` (PostgreSQL 14; on 13 no idle
 * session is ever timed out) and `jit` (11; before it nothing is JIT-compiled). Dropping them
 * there lets the server's version be read and refused by name (`server_too_old`) when it is too
 * old, instead of failing the connection.
 */
const DROPPABLE_ON_OLDER_SERVERS: readonly string[] = ['idle_session_timeout', 'jit'];

/** The droppable setting a connect error refuses as unknown, if any. */
function refusedSetting(error: unknown, settings: Readonly<Record<string, string>>) {
  if (!(error instanceof Error)) return undefined;
  return DROPPABLE_ON_OLDER_SERVERS.find(
    (name) =>
      name in settings && error.message.includes(`unrecognized configuration parameter "${name}"`),
  );
}

/**
 * Opens a preset pool with `settings` ({@link PRESET_SESSION_SETTINGS} unless a worker or ledger
 * pool). A server refuses the whole session over a setting it does not know, so on that refusal
 * of a setting in `DROPPABLE_ON_OLDER_SERVERS` the pool is opened again without it: one failed
 * connect on 13, none on 14 and later.
 */
export async function connectWithSessionGuards(
  dsn: string,
  options: Omit<ConnectionOptions, 'sessionSettings'>,
  settings: Readonly<Record<string, string>> = PRESET_SESSION_SETTINGS,
): Promise<BoundConnection> {
  let current = settings;
  for (;;) {
    try {
      return await createConnection(dsn, { ...options, sessionSettings: current });
    } catch (error) {
      const refused = refusedSetting(error, current);
      if (refused === undefined) throw error;
      current = Object.fromEntries(Object.entries(current).filter(([name]) => name !== refused));
    }
  }
}
