/**
 * Edges of the contract an adapter gets right for the common case only: the order of checks with
 * several faults at once, argument shapes an untyped caller passes, exact boundaries of the
 * character order and of ids and cursors, closed and finished handles, error properties beyond
 * `code`, and copies of inputs and outputs.
 */
import { expect } from '../jest-globals';
import type {
  LinkIdentityInput,
  ListUsersOptions,
  OutboxQuery,
  UpdateUserOptions,
  UpsertUserInput,
  UserEngineStore,
  UserPatch,
} from '../../store/contract';
import { MIGRATIONS } from '../../store/migrations';
import { encodeCursor } from '../../store/validation';
import { spec, type ContractId, type Spec, type SpecGroup } from '../spec';
import { allEvents, emails, seedUser, UNKNOWN_ID } from '../support';

const ALL_IDS = MIGRATIONS.map((m) => m.id);

class RolledBack extends Error {
  constructor() {
    super('rolled back on purpose by the conformance suite');
  }
}

function untyped<T>(value: unknown): T {
  return value as T;
}

type Call = (store: UserEngineStore) => Promise<unknown>;

/** Several faults at once: `field` and `reason` must name the one checked first. */
function firstFault(
  name: string,
  covers: readonly ContractId[],
  call: Call,
  field: string,
  reason: string,
): Spec {
  return spec(`${name}: invalid_input on ${field} (${reason})`, covers, async ({ store }) => {
    await expect(call(store)).rejects.toMatchObject({ code: 'invalid_input', field, reason });
  });
}

