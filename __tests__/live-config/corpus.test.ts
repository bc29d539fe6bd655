/**
 * Bad-input corpus: one row per environment, with the verdict it must get. Rows with a password
 * also check that no output shows it (raw or percent-encoded).
 */
import { decideLive, type LiveDecision } from '../../src/live/config';
import { decisionOutputs } from './outputs';

type Verdict =
  | { kind: 'skip' }
  | { kind: 'embedded' }
  | { kind: 'error'; code: string; setting: string }
  | {
      kind: 'live';
      database: string;
      host?: string;
      port?: number;
      user?: string | undefined;
      password?: string | undefined;
    };

interface Row {
  name: string;
  env: Record<string, string>;
  verdict: Verdict;
  /** A password that must not appear in any output. */
  secret?: string;
}

const DSN = 'USER_ENGINE_LIVE_DSN';
const RESET = 'USER_ENGINE_LIVE_RESET';
const dsnError = (code: string): Verdict => ({ kind: 'error', code, setting: DSN });
const live = (database: string, more: Partial<Extract<Verdict, { kind: 'live' }>> = {}) =>
  ({ kind: 'live', database, ...more }) as Verdict;
/** A DSN and its acknowledgement (default `test`; null: none). */
const env = (dsn: string, reset: string | null = 'test'): Record<string, string> =>
  reset === null ? { [DSN]: dsn } : { [DSN]: dsn, [RESET]: reset };

