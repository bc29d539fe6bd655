/**
 * Live configuration: decides from the environment and Jest's `testEnvironmentOptions` whether a
 * run skips live tests, uses a given database, starts an embedded one, or fails closed. Pure: no
 * I/O, no driver load, no output. Reads only the five `ENV` variables (never DATABASE_URL, PG*).
 *
 * Checks run in a fixed order and the first failure wins (docs/configuration.md):
 * 1. USER_ENGINE_LIVE_REQUIRED's value (it decides whether a missing DSN is an error);
 * 2. USER_ENGINE_LIVE_DSN (missing → skip or error; then malformed → error);
 * 3. the acknowledgement USER_ENGINE_LIVE_RESET (or, for `embedded`, ..._EMBEDDED_CREATE_USER);
 * 4. USER_ENGINE_LIVE_DRIVER;
 * 5. testEnvironmentOptions.userEngineLive.
 * Without a DSN nothing but (1) is consulted: an ordinary run skips silently.
 */
import { ENV, readDriver, readFlag, type Env } from './config/env';
import { LiveConfigError } from './config/errors';
import { readOptions } from './config/options';
import { parseLiveDsn, type ParsedDsn } from './config/parse-dsn';
import { printable, quoted, shellValue } from './config/text';
import type { LiveDecision, LiveOptions } from './config/types';

export { ENV } from './config/env';
export { LiveConfigError, type LiveConfigErrorCode } from './config/errors';
export { DEFAULT_OPTIONS, OPTIONS_PATH } from './config/options';
export { DEFAULT_HOST, DEFAULT_PORT } from './config/parse-dsn';
export type { LiveDecision, LiveOptions, LiveTarget } from './config/types';

/** The value of USER_ENGINE_LIVE_DSN that asks for a throwaway server (exact, case-sensitive). */
export const EMBEDDED_DSN = 'embedded';

function ackSentence(database: string): string {
  return (
    `set ${ENV.reset}=${shellValue(database)} to confirm that user_engine_live_* schemas in ` +
    `database ${quoted(database)} may be created and dropped`
  );
}

/** Names the near miss, since "Test" vs "test" or a trailing space is invisible in a CI log. */
function nearMiss(given: string, database: string): string {
  if (given.trim() === database) return ' (differs only in surrounding whitespace)';
  if (given.toLowerCase() === database.toLowerCase()) return ' (differs only in letter case)';
  if (given.normalize('NFC') === database.normalize('NFC')) {
    return ' (differs only in Unicode normalization)';
  }
  try {
    if (decodeURIComponent(given) === database) return ' (use the decoded name, not %-escapes)';
  } catch {
    // not percent-encoded; no hint
  }
  return '';
}

function checkAcknowledgement(env: Env, parsed: ParsedDsn): LiveConfigError | undefined {
  const given = env[ENV.reset];
  if (given === undefined || given === '') {
    return new LiveConfigError(
      'reset_missing',
      ENV.reset,
      `${ENV.reset} is not set: ${ackSentence(parsed.database)}`,
    );
  }
  if (given === parsed.database) return undefined;
  return new LiveConfigError(
    'reset_mismatch',
    ENV.reset,
    `${ENV.reset}=${quoted(given)} does not match the database of ${ENV.dsn} ` +
      `(${parsed.redactedDsn})${nearMiss(given, parsed.database)}: ${ackSentence(parsed.database)}`,
  );
}

function failed(error: LiveConfigError): LiveDecision {
  return { kind: 'error', error };
}

export function decideLive(env: Env, jestOptions?: unknown): LiveDecision {
  const required = readFlag(env, ENV.required);
  if (required instanceof LiveConfigError) return failed(required);

  const dsn = env[ENV.dsn];
  if (dsn === undefined || dsn === '') {
    if (!required) return { kind: 'skip', reason: `${ENV.dsn} is not set: live tests are skipped` };
    return failed(
      new LiveConfigError(
        'dsn_missing',
        ENV.dsn,
        `${ENV.required}=${env[ENV.required] ?? ''} demands live tests but ${ENV.dsn} is not ` +
          `set: set it to postgres://user:password@host:port/database (or ${EMBEDDED_DSN}), ` +
          `or unset ${ENV.required}`,
      ),
    );
  }

  if (dsn === EMBEDDED_DSN) {
    const createOsUser = readFlag(env, ENV.createUser);
    if (createOsUser instanceof LiveConfigError) return failed(createOsUser);
    const driver = readDriver(env);
    if (driver instanceof LiveConfigError) return failed(driver);
    const options = readOptions(jestOptions);
    if (options instanceof LiveConfigError) return failed(options);
    return { kind: 'embedded', options, required, createOsUser, driver };
  }

  const parsed = parseLiveDsn(dsn);
  if (parsed instanceof LiveConfigError) return failed(parsed);
  const ackError = checkAcknowledgement(env, parsed);
  if (ackError) return failed(ackError);
  const driver = readDriver(env);
  if (driver instanceof LiveConfigError) return failed(driver);
  const options = readOptions(jestOptions);
  if (options instanceof LiveConfigError) return failed(options);
  return {
    kind: 'live',
    target: { ...parsed, driver, resetAck: parsed.database },
    options,
    required,
  };
}

function describeOptions(options: LiveOptions, driver: string | undefined, required: boolean) {
  return [
    `driver ${driver ?? 'auto (pg, else postgres)'}`,
    `store ${options.storeFactory ?? 'built-in postgres'}`,
    `connect timeout ${options.connectTimeoutMs} ms`,
    options.keepSchemas ? 'schemas kept after the run' : 'schemas dropped after the run',
    required ? 'required' : 'not required',
  ].join(', ');
}

/** One redacted line for humans (the doctor CLI): what this configuration will do. */
export function describeDecision(decision: LiveDecision): string {
  switch (decision.kind) {
    case 'skip':
      return printable(`skip: ${decision.reason}`);
    case 'error':
      return printable(`error [${decision.error.code}]: ${decision.error.message}`);
    case 'embedded':
      return printable(
        `embedded: a throwaway PostgreSQL server for this run (OS user creation ` +
          `${decision.createOsUser ? 'allowed' : 'not allowed'}); ` +
          describeOptions(decision.options, decision.driver, decision.required),
      );
    case 'live': {
      const { target } = decision;
      return printable(
        `live: ${target.redactedDsn} → database ${quoted(target.database)} on ` +
          `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port} as ${target.user ?? 'the OS user'}; ` +
          describeOptions(decision.options, target.driver, decision.required),
      );
    }
  }
}
