/**
 * The text each refusal or notice of the preset must contain, in one place: written against what
 * the merged features print (docs/provider-databases.md, src/live/errors.ts), so a change of
 * wording is changed here once.
 */
const re = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** An identifier as the preset may print it: bare or double-quoted. */
const id = (name: string) => `"?${re(name)}"?`;

/** Where the preset keeps its run ledger (a schema the bootstrap creates and records). */
export const LEDGER = { schema: 'user_engine_live', table: 'ledger' } as const;

export const EXPECTED = {
  /** A role without CREATE on the database: named, with the exact GRANT. */
  missingCreate: (role: string, db: string) =>
    new RegExp(`GRANT CREATE ON DATABASE ${id(db)} TO ${id(role)}`),
  /** A table in the ledger's place that the bootstrap did not create: named, never touched. */
  foreignLedger: (table: string) =>
    new RegExp(`${re(table)}[^\\n]*(not|foreign|marker|layout)`, 'i'),
  /** A read-only session: the setting named. */
  readOnly: /default_transaction_read_only/,
  /** A database that is not UTF8: its encoding named, and UTF8. */
  encoding: (db: string) =>
    new RegExp(`${id(db)}[^\\n]*LATIN1[^\\n]*UTF8|LATIN1[^\\n]*${id(db)}[^\\n]*UTF8`),
  /** A certificate that does not verify: host, sslmode and how to supply the CA. */
  tlsUnverified: (host: string, mode: string) =>
    new RegExp(`(?=[^\\n]*${re(host)})(?=[^\\n]*${re(mode)})(?=[^\\n]*sslrootcert)`),
  /** Schemas of a crashed run owned by another role: one line naming schemas and owner. */
  otherOwner: (schema: string, owner: string) =>
    new RegExp(`(?=[^\\n]*${re(schema)})(?=[^\\n]*${re(owner)})`),
  /** A run schema left because provider objects depend on it: the dependents named. */
  dependents: (schema: string, dependent: string) =>
    new RegExp(`(?=[^\\n]*${re(schema)})(?=[^\\n]*${re(dependent)})`),
};
