/** Pure decisions: which OS user runs the server, which folders are stale, which options hold. */
import * as os from 'node:os';
import { decideOsUser, EmbeddedPostgresError } from '../../src/live/embedded';
import { resolveEmbeddedOptions } from '../../src/live/embedded/options';
import {
  ancestorsOf,
  firstBlockedDir,
  lookupOsUser,
  type OsUser,
} from '../../src/live/embedded/os-user';
import {
  isOwnerGone,
  isProcessAlive,
  processStartTicks,
  type OwnerFacts,
  type OwnerMarker,
} from '../../src/live/embedded/run-folder';

const postgres: OsUser = { name: 'postgres', uid: 101, gid: 104, groups: [104, 103] };

function thrown(fn: () => unknown): EmbeddedPostgresError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    return error as EmbeddedPostgresError;
  }
  throw new Error('expected a throw');
}

describe('decideOsUser', () => {
  test.each([
    ['an ordinary user', 1000, postgres, false],
    ['an ordinary user, even with opt-in', 1000, undefined, true],
    ['a platform without uids (Windows)', undefined, undefined, false],
  ])('%s runs the server itself', (_label, uid, postgresUser, createOsUser) => {
    expect(decideOsUser({ uid, postgresUser, createOsUser })).toEqual({ kind: 'current' });
  });

  test('root with an existing postgres user runs as that user, with or without opt-in', () => {
    for (const createOsUser of [false, true]) {
      expect(decideOsUser({ uid: 0, postgresUser: postgres, createOsUser })).toEqual({
        kind: 'existing',
        user: postgres,
      });
    }
  });

  test('root without a postgres user creates one only on explicit opt-in', () => {
    expect(decideOsUser({ uid: 0, postgresUser: undefined, createOsUser: true })).toEqual({
      kind: 'create',
      name: 'postgres',
    });
  });

  test('root without a postgres user and without opt-in is refused, naming the env var', () => {
    const error = thrown(() =>
      decideOsUser({ uid: 0, postgresUser: undefined, createOsUser: false }),
    );
    expect(error.code).toBe('root_without_os_user');
    expect(error.message).toContain('refuses to run as root');
    expect(error.message).toContain('USER_ENGINE_LIVE_EMBEDDED_CREATE_USER=1');
  });

  test('a postgres user with uid 0 is no way out of running as root', () => {
    const error = thrown(() =>
      decideOsUser({ uid: 0, postgresUser: { ...postgres, uid: 0 }, createOsUser: true }),
    );
    expect(error.code).toBe('root_without_os_user');
    expect(error.message).toContain('uid 0');
  });
});

describe('lookupOsUser', () => {
  test('finds an existing user with its groups and returns undefined for an unknown one', async () => {
    const me = os.userInfo();
    const found = await lookupOsUser(me.username);
    expect(found).toMatchObject({ name: me.username, uid: me.uid, gid: me.gid });
    expect(found?.groups).toContain(me.gid);
    expect(await lookupOsUser('no-such-user-uel-embedded')).toBeUndefined();
  });
});

describe('firstBlockedDir', () => {
  const dir = (p: string, mode: number, uid = 0, gid = 0) => ({ path: p, mode, uid, gid });

  test('others need the x bit', () => {
    const chain = [dir('/', 0o755), dir('/root', 0o700), dir('/root/app', 0o755)];
    expect(firstBlockedDir(chain, postgres)?.path).toBe('/root');
    expect(firstBlockedDir([dir('/', 0o755), dir('/srv', 0o711)], postgres)).toBeUndefined();
  });

  test('owner bits alone apply to the owner, even when others may enter', () => {
    expect(firstBlockedDir([dir('/x', 0o055, 101, 0)], postgres)?.path).toBe('/x');
    expect(firstBlockedDir([dir('/x', 0o700, 101, 0)], postgres)).toBeUndefined();
  });

  test('group bits apply to primary and supplementary groups', () => {
    expect(firstBlockedDir([dir('/x', 0o750, 0, 104)], postgres)).toBeUndefined();
    expect(firstBlockedDir([dir('/x', 0o750, 0, 103)], postgres)).toBeUndefined();
    expect(firstBlockedDir([dir('/x', 0o705, 0, 103)], postgres)?.path).toBe('/x');
  });

  test('ancestorsOf lists every folder from the root down', () => {
    expect(ancestorsOf('/a/b/c')).toEqual(['/', '/a', '/a/b', '/a/b/c']);
    expect(ancestorsOf('/')).toEqual(['/']);
  });
});

describe('isOwnerGone', () => {
  const marker = (over: Partial<OwnerMarker> = {}): OwnerMarker => ({
    pid: 4242,
    hostname: 'box',
    startedAt: '2026-01-01T00:00:00.000Z',
    processStart: '1000',
    ...over,
  });
  const facts = (alive: boolean, startTicks: string | null = '1000'): OwnerFacts => ({
    hostname: 'box',
    isAlive: () => alive,
    startTicks: () => startTicks,
  });

  test('dead owner: stale; live owner: kept', () => {
    expect(isOwnerGone('4242-ab', marker(), facts(false))).toBe(true);
    expect(isOwnerGone('4242-ab', marker(), facts(true))).toBe(false);
  });

  test('a recycled pid (different start time) counts as gone; unknown start time does not', () => {
    expect(isOwnerGone('4242-ab', marker(), facts(true, '2000'))).toBe(true);
    expect(isOwnerGone('4242-ab', marker({ processStart: null }), facts(true, '2000'))).toBe(false);
    expect(isOwnerGone('4242-ab', marker(), facts(true, null))).toBe(false);
  });

  test("another host's folder is never judged by our process table", () => {
    expect(isOwnerGone('4242-ab', marker({ hostname: 'other' }), facts(false))).toBe(false);
  });

  test('no marker: falls back to the pid in the folder name; foreign names are left alone', () => {
    expect(isOwnerGone('4242-0a1b2c', undefined, facts(false))).toBe(true);
    expect(isOwnerGone('4242-0a1b2c', undefined, facts(true))).toBe(false);
    expect(isOwnerGone('something-else', undefined, facts(false))).toBe(false);
  });

  test('process probes agree with reality for this process', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    if (process.platform === 'linux') {
      expect(processStartTicks(process.pid)).toMatch(/^\d+$/);
    }
  });
});

describe('options', () => {
  test('defaults: database user_engine_live under os.tmpdir(), no OS user creation', () => {
    expect(resolveEmbeddedOptions({})).toMatchObject({
      database: 'user_engine_live',
      baseDir: os.tmpdir(),
      createOsUser: false,
    });
  });

  test('bad options name the field at fault', () => {
    expect(thrown(() => resolveEmbeddedOptions({ database: 'Robert"; drop' })).message).toMatch(
      /^invalid embedded option database:/,
    );
    expect(thrown(() => resolveEmbeddedOptions({ baseDir: 'relative/dir' })).message).toMatch(
      /^invalid embedded option baseDir:/,
    );
    expect(thrown(() => resolveEmbeddedOptions({ startTimeoutMs: 0 })).message).toMatch(
      /^invalid embedded option startTimeoutMs:/,
    );
  });
});
