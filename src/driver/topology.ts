/**
 * What sits between this package and PostgreSQL, measured on the first session of a pool, and
 * how the schema and settings are therefore bound.
 *
 * Two facts are checked, both in the one statement that proves the target answers:
 * - pooler presence: the process id the session's BackendKeyData announced against
 *   `pg_backend_pid()`. A server announces its own backend; PgBouncer, Pgpool-II, Supavisor and
 *   pgcat announce a key of their own, because they route cancel requests themselves.
 * - whether the `options` startup parameter arrived: it carries a probe setting next to the
 *   schema and settings, read back with `current_setting`. PgBouncer's usual
 *   `ignore_startup_parameters = options` drops it silently.
 *
 * Binding is `session` only when both say the session is ours and carries the settings; in every
 * other case each transaction starts with `SET LOCAL` of them (one round trip together with BEGIN)
 * and a lone statement runs in such a transaction. A session-mode pooler would keep session state,
 * but telling it from transaction mode takes two clients (see probePoolingMode); per-transaction
 * binding is correct under both, so the cheap check is enough to stay safe.
 */
import type { Binding, PoolerPresence, StartupOptionsFate, Topology } from './port';
import { boundSettings, setLocalStatements, type SessionSettings } from './session-settings';

/** A placeholder setting (custom settings need a dot) that only the startup packet sets. */
export const BINDING_PROBE_SETTING = 'user_engine.binding_probe';

export interface BindingPlan {
  /** GUCs the startup packet carries (probe included), or undefined when nothing is bound. */
  startupSettings: Record<string, string> | undefined;
  /** The same settings as `SET LOCAL` statements, or undefined when nothing is bound. */
  prelude: string | undefined;
  /** The token the probe setting must read back as. */
  token: string;
}

export function planBinding(settings: SessionSettings, token: string): BindingPlan {
  const bound = boundSettings(settings);
  if (Object.keys(bound).length === 0)
    return { startupSettings: undefined, prelude: undefined, token };
  return {
    startupSettings: { ...bound, [BINDING_PROBE_SETTING]: token },
    prelude: setLocalStatements(bound),
    token,
  };
}

/**
 * Named prepared statements live in one server session. They are safe only where that session is
 * provably ours from statement to statement: no pooler answered for the server (a transaction
 * pooler before PgBouncer 1.21 hands the next statement to another session, which never saw the
 * statement) and the settings are bound to the session itself.
 */
export function allowsNamedStatements(topology: Topology): boolean {
  return topology.pooler === 'none' && topology.binding === 'session';
}

export const TOPOLOGY_PROBE_SQL = `SELECT pg_backend_pid() AS pid, current_setting('${BINDING_PROBE_SETTING}', true) AS probe`;

/** The topology implied by one probed session. */
export function decideTopology(
  plan: BindingPlan,
  probe: { backendKeyPid: number | undefined; row: Record<string, unknown> },
  optionsSent = true,
): Topology {
  const serverPid = Number(probe.row.pid);
  const keyPid = probe.backendKeyPid;
  const pooler: PoolerPresence = keyPid !== undefined && keyPid === serverPid ? 'none' : 'detected';
  const startupOptions: StartupOptionsFate =
    plan.startupSettings === undefined
      ? 'not-sent'
      : !optionsSent
        ? 'refused'
        : probe.row.probe === plan.token
          ? 'honoured'
          : 'dropped';
  const binding: Binding =
    pooler === 'none' && (startupOptions === 'honoured' || startupOptions === 'not-sent')
      ? 'session'
      : 'per-transaction';
  const keyText =
    keyPid === undefined ? 'the driver reported no backend key' : `backend key pid ${keyPid}`;
  const optionsText = {
    'not-sent': 'no startup options were needed',
    refused: 'the startup options were refused, so the pool connected without them',
    honoured: 'startup options reached the server',
    dropped: 'startup options were dropped on the way',
  }[startupOptions];
  const evidence = `${keyText}, pg_backend_pid() ${serverPid}: ${
    pooler === 'none' ? 'no pooler' : 'a pooler answers for the server'
  }; ${optionsText}; binding ${binding}`;
  return { pooler, startupOptions, binding, evidence };
}