const SHAPES: Spec[] = [
  firstFault(
    'upsertUser with a bad email and a bad name',
    ['C-order-3'],
    (s) => s.upsertUser({ email: 'bad', displayName: '' }),
    'email',
    'not_one_at_sign',
  ),
  firstFault(
    'upsertUser with a bad name and a bad status',
    ['C-order-3'],
    (s) =>
      s.upsertUser(untyped<UpsertUserInput>({ email: 'ok@x.io', displayName: '', status: 'x' })),
    'displayName',
    'empty',
  ),
  firstFault(
    'updateUser with a bad id, patch and revision',
    ['C-order-3'],
    (s) => s.updateUser('bad', { email: 'bad' }, { expectedRevision: 0 }),
    'id',
    'not_a_uuid',
  ),
  firstFault(
    'updateUser with a bad patch and revision',
    ['C-order-3'],
    (s) => s.updateUser(UNKNOWN_ID, { displayName: '' }, { expectedRevision: 0 }),
    'patch.displayName',
    'empty',
  ),
  firstFault(
    'updateUser with a patch bad in every field',
    ['C-order-3'],
    (s) =>
      s.updateUser(UNKNOWN_ID, untyped<UserPatch>({ status: 'x', displayName: '', email: 'bad' }), {
        expectedRevision: 1,
      }),
    'patch.email',
    'not_one_at_sign',
  ),
  firstFault(
    'updateUser with a bad name and status in the patch',
    ['C-order-3'],
    (s) =>
      s.updateUser(UNKNOWN_ID, untyped<UserPatch>({ status: 'x', displayName: '' }), {
        expectedRevision: 1,
      }),
    'patch.displayName',
    'empty',
  ),
  firstFault(
    'linkIdentity with a bad userId, provider and subject',
    ['C-order-3'],
    (s) => s.linkIdentity({ userId: 'bad', provider: 'BAD', subject: '' }),
    'userId',
    'not_a_uuid',
  ),
  firstFault(
    'linkIdentity with a bad provider and subject',
    ['C-order-3'],
    (s) => s.linkIdentity({ userId: UNKNOWN_ID, provider: 'BAD', subject: '' }),
    'provider',
    'bad_format',
  ),
  firstFault(
    'unlinkIdentity with a bad provider and subject',
    ['C-order-3'],
    (s) => s.unlinkIdentity('BAD', ''),
    'provider',
    'bad_format',
  ),
  firstFault(
    'listUsers with a bad limit and cursor',
    ['C-order-3'],
    (s) => s.listUsers({ limit: 0, after: '!' }),
    'limit',
    'out_of_range',
  ),
  firstFault(
    'outboxEvents with a bad afterSequence and limit',
    ['C-order-3'],
    (s) => s.outboxEvents({ afterSequence: -1, limit: 0 }),
    'afterSequence',
    'out_of_range',
  ),
  firstFault(
    'a batch with a bad second and third item',
    ['C-order-3', 'C-batch-1'],
    (s) =>
      s.upsertUsers([
        { email: 'ok@x.io', displayName: 'Ok' },
        { email: 'ok2@x.io', displayName: '' },
        { email: 'bad', displayName: 'Bad' },
      ]),
    'inputs[1].displayName',
    'empty',
  ),
  firstFault(
    'upsertUser(null)',
    ['C-input-15'],
    (s) => s.upsertUser(untyped<UpsertUserInput>(null)),
    'input',
    'not_an_object',
  ),
  firstFault(
    'upsertUser of a string',
    ['C-input-15'],
    (s) => s.upsertUser(untyped<UpsertUserInput>('a@x.io')),
    'input',
    'not_an_object',
  ),
  firstFault(
    'a batch item that is not an object',
    ['C-input-15'],
    (s) => s.upsertUsers(untyped<UpsertUserInput[]>([{ email: 'a@x.io', displayName: 'A' }, 7])),
    'inputs[1]',
    'not_an_object',
  ),
  firstFault(
    'a batch that is not an array',
    ['C-input-15'],
    (s) => s.upsertUsers(untyped<UpsertUserInput[]>({ email: 'a@x.io', displayName: 'A' })),
    'inputs',
    'not_an_array',
  ),
  firstFault(
    'a null patch',
    ['C-input-15'],
    (s) => s.updateUser(UNKNOWN_ID, untyped<UserPatch>(null), { expectedRevision: 1 }),
    'patch',
    'not_an_object',
  ),
  firstFault(
    'updateUser without options',
    ['C-input-15', 'C-input-9'],
    (s) => s.updateUser(UNKNOWN_ID, {}, untyped<UpdateUserOptions>(undefined)),
    'expectedRevision',
    'not_a_positive_integer',
  ),
  firstFault(
    'linkIdentity(null)',
    ['C-input-15'],
    (s) => s.linkIdentity(untyped<LinkIdentityInput>(null)),
    'input',
    'not_an_object',
  ),
  firstFault(
    'linkIdentity of a string',
    ['C-input-15'],
    (s) => s.linkIdentity(untyped<LinkIdentityInput>('github/42')),
    'input',
    'not_an_object',
  ),
  firstFault(
    'listUsers(null)',
    ['C-input-15'],
    (s) => s.listUsers(untyped<ListUsersOptions>(null)),
    'options',
    'not_an_object',
  ),
  firstFault(
    'listUsers of a number',
    ['C-input-15'],
    (s) => s.listUsers(untyped<ListUsersOptions>(5)),
    'options',
    'not_an_object',
  ),
  firstFault(
    'outboxEvents(null)',
    ['C-input-15'],
    (s) => s.outboxEvents(untyped<OutboxQuery>(null)),
    'query',
    'not_an_object',
  ),
  firstFault(
    'outboxEvents of a string',
    ['C-input-15'],
    (s) => s.outboxEvents(untyped<OutboxQuery>('x')),
    'query',
    'not_an_object',
  ),
  firstFault(
    'transaction of a non-function',
    ['C-input-15'],
    (s) => s.transaction(untyped<(tx: UserEngineStore) => Promise<unknown>>('fn')),
    'fn',
    'not_a_function',
  ),
  firstFault(
    'a non-string afterSequence',
    ['C-input-12'],
    (s) => s.outboxEvents(untyped<OutboxQuery>({ afterSequence: '1' })),
    'afterSequence',
    'out_of_range',
  ),
  firstFault(
    'a fractional afterSequence',
    ['C-input-12'],
    (s) => s.outboxEvents({ afterSequence: 1.5 }),
    'afterSequence',
    'out_of_range',
  ),
  firstFault(
    'a non-number limit for listUsers',
    ['C-input-10'],
    (s) => s.listUsers(untyped<ListUsersOptions>({ limit: '5' })),
    'limit',
    'out_of_range',
  ),
  firstFault(
    'a fractional outbox limit',
    ['C-input-13'],
    (s) => s.outboxEvents({ limit: 1.5 }),
    'limit',
    'out_of_range',
  ),
  firstFault(
    'a cursor that is not a string',
    ['C-input-11'],
    (s) => s.listUsers(untyped<ListUsersOptions>({ after: 5 })),
    'after',
    'malformed_cursor',
  ),
  firstFault(
    'a returned cursor wrapped in a String object',
    ['C-input-11'],
    // Read as a string it would page on: only its type says it is not the cursor returned.
    (s) => s.listUsers(untyped<ListUsersOptions>({ after: new String(encodeCursor('a@x.io')) })),
    'after',
    'malformed_cursor',
  ),
  firstFault(
    'an unsafe expectedRevision',
    ['C-input-9'],
    (s) => s.updateUser(UNKNOWN_ID, {}, { expectedRevision: 2 ** 53 }),
    'expectedRevision',
    'not_a_positive_integer',
  ),
];

