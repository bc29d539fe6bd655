/**
 * One translation of pg's and postgres.js's errors into the port's, so that both adapters report
 * the same failure the same way. Every message passes through `redactSecrets`.
 */
import { redactSecrets } from './dsn';
import { describeDsnTarget, type DsnTarget } from './dsn-target';
import {
  ConnectionFailedError,
  ConnectionLostError,
  DatabaseError,
  DriverError,
  TlsVerificationError,
} from './errors';

/** `connect`: opening a session; `use`: a statement on a session believed open. */
export type ErrorPhase = 'connect' | 'use';

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  severity?: unknown;
  constraint?: unknown;
  constraint_name?: unknown;
}

/** Codes that can only come from opening a session, whichever phase the driver reports them in. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOENT', // a Unix socket path that does not exist
  'CONNECT_TIMEOUT', // postgres.js
]);

/** A socket that was open and died. */
const LOST_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECTION_CLOSED', // postgres.js
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

const CONNECT_MESSAGES =
  /timeout expired|connection timeout|timeout exceeded when trying to connect/i;
const LOST_MESSAGES =
  /Connection terminated|not queryable|terminated unexpectedly|socket hang up|write after end/i;

/**
 * SQLSTATEs the server sends while refusing a session: bad password or role (class 28), no such
 * database (3D000), too many connections (53300), starting up or shutting down (57P03).
 */
function refusesSession(sqlState: string): boolean {
  return sqlState.startsWith('28') || ['3D000', '53300', '57P03'].includes(sqlState);
}

/** The server ended the session: terminated by an administrator, crash, idle timeout. */
function endsSession(sqlState: string): boolean {
  return sqlState.startsWith('08') || ['57P01', '57P02', '57P05'].includes(sqlState);
}

/** By shape, not `instanceof`: a driver's errors may come from another realm (Jest's sandbox). */
function textOf(error: unknown): string {
  const { message, name, errors } = (typeof error === 'object' && error !== null ? error : {}) as {
    message?: unknown;
    name?: unknown;
    errors?: unknown;
  };
  if (typeof message === 'string' && message !== '') return message;
  // Node reports a refused dual-stack `localhost` as an AggregateError with an empty message.
  if (Array.isArray(errors) && errors.length > 0) return errors.map(textOf).join('; ');
  return typeof name === 'string' ? name : String(error);
}

export interface ErrorContext {
  target: DsnTarget;
}

/** The driver's message, with its code appended when the message does not already say it. */
function causeOf(error: unknown, code: string | undefined): string {
  const text = textOf(error);
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** Node's codes for a certificate that did not verify (chain, validity, or the host name). */
const TLS_CHAIN_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);
const TLS_NAME_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

function tlsVerificationFailed(
  error: unknown,
  context: ErrorContext,
  code: string,
): TlsVerificationError {
  const { target } = context;
  const where = `could not connect to PostgreSQL at ${describeDsnTarget(target)}`;
  const fix = TLS_NAME_CODES.has(code)
    ? `the certificate does not name host "${target.host}": connect with a host name the certificate names, or use sslmode=verify-ca to verify the CA without the host name`
    : `supply the CA that signed the server's certificate with sslrootcert=/path/ca.pem in the DSN${
        target.sslrootcert ? ` (${target.sslrootcert} did not verify it)` : ''
      }, or use sslmode=require to encrypt without verifying`;
  return new TlsVerificationError(
    redactSecrets(
      `${where}: TLS certificate verification failed with sslmode=${target.sslmode}: ${causeOf(error, code)}. To fix: ${fix}`,
      [target.password],
    ),
    target.sslmode,
    { cause: error },
  );
}

function connectFailed(error: unknown, context: ErrorContext, code: string | undefined) {
  const { target } = context;
  if (code !== undefined && (TLS_CHAIN_CODES.has(code) || TLS_NAME_CODES.has(code)))
    return tlsVerificationFailed(error, context, code);
  const passwordHint =
    target.password === undefined &&
    // PostgreSQL says 28P01; PgBouncer says 08P01 with the same text.
    (code === '28P01' || /password authentication failed/i.test(textOf(error)))
      ? `. The DSN has no password (PGPASSWORD and ~/.pgpass are never read): put it in the DSN as postgres://${target.user}:PASSWORD@…`
      : '';
  const cause = `${causeOf(error, code)}${passwordHint}`;
  return new ConnectionFailedError(
    redactSecrets(`could not connect to PostgreSQL at ${describeDsnTarget(target)}: ${cause}`, [
      target.password,
    ]),
  );
}

function connectionLost(error: unknown, context: ErrorContext, code: string | undefined) {
  const { target } = context;
  const cause = causeOf(error, code);
  return new ConnectionLostError(
    redactSecrets(`connection to PostgreSQL at ${describeDsnTarget(target)} was lost: ${cause}`, [
      target.password,
    ]),
    { cause: error },
  );
}

/**
 * The port's error for whatever a driver threw. In the `use` phase, errors that are not the
 * driver's (a bug in a caller's callback, one of this package's own errors) come back unchanged.
 */
export function mapDriverError(error: unknown, phase: ErrorPhase, context: ErrorContext): unknown {
  if (error instanceof ConnectionFailedError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  const code = typeof shape.code === 'string' ? shape.code : undefined;
  // While opening a session every failure means the same to the caller: no session.
  if (phase === 'connect') {
    // An adapter may already have mapped it as lost: report the driver's error, not X twice.
    if (error instanceof ConnectionLostError && error.cause !== undefined)
      return mapDriverError(error.cause, phase, context);
    return connectFailed(error, context, code);
  }
  if (error instanceof DriverError || typeof error !== 'object' || error === null) return error;
  const isServerError =
    code !== undefined && /^[0-9A-Z]{5}$/.test(code) && typeof shape.severity === 'string';
  if (isServerError) {
    if (refusesSession(code)) return connectFailed(error, context, code);
    if (endsSession(code)) return connectionLost(error, context, code);
    const constraint = shape.constraint ?? shape.constraint_name;
    return new DatabaseError(
      code,
      redactSecrets(textOf(error), [context.target.password]),
      typeof constraint === 'string' ? constraint : undefined,
    );
  }
  const message = textOf(error);
  if ((code !== undefined && CONNECT_CODES.has(code)) || CONNECT_MESSAGES.test(message))
    return connectFailed(error, context, code);
  if ((code !== undefined && LOST_CODES.has(code)) || LOST_MESSAGES.test(message))
    return connectionLost(error, context, code);
  return error;
}
