/**
 * Jest runs each test file in its own vm context (a "realm": its own Date, Error, Object...). The
 * worker's pool lives outside it, so the rows and errors it produces belong to the outer realm,
 * where `toBeInstanceOf(Date)` and `instanceof DatabaseError` (as the store's error mapping uses
 * it) are false. `bridgeConnection` re-creates values in the realm of the module instance that
 * calls it: the environment uses it for parameters going out, the sandbox for rows and errors
 * coming back.
 */
import * as driverErrors from '../driver/errors';
import type {
  Connection,
  QueryOptions,
  QueryParam,
  QueryResult,
  Queryable,
  TransactionScope,
} from '../driver/port';

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

export interface BridgeDirections {
  /** Adopt query parameters (the side that owns the driver). */
  params: boolean;
  /** Adopt rows and errors (the side that runs the test code). */
  results: boolean;
}

function adoptParams(params: readonly QueryParam[] | undefined): readonly QueryParam[] | undefined {
  return params?.map((param) => adoptValue(param) as QueryParam);
}

function adoptResult<Row>(result: QueryResult<Row>): QueryResult<Row> {
  return {
    rows: Array.from(result.rows, (row) => adoptValue(row) as Row),
    rowCount: result.rowCount,
  };
}

/** Runs `work`; with `results`, a rejection is adopted into this realm. */
export async function relay<T>(work: () => Promise<T>, results = true): Promise<T> {
  if (!results) return work();
  try {
    return await work();
  } catch (error) {
    throw adoptError(error);
  }
}

function bridgeQueryable(target: Queryable, directions: BridgeDirections): Queryable['query'] {
  return <Row = Record<string, unknown>>(
    sql: string,
    params?: readonly QueryParam[],
    options?: QueryOptions,
  ) =>
    relay(async () => {
      const result = await target.query<Row>(
        sql,
        directions.params ? adoptParams(params) : params,
        options?.prepare === true ? { prepare: true } : undefined,
      );
      return directions.results ? adoptResult(result) : result;
    }, directions.results);
}

function bridgeScope(scope: TransactionScope, directions: BridgeDirections): TransactionScope {
  return {
    query: bridgeQueryable(scope, directions),
    savepoint: (fn) =>
      relay(
        () => scope.savepoint((inner) => fn(bridgeScope(inner, directions))),
        directions.results,
      ),
  };
}

/**
 * `connection` seen from this module's realm. `close()` is not forwarded: the pool belongs to the
 * preset, which ends it when the file (or the worker) is done, whatever a store's close() does.
 */
export function bridgeConnection(connection: Connection, directions: BridgeDirections): Connection {
  return {
    driver: connection.driver,
    schema: connection.schema,
    query: bridgeQueryable(connection, directions),
    transaction: (fn) =>
      relay(
        () => connection.transaction((scope) => fn(bridgeScope(scope, directions))),
        directions.results,
      ),
    close: async () => {},
  };
}
