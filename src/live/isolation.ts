/**
 * Naming of everything a live run creates, and identifier quoting. Run schemas are recognised by
 * a strict regular expression (never SQL LIKE, whose `_` is a wildcard), so no object a provider
 * owns can be mistaken for one of ours.
 */
import { randomBytes } from 'node:crypto';
import { qualifiedName as qualifiedNameOf, quoteIdentifier } from '../driver/session-settings';
import { InvalidArgumentError } from './errors';

/** Every worker schema starts with this; the ledger table shares the stem. */
export const RUN_SCHEMA_PREFIX = 'user_engine_live_';

const RUN_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const RUN_ID_LENGTH = 10;
const RUN_ID = /^[a-z0-9]{10}$/;
/** Jest worker ids are small positive integers; we accept 0..999999 written canonically. */
const WORKER_ID = /^(0|[1-9][0-9]{0,5})$/;
/** The number of a worker's fresh schema: 1..999999 written canonically. */
const FRESH_NUMBER = /^[1-9][0-9]{0,5}$/;
/**
 * Source of the run-schema pattern: a worker schema, optionally followed by `_f<n>` (one of the
 * worker's fresh, unmigrated schemas). The ledger's CHECK constraint uses the same text.
 */
export const RUN_SCHEMA_PATTERN =
  '^user_engine_live_[a-z0-9]{10}_(0|[1-9][0-9]{0,5})(_f[1-9][0-9]{0,5})?$';
const RUN_SCHEMA = new RegExp(RUN_SCHEMA_PATTERN);
const FRESH_SCHEMA = /_f[1-9][0-9]{0,5}$/;

/**
 * A fresh run id: 10 characters of `[a-z0-9]` from a CSPRNG (≈51 bits, so two runs sharing a
 * database never pick the same one in practice).
 */
export function newRunId(): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 36).
  const limit = 256 - (256 % RUN_ID_ALPHABET.length);
  let id = '';
  while (id.length < RUN_ID_LENGTH) {
    for (const byte of randomBytes(RUN_ID_LENGTH * 2)) {
      if (byte < limit && id.length < RUN_ID_LENGTH)
        id += RUN_ID_ALPHABET[byte % RUN_ID_ALPHABET.length];
    }
  }
  return id;
}

/** True for a well-formed run id (10 characters of `[a-z0-9]`). */
export function isRunId(value: unknown): value is string {
  return typeof value === 'string' && RUN_ID.test(value);
}

/** Throws `InvalidArgumentError` naming `field` unless `value` is a well-formed run id. */
export function assertRunId(value: unknown, field = 'runId'): asserts value is string {
  if (!isRunId(value)) {
    throw new InvalidArgumentError(
      field,
      `expected 10 characters of [a-z0-9], got ${describe(value)}`,
    );
  }
}

/**
 * The schema of one Jest worker of one run: `user_engine_live_<runId>_<workerId>`.
 * `workerId` is Jest's `JEST_WORKER_ID` (a positive integer, as number or string).
 */
export function workerSchemaName(runId: string, workerId: string | number): string {
  assertRunId(runId);
  const worker = typeof workerId === 'number' ? String(workerId) : workerId;
  if (typeof worker !== 'string' || !WORKER_ID.test(worker)) {
    throw new InvalidArgumentError(
      'workerId',
      `expected an integer 0..999999 without leading zeros, got ${describe(workerId)}`,
    );
  }
  return `${RUN_SCHEMA_PREFIX}${runId}_${worker}`;
}

/**
 * Fresh schema number `n` of a worker: `user_engine_live_<runId>_<workerId>_f<n>`, an empty
 * schema that `createFreshStore` hands out unmigrated. Same run id, so the run's end and garbage
 * collection drop it like the worker schema.
 */
export function freshSchemaName(runId: string, workerId: string | number, n: number): string {
  const worker = workerSchemaName(runId, workerId);
  if (!Number.isSafeInteger(n) || !FRESH_NUMBER.test(String(n))) {
    throw new InvalidArgumentError('n', `expected an integer 1..999999, got ${describe(n)}`);
  }
  return `${worker}_f${n}`;
}

/**
 * True only for names `workerSchemaName` or `freshSchemaName` can produce (exact match,
 * case-sensitive).
 */
export function isRunSchemaName(name: unknown): name is string {
  return typeof name === 'string' && RUN_SCHEMA.test(name);
}

/** True only for names `freshSchemaName` can produce. */
export function isFreshSchemaName(name: unknown): name is string {
  return isRunSchemaName(name) && FRESH_SCHEMA.test(name);
}

/** The run id embedded in a run schema name, or `undefined` for any other name. */
export function runIdOfSchema(name: string): string | undefined {
  return isRunSchemaName(name)
    ? name.slice(RUN_SCHEMA_PREFIX.length, RUN_SCHEMA_PREFIX.length + RUN_ID_LENGTH)
    : undefined;
}

/**
 * Quotes an identifier for SQL: always double-quoted, embedded `"` doubled. Every identifier
 * this package sends goes through here, even ones we generated, so quoting never depends on
 * a name being "safe". Rejects what PostgreSQL cannot store in a name (empty, NUL).
 */
export function quoteIdent(name: string): string {
  return quoteIdentifier(checkedIdentifier(name));
}

/** `"schema"."name"`, both parts checked as `quoteIdent` checks them, then quoted. */
export function qualifiedName(schema: string, name: string): string {
  return qualifiedNameOf(checkedIdentifier(schema), checkedIdentifier(name));
}

function checkedIdentifier(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError('identifier', 'must be a non-empty string');
  }
  if (name.includes('\u0000')) {
    throw new InvalidArgumentError('identifier', 'must not contain a NUL character');
  }
  return name;
}

/** The application_name sessions of a run report, so lock holders can be named in errors. */
export function applicationName(runId: string): string {
  assertRunId(runId);
  return `${APPLICATION_NAME_PREFIX}${runId}`;
}

export const APPLICATION_NAME_PREFIX = 'user-engine-live:';

/** The run id an application_name set by `applicationName` carries, else `undefined`. */
export function runIdOfApplicationName(name: string | null | undefined): string | undefined {
  if (!name?.startsWith(APPLICATION_NAME_PREFIX)) return undefined;
  const id = name.slice(APPLICATION_NAME_PREFIX.length);
  return isRunId(id) ? id : undefined;
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'number' ? String(value) : typeof value;
}
