/**
 * Hostile strings (quotes, backslashes, LIKE wildcards, SQL fragments, NUL, lone surrogates,
 * control and invisible characters, astral and combining characters, very long values) in every
 * string slot of the store's inputs: each is either stored and read back exactly or rejected as
 * `invalid_input` naming the same field and reason, identically by the in-memory reference store
 * and the Postgres store on both drivers. Unknown fields in inputs are ignored by both alike.
 */
import fc from 'fast-check';
import {
  createConnection,
  quoteIdentifier,
  type Connection,
  type DriverName,
} from '../../src/driver';
import type { User, UserEngineStore } from '../../src/store/contract';
import { isUserEngineError, InvalidInputError } from '../../src/store/errors';
import { InMemoryUserEngineStore } from '../../src/store/memory/in-memory-store';
import { PostgresUserEngineStore } from '../../src/store/postgres/postgres-store';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(120_000);

const RUNS = Number(process.env.FAULTS_INPUT_RUNS ?? (process.env.CI ? 300 : 120));
const DRIVERS: DriverName[] = ['pg', 'postgres'];

/** Pieces that break naive quoting, escaping, LIKE matching, encoding or length checks. */
const ATOMS = [
  "'",
  "''",
  '"',
  '\\',
  '\\\\',
  '%',
  '_',
  '%_%',
  '\u0000',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\uD83D',
  '$1',
  '$$',
  '$tag$',
  '--',
  '/*',
  '*/',
  ';',
  "'); DROP TABLE user_engine_users; --",
  "' OR '1'='1",
  "E'\\x00'",
  'NULL',
  '\\N',
  '\u200B',
  '\u200D',
  '\u202E',
  '\uFEFF',
  '\u2028',
  '\u00A0',
  '\uFFFD',
  '\uFFFF',
  '\uE000',
  '😀',
  '👩‍👩‍👧',
  'é',
  'e\u0301',
  'İ',
  'ß',
  'ǅ',
  '\t',
  '\n',
  '\r',
  ' ',
  '\u007F',
  '\u001B',
  'A',
  'Z',
  'a',
  'z',
  '@',
  '.',
  '<script>',
  '{"a":1}',
];

const hostile: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .array(fc.constantFrom(...ATOMS), { minLength: 1, maxLength: 10 })
      .map((a) => a.join('')),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  // Around and far beyond every length limit (64, 200, 254, 255 code points).
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('a', 'é', '😀', "'", '\\', '%'), fc.integer({ min: 60, max: 600 }))
      .map(([atom, n]) => atom.repeat(n)),
  },
);

type Slot =
  | 'displayName'
  | 'email'
  | 'emailLocalPart'
  | 'emailDomain'
  | 'subject'
  | 'provider'
  | 'findUserByEmail'
  | 'findUserByIdentity'
  | 'listUsers.after';
const SLOTS: Slot[] = [
  'displayName',
  'email',
  'emailLocalPart',
  'emailDomain',
  'subject',
  'provider',
  'findUserByEmail',
  'findUserByIdentity',
  'listUsers.after',
];

/** What a call did, in a form two stores can be compared by (ids and timestamps left out). */
type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; code: string; field?: string; reason?: string; message?: string };

function userView(user: User | null): unknown {
  if (!user) return null;
  return {
    email: user.email,
    emailKey: user.emailKey,
    displayName: user.displayName,
    status: user.status,
    revision: user.revision,
  };
}

async function outcomeOf(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (error instanceof InvalidInputError)
      return { ok: false, code: error.code, field: error.field, reason: error.reason };
    if (isUserEngineError(error)) return { ok: false, code: error.code };
    // Anything else (a DatabaseError, a TypeError) is a defect: keep its text for the report.
    const e = error as { name?: string; code?: string; message?: string };
    return { ok: false, code: `${e.name}:${e.code}`, message: e.message };
  }
}

