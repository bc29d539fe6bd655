/**
 * Differential test: random sequences of operations (valid and invalid, inside transactions that
 * commit or throw, with savepoints) run against the in-memory reference store and the Postgres
 * store must give the same results, the same errors and the same final state. Ids are compared by
 * creation order, timestamps are dropped, outbox sequences are compared by order only.
 *
 * Runs: 200 sequences per driver when CI is set, else USER_ENGINE_DIFF_RUNS (default 40).
 */
import fc from 'fast-check';
import type { Connection, DriverName } from '../../src/driver';
import type {
  UpsertUserInput,
  UserEngineStore,
  UserPatch,
  UserStatus,
} from '../../src/store/contract';
import { InMemoryUserEngineStore } from '../../src/store/memory/in-memory-store';
import { PostgresUserEngineStore } from '../../src/store/postgres/postgres-store';
import {
  adminConnection,
  createTestSchema,
  deleteAllRows,
  describeLive,
  type TestSchema,
} from './support';

const RUNS = process.env.CI
  ? Math.max(200, Number(process.env.USER_ENGINE_DIFF_RUNS ?? 0))
  : Number(process.env.USER_ENGINE_DIFF_RUNS ?? 40);

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Index into the users created so far (in creation order); out of range means an unknown id. */
type Ref = number;
type Revision = 'current' | 'stale' | 'ahead';

type SimpleOp =
  | { kind: 'upsert'; input: UpsertUserInput }
  | { kind: 'upsertBatch'; inputs: UpsertUserInput[] }
  | { kind: 'update'; user: Ref; patch: UserPatch; revision: Revision }
  | { kind: 'delete'; user: Ref }
  | { kind: 'link'; user: Ref; provider: string; subject: string }
  | { kind: 'unlink'; provider: string; subject: string }
  | { kind: 'get'; user: Ref }
  | { kind: 'findByEmail'; email: string }
  | { kind: 'findByIdentity'; provider: string; subject: string }
  | { kind: 'listIdentities'; user: Ref }
  | { kind: 'list'; limit: number }
  | { kind: 'outbox'; afterSequenceOf: number; limit: number }
  | { kind: 'counts' };

interface Block {
  ops: (SimpleOp | Block)[];
  /** Throw at the end of the block, rolling it back. */
  fail: boolean;
}

type Op = SimpleOp | { kind: 'transaction'; block: Block };

/** Mostly valid values, sometimes an invalid one: errors must match too, but rarely end a path. */
function mostly<T>(valid: T[], invalid: T[]): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom(...invalid) },
  );
}

// Small pools, so that keys collide, case variants meet and code-point order matters.
const email = mostly(
  [
    'a@x.io',
    'A@x.io',
    'b@x.io',
    'B@X.IO',
    ' b@x.io ',
    'é@x.io',
    '😀@x.io',
    '\uFFFD@x.io',
    'z@x.io',
  ],
  ['no-at-sign', '', 'two@@x.io'],
);
const displayName = mostly(['Ann', 'Bob', ' Ann ', 'Ünï'], ['', '   ']);
const status = fc.option(mostly<UserStatus>(['active', 'suspended'], ['bogus' as UserStatus]), {
  nil: undefined,
});
const provider = mostly(['github', 'google'], ['Bad Provider']);
const subject = mostly(['1', '2', 'x'], ['']);
const ref = fc.integer({ min: 0, max: 4 });

const upsertInput: fc.Arbitrary<UpsertUserInput> = fc
  .record({ email, displayName, status })
  .map(({ status: s, ...rest }) => (s === undefined ? rest : { ...rest, status: s }));

const patch: fc.Arbitrary<UserPatch> = fc
  .record(
    { email, displayName, status: status.filter((s) => s !== undefined) },
    { requiredKeys: [] },
  )
  .map((p) => p as UserPatch);

