/**
 * Each rule checked on the paths an adapter author is likely to handle separately: batch as well
 * as single writes, inside transactions as well as outside, reads through another handle than
 * the one that wrote (an adapter may cache), after commit and after rollback, and for every
 * status. Events and record counts are checked exactly after each kind of write.
 */
import { expect } from '../jest-globals';
import type { UserEngineStore } from '../../store/contract';
import { spec, type SpecGroup } from '../spec';
import {
  allEventViews,
  created,
  deleted,
  emails,
  linked,
  seedUser,
  time,
  unlinked,
  updated,
} from '../support';

class Rollback extends Error {
  constructor() {
    super('rolled back on purpose by the conformance suite');
  }
}

/** Runs `fn` in a transaction that is then rolled back. */
async function rolledBack(store: UserEngineStore, fn: (tx: UserEngineStore) => Promise<void>) {
  await expect(
    store.transaction(async (tx) => {
      await fn(tx);
      throw new Rollback();
    }),
  ).rejects.toBeInstanceOf(Rollback);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const pathSpecs: SpecGroup = {
  title: 'every rule on every path',
  specs: [
    spec(
      'a batch honours an explicit status, trims and folds like a single upsert',
      ['C-batch-1', 'C-upsert-2', 'C-model-2', 'C-model-3'],
      async ({ store }) => {
        const [a, b] = await store.upsertUsers([
          { email: '  Bat.Ch@X.io ', displayName: '  Spaced  ', status: 'suspended' },
          { email: 'plain@x.io', displayName: 'Plain' },
        ]);
        expect(a.user).toMatchObject({
          email: 'Bat.Ch@X.io',
          emailKey: 'bat.ch@x.io',
          displayName: 'Spaced',
          status: 'suspended',
          revision: 1,
        });
        expect(b.user.status).toBe('active');
        expect(await store.getUser(a.user.id)).toEqual(a.user);
      },
    ),
    spec(
      'a batch finds existing users by key: ASCII case and padding ignored',
      ['C-batch-1', 'C-upsert-1', 'C-upsert-4', 'C-model-4'],
      async ({ store }) => {
        const ann = await seedUser(store, 'ann@x.io', 'Ann');
        const [same, cased] = await store.upsertUsers([
          { email: ' ann@x.io ', displayName: ' Ann ' },
          { email: 'BOB@x.io', displayName: 'Bob' },
        ]);
        expect(same).toEqual({ user: ann, created: false, changed: false });
        const [bob] = await store.upsertUsers([{ email: 'bob@X.IO', displayName: 'Bob' }]);
        expect(bob).toMatchObject({ created: false, changed: true });
        expect(bob.user).toMatchObject({ id: cased.user.id, email: 'bob@X.IO', revision: 2 });
        expect((await store.recordCounts()).user_engine_users).toBe(2);
      },
    ),
    spec(
      'a batch that changes a user bumps the revision and records exact changes',
      ['C-batch-4', 'C-model-8', 'C-events-3', 'C-upsert-5'],
      async ({ store }) => {
        const user = await seedUser(store, 'Case@x.io', 'Name');
        const [result] = await store.upsertUsers([
          { email: 'case@x.io', displayName: 'Name', status: 'suspended' },
        ]);
        expect(result.user).toMatchObject({ email: 'case@x.io', status: 'suspended', revision: 2 });
        const [again] = await store.upsertUsers([
          { email: 'case@x.io', displayName: 'Name 2', status: 'active' },
        ]);
        expect(again.user.revision).toBe(3);
        expect(await allEventViews(store)).toEqual([
          created(user),
          updated(result.user, ['email', 'status']),
          updated(again.user, ['displayName', 'status']),
        ]);
      },
    ),
    spec(
      'an upsert moves a user between statuses in both directions',
      ['C-upsert-3', 'C-upsert-5', 'C-events-3'],
      async ({ store }) => {
        const user = (
          await store.upsertUser({ email: 's@x.io', displayName: 'S', status: 'suspended' })
        ).user;
        const active = await store.upsertUser({
          email: 's@x.io',
          displayName: 'S',
          status: 'active',
        });
        const back = await store.upsertUser({
          email: 's@x.io',
          displayName: 'S',
          status: 'suspended',
        });
        expect([active.user.status, active.user.revision]).toEqual(['active', 2]);
        expect([back.user.status, back.user.revision]).toEqual(['suspended', 3]);
        expect(await allEventViews(store)).toEqual([
          created(user),
          updated(active.user, ['status']),
          updated(back.user, ['status']),
        ]);
      },
    ),
    spec(
      'an update moves a user between statuses in both directions and keeps other fields',
      ['C-update-5', 'C-events-3'],
      async ({ store }) => {
        const user = await seedUser(store, 'st@x.io', 'St');
        const down = await store.updateUser(
          user.id,
          { status: 'suspended' },
          { expectedRevision: 1 },
        );
        const up = await store.updateUser(user.id, { status: 'active' }, { expectedRevision: 2 });
        expect(down.user).toMatchObject({
          email: 'st@x.io',
          displayName: 'St',
          status: 'suspended',
        });
        expect(up.user).toMatchObject({ email: 'st@x.io', displayName: 'St', status: 'active' });
        expect(up.user.revision).toBe(3);
        expect(await allEventViews(store)).toEqual([
          created(user),
          updated(down.user, ['status']),
          updated(up.user, ['status']),
        ]);
      },
    ),
    spec(
      'an update trims the display name, and a patch equal after trimming writes nothing',
      ['C-update-4', 'C-model-2', 'C-input-4'],
      async ({ store }) => {
        const user = await seedUser(store, 'trim-up@x.io', 'Old');
        const result = await store.updateUser(
          user.id,
          { displayName: '  New  ' },
          { expectedRevision: 1 },
        );
        expect(result.user.displayName).toBe('New');
        const again = await store.updateUser(
          user.id,
          { displayName: ' New ', email: ' trim-up@x.io ' },
          { expectedRevision: 2 },
        );
        expect(again).toEqual({ user: result.user, changed: false });
      },
    ),
    spec(
      'writes inside a transaction follow the same revision, no-op and event rules',
      ['C-model-8', 'C-model-9', 'C-tx-1', 'C-events-5'],
      async ({ store }) => {
        const user = await seedUser(store, 'txrev@x.io', 'A');
        const [noop, up, batch] = await store.transaction(async (tx) => [
          await tx.upsertUser({ email: 'txrev@x.io', displayName: 'A' }),
          await tx.upsertUser({ email: 'txrev@x.io', displayName: 'B' }),
          await tx.upsertUsers([{ email: 'txrev@x.io', displayName: 'C' }]),
        ]);
        expect(noop).toEqual({ user, created: false, changed: false });
        expect(up.user.revision).toBe(2);
        expect(batch[0].user.revision).toBe(3);
        const updatedUser = await store.transaction(async (tx) =>
          tx.updateUser(user.id, { displayName: 'D' }, { expectedRevision: 3 }),
        );
        expect(updatedUser.user.revision).toBe(4);
        expect(await store.getUser(user.id)).toEqual(updatedUser.user);
        expect(await allEventViews(store)).toEqual([
          created(user),
          updated(up.user, ['displayName']),
          updated(batch[0].user, ['displayName']),
          updated(updatedUser.user, ['displayName']),
        ]);
      },
    ),
    spec(
      'a read before a write through a transaction does not hide the committed write',
      ['C-read-1', 'C-read-2', 'C-ident-7', 'C-tx-4'],
      async ({ store }) => {
        const user = await seedUser(store, 'cache@x.io', 'Before');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: 'c' });
        // Prime whatever an adapter might cache on the root handle.
        await store.getUser(user.id);
        await store.findUserByEmail('cache@x.io');
        await store.findUserByIdentity('github', 'c');
        await store.listIdentities(user.id);
        await store.listUsers();
        await store.recordCounts();
        await store.outboxEvents();
        const after = await store.transaction(async (tx) => {
          const { user: renamed } = await tx.updateUser(
            user.id,
            { displayName: 'After', email: 'cache2@x.io' },
            { expectedRevision: 1 },
          );
          await tx.unlinkIdentity('github', 'c');
          await tx.linkIdentity({ userId: user.id, provider: 'gitlab', subject: 'd' });
          await seedUser(tx, 'other@x.io');
          return renamed;
        });
        expect(await store.getUser(user.id)).toEqual(after);
        expect(await store.findUserByEmail('cache@x.io')).toBeNull();
        expect(await store.findUserByEmail('cache2@x.io')).toEqual(after);
        expect(await store.findUserByIdentity('github', 'c')).toBeNull();
        expect(await store.findUserByIdentity('gitlab', 'd')).toEqual(after);
        expect((await store.listIdentities(user.id)).map((i) => i.provider)).toEqual(['gitlab']);
        expect(emails((await store.listUsers()).items)).toEqual(['cache2@x.io', 'other@x.io']);
        expect(await store.recordCounts()).toEqual({
          user_engine_users: 2,
          user_engine_identities: 1,
          user_engine_outbox: 6,
        });
        expect((await store.outboxEvents()).map((e) => e.type)).toEqual([
          'user.created',
          'identity.linked',
          'user.updated',
          'identity.unlinked',
          'identity.linked',
          'user.created',
        ]);
      },
    ),
    spec(
      'reads through the root handle after a batch or a delete see the new state',
      ['C-read-1', 'C-read-2', 'C-batch-1', 'C-delete-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'seen@x.io', 'One');
        await store.getUser(user.id);
        await store.findUserByEmail('seen@x.io');
        const [result] = await store.upsertUsers([{ email: 'seen@x.io', displayName: 'Two' }]);
        expect(await store.getUser(user.id)).toEqual(result.user);
        expect(await store.findUserByEmail('SEEN@x.io')).toEqual(result.user);
        await store.deleteUser(user.id);
        expect(await store.getUser(user.id)).toBeNull();
        expect(await store.findUserByEmail('seen@x.io')).toBeNull();
      },
    ),
    spec(
      'a rolled-back transaction leaves reads, counts and events as they were',
      ['C-tx-2', 'C-counts-1', 'C-events-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'rb@x.io', 'Kept');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: 'rb' });
        const before = await allEventViews(store);
        await rolledBack(store, async (tx) => {
          await tx.upsertUsers([
            { email: 'rb@x.io', displayName: 'Lost' },
            { email: 'rb2@x.io', displayName: 'Lost' },
          ]);
          await tx.deleteUser(user.id);
          expect(await tx.recordCounts()).toEqual({
            user_engine_users: 1,
            user_engine_identities: 0,
            user_engine_outbox: 5,
          });
        });
        expect(await store.getUser(user.id)).toEqual(user);
        expect(await store.findUserByEmail('rb2@x.io')).toBeNull();
        expect(await store.findUserByIdentity('github', 'rb')).toEqual(user);
        expect(await store.listIdentities(user.id)).toHaveLength(1);
        expect(await allEventViews(store)).toEqual(before);
        expect(await store.recordCounts()).toEqual({
          user_engine_users: 1,
          user_engine_identities: 1,
          user_engine_outbox: 2,
        });
      },
    ),
    spec(
      'record counts are exact after every kind of write and after failed calls',
      ['C-counts-1', 'C-order-6'],
      async ({ store }) => {
        const counts = async () => {
          const c = await store.recordCounts();
          return [c.user_engine_users, c.user_engine_identities, c.user_engine_outbox];
        };
        const a = await seedUser(store, 'ca@x.io', 'A');
        expect(await counts()).toEqual([1, 0, 1]);
        await store.upsertUsers([
          { email: 'ca@x.io', displayName: 'A2' },
          { email: 'cb@x.io', displayName: 'B' },
          { email: 'cc@x.io', displayName: 'C' },
        ]);
        expect(await counts()).toEqual([3, 0, 4]);
        await store.linkIdentity({ userId: a.id, provider: 'p', subject: '1' });
        await store.linkIdentity({ userId: a.id, provider: 'p', subject: '2' });
        expect(await counts()).toEqual([3, 2, 6]);
        await store.unlinkIdentity('p', '1');
        expect(await counts()).toEqual([3, 1, 7]);
        await store.updateUser(a.id, { email: 'ca2@x.io' }, { expectedRevision: 2 });
        expect(await counts()).toEqual([3, 1, 8]);
        await expect(
          store.upsertUsers([
            { email: 'cd@x.io', displayName: 'D' },
            { email: 'CD@x.io', displayName: 'D' },
          ]),
        ).rejects.toMatchObject({ code: 'invalid_input' });
        await expect(
          store.updateUser(a.id, { email: 'cb@x.io' }, { expectedRevision: 3 }),
        ).rejects.toMatchObject({ code: 'duplicate_email' });
        expect(await counts()).toEqual([3, 1, 8]);
        await store.deleteUser(a.id);
        expect(await counts()).toEqual([2, 0, 9]);
      },
    ),
    spec(
      'an email freed by a delete can be taken by an update',
      ['C-delete-3', 'C-update-3'],
      async ({ store }) => {
        const gone = await seedUser(store, 'freed@x.io');
        const taker = await seedUser(store, 'taker@x.io');
        await store.deleteUser(gone.id);
        const result = await store.updateUser(
          taker.id,
          { email: 'FREED@x.io' },
          { expectedRevision: 1 },
        );
        expect(result.user).toMatchObject({ email: 'FREED@x.io', emailKey: 'freed@x.io' });
        expect(await store.findUserByEmail('freed@x.io')).toEqual(result.user);
      },
    ),
    spec(
      'an email freed by an update can be taken by another update, in one transaction too',
      ['C-update-5', 'C-update-3', 'C-tx-3'],
      async ({ store }) => {
        const a = await seedUser(store, 'first@x.io');
        const b = await seedUser(store, 'second@x.io');
        await store.transaction(async (tx) => {
          await tx.updateUser(a.id, { email: 'moved@x.io' }, { expectedRevision: 1 });
          const taken = await tx.updateUser(b.id, { email: 'first@x.io' }, { expectedRevision: 1 });
          expect(await tx.findUserByEmail('first@x.io')).toEqual(taken.user);
        });
        expect((await store.findUserByEmail('first@x.io'))?.id).toBe(b.id);
        expect((await store.findUserByEmail('moved@x.io'))?.id).toBe(a.id);
        expect(await store.findUserByEmail('second@x.io')).toBeNull();
        const c = await seedUser(store, 'third@x.io');
        await expect(
          store.updateUser(c.id, { email: 'moved@x.io' }, { expectedRevision: 1 }),
        ).rejects.toMatchObject({ code: 'duplicate_email', emailKey: 'moved@x.io' });
      },
    ),
    spec(
      'a key freed by a delete inside a transaction creates a new user there',
      ['C-delete-3', 'C-tx-3'],
      async ({ store }) => {
        const user = await seedUser(store, 'reuse@x.io');
        const again = await store.transaction(async (tx) => {
          await tx.deleteUser(user.id);
          expect(await tx.getUser(user.id)).toBeNull();
          return tx.upsertUser({ email: 'reuse@x.io', displayName: 'New' });
        });
        expect(again.created).toBe(true);
        expect(again.user.id).not.toBe(user.id);
        expect((await store.findUserByEmail('reuse@x.io'))?.id).toBe(again.user.id);
      },
    ),
    spec(
      'a changed email moves the user in list order and out of the old key',
      ['C-list-1', 'C-update-5'],
      async ({ store }) => {
        const [a] = await store.upsertUsers(
          ['a@x.io', 'm@x.io', 'z@x.io'].map((email) => ({ email, displayName: 'L' })),
        );
        await store.updateUser(a.user.id, { email: 'zz@x.io' }, { expectedRevision: 1 });
        expect(emails((await store.listUsers()).items)).toEqual(['m@x.io', 'z@x.io', 'zz@x.io']);
        const first = await store.listUsers({ limit: 2 });
        expect(emails((await store.listUsers({ after: first.next })).items)).toEqual(['zz@x.io']);
      },
    ),
    spec(
      'the delete event carries the email as last written',
      ['C-delete-2', 'C-events-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'was@x.io');
        const { user: moved } = await store.updateUser(
          user.id,
          { email: 'Now@x.io' },
          { expectedRevision: 1 },
        );
        await store.deleteUser(user.id);
        expect((await allEventViews(store))[2]).toEqual(deleted(moved));
      },
    ),
    spec(
      'the unlink event names the owner, and deleting the owner unlinks silently',
      ['C-ident-6', 'C-delete-2', 'C-events-4'],
      async ({ store }) => {
        const a = await seedUser(store, 'ua@x.io');
        const b = await seedUser(store, 'ub@x.io');
        await store.linkIdentity({ userId: b.id, provider: 'p', subject: 's' });
        await store.linkIdentity({ userId: b.id, provider: 'p', subject: 't' });
        expect(await store.unlinkIdentity('p', 's')).toBe(true);
        await store.deleteUser(b.id);
        expect(await store.unlinkIdentity('p', 't')).toBe(false);
        expect(await allEventViews(store)).toEqual([
          created(a),
          created(b),
          linked(b.id, 'p', 's'),
          linked(b.id, 'p', 't'),
          unlinked(b.id, 'p', 's'),
          deleted(b),
        ]);
      },
    ),
    spec(
      'several identities of one provider belong to one user; another user keeps its own',
      ['C-ident-5', 'C-ident-8'],
      async ({ store }) => {
        const a = await seedUser(store, 'ia@x.io');
        const b = await seedUser(store, 'ib@x.io');
        for (const subject of ['2', '1', '3'])
          await store.linkIdentity({ userId: a.id, provider: 'github', subject });
        await store.linkIdentity({ userId: b.id, provider: 'github', subject: '4' });
        expect((await store.listIdentities(a.id)).map((i) => i.subject)).toEqual(['1', '2', '3']);
        expect((await store.listIdentities(b.id)).map((i) => i.subject)).toEqual(['4']);
        for (const subject of ['1', '2', '3'])
          expect(await store.findUserByIdentity('github', subject)).toEqual(a);
        await expect(
          store.linkIdentity({ userId: b.id, provider: 'github', subject: '3' }),
        ).rejects.toMatchObject({ code: 'identity_conflict' });
      },
    ),
    spec(
      'a repeated link keeps the original linkedAt in every read',
      ['C-model-12', 'C-ident-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'linked-at@x.io');
        const first = await store.linkIdentity({ userId: user.id, provider: 'p', subject: 's' });
        await pause(15);
        const again = await store.linkIdentity({ userId: user.id, provider: 'p', subject: 's' });
        expect(time(again.identity.linkedAt)).toBe(time(first.identity.linkedAt));
        const [listed] = await store.listIdentities(user.id);
        expect(listed).toEqual(first.identity);
      },
    ),
    spec(
      'creation sets createdAt = updatedAt; a later write moves only updatedAt',
      ['C-model-10', 'C-model-11'],
      async ({ store }) => {
        const user = await seedUser(store, 'clock@x.io', 'A');
        expect(time(user.updatedAt)).toBe(time(user.createdAt));
        await pause(15);
        const noop = await store.upsertUser({ email: 'clock@x.io', displayName: 'A' });
        expect(time(noop.user.updatedAt)).toBe(time(user.updatedAt));
        const up = await store.upsertUser({ email: 'clock@x.io', displayName: 'B' });
        expect(time(up.user.createdAt)).toBe(time(user.createdAt));
        expect(time(up.user.updatedAt)).toBeGreaterThan(time(user.updatedAt));
        await pause(15);
        const patched = await store.updateUser(
          user.id,
          { status: 'suspended' },
          { expectedRevision: 2 },
        );
        expect(time(patched.user.createdAt)).toBe(time(user.createdAt));
        expect(time(patched.user.updatedAt)).toBeGreaterThan(time(up.user.updatedAt));
        expect(await store.getUser(user.id)).toEqual(patched.user);
      },
    ),
    spec(
      'outbox pages at exact boundaries: limit equal to the events, afterSequence 0',
      ['C-outbox-1', 'C-input-12'],
      async ({ store }) => {
        await store.upsertUsers(
          ['o1@x.io', 'o2@x.io', 'o3@x.io'].map((email) => ({ email, displayName: 'O' })),
        );
        const all = await store.outboxEvents({ afterSequence: 0 });
        expect(all).toHaveLength(3);
        expect(await store.outboxEvents({ limit: 3 })).toEqual(all);
        expect(await store.outboxEvents({ limit: 1 })).toEqual(all.slice(0, 1));
        expect(await store.outboxEvents({ afterSequence: all[0].sequence, limit: 1 })).toEqual(
          all.slice(1, 2),
        );
        expect(await store.outboxEvents({ afterSequence: all[2].sequence + 1000 })).toEqual([]);
      },
    ),
  ],
};