/** Writes through one slot, then reads everything back through the store. */
async function exercise(store: UserEngineStore, slot: Slot, s: string): Promise<Outcome[]> {
  const { user } = await store.upsertUser({ email: 'owner@x.io', displayName: 'Owner' });
  await store.upsertUser({ email: 'b_c@x.io', displayName: 'Under' });
  await store.upsertUser({ email: 'b%c@x.io', displayName: 'Percent' });
  const upsertAndRead = (email: string, displayName: string) =>
    outcomeOf(async () => {
      const result = await store.upsertUser({ email, displayName });
      const byId = await store.getUser(result.user.id);
      const byEmail = await store.findUserByEmail(result.user.email);
      // Stored and read back exactly (inputs are trimmed by the contract, nothing else changes).
      expect(byId).toEqual(result.user);
      expect(byEmail?.id).toBe(result.user.id);
      expect(result.user.email).toBe(email.trim());
      expect(result.user.displayName).toBe(displayName.trim());
      return { created: result.created, user: userView(result.user) };
    });
  const linkAndRead = (provider: string, subject: string) =>
    outcomeOf(async () => {
      const { identity, linked } = await store.linkIdentity({ userId: user.id, provider, subject });
      expect(identity.provider).toBe(provider);
      expect(identity.subject).toBe(subject);
      const found = await store.findUserByIdentity(provider, subject);
      expect(found?.id).toBe(user.id);
      const listed = await store.listIdentities(user.id);
      expect(listed.map((i) => [i.provider, i.subject])).toEqual([[provider, subject]]);
      return { linked };
    });
  const outcomes: Outcome[] = [];
  switch (slot) {
    case 'displayName':
      outcomes.push(await upsertAndRead('n@x.io', s));
      break;
    case 'email':
      outcomes.push(await upsertAndRead(s, 'N'));
      break;
    case 'emailLocalPart':
      outcomes.push(await upsertAndRead(`${s}@x.io`, 'N'));
      break;
    case 'emailDomain':
      outcomes.push(await upsertAndRead(`a@${s}`, 'N'));
      break;
    case 'subject':
      outcomes.push(await linkAndRead('github', s));
      break;
    case 'provider':
      outcomes.push(await linkAndRead(s, '1'));
      break;
    case 'findUserByEmail':
      // `%` and `_` are not wildcards: only an exact key matches.
      outcomes.push(await outcomeOf(async () => userView(await store.findUserByEmail(s))));
      outcomes.push(
        await outcomeOf(async () => userView(await store.findUserByEmail(`b${s}c@x.io`))),
      );
      break;
    case 'findUserByIdentity':
      outcomes.push(
        await outcomeOf(async () => userView(await store.findUserByIdentity('github', s))),
      );
      break;
    case 'listUsers.after':
      outcomes.push(
        await outcomeOf(async () =>
          (await store.listUsers({ after: s })).items.map((u) => u.email),
        ),
      );
      break;
  }
  outcomes.push(await outcomeOf(() => store.recordCounts()));
  return outcomes;
}

