import { expect } from '../jest-globals';
import { spec, type SpecGroup } from '../spec';
import { allEventViews, created, seedUser, time, UNKNOWN_ID, updated } from '../support';

export const updateSpecs: SpecGroup = {
  title: 'update',
  specs: [
    spec(
      'a patch at the current revision writes and bumps the revision',
      ['C-update-5', 'C-model-8', 'C-model-10', 'C-model-11'],
      async ({ store }) => {
        const user = await seedUser(store, 'up@x.io', 'Before');
        const result = await store.updateUser(
          user.id,
          { displayName: 'After' },
          { expectedRevision: 1 },
        );
        expect(result.changed).toBe(true);
        expect(result.user).toMatchObject({
          id: user.id,
          email: 'up@x.io',
          displayName: 'After',
          status: 'active',
          revision: 2,
        });
        expect(time(result.user.createdAt)).toBe(time(user.createdAt));
        expect(time(result.user.updatedAt)).toBeGreaterThanOrEqual(time(user.updatedAt));
        expect(await store.getUser(user.id)).toEqual(result.user);
      },
    ),
    spec(
      'an update appends user.updated listing changes in email, displayName, status order',
      ['C-update-5', 'C-events-3'],
      async ({ store }) => {
        const user = await seedUser(store, 'order@x.io', 'Before');
        const { user: after } = await store.updateUser(
          user.id,
          { status: 'suspended', displayName: 'After', email: 'order2@x.io' },
          { expectedRevision: 1 },
        );
        expect(await allEventViews(store)).toEqual([
          created(user),
          updated(after, ['email', 'displayName', 'status']),
        ]);
      },
    ),
    spec('changes lists only fields whose value differs', ['C-events-3'], async ({ store }) => {
      const user = await seedUser(store, 'partial@x.io', 'Same');
      const { user: after } = await store.updateUser(
        user.id,
        { displayName: 'Same', status: 'suspended' },
        { expectedRevision: 1 },
      );
      expect((await allEventViews(store))[1]).toEqual(updated(after, ['status']));
    }),
    spec('an unknown id is not_found', ['C-update-1'], async ({ store }) => {
      await expect(
        store.updateUser(UNKNOWN_ID, { displayName: 'X' }, { expectedRevision: 1 }),
      ).rejects.toMatchObject({ code: 'not_found' });
    }),
    spec(
      'a stale revision is revision_conflict with both revisions',
      ['C-update-2', 'C-errors-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'stale@x.io', 'A');
        await store.updateUser(user.id, { displayName: 'B' }, { expectedRevision: 1 });
        await expect(
          store.updateUser(user.id, { displayName: 'C' }, { expectedRevision: 1 }),
        ).rejects.toMatchObject({
          code: 'revision_conflict',
          expectedRevision: 1,
          actualRevision: 2,
        });
        expect((await store.getUser(user.id))?.displayName).toBe('B');
      },
    ),
    spec(
      'a revision ahead of the stored one is revision_conflict',
      ['C-update-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'ahead@x.io', 'A');
        await expect(
          store.updateUser(user.id, { displayName: 'C' }, { expectedRevision: 5 }),
        ).rejects.toMatchObject({
          code: 'revision_conflict',
          expectedRevision: 5,
          actualRevision: 1,
        });
      },
    ),
    spec(
      'a no-op patch at a stale revision is still revision_conflict',
      ['C-update-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'stale-noop@x.io', 'A');
        await store.updateUser(user.id, { displayName: 'B' }, { expectedRevision: 1 });
        await expect(
          store.updateUser(user.id, { displayName: 'B' }, { expectedRevision: 1 }),
        ).rejects.toMatchObject({ code: 'revision_conflict' });
      },
    ),
    spec(
      'a patch with the current values writes nothing',
      ['C-update-4', 'C-model-9'],
      async ({ store }) => {
        const user = await seedUser(store, 'noop@x.io', 'Same');
        const result = await store.updateUser(
          user.id,
          { email: 'noop@x.io', displayName: 'Same', status: 'active' },
          { expectedRevision: 1 },
        );
        expect(result).toEqual({ user, changed: false });
        expect(await allEventViews(store)).toEqual([created(user)]);
      },
    ),
    spec('an empty patch writes nothing', ['C-update-4'], async ({ store }) => {
      const user = await seedUser(store, 'empty-patch@x.io', 'Same');
      expect(await store.updateUser(user.id, {}, { expectedRevision: 1 })).toEqual({
        user,
        changed: false,
      });
      expect(await allEventViews(store)).toEqual([created(user)]);
    }),
    spec(
      "taking another user's email key is duplicate_email",
      ['C-update-3', 'C-errors-1'],
      async ({ store }) => {
        await seedUser(store, 'taken@x.io', 'Owner');
        const user = await seedUser(store, 'mine@x.io', 'Me');
        await expect(
          store.updateUser(user.id, { email: 'TAKEN@x.io' }, { expectedRevision: 1 }),
        ).rejects.toMatchObject({ code: 'duplicate_email', emailKey: 'taken@x.io' });
        expect(await store.getUser(user.id)).toEqual(user);
      },
    ),
    spec(
      'a case-only email change is allowed and keeps the key',
      ['C-update-3', 'C-model-6'],
      async ({ store }) => {
        const user = await seedUser(store, 'case@x.io', 'C');
        const result = await store.updateUser(
          user.id,
          { email: 'CASE@x.io' },
          { expectedRevision: 1 },
        );
        expect(result.changed).toBe(true);
        expect(result.user).toMatchObject({
          email: 'CASE@x.io',
          emailKey: 'case@x.io',
          revision: 2,
        });
        expect((await allEventViews(store))[1]).toEqual(updated(result.user, ['email']));
      },
    ),
    spec(
      'a new email is trimmed and the old one is free afterwards',
      ['C-update-5', 'C-upsert-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'old@x.io', 'Mover');
        const result = await store.updateUser(
          user.id,
          { email: '  new@x.io  ' },
          { expectedRevision: 1 },
        );
        expect(result.user).toMatchObject({ email: 'new@x.io', emailKey: 'new@x.io' });
        expect(await store.findUserByEmail('old@x.io')).toBeNull();
        expect(await store.findUserByEmail('new@x.io')).toEqual(result.user);
        const other = await store.upsertUser({ email: 'old@x.io', displayName: 'Other' });
        expect(other.created).toBe(true);
      },
    ),
    spec('a rejected update appends no event', ['C-order-6'], async ({ store }) => {
      await seedUser(store, 'taken@x.io', 'Owner');
      const user = await seedUser(store, 'mine@x.io', 'Me');
      const before = await allEventViews(store);
      await expect(
        store.updateUser(user.id, { email: 'taken@x.io' }, { expectedRevision: 1 }),
      ).rejects.toMatchObject({ code: 'duplicate_email' });
      await expect(
        store.updateUser(user.id, { displayName: 'X' }, { expectedRevision: 9 }),
      ).rejects.toMatchObject({ code: 'revision_conflict' });
      expect(await allEventViews(store)).toEqual(before);
    }),
    spec('an upper-case id addresses the same user', ['C-input-8'], async ({ store }) => {
      const user = await seedUser(store, 'upper@x.io', 'U');
      const result = await store.updateUser(
        user.id.toUpperCase(),
        { displayName: 'V' },
        { expectedRevision: 1 },
      );
      expect(result.user.id).toBe(user.id);
    }),
  ],
};
