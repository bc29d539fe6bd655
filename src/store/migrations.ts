/**
 * The migration catalogue is part of the contract: every store reports the same ids and versions,
 * so readiness means the same thing whichever store answers.
 */
export interface MigrationInfo {
  version: number;
  name: string;
  /** `0001_create_users`: what `readiness().pending` and `migrate().applied` list. */
  id: string;
}

function migration(version: number, name: string): MigrationInfo {
  return { version, name, id: `${String(version).padStart(4, '0')}_${name}` };
}

export const MIGRATIONS: readonly MigrationInfo[] = Object.freeze([
  migration(1, 'create_users'),
  migration(2, 'create_identities'),
  migration(3, 'create_outbox'),
]);

export const TARGET_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