const rows: Row[] = [
  // absent, empty, blank
  { name: 'nothing set', env: {}, verdict: { kind: 'skip' } },
  { name: 'empty DSN', env: { [DSN]: '' }, verdict: { kind: 'skip' } },
  { name: 'empty DSN with acknowledgement', env: env(''), verdict: { kind: 'skip' } },
  { name: 'blank DSN', env: env('   '), verdict: dsnError('dsn_malformed') },
  { name: 'tab-only DSN', env: env('\t'), verdict: dsnError('dsn_malformed') },
  { name: 'trailing newline', env: env('postgres://h/test\n'), verdict: dsnError('dsn_malformed') },
  { name: 'leading space', env: env(' postgres://h/test'), verdict: dsnError('dsn_malformed') },
  { name: 'NUL inside', env: env('postgres://h/te\u0000st'), verdict: dsnError('dsn_malformed') },
  {
    name: 'only DATABASE_URL and PG* set',
    env: { DATABASE_URL: 'postgres://u:pw@h/test', PGHOST: 'h', PGDATABASE: 'test', PGUSER: 'u' },
    verdict: { kind: 'skip' },
  },
  // schemes
  { name: 'mysql scheme', env: env('mysql://u@h/test'), verdict: dsnError('dsn_scheme') },
  { name: 'http scheme', env: env('http://h/test'), verdict: dsnError('dsn_scheme') },
  { name: 'socket scheme', env: env('socket:/tmp?db=test'), verdict: dsnError('dsn_scheme') },
  { name: 'postgres: without //', env: env('postgres:test'), verdict: dsnError('dsn_scheme') },
  { name: 'no scheme', env: env('localhost:5432/test'), verdict: dsnError('dsn_scheme') },
  {
    name: 'libpq keyword string',
    env: env('host=h dbname=test password=kw-secret-1'),
    verdict: dsnError('dsn_scheme'),
    secret: 'kw-secret-1',
  },
  { name: 'upper-case scheme', env: env('POSTGRES://h/test'), verdict: live('test') },
  { name: 'postgresql scheme', env: env('postgresql://h/test'), verdict: live('test') },
  // embedded
  { name: 'embedded', env: { [DSN]: 'embedded' }, verdict: { kind: 'embedded' } },
  { name: 'Embedded (case)', env: env('Embedded'), verdict: dsnError('dsn_scheme') },
  // database names
  { name: 'no path', env: env('postgres://h'), verdict: dsnError('dsn_no_database') },
  { name: 'empty path', env: env('postgres://h:5432/'), verdict: dsnError('dsn_no_database') },
  {
    name: 'query but no path',
    env: env('postgres://h?sslmode=require'),
    verdict: dsnError('dsn_no_database'),
  },
  {
    name: 'percent-encoded space',
    env: env('postgres://h/my%20db', 'my db'),
    verdict: live('my db'),
  },
  {
    name: 'acknowledged in encoded form',
    env: env('postgres://h/my%20db', 'my%20db'),
    verdict: { kind: 'error', code: 'reset_mismatch', setting: RESET },
  },
  { name: 'encoded unicode', env: env('postgres://h/t%C3%ABst', 'tëst'), verdict: live('tëst') },
  { name: 'raw unicode', env: env('postgres://h/tëst', 'tëst'), verdict: live('tëst') },
  { name: 'CJK name', env: env('postgres://h/数据库', '数据库'), verdict: live('数据库') },
  {
    name: 'astral-plane name',
    env: env(`postgres://h/${encodeURIComponent('db🚀')}`, 'db🚀'),
    verdict: live('db🚀'),
  },
  { name: 'encoded slash', env: env('postgres://h/a%2Fb'), verdict: dsnError('dsn_malformed') },
  { name: 'bad escape', env: env('postgres://h/test%'), verdict: dsnError('dsn_malformed') },
  { name: 'fragment ignored', env: env('postgres://h/test#x'), verdict: live('test') },
  // query options
  { name: 'sslmode=require', env: env('postgres://h/test?sslmode=require'), verdict: live('test') },
  {
    name: 'several options',
    env: env('postgres://h/test?sslmode=verify-full&application_name=ci&connect_timeout=10'),
    verdict: live('test'),
  },
  {
    name: 'options=-c',
    env: env('postgres://h/test?options=-c%20statement_timeout%3D0'),
    verdict: live('test'),
  },
  {
    name: 'port option',
    env: env('postgres://h/test?port=6000'),
    verdict: live('test', { port: 6000 }),
  },
  // hosts
  { name: 'host list', env: env('postgres://h1,h2/test'), verdict: dsnError('dsn_host_list') },
  {
    name: 'host list with ports',
    env: env('postgres://h1:5432,h2:5433/test'),
    verdict: dsnError('dsn_host_list'),
  },
  {
    name: 'host list as option',
    env: env('postgres://h/test?host=h1,h2'),
    verdict: dsnError('dsn_host_list'),
  },
  {
    name: 'socket directory as option',
    env: env('postgres:///test?host=/var/run/postgresql'),
    verdict: live('test', { host: '/var/run/postgresql', port: 5432 }),
  },
  {
    name: 'encoded socket directory',
    env: env('postgres://%2Fvar%2Frun%2Fpostgresql/test'),
    verdict: live('test', { host: '/var/run/postgresql' }),
  },
  {
    name: 'encoded socket directory with port',
    env: env('postgres://%2Ftmp:5433/test'),
    verdict: live('test', { host: '/tmp', port: 5433 }),
  },
  { name: 'IPv6', env: env('postgres://[::1]/test'), verdict: live('test', { host: '::1' }) },
  {
    name: 'IPv6 with port',
    env: env('postgres://[::1]:6543/test'),
    verdict: live('test', { host: '::1', port: 6543 }),
  },
  { name: 'IPv6 unclosed', env: env('postgres://[::1/test'), verdict: dsnError('dsn_malformed') },
  {
    name: 'no host',
    env: env('postgres:///test'),
    verdict: live('test', { host: 'localhost', port: 5432 }),
  },
  // ports
  { name: 'port 0', env: env('postgres://h:0/test'), verdict: dsnError('dsn_port') },
  {
    name: 'port 65535',
    env: env('postgres://h:65535/test'),
    verdict: live('test', { port: 65535 }),
  },
  { name: 'port 65536', env: env('postgres://h:65536/test'), verdict: dsnError('dsn_port') },
  { name: 'negative port', env: env('postgres://h:-1/test'), verdict: dsnError('dsn_port') },
  { name: 'port with letters', env: env('postgres://h:5432x/test'), verdict: dsnError('dsn_port') },
  { name: 'port 0 as option', env: env('postgres://h/test?port=0'), verdict: dsnError('dsn_port') },
  // acknowledgement
  {
    name: 'acknowledgement missing',
    env: env('postgres://h/test', null),
    verdict: { kind: 'error', code: 'reset_missing', setting: RESET },
  },
  {
    name: 'acknowledgement empty',
    env: env('postgres://h/test', ''),
    verdict: { kind: 'error', code: 'reset_missing', setting: RESET },
  },
  {
    name: 'acknowledgement differs in case',
    env: env('postgres://h/test', 'TEST'),
    verdict: { kind: 'error', code: 'reset_mismatch', setting: RESET },
  },
  {
    name: 'acknowledgement with trailing space',
    env: env('postgres://h/test', 'test '),
    verdict: { kind: 'error', code: 'reset_mismatch', setting: RESET },
  },
  {
    name: 'acknowledgement of another database',
    env: env('postgres://h/test', 'postgres'),
    verdict: { kind: 'error', code: 'reset_mismatch', setting: RESET },
  },
  {
    name: 'upper-case database acknowledged exactly',
    env: env('postgres://h/Test', 'Test'),
    verdict: live('Test'),
  },
  // credentials
  {
    name: 'user and password',
    env: env('postgres://alice:pw-plain-1@h/test'),
    verdict: live('test', { user: 'alice', password: 'pw-plain-1' }),
    secret: 'pw-plain-1',
  },
  {
    name: 'password with encoded @',
    env: env('postgres://u:p%40ssword@h/test'),
    verdict: live('test', { password: 'p@ssword' }),
    secret: 'p@ssword',
  },
  {
    name: 'password with raw @ (last @ ends the user info)',
    env: env('postgres://u:p@ssword@h/test'),
    verdict: live('test', { host: 'h', password: 'p@ssword' }),
    secret: 'p@ssword',
  },
  {
    name: 'password with raw colons',
    env: env('postgres://u:pa:ss:wd@h/test'),
    verdict: live('test', { user: 'u', password: 'pa:ss:wd' }),
    secret: 'pa:ss:wd',
  },
  {
    name: 'password with encoded slash',
    env: env('postgres://u:pa%2Fssword@h/test'),
    verdict: live('test', { password: 'pa/ssword' }),
    secret: 'pa/ssword',
  },
  {
    name: 'password with raw slash',
    env: env('postgres://u:pa/ssword@h/test'),
    verdict: dsnError('dsn_port'),
    secret: 'pa/ssword',
  },
  {
    name: 'numeric password with raw slash',
    env: env('postgres://u:1234/abcd@h/test'),
    verdict: dsnError('dsn_malformed'),
    secret: '1234/abcd',
  },
  {
    name: 'password with raw ?',
    env: env('postgres://u:12?34word@h/test'),
    verdict: dsnError('dsn_no_database'),
    secret: '12?34word',
  },
  {
    name: 'password with raw #',
    env: env('postgres://u:pass#word@h/test'),
    verdict: dsnError('dsn_port'),
    secret: 'pass#word',
  },
  {
    name: 'password with encoded # and ?',
    env: env('postgres://u:pa%23ss%3Fword@h/test'),
    verdict: live('test', { password: 'pa#ss?word' }),
    secret: 'pa#ss?word',
  },
  {
    name: 'password holding a literal %40',
    env: env('postgres://u:p%2540ss@h/test'),
    verdict: live('test', { password: 'p%40ss' }),
    secret: 'p%40ss',
  },
  {
    name: 'password with a space',
    env: env('postgres://u:pass%20word@h/test'),
    verdict: live('test', { password: 'pass word' }),
    secret: 'pass word',
  },
  {
    name: 'password as query option',
    env: env('postgres://u@h/test?password=query-secret'),
    verdict: live('test', { user: 'u', password: 'query-secret' }),
    secret: 'query-secret',
  },
  {
    name: 'password with a wrong acknowledgement',
    env: env('postgres://u:mismatch-pw@h/test', 'TEST'),
    verdict: { kind: 'error', code: 'reset_mismatch', setting: RESET },
    secret: 'mismatch-pw',
  },
  {
    name: 'password with a bad port',
    env: env('postgres://u:port-pw-1@h:99999/test'),
    verdict: dsnError('dsn_port'),
    secret: 'port-pw-1',
  },
  {
    name: 'password with a wrong scheme',
    env: env('mysql://u:scheme-pw-1@h/test'),
    verdict: dsnError('dsn_scheme'),
    secret: 'scheme-pw-1',
  },
  {
    name: 'user without password',
    env: env('postgres://u@h/test'),
    verdict: live('test', { user: 'u', password: undefined }),
  },
  {
    name: 'password without user',
    env: env('postgres://:nouser-pw@h/test'),
    verdict: live('test', { user: undefined, password: 'nouser-pw' }),
    secret: 'nouser-pw',
  },
  {
    name: 'Azure-style user with raw @',
    env: env('postgres://me@server:azure-pw@h.example/test'),
    verdict: live('test', { user: 'me@server', password: 'azure-pw', host: 'h.example' }),
    secret: 'azure-pw',
  },
  // companion variables
  {
    name: 'required without DSN',
    env: { USER_ENGINE_LIVE_REQUIRED: '1' },
    verdict: { kind: 'error', code: 'dsn_missing', setting: DSN },
  },
  {
    name: 'required with a typo',
    env: { USER_ENGINE_LIVE_REQUIRED: 'yes' },
    verdict: { kind: 'error', code: 'flag_invalid', setting: 'USER_ENGINE_LIVE_REQUIRED' },
  },
  {
    name: 'driver pg',
    env: { ...env('postgres://h/test'), USER_ENGINE_LIVE_DRIVER: 'pg' },
    verdict: live('test'),
  },
  {
    name: 'unknown driver',
    env: { ...env('postgres://h/test'), USER_ENGINE_LIVE_DRIVER: 'pg-native' },
    verdict: { kind: 'error', code: 'driver_invalid', setting: 'USER_ENGINE_LIVE_DRIVER' },
  },
];

function check(decision: LiveDecision, verdict: Verdict): void {
  if (verdict.kind === 'error') {
    expect(decision).toMatchObject({
      kind: 'error',
      error: { code: verdict.code, setting: verdict.setting },
    });
    return;
  }
  const detail = decision.kind === 'error' ? `: ${decision.error.message}` : '';
  expect(`${decision.kind}${detail}`).toBe(verdict.kind);
  if (verdict.kind !== 'live' || decision.kind !== 'live') return;
  const fields: Partial<typeof verdict> = { ...verdict };
  delete fields.kind;
  expect(decision.target).toMatchObject(fields);
  expect(decision.target.resetAck).toBe(decision.target.database);
}

test('the corpus has at least 40 rows', () => {
  expect(rows.length).toBeGreaterThanOrEqual(40);
});

test.each(rows.map((row) => [row.name, row] as const))('%s', (_name, row) => {
  const decision = decideLive(row.env);
  check(decision, row.verdict);
  if (row.secret !== undefined) {
    for (const text of decisionOutputs(decision)) {
      expect(text).not.toContain(row.secret);
      expect(text).not.toContain(encodeURIComponent(row.secret));
    }
  }
});
