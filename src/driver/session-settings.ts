/**
 * The settings every session (or, behind a transaction pooler, every transaction) of a pool runs
 * with: the schema binding, the statement timeout and the caller's `sessionSettings`. Where the
 * session is the unit, they travel in the startup packet (`options`) and cost no round trip; where
 * it is not, each transaction starts with `SET LOCAL` of the same values (see topology.ts).
 */

export interface SessionSettings {
  /** Already quoted: `"ue_test_x"`. */
  searchPath: string | undefined;
  /** 0 = no bound. */
  statementTimeoutMs: number;
  applicationName: string | undefined;
  /** Validated GUC name → value: the DSN's `options`, then `ConnectionOptions.sessionSettings`. */
  settings: Readonly<Record<string, string>>;
}

/** `"name"` with embedded quotes doubled: safe for any schema name without a NUL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."name"`, both parts quoted. */
export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

/** `'text'` with embedded quotes doubled (standard_conforming_strings is on since PostgreSQL 9.1). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A GUC name as SET accepts it unquoted: `work_mem`, `lock_timeout`, `myext.flag`. */
const GUC_NAME = /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?$/i;

/** Names with their own option: setting them twice would leave two sources of truth. */
const OWNED_ELSEWHERE: Record<string, string> = {
  search_path: 'options.schema',
  statement_timeout: 'options.statementTimeoutMs',
  application_name: 'options.applicationName',
};

/** Checks `ConnectionOptions.sessionSettings`; throws a TypeError naming the bad entry. */
export function validateSessionSettings(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('options.sessionSettings must be an object of setting name → string');
  const out: Record<string, string> = {};
  for (const [name, setting] of Object.entries(value as Record<string, unknown>)) {
    if (!GUC_NAME.test(name))
      throw new TypeError(
        `options.sessionSettings: ${JSON.stringify(name)} is not a PostgreSQL setting name`,
      );
    const owner = OWNED_ELSEWHERE[name.toLowerCase()];
    if (owner) throw new TypeError(`options.sessionSettings: set ${name} with ${owner} instead`);
    if (typeof setting !== 'string' || setting.includes('\0'))
      throw new TypeError(
        `options.sessionSettings.${name} must be a string without NUL characters`,
      );
    out[name] = setting;
  }
  return out;
}

/**
 * The settings of libpq's `options` value (`-c name=value`, `-cname=value`, `--name=value`,
 * backslash escaping spaces), as a record, so that they can be bound like any other setting,
 * also where a pooler drops the startup parameter. Anything else (other postgres switches) is
 * refused: it could not be replayed per transaction.
 */
export function parseStartupOptions(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  for (let i = 0; i < words.length; i++) {
    let pair: string | undefined;
    if (words[i] === '-c') pair = words[++i];
    else if (words[i].startsWith('-c')) pair = words[i].slice(2);
    else if (words[i].startsWith('--')) pair = words[i].slice(2);
    const eq = pair === undefined ? -1 : pair.indexOf('=');
    const name = (pair?.slice(0, eq) ?? '').replace(/-/g, '_');
    if (pair === undefined || eq < 1 || !GUC_NAME.test(name))
      throw new TypeError(
        `options: ${JSON.stringify(words[i] ?? '-c')} is not "-c name=value"; only settings can be passed in options`,
      );
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Every GUC the pool binds, in the order they are applied: the caller's settings, then the schema
 * and the timeout. Empty when nothing is bound.
 */
export function boundSettings(settings: SessionSettings): Record<string, string> {
  return {
    ...settings.settings,
    ...(settings.searchPath !== undefined ? { search_path: settings.searchPath } : {}),
    ...(settings.statementTimeoutMs > 0
      ? { statement_timeout: String(settings.statementTimeoutMs) }
      : {}),
  };
}

/**
 * Value of libpq's `options` startup parameter (`-c name=value ...`). The server splits it on
 * spaces, so spaces and backslashes inside a value are escaped with a backslash.
 */
export function startupOptions(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value.replace(/[\\ ]/g, (c) => `\\${c}`)}`)
    .join(' ');
}

/**
 * `default_transaction_*` only shape transactions that start later; SET LOCAL right after BEGIN
 * must also set the running transaction's own characteristic, which PostgreSQL allows before the
 * transaction's first query.
 */
const CURRENT_TRANSACTION: Record<string, string> = {
  default_transaction_isolation: 'transaction_isolation',
  default_transaction_read_only: 'transaction_read_only',
  default_transaction_deferrable: 'transaction_deferrable',
};

/**
 * `SET LOCAL a = 'x'; SET LOCAL search_path = "s"`: the same settings, for one transaction. The
 * search path is an identifier list and keeps its quoted form; every other value is a literal.
 */
export function setLocalStatements(settings: Record<string, string>): string {
  return Object.entries(settings)
    .flatMap(([name, value]) => {
      if (name === 'search_path') return [`SET LOCAL search_path = ${value}`];
      const current = CURRENT_TRANSACTION[name.toLowerCase()];
      return [
        `SET LOCAL ${name} = ${quoteLiteral(value)}`,
        ...(current ? [`SET LOCAL ${current} = ${quoteLiteral(value)}`] : []),
      ];
    })
    .join('; ');
}