const simpleOp: fc.Arbitrary<SimpleOp> = fc.oneof(
  { weight: 5, arbitrary: upsertInput.map((input) => ({ kind: 'upsert' as const, input })) },
  {
    weight: 2,
    arbitrary: fc
      .array(upsertInput, { maxLength: 5 })
      .map((inputs) => ({ kind: 'upsertBatch' as const, inputs })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({ user: ref, patch, revision: mostly<Revision>(['current'], ['stale', 'ahead']) })
      .map((r) => ({ kind: 'update' as const, ...r })),
  },
  { weight: 2, arbitrary: ref.map((user) => ({ kind: 'delete' as const, user })) },
  {
    weight: 4,
    arbitrary: fc
      .record({ user: ref, provider, subject })
      .map((r) => ({ kind: 'link' as const, ...r })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ provider, subject }).map((r) => ({ kind: 'unlink' as const, ...r })),
  },
  { weight: 1, arbitrary: ref.map((user) => ({ kind: 'get' as const, user })) },
  { weight: 1, arbitrary: email.map((e) => ({ kind: 'findByEmail' as const, email: e })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ provider, subject })
      .map((r) => ({ kind: 'findByIdentity' as const, ...r })),
  },
  { weight: 1, arbitrary: ref.map((user) => ({ kind: 'listIdentities' as const, user })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1, 2, 3, 50, 0).map((limit) => ({ kind: 'list' as const, limit })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        afterSequenceOf: fc.integer({ min: -1, max: 4 }),
        limit: fc.constantFrom(1, 3, 100),
      })
      .map((r) => ({ kind: 'outbox' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'counts' as const }) },
);

const savepoint: fc.Arbitrary<Block> = fc.record({
  ops: fc.array(simpleOp, { maxLength: 3 }),
  fail: fc.boolean(),
});

const transaction: fc.Arbitrary<Op> = fc
  .record({
    ops: fc.array(
      fc.oneof({ weight: 4, arbitrary: simpleOp }, { weight: 1, arbitrary: savepoint }),
      {
        maxLength: 5,
      },
    ),
    fail: fc.boolean(),
  })
  .map((block) => ({ kind: 'transaction' as const, block }));

const sequence = fc.array(
  fc.oneof({ weight: 6, arbitrary: simpleOp }, { weight: 1, arbitrary: transaction }),
  {
    minLength: 5,
    maxLength: 40,
    size: 'medium',
  },
);

/** Three users to start from, so that most references resolve. */
const PRELUDE: Op[] = ['a@x.io', 'b@x.io', 'é@x.io'].map((e) => ({
  kind: 'upsert',
  input: { email: e, displayName: 'Seed' },
}));

class Boom extends Error {
  constructor() {
    super('rolled back on purpose');
    this.name = 'Boom';
  }
}

/** What one store has handed out: ids in creation order, outbox sequences seen. */
class Session {
  readonly created: string[] = [];

  idOf(user: Ref): string {
    return this.created[user] ?? UNKNOWN_ID;
  }

  /** Ids become `user#n`, timestamps disappear, sequences become `seq`. */
  normalize(value: unknown): unknown {
    if (value instanceof Date) return 'date';
    if (Array.isArray(value)) return value.map((v) => this.normalize(v));
    if (typeof value === 'string' && UUID.test(value)) {
      const index = this.created.indexOf(value);
      return index >= 0 ? `user#${index}` : value === UNKNOWN_ID ? 'unknown-id' : 'stray-uuid';
    }
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        if (key === 'createdAt' || key === 'updatedAt' || key === 'linkedAt') continue;
        out[key] = key === 'sequence' ? 'seq' : this.normalize(v);
      }
      return out;
    }
    return value;
  }

  noteCreated(result: unknown): void {
    const results = Array.isArray(result) ? result : [result];
    for (const r of results as { created?: boolean; user?: { id: string } }[])
      if (r?.created && r.user) this.created.push(r.user.id);
  }

  describeError(error: unknown): unknown {
    if (!(error instanceof Error)) return { thrown: String(error) };
    if (error instanceof Boom) return { error: 'Boom' };
    const props: Record<string, unknown> = { name: error.name };
    for (const [key, v] of Object.entries(error)) props[key] = this.normalize(v);
    // Only contract errors have a message both stores agree on (built by the shared classes).
    if (!('code' in error)) props.message = error.message;
    return { error: props };
  }
}

async function revisionFor(store: UserEngineStore, id: string, mode: Revision): Promise<number> {
  const current = (await store.getUser(id))?.revision ?? 1;
  if (mode === 'current') return current;
  return mode === 'stale' ? Math.max(1, current - 1) : current + 1;
}

async function sequenceAt(store: UserEngineStore, index: number): Promise<number> {
  if (index < 0) return 0;
  const events = await store.outboxEvents({ limit: 1000 });
  return events[index]?.sequence ?? 0;
}

