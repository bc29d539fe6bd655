/**
 * A DSN parsed once into everything a session needs: where (host or socket directory, port), who
 * (database, user, password), what the session starts with (`options`, `application_name`) and how
 * it is protected (sslmode and its files). Both adapters get these values explicitly, never the
 * DSN text, so no driver default, `PG*` variable or `~/.pgpass` can change the target.
 *
 * The grammar is libpq's URI form: `postgres[ql]://[user[:password]@][host][:port][/dbname][?k=v&…]`,
 * with `%XX` escapes decoded in every part. In query values `+` is a space, as both drivers and
 * `URLSearchParams` (which writes a space as `+`) have it; elsewhere it is literal.
 */
import { userInfo } from 'node:os';
import { redactDsnLoose } from './dsn';
import { parseStartupOptions } from './session-settings';

export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Where a DSN points and how to open a session there; `password` is kept for the drivers only. */
export interface DsnTarget {
  /** A TCP host name or address (IPv6 without brackets), or a Unix socket directory (`/…`). */
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  /** libpq's `options` startup parameter as written in the DSN: only `-c name=value …`. */
  options: string | undefined;
  applicationName: string | undefined;
  /** libpq's default is `prefer`. */
  sslmode: SslMode;
  sslrootcert: string | undefined;
  sslcert: string | undefined;
  sslkey: string | undefined;
  /** `connect_timeout` from the DSN, in seconds; used when the caller sets no connect timeout. */
  connectTimeoutSeconds: number | undefined;
}

/** The query parameters this package understands; any other is refused, never ignored. */
const SUPPORTED_PARAMETERS = [
  'host',
  'port',
  'dbname',
  'user',
  'password',
  'options',
  'application_name',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'connect_timeout',
] as const;
type Parameter = (typeof SUPPORTED_PARAMETERS)[number];

/** What to do instead, for parameters people commonly copy from other drivers' DSNs. */
const HINTS: Record<string, string> = {
  ssl: 'use sslmode=require (or verify-full with sslrootcert=/path/ca.pem)',
  hostaddr: 'put the address in the host part of the DSN',
  target_session_attrs: 'the preset needs exactly one writable server: name it directly',
  uselibpqcompat: 'sslmode already has libpq semantics here: remove the parameter',
};

const DEFAULT_PORT = 5432;
const DEFAULT_HOST = 'localhost';

class DsnSyntaxError extends Error {}

/** `%XX` runs decoded as UTF-8; a `%` not followed by two hex digits is kept, as pg and libpq do. */
function decode(text: string, what: string): string {
  return text.replace(/(%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      throw new DsnSyntaxError(`the ${what} holds a percent-escape that is not valid UTF-8`);
    }
  });
}

function portOf(text: string, where: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw new DsnSyntaxError(`bad port ${text} (${where}): expected an integer from 1 to 65535`);
  return Number(text);
}

