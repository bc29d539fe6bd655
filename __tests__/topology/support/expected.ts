/**
 * The text each refusal or notice of the preset must contain, in one place, written against what
 * the merged features print (docs/provider-databases.md, src/live/preflight.ts,
 * src/live/collect.ts, src/live/schema-drop.ts, src/driver/tls.ts), so that a change of wording
 * is made here once.
 */
const re = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** An identifier as the preset may print it: bare or double-quoted. */
const id = (name: string) => `"?${re(name)}"?`;
/** One line that contains every one of `parts`, in any order. */
const lineWith = (...parts: string[]) =>
  new RegExp(parts.map((part) => `(?=[^\\n]*${part})`).join(''));

/** Where the preset keeps its run ledger: a schema the bootstrap creates, with two tables. */
export const LEDGER = { schema: 'user_engine_live', runs: 'runs', schemas: 'schemas' } as const;

export const EXPECTED = {
  /** A role without CREATE on the database: the role, the privilege, the exact GRANT. */
  missingCreate: (role: string, db: string) =>
    lineWith(
      `role ${id(role)} lacks the CREATE privilege on database ${id(db)}`,
      `GRANT CREATE ON DATABASE ${id(db)} TO ${id(role)};`,
    ),
  /**
   * Something in the ledger's place the bootstrap did not create: the first mismatching object
   * (the schema `user_engine_live` itself when it lacks the ledger's marker) named, never touched.
   */
  foreignLedger: (schema: string) =>
    lineWith(
      `schema ${id(schema)}`,
      'it is not a ledger of @user-engine/jest-live, so nothing was written',
    ),
  /** A read-only session: the setting named, with the ALTER ROLE that lifts it. */
  readOnly: (role: string, db: string) =>
    lineWith(
      'default_transaction_read_only = on',
      `ALTER ROLE ${id(role)} IN DATABASE ${id(db)} SET default_transaction_read_only = off;`,
    ),
  /** A database that is not UTF8: its encoding named, and a UTF8 database to use instead. */
  encoding: (db: string) =>
    lineWith(`database ${id(db)} has encoding LATIN1`, 'needs UTF8', "ENCODING 'UTF8'"),
  /** A certificate that does not verify: host, sslmode and how to supply the CA. */
  tlsUnverified: (host: string, mode: string) =>
    lineWith(re(host), `sslmode=${re(mode)}`, 'sslrootcert'),
  /** Schemas of a crashed run owned by another role: one line naming schemas and owner. */
  otherOwner: (schema: string, owner: string) =>
    lineWith(`role ${id(owner)}`, id(schema), `owner ${id(owner)}`),
  /** A run schema left because provider objects depend on it: the schema and a dependent. */
  dependents: (schema: string, dependent: string) => lineWith(id(schema), re(dependent)),
};
