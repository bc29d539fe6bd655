/**
 * `testEnvironmentOptions.userEngineLive`. A user's `testEnvironmentOptions` replaces the preset's
 * object outright, so defaults are merged here rather than relied on from the preset.
 */
import { LiveConfigError } from './errors';
import { printable } from './text';
import type { LiveOptions } from './types';

export const OPTIONS_PATH = 'testEnvironmentOptions.userEngineLive';
/** The option naming the provider's store factory module, as messages and errors name it. */
export const FACTORY_OPTION = `${OPTIONS_PATH}.storeFactory`;

export const DEFAULT_OPTIONS: Readonly<LiveOptions> = Object.freeze({
  storeFactory: undefined,
  connectTimeoutMs: 5000,
  keepSchemas: false,
  statementTimeoutMs: 30_000,
  leaseMs: 30_000,
  heartbeatMs: 5_000,
});

/** The lease of a run; the heartbeat renews it at least three times per lease. */
export const LEASE_MS_RANGE = { min: 1_000, max: 3_600_000 } as const;
export const HEARTBEAT_MS_MIN = 100;

export const CONNECT_TIMEOUT_RANGE = { min: 100, max: 600_000 } as const;
/** 0 switches the bound off; otherwise at least 100 ms so ordinary statements can finish. */
export const STATEMENT_TIMEOUT_RANGE = { min: 100, max: 3_600_000 } as const;

const KNOWN_KEYS: readonly (keyof LiveOptions)[] = [
  'storeFactory',
  'connectTimeoutMs',
  'statementTimeoutMs',
  'keepSchemas',
  'leaseMs',
  'heartbeatMs',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, safe rendering of whatever the user put in the option. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(text);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function invalid(path: string, expected: string, value: unknown): LiveConfigError {
  return new LiveConfigError(
    'option_invalid',
    path,
    `${path} must be ${expected} (got ${describeValue(value)})`,
  );
}

export function readOptions(jestOptions: unknown): LiveOptions | LiveConfigError {
  if (jestOptions === undefined || jestOptions === null) return { ...DEFAULT_OPTIONS };
  if (!isRecord(jestOptions)) {
    return invalid('testEnvironmentOptions', 'an object', jestOptions);
  }
  if (!Object.prototype.hasOwnProperty.call(jestOptions, 'userEngineLive')) {
    return { ...DEFAULT_OPTIONS };
  }
  const given: unknown = jestOptions.userEngineLive;
  if (given === undefined) return { ...DEFAULT_OPTIONS };
  if (!isRecord(given)) return invalid(OPTIONS_PATH, 'an object', given);

  const unknownKey = Object.keys(given)
    .sort()
    .find((key) => !(KNOWN_KEYS as readonly string[]).includes(key));
  if (unknownKey !== undefined) {
    return new LiveConfigError(
      'option_invalid',
      printable(`${OPTIONS_PATH}.${unknownKey}`),
      `${OPTIONS_PATH}.${unknownKey} is not a known option (known: ${KNOWN_KEYS.join(', ')})`,
    );
  }

  const options: LiveOptions = { ...DEFAULT_OPTIONS };
  const { storeFactory, connectTimeoutMs, keepSchemas, statementTimeoutMs } = given;
  if (statementTimeoutMs !== undefined) {
    const { min, max } = STATEMENT_TIMEOUT_RANGE;
    if (
      typeof statementTimeoutMs !== 'number' ||
      !Number.isInteger(statementTimeoutMs) ||
      (statementTimeoutMs !== 0 && (statementTimeoutMs < min || statementTimeoutMs > max))
    ) {
      return invalid(
        `${OPTIONS_PATH}.statementTimeoutMs`,
        `0 (no bound) or an integer number of milliseconds from ${min} to ${max}`,
        statementTimeoutMs,
      );
    }
    options.statementTimeoutMs = statementTimeoutMs;
  }
  if (storeFactory !== undefined) {
    if (typeof storeFactory !== 'string' || storeFactory.trim() === '') {
      return invalid(
        `${OPTIONS_PATH}.storeFactory`,
        'a non-empty module path string',
        storeFactory,
      );
    }
    if (storeFactory !== storeFactory.trim()) {
      return invalid(
        `${OPTIONS_PATH}.storeFactory`,
        'a module path without surrounding whitespace',
        storeFactory,
      );
    }
    options.storeFactory = storeFactory;
  }
  if (connectTimeoutMs !== undefined) {
    const { min, max } = CONNECT_TIMEOUT_RANGE;
    if (
      typeof connectTimeoutMs !== 'number' ||
      !Number.isInteger(connectTimeoutMs) ||
      connectTimeoutMs < min ||
      connectTimeoutMs > max
    ) {
      return invalid(
        `${OPTIONS_PATH}.connectTimeoutMs`,
        `an integer number of milliseconds from ${min} to ${max}`,
        connectTimeoutMs,
      );
    }
    options.connectTimeoutMs = connectTimeoutMs;
  }
  if (keepSchemas !== undefined) {
    if (typeof keepSchemas !== 'boolean') {
      return invalid(`${OPTIONS_PATH}.keepSchemas`, 'true or false', keepSchemas);
    }
    options.keepSchemas = keepSchemas;
  }
  return readLease(given, options);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** `leaseMs` and `heartbeatMs`; an unset heartbeat is 5000 or a third of the lease if shorter. */
function readLease(
  given: Record<string, unknown>,
  options: LiveOptions,
): LiveOptions | LiveConfigError {
  const { leaseMs, heartbeatMs } = given;
  if (leaseMs !== undefined) {
    const { min, max } = LEASE_MS_RANGE;
    if (!isInteger(leaseMs) || leaseMs < min || leaseMs > max) {
      return invalid(
        `${OPTIONS_PATH}.leaseMs`,
        `an integer number of milliseconds from ${min} to ${max}`,
        leaseMs,
      );
    }
    options.leaseMs = leaseMs;
  }
  const third = Math.floor(options.leaseMs / 3);
  if (heartbeatMs === undefined) {
    options.heartbeatMs = Math.min(DEFAULT_OPTIONS.heartbeatMs, third);
  } else if (!isInteger(heartbeatMs) || heartbeatMs < HEARTBEAT_MS_MIN || heartbeatMs > third) {
    return invalid(
      `${OPTIONS_PATH}.heartbeatMs`,
      `an integer number of milliseconds from ${HEARTBEAT_MS_MIN} to leaseMs / 3 (${third})`,
      heartbeatMs,
    );
  } else {
    options.heartbeatMs = heartbeatMs;
  }
  return options;
}