/** Names a store would be tempted to read from an input object, and plain junk. */
const UNKNOWN_KEYS = [
  'id',
  'emailKey',
  'email_key',
  'revision',
  'createdAt',
  'updatedAt',
  'userId',
  'linkedAt',
  'constructor',
  'toString',
  'valueOf',
  'toJSON',
  'then',
  "'; DROP TABLE user_engine_users; --",
  'display_name',
];
const junk: fc.Arbitrary<unknown> = fc.oneof(
  hostile,
  fc.integer(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
  fc.constant({ nested: "'" }),
);
const extras = fc.dictionary(fc.constantFrom(...UNKNOWN_KEYS), junk, { maxKeys: 5 });

async function withExtras(
  store: UserEngineStore,
  e: {
    upsert: Record<string, unknown>;
    patch: Record<string, unknown>;
    link: Record<string, unknown>;
  },
): Promise<Outcome[]> {
  const extra = <T extends object>(base: T, more: Record<string, unknown>): T => {
    const out = { ...base };
    // defineProperty: assignment would invoke setters (or the prototype) for keys like __proto__.
    for (const [key, value] of Object.entries(more)) {
      // A key the input type declares (userId of a link) is not an unknown field.
      if (key in base) continue;
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  const outcomes: Outcome[] = [];
  let id = '';
  outcomes.push(
    await outcomeOf(async () => {
      const r = await store.upsertUser(extra({ email: 'X@x.io', displayName: 'X' }, e.upsert));
      id = r.user.id;
      return { created: r.created, user: userView(r.user) };
    }),
  );
  outcomes.push(
    await outcomeOf(async () => {
      const r = await store.updateUser(id, extra({ displayName: 'Y' }, e.patch), {
        expectedRevision: 1,
      });
      return { changed: r.changed, user: userView(r.user) };
    }),
  );
  outcomes.push(
    await outcomeOf(async () => {
      const r = await store.linkIdentity(
        extra({ userId: id, provider: 'github', subject: 's' }, e.link),
      );
      return { linked: r.linked, userIsOwner: r.identity.userId === id };
    }),
  );
  outcomes.push(
    await outcomeOf(async () => {
      const rows = await store.upsertUsers([
        extra({ email: 'z@x.io', displayName: 'Z' }, e.upsert),
      ]);
      return rows.map((r) => userView(r.user));
    }),
  );
  outcomes.push(await outcomeOf(async () => userView(await store.getUser(id))));
  outcomes.push(await outcomeOf(() => store.recordCounts()));
  return outcomes;
}

describeWithDatabase('hostile input, in-memory vs Postgres', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('input', { prefix: 'ue_faults_' });
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe.each(DRIVERS)('Postgres store on %s', (driver) => {
    let connection: Connection;
    let postgres: PostgresUserEngineStore;

    beforeAll(async () => {
      const schema = `faults_input_${driver}`;
      await db.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
      connection = await createConnection(db.dsn, { driver, schema, max: 2 });
      postgres = new PostgresUserEngineStore(connection);
      await postgres.migrate();
    });
    afterAll(async () => {
      await connection?.close();
    });

    async function freshPair(): Promise<[UserEngineStore, UserEngineStore]> {
      await connection.query(
        'DELETE FROM user_engine_identities; DELETE FROM user_engine_users; DELETE FROM user_engine_outbox',
      );
      const memory = new InMemoryUserEngineStore();
      await memory.migrate();
      return [memory, postgres];
    }

    test('every hostile string is stored and read back exactly, or rejected alike', async () => {
      const tally = { accepted: 0, rejected: 0 };
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...SLOTS), hostile, async (slot, s) => {
          const [memory, pg] = await freshPair();
          const expected = await exercise(memory, slot, s);
          const actual = await exercise(pg, slot, s);
          expect(actual).toEqual(expected);
          // Rejections are only ever invalid_input (never a database error or a crash).
          for (const outcome of actual) if (!outcome.ok) expect(outcome.code).toBe('invalid_input');
          tally[actual[0].ok ? 'accepted' : 'rejected']++;
        }),
        { numRuns: RUNS },
      );
      // Both sides of the property were exercised, not only one.
      expect(tally.accepted).toBeGreaterThan(RUNS / 10);
      expect(tally.rejected).toBeGreaterThan(RUNS / 10);
    });

    test('each hostile atom in each slot, exhaustively', async () => {
      for (const slot of SLOTS) {
        for (const atom of ATOMS) {
          const [memory, pg] = await freshPair();
          const expected = await exercise(memory, slot, atom);
          const actual = await exercise(pg, slot, atom);
          expect({ slot, atom, outcomes: actual }).toEqual({ slot, atom, outcomes: expected });
        }
      }
    });

    test('unknown fields in inputs are ignored, by both stores alike', async () => {
      await fc.assert(
        fc.asyncProperty(extras, extras, extras, async (upsert, patch, link) => {
          const [memory, pg] = await freshPair();
          const plain = await withExtras(memory, { upsert: {}, patch: {}, link: {} });
          const [memory2] = await freshPair();
          const expected = await withExtras(memory2, { upsert, patch, link });
          expect(expected).toEqual(plain);
          const actual = await withExtras(pg, { upsert, patch, link });
          expect(actual).toEqual(expected);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    });
  });
});
