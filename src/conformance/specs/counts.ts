import { expect } from '../jest-globals';
import { spec, type SpecGroup } from '../spec';
import { seedUser } from '../support';

export const countSpecs: SpecGroup = {
  title: 'record counts',
  specs: [
    spec('an empty store counts zero in every managed table', ['C-counts-1'], async ({ store }) => {
      expect(await store.recordCounts()).toEqual({
        user_engine_users: 0,
        user_engine_identities: 0,
        user_engine_outbox: 0,
      });
    }),
    spec('counts users, identities and events exactly', ['C-counts-1'], async ({ store }) => {
      const a = await seedUser(store, 'a@x.io');
      const b = await seedUser(store, 'b@x.io');
      await store.linkIdentity({ userId: a.id, provider: 'github', subject: '1' });
      await store.linkIdentity({ userId: a.id, provider: 'google', subject: '1' });
      await store.linkIdentity({ userId: b.id, provider: 'github', subject: '2' });
      await store.updateUser(b.id, { status: 'suspended' }, { expectedRevision: 1 });
      expect(await store.recordCounts()).toEqual({
        user_engine_users: 2,
        user_engine_identities: 3,
        user_engine_outbox: 6,
      });
    }),
    spec(
      'deleting a user removes its identities but keeps the events',
      ['C-counts-1', 'C-delete-2'],
      async ({ store }) => {
        const a = await seedUser(store, 'a@x.io');
        await store.linkIdentity({ userId: a.id, provider: 'github', subject: '1' });
        await store.deleteUser(a.id);
        expect(await store.recordCounts()).toEqual({
          user_engine_users: 0,
          user_engine_identities: 0,
          user_engine_outbox: 3,
        });
      },
    ),
    spec('unchanged writes do not change the counts', ['C-counts-1'], async ({ store }) => {
      const a = await seedUser(store, 'a@x.io', 'A');
      await store.linkIdentity({ userId: a.id, provider: 'github', subject: '1' });
      const before = await store.recordCounts();
      await store.upsertUser({ email: 'a@x.io', displayName: 'A' });
      await store.linkIdentity({ userId: a.id, provider: 'github', subject: '1' });
      expect(await store.recordCounts()).toEqual(before);
    }),
  ],
};
