/**
 * Settings every session the preset opens starts with, so that a provider role's defaults cannot
 * break a run: an idle pooled session or an idle transaction is never killed under the run, and
 * transactions run at READ COMMITTED (the contract's concurrency specs are written for it; a
 * SERIALIZABLE default would turn their expected waits into serialization failures). Lock waits of
 * the preset itself set their own transaction-local `lock_timeout` (./lock-wait); a test's own
 * waits keep the server's setting. `default_transaction_read_only` is deliberately NOT overridden:
 * a read-only role or standby is refused by ./preflight instead of being written through.
 */
export const PRESET_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  idle_session_timeout: '0',
  idle_in_transaction_session_timeout: '0',
  default_transaction_isolation: 'read committed',
});
