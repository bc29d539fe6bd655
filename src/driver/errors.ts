/**
 * Errors the driver port raises. Adapters translate whatever their driver throws into these, with
 * any password already removed, so nothing above the port depends on a driver's error shapes.
 */
import { CodedError } from '../coded-error';

export type DriverErrorCode =
  | 'driver_missing'
  | 'connection_failed'
  | 'tls_verification_failed'
  | 'connection_lost'
  | 'query_timeout'
  | 'database_error'
  | 'connection_closed';

export class DriverError extends CodedError<DriverErrorCode> {}

/** Neither `pg` nor `postgres` (or not the one asked for) could be loaded. */
export class DriverMissingError extends DriverError {
  constructor(message: string) {
    super('driver_missing', message);
  }
}

/** Could not open a session: refused, unreachable, timed out, auth failed, no such database. */
export class ConnectionFailedError extends DriverError {
  constructor(
    message: string,
    options?: { cause?: unknown },
    code: 'connection_failed' | 'tls_verification_failed' = 'connection_failed',
  ) {
    super(code, message, options);
  }
}

/**
 * The server's TLS certificate did not verify under the DSN's sslmode (unknown CA, self-signed,
 * expired, or not naming the host). The message names the host, the mode and how to supply the CA.
 */
export class TlsVerificationError extends ConnectionFailedError {
  /** The sslmode that asked for the verification. */
  readonly sslmode: string;
  constructor(message: string, sslmode: string, options?: { cause?: unknown }) {
    super(message, options, 'tls_verification_failed');
    this.sslmode = sslmode;
  }
}

/** An open session died mid-use (server gone, socket cut). */
export class ConnectionLostError extends DriverError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('connection_lost', message, options);
  }
}

/** The server rejected a statement; `sqlState` is its SQLSTATE (e.g. 23505). */
export class DatabaseError extends DriverError {
  readonly sqlState: string;
  /** Constraint name for integrity violations, when the server reports one. */
  readonly constraint: string | undefined;
  constructor(sqlState: string, message: string, constraint?: string) {
    super('database_error', `${message} (SQLSTATE ${sqlState})`);
    this.sqlState = sqlState;
    this.constraint = constraint;
  }
}

/** No answer within statementTimeoutMs + a grace period: the server or the network went silent. */
export class QueryTimeoutError extends DriverError {
  constructor(message: string) {
    super('query_timeout', message);
  }
}

export class ConnectionClosedError extends DriverError {
  constructor() {
    super('connection_closed', 'connection pool is closed');
  }
}
