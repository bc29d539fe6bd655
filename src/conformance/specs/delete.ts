import { expect } from '../jest-globals';
import { spec, type SpecGroup } from '../spec';
import { allEventViews, created, deleted, linked, seedUser, UNKNOWN_ID } from '../support';

export const deleteSpecs: SpecGroup = {
  title: 'delete',
  specs: [
    spec(
      'deleting an existing user returns true and removes it',
      ['C-delete-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'gone@x.io');
        expect(await store.deleteUser(user.id)).toBe(true);
        expect(await store.getUser(user.id)).toBeNull();
        expect(await store.findUserByEmail('gone@x.io')).toBeNull();
      },
    ),
    spec('deleting twice returns false the second time', ['C-delete-1'], async ({ store }) => {
      const user = await seedUser(store, 'twice@x.io');
      await store.deleteUser(user.id);
      expect(await store.deleteUser(user.id)).toBe(false);
    }),
    spec(
      'deleting an unknown id returns false and appends no event',
      ['C-delete-1', 'C-errors-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'stay@x.io');
        expect(await store.deleteUser(UNKNOWN_ID)).toBe(false);
        expect(await allEventViews(store)).toEqual([created(user)]);
      },
    ),
    spec(
      'deleting appends only user.deleted with userId and email',
      ['C-delete-2', 'C-events-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'Del@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '1' });
        await store.deleteUser(user.id);
        expect(await allEventViews(store)).toEqual([
          created(user),
          linked(user.id, 'github', '1'),
          deleted(user),
        ]);
      },
    ),
    spec(
      "deleting removes the user's identities",
      ['C-delete-2', 'C-counts-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'ids@x.io');
        const keep = await seedUser(store, 'keep@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '1' });
        await store.linkIdentity({ userId: user.id, provider: 'google', subject: '2' });
        await store.linkIdentity({ userId: keep.id, provider: 'github', subject: '3' });
        await store.deleteUser(user.id);
        expect(await store.listIdentities(user.id)).toEqual([]);
        expect(await store.findUserByIdentity('github', '1')).toBeNull();
        expect(await store.findUserByIdentity('github', '3')).toEqual(keep);
        expect(await store.recordCounts()).toMatchObject({
          user_engine_users: 1,
          user_engine_identities: 1,
        });
      },
    ),
    spec(
      "a deleted user's identity can be linked to another user",
      ['C-delete-2', 'C-ident-5'],
      async ({ store }) => {
        const first = await seedUser(store, 'first@x.io');
        const second = await seedUser(store, 'second@x.io');
        await store.linkIdentity({ userId: first.id, provider: 'github', subject: '1' });
        await store.deleteUser(first.id);
        const result = await store.linkIdentity({
          userId: second.id,
          provider: 'github',
          subject: '1',
        });
        expect(result.linked).toBe(true);
        expect(await store.findUserByIdentity('github', '1')).toEqual(second);
      },
    ),
    spec(
      "a deleted user's email key creates a new user with a new id",
      ['C-delete-3', 'C-upsert-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'again@x.io');
        await store.deleteUser(user.id);
        const result = await store.upsertUser({ email: 'AGAIN@x.io', displayName: 'Again' });
        expect(result.created).toBe(true);
        expect(result.user.revision).toBe(1);
        expect(result.user.id).not.toBe(user.id);
      },
    ),
    spec(
      'updating a deleted user is not_found',
      ['C-update-1', 'C-delete-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'ghost@x.io');
        await store.deleteUser(user.id);
        await expect(
          store.updateUser(user.id, { displayName: 'Boo' }, { expectedRevision: 1 }),
        ).rejects.toMatchObject({ code: 'not_found' });
      },
    ),
  ],
};
