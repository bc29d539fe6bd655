import type { DriverName } from '../../driver/port';
import type { LiveConfigError } from './errors';

/** A database the run may use, parsed from `USER_ENGINE_LIVE_DSN` and acknowledged. */
export interface LiveTarget {
  /** The DSN exactly as given (query options such as `sslmode` included). Holds the password. */
  dsn: string;
  /** `dsn` with the password (userinfo and `password=` options) replaced by `***`. */
  redactedDsn: string;
  /** Host name, IP address (IPv6 without brackets) or unix socket directory; `localhost` if absent. */
  host: string;
  /** 5432 if absent. */
  port: number;
  /** Percent-decoded database name. */
  database: string;
  /** undefined: the driver picks its default (the OS user name). */
  user: string | undefined;
  password: string | undefined;
  /** undefined: the first installed of `pg`, `postgres`. */
  driver: DriverName | undefined;
  /** The acknowledged `USER_ENGINE_LIVE_RESET`; always equal to `database`. */
  resetAck: string;
}

export interface LiveOptions {
  /** Module path of a store factory; undefined = the built-in Postgres store. */
  storeFactory: string | undefined;
  /** Default 5000. */
  connectTimeoutMs: number;
  /**
   * Bound on every statement of a live run: the server's statement_timeout, and a client-side
   * deadline 500 ms later for a server or network gone silent. Default 30000; 0 = none.
   */
  statementTimeoutMs: number;
  /** Keep this run's schemas after the run (for debugging); default false. */
  keepSchemas: boolean;
  /**
   * How long one renewal of the run's lease in the ledger keeps the run alive, and how long another
   * run's lease must have been expired before this run's garbage collection takes it. Default 30000.
   */
  leaseMs: number;
  /** How often the Jest parent process renews the lease; at most leaseMs / 3. Default 5000. */
  heartbeatMs: number;
}

export type LiveDecision =
  /** Silent skip: live tests are not run and nothing is printed. */
  | { kind: 'skip'; reason: string }
  | { kind: 'live'; target: LiveTarget; options: LiveOptions; required: boolean }
  /** `USER_ENGINE_LIVE_DSN=embedded`: a throwaway server of the run's own (no acknowledgement). */
  | {
      kind: 'embedded';
      options: LiveOptions;
      required: boolean;
      createOsUser: boolean;
      driver: DriverName | undefined;
    }
  /** Fail closed before any test runs. */
  | { kind: 'error'; error: LiveConfigError };
