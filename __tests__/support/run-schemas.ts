/**
 * How the suites recognise the schemas a live run creates: one definition, the preset's own
 * (src/live/isolation.ts), so that no suite's pattern can drift from what the preset writes.
 * `user_engine_live_<runId>_<workerId>` is a worker schema, `..._f<n>` a fresh one; the canary
 * `user_engine_live_x` (./canaries) is neither.
 */
import { RUN_SCHEMA_PATTERN, runIdOfSchema } from '../../src/live/isolation';

/** Any run schema, worker or fresh. */
export const RUN_SCHEMA = new RegExp(RUN_SCHEMA_PATTERN);

/** The same pattern for SQL (`nspname ~ $1`): PostgreSQL's regular expressions accept it as is. */
export const RUN_SCHEMA_SQL = RUN_SCHEMA_PATTERN;

/** Worker schemas only (no `_f<n>` suffix), for SQL. */
export const WORKER_SCHEMA_SQL = RUN_SCHEMA_PATTERN.replace(/\(_f[^)]*\)\?\$$/, '$');

/** The run id inside a run schema's name ('' for any other name). */
export function runIdOf(schema: string): string {
  return runIdOfSchema(schema) ?? '';
}