/** A UUID with anything around it is not a UUID. */
const BAD_IDS: ReadonlyArray<[string, string]> = [
  ['a trailing character', `${UNKNOWN_ID}0`],
  ['a leading character', `0${UNKNOWN_ID}`],
  ['a trailing newline', `${UNKNOWN_ID}\n`],
  ['a leading space', ` ${UNKNOWN_ID}`],
  ['a non-hex digit', UNKNOWN_ID.replace(/^0/, 'g')],
  ['no dashes', UNKNOWN_ID.replace(/-/g, '')],
];

const ID_EDGES: Spec[] = BAD_IDS.flatMap(([label, id]) => [
  firstFault(
    `getUser of an id with ${label}`,
    ['C-input-8'],
    (s) => s.getUser(id),
    'id',
    'not_a_uuid',
  ),
  firstFault(
    `listIdentities of a userId with ${label}`,
    ['C-input-8'],
    (s) => s.listIdentities(id),
    'userId',
    'not_a_uuid',
  ),
]);

/** Keys on both sides of every place where UTF-16 order and code-point order part ways. */
const BOUNDARY_KEYS = [
  '\uD7FF@x.io',
  '\uE000@x.io',
  '\uE001@x.io',
  '\uFFFF@x.io',
  '\u{10000}@x.io',
  '\u{10FFFF}@x.io',
];

