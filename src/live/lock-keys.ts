/**
 * Every advisory lock key the live harness uses, in one place. All are TRANSACTION-level locks
 * (`pg_advisory_xact_lock`): they serialise creation of shared objects and end with the
 * transaction, so they work through a transaction pooler. No session lock exists anywhere: run
 * liveness is a lease in the ledger (see ./lease).
 *
 * Keys are two int4 halves: a first half per kind of lock (ASCII tags, positive int4) and a
 * 31-bit FNV-1a hash of the object's name. PostgreSQL keeps the two-int4 and the single-bigint
 * key spaces apart, so these can never collide with the store's bigint migration lock (which is
 * the store's own: src/store/postgres/schema.ts, MIGRATION_LOCK).
 */

/** A two-int4 advisory lock key; both halves are non-negative so `pg_locks` shows them as-is. */
export interface AdvisoryKey {
  namespace: number;
  key: number;
}

/** 'uell': creation of the ledger schema. */
export const LEDGER_LOCK_NAMESPACE = 0x75656c6c;
/** 'uels': creation of one run schema (CREATE SCHEMA IF NOT EXISTS races otherwise). */
export const SCHEMA_LOCK_NAMESPACE = 0x75656c73;
/** 'uelf': creation of the reset function inside one run schema. */
export const RESET_FUNCTION_LOCK_NAMESPACE = 0x75656c66;

/** 'uel' + 'doc': the doctor's probe that transaction-level advisory locks work (held by nobody else). */
export const DOCTOR_PROBE_LOCK: AdvisoryKey = { namespace: 0x75656c, key: 0x646f63 };

/** 32-bit FNV-1a of the UTF-8 bytes, masked to 31 bits: stable across processes and servers. */
export function lockKeyOf(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fffffff;
}

export function ledgerLockKey(ledgerSchema: string): AdvisoryKey {
  return { namespace: LEDGER_LOCK_NAMESPACE, key: lockKeyOf(ledgerSchema) };
}

export function schemaLockKey(schema: string): AdvisoryKey {
  return { namespace: SCHEMA_LOCK_NAMESPACE, key: lockKeyOf(schema) };
}

export function resetFunctionLockKey(schema: string): AdvisoryKey {
  return { namespace: RESET_FUNCTION_LOCK_NAMESPACE, key: lockKeyOf(schema) };
}