function noHostList(host: string): void {
  if (host.includes(','))
    throw new DsnSyntaxError(
      'host lists are not supported: the preset needs exactly one server, name one host',
    );
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`, `%2Fsocket%2Fdir`. */
function splitHostPort(text: string): { host: string | undefined; port: number | undefined } {
  if (text === '') return { host: undefined, port: undefined };
  noHostList(text);
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (v6) return { host: v6[1], port: v6[2] ? portOf(v6[2], 'in the URL') : undefined };
  const colon = text.lastIndexOf(':');
  const host = decode(colon < 0 ? text : text.slice(0, colon), 'host');
  const portText = colon < 0 ? '' : text.slice(colon + 1);
  return {
    host: host === '' ? undefined : host,
    port: portText === '' ? undefined : portOf(portText, 'in the URL'),
  };
}

function parseQuery(query: string): Map<Parameter, string> {
  const out = new Map<Parameter, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) throw new DsnSyntaxError(`query parameter "${decode(pair, 'query')}" has no value`);
    const key = decode(pair.slice(0, eq), 'query');
    if (!(SUPPORTED_PARAMETERS as readonly string[]).includes(key)) {
      const hint = HINTS[key] ? `; ${HINTS[key]}` : '';
      throw new DsnSyntaxError(
        `unsupported DSN parameter "${key}"${hint}. Supported: ${SUPPORTED_PARAMETERS.join(', ')}`,
      );
    }
    // As in libpq, a repeated parameter takes its last value.
    out.set(key as Parameter, decode(pair.slice(eq + 1).replace(/\+/g, ' '), `parameter ${key}`));
  }
  return out;
}

function sslModeOf(value: string | undefined): SslMode {
  if (value === undefined) return 'prefer';
  if ((SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
  const hint = value === 'no-verify' ? ' (pg\'s "no-verify" is libpq\'s "require")' : '';
  throw new DsnSyntaxError(`sslmode=${value} is not one of ${SSL_MODES.join(', ')}${hint}`);
}

function connectTimeoutOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new DsnSyntaxError(`connect_timeout=${value} is not a whole number of seconds`);
  // libpq: 0 means wait forever; values below 2 s are raised to 2 s.
  return Number(value) === 0 ? undefined : Math.max(2, Number(value));
}

/** libpq's default user: the operating-system user running the process, not `$USER`/`PGUSER`. */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

function parseTarget(dsn: string): DsnTarget {
  const scheme = /^postgres(?:ql)?:\/\//i.exec(dsn);
  if (!scheme) throw new DsnSyntaxError('expected postgres://user[:password]@host[:port]/database');
  const rest = dsn.slice(scheme[0].length).replace(/#.*$/s, '');
  const authorityLength = rest.search(/[/?]/);
  const authority = authorityLength < 0 ? rest : rest.slice(0, authorityLength);
  const afterAuthority = authorityLength < 0 ? '' : rest.slice(authorityLength);
  const queryStart = afterAuthority.indexOf('?');
  const path = queryStart < 0 ? afterAuthority : afterAuthority.slice(0, queryStart);
  const query = parseQuery(queryStart < 0 ? '' : afterAuthority.slice(queryStart + 1));

  // The last `@` ends the user info: a password may hold a raw `@`.
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const colon = userinfo === undefined ? -1 : userinfo.indexOf(':');
  const urlUser =
    userinfo === undefined ? '' : decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user');
  const urlPassword =
    userinfo === undefined || colon < 0 ? undefined : decode(userinfo.slice(colon + 1), 'password');
  const fromUrl = splitHostPort(authority.slice(at + 1));

  const hostParam = query.get('host');
  if (hostParam !== undefined) noHostList(hostParam);
  const host = hostParam || fromUrl.host || DEFAULT_HOST;
  const portParam = query.get('port');
  const port =
    portParam !== undefined && portParam !== ''
      ? portOf(portParam, 'in ?port=')
      : (fromUrl.port ?? DEFAULT_PORT);
  const user = query.get('user') || urlUser || osUser();
  const password = query.get('password') ?? urlPassword;
  const database = query.get('dbname') || decode(path.replace(/^\//, ''), 'database') || user;
  const sslmode = sslModeOf(query.get('sslmode'));
  if (host.startsWith('/') && sslmode !== 'disable' && sslmode !== 'prefer')
    throw new DsnSyntaxError(
      `sslmode=${sslmode} cannot protect a Unix socket (${host}): TLS is only used over TCP; use sslmode=disable or a TCP host`,
    );
  const options = query.get('options') || undefined;
  try {
    parseStartupOptions(options);
  } catch (error) {
    throw new DsnSyntaxError((error as Error).message);
  }
  return {
    host,
    port,
    database,
    user,
    password: password === '' ? undefined : password,
    options,
    applicationName: query.get('application_name'),
    sslmode,
    sslrootcert: query.get('sslrootcert') || undefined,
    sslcert: query.get('sslcert') || undefined,
    sslkey: query.get('sslkey') || undefined,
    connectTimeoutSeconds: connectTimeoutOf(query.get('connect_timeout')),
  };
}

/**
 * Parses a `postgres://` or `postgresql://` DSN into a complete target, filling in libpq's
 * defaults for what is left out (host `localhost`, port 5432, the OS user, database = user,
 * sslmode `prefer`) and never consulting the environment. Throws a `TypeError` naming the problem
 * (an unsupported parameter by name), never the password.
 */
export function parseDsn(dsn: string): DsnTarget {
  const shown = JSON.stringify(redactDsnLoose(String(dsn)));
  if (typeof dsn !== 'string') throw new TypeError(`invalid DSN ${shown}: not a string`);
  try {
    return parseTarget(dsn.trim());
  } catch (error) {
    if (!(error instanceof DsnSyntaxError)) throw error;
    throw new TypeError(`invalid DSN ${shown}: ${redactDsnLoose(error.message)}`);
  }
}

/** `127.0.0.1:5432, database "test", user "postgres"`: where a session is (or was to be) opened. */
export function describeDsnTarget(target: DsnTarget): string {
  const where = target.host.startsWith('/')
    ? `socket ${target.host}/.s.PGSQL.${target.port}`
    : `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return `${where}, database "${target.database}", user "${target.user}"`;
}