export const edgeSpecs: SpecGroup = {
  title: 'edges',
  specs: [
    ...SHAPES,
    ...ID_EDGES,
    spec(
      'list order is code-point order at U+D7FF, U+E000, U+FFFF and U+10000, page by page',
      ['C-list-1', 'C-ordering-1'],
      async ({ store }) => {
        await store.upsertUsers(
          [...BOUNDARY_KEYS].reverse().map((email) => ({ email, displayName: 'B' })),
        );
        expect(emails((await store.listUsers()).items)).toEqual(BOUNDARY_KEYS);
        const seen: string[] = [];
        let after: string | null = null;
        do {
          const page: Awaited<ReturnType<UserEngineStore['listUsers']>> = await store.listUsers({
            limit: 1,
            after,
          });
          seen.push(...emails(page.items));
          after = page.next;
        } while (after !== null);
        expect(seen).toEqual(BOUNDARY_KEYS);
      },
    ),
    spec(
      'identity order is code-point order at U+E000 and U+10000',
      ['C-ident-8', 'C-ordering-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'order@x.io');
        const subjects = ['\uD7FF', '\uE000', '\uFFFF', '\u{10000}'];
        for (const subject of [...subjects].reverse())
          await store.linkIdentity({ userId: user.id, provider: 'p', subject });
        expect((await store.listIdentities(user.id)).map((i) => i.subject)).toEqual(subjects);
      },
    ),
    spec(
      'a cursor made by encodeCursor is valid and pages from just after its key',
      ['C-input-16', 'C-list-3'],
      async ({ store }) => {
        await store.upsertUsers(
          ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'].map((email) => ({ email, displayName: 'C' })),
        );
        const page = await store.listUsers({ after: encodeCursor('b@x.io') });
        expect(emails(page.items)).toEqual(['c@x.io', 'd@x.io']);
        const between = await store.listUsers({ after: encodeCursor('b@x.io\u0001'), limit: 1 });
        expect(emails(between.items)).toEqual(['c@x.io']);
        expect(between.next).toBe(encodeCursor('c@x.io'));
      },
    ),
    spec(
      'a returned cursor with stray characters is malformed_cursor',
      ['C-input-11'],
      async ({ store }) => {
        await store.upsertUsers(
          ['a@x.io', 'b@x.io', 'c@x.io'].map((email) => ({ email, displayName: 'C' })),
        );
        const { next } = await store.listUsers({ limit: 1 });
        for (const bad of [`${next}!`, `!${next}`, `${next}=`, ` ${next}`, `${next}.`])
          await expect(store.listUsers({ after: bad })).rejects.toMatchObject({
            code: 'invalid_input',
            field: 'after',
            reason: 'malformed_cursor',
          });
      },
    ),
    spec(
      'a cursor whose key holds NUL or a lone surrogate is malformed_cursor',
      ['C-input-11'],
      async ({ store }) => {
        for (const key of ['a\u0000@x.io', '\uD800@x.io'])
          await expect(store.listUsers({ after: encodeCursor(key) })).rejects.toMatchObject({
            code: 'invalid_input',
            field: 'after',
            reason: 'malformed_cursor',
          });
      },
    ),
    spec(
      'not_found names the entity and the id, revision_conflict both revisions',
      ['C-errors-1', 'C-ident-1', 'C-update-1'],
      async ({ store }) => {
        await expect(
          store.updateUser(UNKNOWN_ID, { displayName: 'X' }, { expectedRevision: 1 }),
        ).rejects.toMatchObject({ code: 'not_found', entity: 'user', key: UNKNOWN_ID });
        await expect(
          store.linkIdentity({ userId: UNKNOWN_ID, provider: 'p', subject: 's' }),
        ).rejects.toMatchObject({ code: 'not_found', entity: 'user', key: UNKNOWN_ID });
        const user = await seedUser(store, 'err@x.io');
        await expect(store.updateUser(user.id, {}, { expectedRevision: 2 })).rejects.toMatchObject({
          code: 'revision_conflict',
          expectedRevision: 2,
          actualRevision: 1,
        });
      },
    ),
    spec(
      'an invalid_input error carries reason and field, and is no other error',
      ['C-errors-1'],
      async ({ store }) => {
        const error = await store.getUser('nope').then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        expect(error).toMatchObject({ code: 'invalid_input', field: 'id', reason: 'not_a_uuid' });
      },
    ),
    spec(
      'update checks not_found before revision_conflict, and revision before duplicate_email',
      ['C-order-5', 'C-update-1', 'C-update-2', 'C-update-3'],
      async ({ store }) => {
        await seedUser(store, 'owner@x.io');
        const user = await seedUser(store, 'mover@x.io');
        await expect(
          store.updateUser(UNKNOWN_ID, { email: 'owner@x.io' }, { expectedRevision: 7 }),
        ).rejects.toMatchObject({ code: 'not_found' });
        await expect(
          store.updateUser(user.id, { email: 'owner@x.io' }, { expectedRevision: 7 }),
        ).rejects.toMatchObject({ code: 'revision_conflict' });
      },
    ),
    spec(
      'a finished transaction handle rejects even invalid arguments with transaction_finished',
      ['C-order-1', 'C-tx-8'],
      async ({ store }) => {
        let leaked: UserEngineStore | undefined;
        await store.transaction(async (tx) => {
          leaked = tx;
        });
        const tx = leaked as UserEngineStore;
        const finished = { code: 'transaction_finished' };
        await expect(tx.getUser('not-a-uuid')).rejects.toMatchObject(finished);
        await expect(tx.upsertUser({ email: 'bad', displayName: '' })).rejects.toMatchObject(
          finished,
        );
        await expect(tx.listUsers({ limit: 0 })).rejects.toMatchObject(finished);
        await expect(tx.outboxEvents({ afterSequence: -1 })).rejects.toMatchObject(finished);
        await expect(tx.recordCounts()).rejects.toMatchObject(finished);
        await expect(tx.readiness()).rejects.toMatchObject(finished);
        await expect(tx.migrate()).rejects.toMatchObject(finished);
        await expect(tx.close()).rejects.toMatchObject(finished);
        await expect(tx.transaction(async () => undefined)).rejects.toMatchObject(finished);
        await expect(tx.deleteUser(UNKNOWN_ID)).rejects.toMatchObject(finished);
        await expect(
          tx.linkIdentity({ userId: UNKNOWN_ID, provider: 'p', subject: 's' }),
        ).rejects.toMatchObject(finished);
        await expect(tx.unlinkIdentity('p', 's')).rejects.toMatchObject(finished);
        await expect(tx.findUserByIdentity('p', 's')).rejects.toMatchObject(finished);
        await expect(tx.listIdentities(UNKNOWN_ID)).rejects.toMatchObject(finished);
        await expect(tx.findUserByEmail('a@x.io')).rejects.toMatchObject(finished);
        await expect(tx.upsertUsers([])).rejects.toMatchObject(finished);
        await expect(tx.updateUser(UNKNOWN_ID, {}, { expectedRevision: 1 })).rejects.toMatchObject(
          finished,
        );
      },
    ),
    spec(
      'a closed store rejects every call, with valid or invalid arguments',
      ['C-close-1', 'C-order-1'],
      async (ctx) => {
        const store = await ctx.freshStore();
        await store.migrate();
        await store.close();
        const calls: Call[] = [
          (s) => s.getUser(UNKNOWN_ID),
          (s) => s.getUser('not-a-uuid'),
          (s) => s.upsertUser({ email: 'a@x.io', displayName: 'A' }),
          (s) => s.upsertUser({ email: 'bad', displayName: '' }),
          (s) => s.upsertUsers([]),
          (s) => s.listUsers(),
          (s) => s.recordCounts(),
          (s) => s.outboxEvents(),
          (s) => s.readiness(),
          (s) => s.migrate(),
          (s) => s.transaction(async () => undefined),
        ];
        for (const call of calls) {
          const outcome = await call(store).then(
            () => 'resolved',
            (e: unknown) => (e instanceof Error ? 'rejected' : 'rejected with a non-error'),
          );
          expect(outcome).toBe('rejected');
        }
      },
      ['freshStore'],
    ),
    spec(
      'recordCounts before migrate is refused with not_ready and the pending ids',
      ['C-counts-2', 'C-order-4'],
      async (ctx) => {
        const store = await ctx.freshStore();
        await expect(store.recordCounts()).rejects.toMatchObject({
          code: 'not_ready',
          pending: ALL_IDS,
        });
        await expect(store.upsertUsers([])).rejects.toMatchObject({ code: 'not_ready' });
      },
      ['freshStore'],
    ),
    spec(
      'a migration inside a rolled-back transaction is undone; a committed one stays',
      ['C-tx-9'],
      async (ctx) => {
        const store = await ctx.freshStore();
        await expect(
          store.transaction(async (tx) => {
            expect((await tx.readiness()).ready).toBe(false);
            expect(await tx.migrate()).toEqual({ applied: ALL_IDS });
            expect((await tx.readiness()).ready).toBe(true);
            throw new RolledBack();
          }),
        ).rejects.toBeInstanceOf(RolledBack);
        expect(await store.readiness()).toMatchObject({ ready: false, pending: ALL_IDS });
        await store.transaction(async (tx) => {
          await tx.migrate();
        });
        expect(await store.readiness()).toMatchObject({ ready: true, pending: [] });
      },
      ['freshStore'],
    ),
    spec(
      'readers outside a transaction see none of its writes until it commits',
      ['C-tx-4'],
      async ({ store }) => {
        const seeded = await seedUser(store, 'outside@x.io', 'Before');
        await store.transaction(async (tx) => {
          await tx.updateUser(seeded.id, { displayName: 'After' }, { expectedRevision: 1 });
          await seedUser(tx, 'inside@x.io');
          expect(await store.getUser(seeded.id)).toEqual(seeded);
          expect(await store.findUserByEmail('inside@x.io')).toBeNull();
          expect((await store.recordCounts()).user_engine_users).toBe(1);
          expect(await allEvents(store)).toHaveLength(1);
        });
        expect((await store.getUser(seeded.id))?.displayName).toBe('After');
        expect(await store.findUserByEmail('inside@x.io')).not.toBeNull();
      },
      ['concurrentWriters'],
    ),
    spec(
      'inputs are not retained: mutating them after the call changes nothing stored',
      ['C-returned-2'],
      async ({ store }) => {
        const input = { email: 'in@x.io', displayName: 'Kept' };
        const { user } = await store.upsertUser(input);
        input.displayName = 'Changed';
        input.email = 'other@x.io';
        const batch = [{ email: 'in2@x.io', displayName: 'Kept' }];
        await store.upsertUsers(batch);
        batch[0].displayName = 'Changed';
        batch.push({ email: 'in3@x.io', displayName: 'Late' });
        const patch = { displayName: 'Patched' };
        await store.updateUser(user.id, patch, { expectedRevision: 1 });
        patch.displayName = 'Changed';
        const link = { userId: user.id, provider: 'p', subject: 's' };
        await store.linkIdentity(link);
        link.subject = 'changed';
        expect((await store.getUser(user.id))?.displayName).toBe('Patched');
        expect((await store.findUserByEmail('in2@x.io'))?.displayName).toBe('Kept');
        expect(await store.findUserByEmail('in3@x.io')).toBeNull();
        expect((await store.listIdentities(user.id)).map((i) => i.subject)).toEqual(['s']);
      },
    ),
    spec(
      'mutating returned identities, events and pages does not change the store',
      ['C-returned-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'out@x.io', 'Out');
        const { identity } = await store.linkIdentity({
          userId: user.id,
          provider: 'p',
          subject: 's',
        });
        const linkedAt = identity.linkedAt.getTime();
        identity.linkedAt.setTime(0);
        identity.subject = 'tampered';
        const [event] = await store.outboxEvents();
        (event.payload as { displayName: string }).displayName = 'tampered';
        event.createdAt.setTime(0);
        const page = await store.listUsers();
        page.items[0].displayName = 'tampered';
        page.items.pop();
        const [listed] = await store.listIdentities(user.id);
        expect([listed.subject, listed.linkedAt.getTime()]).toEqual(['s', linkedAt]);
        const [again] = await store.outboxEvents();
        expect(again.payload.displayName).toBe('Out');
        expect(again.createdAt.getTime()).not.toBe(0);
        expect((await store.listUsers()).items).toEqual([user]);
        const first = await store.getUser(user.id);
        const second = await store.getUser(user.id);
        expect(first?.createdAt).not.toBe(second?.createdAt);
      },
    ),
  ],
};