async function runSimple(store: UserEngineStore, op: SimpleOp, s: Session): Promise<unknown> {
  switch (op.kind) {
    case 'upsert':
      return store.upsertUser(op.input);
    case 'upsertBatch':
      return store.upsertUsers(op.inputs);
    case 'update': {
      const id = s.idOf(op.user);
      const expectedRevision = await revisionFor(store, id, op.revision);
      return store.updateUser(id, op.patch, { expectedRevision });
    }
    case 'delete':
      return store.deleteUser(s.idOf(op.user));
    case 'link':
      return store.linkIdentity({
        userId: s.idOf(op.user),
        provider: op.provider,
        subject: op.subject,
      });
    case 'unlink':
      return store.unlinkIdentity(op.provider, op.subject);
    case 'get':
      return store.getUser(s.idOf(op.user));
    case 'findByEmail':
      return store.findUserByEmail(op.email);
    case 'findByIdentity':
      return store.findUserByIdentity(op.provider, op.subject);
    case 'listIdentities':
      return store.listIdentities(s.idOf(op.user));
    case 'list': {
      const pages = [];
      let after: string | null = null;
      do {
        const page = await store.listUsers({ limit: op.limit, after });
        pages.push(page);
        after = page.next;
      } while (after !== null && pages.length < 20);
      return pages;
    }
    case 'outbox':
      return store.outboxEvents({
        afterSequence: await sequenceAt(store, op.afterSequenceOf),
        limit: op.limit,
      });
    case 'counts':
      return store.recordCounts();
  }
}

/** Runs an op and records its outcome; errors inside a block are caught, as a caller might. */
async function run(
  store: UserEngineStore,
  op: SimpleOp | Block | Op,
  s: Session,
): Promise<unknown> {
  try {
    if ('ops' in op) return { ok: await runBlock(store, op, s) };
    if (op.kind === 'transaction') return { ok: await runBlock(store, op.block, s) };
    const result = await runSimple(store, op, s);
    s.noteCreated(result);
    return { ok: s.normalize(result) };
  } catch (error) {
    return s.describeError(error);
  }
}

async function runBlock(store: UserEngineStore, block: Block, s: Session): Promise<unknown[]> {
  return store.transaction(async (tx) => {
    const outcomes = [];
    for (const op of block.ops) outcomes.push(await run(tx, op, s));
    if (block.fail) throw new Boom();
    return outcomes;
  });
}

async function finalState(store: UserEngineStore, s: Session): Promise<unknown> {
  const events = await store.outboxEvents({ limit: 1000 });
  const sequences = events.map((e) => e.sequence);
  return {
    users: s.normalize(await runSimple(store, { kind: 'list', limit: 500 }, s)),
    identities: await Promise.all(
      s.created.map(async (id) => s.normalize(await store.listIdentities(id))),
    ),
    outbox: s.normalize(events),
    increasing: sequences.every((seq, i) => i === 0 || seq > sequences[i - 1]),
    counts: await store.recordCounts(),
  };
}

function registerDifferential(driver: DriverName): void {
  describeLive(`PostgresUserEngineStore on ${driver} behaves as the in-memory store`, () => {
    let admin: Connection;
    let schema: TestSchema;
    let store: PostgresUserEngineStore;

    beforeAll(async () => {
      admin = await adminConnection(driver);
      schema = await createTestSchema(admin);
      store = new PostgresUserEngineStore(schema.connection);
      await store.migrate();
    });

    afterAll(async () => {
      await schema?.drop();
      await admin?.close();
    });

    test(`${RUNS} random operation sequences give the same results, errors and final state`, async () => {
      await fc.assert(
        fc.asyncProperty(sequence, async (ops) => {
          await deleteAllRows(schema.connection);
          const reference = new InMemoryUserEngineStore();
          await reference.migrate();
          const expected = new Session();
          const actual = new Session();
          for (const [step, op] of [...PRELUDE, ...ops].entries()) {
            const want = await run(reference, op, expected);
            const got = await run(store, op, actual);
            expect({ step, op, outcome: got }).toEqual({ step, op, outcome: want });
          }
          expect(await finalState(store, actual)).toEqual(await finalState(reference, expected));
        }),
        { numRuns: RUNS },
      );
    }, 600_000);
  });
}

registerDifferential('pg');
registerDifferential('postgres');
