/**
 * Jest runs each test file in its own vm context (a "realm": its own Date, Error, Object...). The
 * worker's pool lives outside it, so the rows and errors it produces belong to the outer realm,
 * where `toBeInstanceOf(Date)` and `instanceof DatabaseError` (as the store's error mapping uses
 * it) are false. `bridgeConnection` re-creates values in the realm of the module instance that
 * calls it: the environment uses it for parameters going out, the sandbox for rows and errors
 * coming back.
 */
import * as driverErrors from '../../driver/errors';
import type {
  Connection,
  QueryOptions,
  QueryParam,
  QueryResult,
  Queryable,
  TransactionScope,
} from '../../driver/port';

type ErrorClass = { prototype: Error };

const LOCAL_ERROR_CLASSES: Readonly<Record<string, ErrorClass>> = {
  DriverError: driverErrors.DriverError,
  DriverMissingError: driverErrors.DriverMissingError,
  ConnectionFailedError: driverErrors.ConnectionFailedError,
  ConnectionLostError: driverErrors.ConnectionLostError,
  DatabaseError: driverErrors.DatabaseError,
  ConnectionClosedError: driverErrors.ConnectionClosedError,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function tagOf(value: object): string {
  return Object.prototype.toString.call(value);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null) return true;
  // A plain object of another realm has that realm's Object.prototype, whose own prototype is null.
  return Object.getPrototypeOf(proto) === null && tagOf(value) === '[object Object]';
}

/** Dates, arrays and plain objects made in another realm, copied into this one; others as is. */
export function adoptValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (tagOf(value) === '[object Date]') return new Date((value as Date).getTime());
  if (Array.isArray(value)) return Array.from(value, adoptValue);
  if (ArrayBuffer.isView(value) || !isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) copy[key] = adoptValue(entry);
  return copy;
}

/** An error of another realm re-created with this realm's class of the same name. */
export function adoptError(error: unknown): unknown {
  if (error === null || typeof error !== 'object' || error instanceof Error) return error;
  if (tagOf(error) !== '[object Error]') return error;
  const name = (error as { name?: unknown }).name;
  const local =
    typeof name === 'string' && Object.hasOwn(LOCAL_ERROR_CLASSES, name)
      ? LOCAL_ERROR_CLASSES[name]
      : Error;
  const copy = Object.create(local.prototype) as Error;
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    if (descriptor) Object.defineProperty(copy, key, descriptor);
  }
  return copy;
}

/**
 * Which side of the sandbox boundary the calling module instance is on; it decides what crosses
 * into this realm. `'worker'`: the environment, which owns the driver, re-creates the parameters
 * test code passes. `'sandbox'`: the test file's side re-creates the rows and errors coming back.
 */
export type RealmSide = 'worker' | 'sandbox';

function adoptParams(params: readonly QueryParam[] | undefined): readonly QueryParam[] | undefined {
  return params?.map((param) => adoptValue(param) as QueryParam);
}

function adoptResult<Row>(result: QueryResult<Row>): QueryResult<Row> {
  return {
    rows: Array.from(result.rows, (row) => adoptValue(row) as Row),
    rowCount: result.rowCount,
  };
}

/** Runs `work` from the sandbox side: a rejection is adopted into this realm. */
export async function relay<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw adoptError(error);
  }
}

/** `work` as seen from `side`: only the sandbox side adopts what comes back. */
function across<T>(side: RealmSide, work: () => Promise<T>): Promise<T> {
  return side === 'sandbox' ? relay(work) : work();
}

function bridgeQueryable(target: Queryable, side: RealmSide): Queryable['query'] {
  return <Row = Record<string, unknown>>(
    sql: string,
    params?: readonly QueryParam[],
    options?: QueryOptions,
  ) =>
    across(side, async () => {
      // Options cross as a fresh object: only the one flag the port defines.
      const own = options?.prepare === true ? { prepare: true } : undefined;
      if (side === 'worker') return target.query<Row>(sql, adoptParams(params), own);
      return adoptResult(await target.query<Row>(sql, params, own));
    });
}

function bridgeScope(scope: TransactionScope, side: RealmSide): TransactionScope {
  return {
    query: bridgeQueryable(scope, side),
    savepoint: (fn) => across(side, () => scope.savepoint((inner) => fn(bridgeScope(inner, side)))),
  };
}

/**
 * `connection` seen from this module's realm. `close()` is not forwarded: the pool belongs to the
 * preset, which ends it when the file (or the worker) is done, whatever a store's close() does.
 */
export function bridgeConnection(connection: Connection, side: RealmSide): Connection {
  return {
    driver: connection.driver,
    schema: connection.schema,
    query: bridgeQueryable(connection, side),
    transaction: (fn) =>
      across(side, () => connection.transaction((scope) => fn(bridgeScope(scope, side)))),
    close: async () => {},
  };
}
