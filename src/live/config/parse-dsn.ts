/**
 * USER_ENGINE_LIVE_DSN → host, port, database, user, password, with pg-connection-string (the
 * parser `pg` itself uses, so the database acknowledged here is the one `pg` connects to).
 */
import { parse } from 'pg-connection-string';
import { redactDsnLoose, redactValidDsn } from '../../driver/dsn';
import { ENV } from './env';
import { quoted } from './text';
import { LiveConfigError, type LiveConfigErrorCode } from './errors';
import type { LiveTarget } from './types';

/** The DSN parts of a `LiveTarget` (./types), before the acknowledgement and driver are read. */
export type ParsedDsn = Pick<
  LiveTarget,
  'dsn' | 'redactedDsn' | 'host' | 'port' | 'database' | 'user' | 'password'
>;

export const DEFAULT_HOST = 'localhost';
export const DEFAULT_PORT = 5432;

const POSTGRES_SCHEME = /^postgres(?:ql)?:\/\//i;
const ANY_SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const PERCENT_HINT =
  'in the user name and password write @ : / ? # % , percent-encoded, e.g. @ as %40, / as %2F';
// Escapes decodeURI (and so pg-connection-string) leaves encoded: # $ & + , / : ; = ? @
const RESERVED_ESCAPE = /%(?:2[346bcf]|3[abdf]|40)/i;

/** Where the authority (`user:password@host:port`) and the path end in the raw text. */
function locate(dsn: string, authorityStart: number) {
  const offset = dsn.slice(authorityStart).search(/[/?#]/);
  const authorityEnd = offset < 0 ? dsn.length : authorityStart + offset;
  const authority = dsn.slice(authorityStart, authorityEnd);
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1);
  const pathOffset = dsn.slice(authorityEnd).search(/[?#]/);
  const path = dsn.slice(authorityEnd, pathOffset < 0 ? dsn.length : authorityEnd + pathOffset);
  // An `@` after the authority usually means a password with an unencoded / ? or #.
  const strayAt = dsn.indexOf('@', authorityEnd) >= 0;
  return { hostPart, path, strayAt };
}

/**
 * pg-connection-string reads files named by `sslcert`/`sslkey`/`sslrootcert` and prints a warning
 * for some `sslmode` values. None of them affects host, port, database or credentials, so they are
 * dropped from the copy we parse: deciding must stay free of I/O and output. `dsn` keeps them.
 */
function withoutSslOptions(dsn: string): string {
  const q = dsn.indexOf('?');
  if (q < 0) return dsn;
  const hash = dsn.indexOf('#', q);
  const end = hash < 0 ? dsn.length : hash;
  const kept = dsn
    .slice(q + 1, end)
    .split('&')
    .filter((pair) => {
      const key = [...new URLSearchParams(pair).keys()][0] ?? '';
      return !/^ssl/i.test(key) && key.toLowerCase() !== 'uselibpqcompat';
    });
  return `${dsn.slice(0, q)}${kept.length ? `?${kept.join('&')}` : ''}${dsn.slice(end)}`;
}

function badPort(hostPart: string): boolean {
  const match = hostPart.startsWith('[')
    ? /^\[[^\]]*\]:(.*)$/.exec(hostPart)
    : /^[^:]*:(.*)$/.exec(hostPart);
  if (!match) return false;
  const port = match[1];
  return port !== '' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

function tryParse(dsn: string): ReturnType<typeof parse> | Error {
  try {
    return parse(withoutSslOptions(dsn));
  } catch (error) {
    // Never forward the parser's message or error object: it may quote the input.
    return error instanceof URIError ? new URIError('bad escape') : new Error('unparsable');
  }
}

export function parseLiveDsn(dsn: string): ParsedDsn | LiveConfigError {
  const shown = quoted(redactDsnLoose(dsn));
  const fail = (code: LiveConfigErrorCode, problem: string, hint?: boolean) =>
    new LiveConfigError(
      code,
      ENV.dsn,
      `${ENV.dsn}=${shown} ${problem}${hint ? ` (${PERCENT_HINT})` : ''}`,
    );

  if (dsn.trim() === '') return fail('dsn_malformed', 'is blank: unset it to skip live tests');
  if (dsn !== dsn.trim()) {
    return fail('dsn_malformed', 'has leading or trailing whitespace: remove it');
  }
  if (/\p{Cc}/u.test(dsn)) return fail('dsn_malformed', 'contains control characters');
  if (!POSTGRES_SCHEME.test(dsn)) {
    const scheme = ANY_SCHEME.exec(dsn)?.[1];
    const problem = /^postgres(?:ql)?$/i.test(scheme ?? '')
      ? 'must start with postgres:// or postgresql:// (the // is missing)'
      : scheme
        ? `uses the scheme ${quoted(`${scheme}:`)}: only postgres:// and postgresql:// are supported`
        : 'is not a URL: write postgres://user:password@host:port/database';
    const embeddedHint =
      dsn.toLowerCase() === 'embedded' ? ' (for a throwaway server write exactly "embedded")' : '';
    return fail('dsn_scheme', `${problem}${embeddedHint}`);
  }

  const { hostPart, path, strayAt } = locate(dsn, dsn.indexOf('://') + 3);
  const hostList =
    'lists several hosts: the run ledger and its locks need exactly one server, name one host';
  if (hostPart.includes(',')) return fail('dsn_host_list', hostList, strayAt);

  const config = tryParse(dsn);
  if (config instanceof Error) {
    if (config instanceof URIError) {
      return fail('dsn_malformed', 'holds a % that does not start a valid escape (write %25)');
    }
    if (badPort(hostPart)) {
      return fail('dsn_port', 'has an invalid port: use an integer from 1 to 65535', strayAt);
    }
    return fail('dsn_malformed', 'is not a valid URL', true);
  }

  const host = config.host ?? '';
  if (host.includes(',')) return fail('dsn_host_list', hostList);
  const rawPort = config.port ?? '';
  const port = rawPort === '' ? DEFAULT_PORT : Number(rawPort);
  if (!/^\d*$/.test(rawPort) || !Number.isInteger(port) || port < 1 || port > 65535) {
    return fail('dsn_port', 'has an invalid port: use an integer from 1 to 65535', strayAt);
  }
  const database = config.database;
  if (!database) {
    const problem = 'names no database: add it as the path, e.g. postgres://localhost:5432/test';
    return fail('dsn_no_database', problem, strayAt);
  }
  if (database.includes('@')) {
    return fail('dsn_malformed', 'has an @ after the host, so it cannot be parsed reliably', true);
  }
  if (RESERVED_ESCAPE.test(path)) {
    return fail(
      'dsn_malformed',
      'has a percent-encoded reserved character (such as %2F) in the database name: drivers ' +
        'disagree on whether to decode it, so the name is ambiguous',
    );
  }
  return {
    dsn,
    // An `@` past the authority may end a user info the URL parser did not see as one.
    redactedDsn: strayAt ? redactDsnLoose(dsn) : redactValidDsn(dsn),
    host: host === '' ? DEFAULT_HOST : host,
    port,
    database,
    user: config.user || undefined,
    password: config.password || undefined,
  };
}
