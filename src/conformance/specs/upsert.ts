import { expect } from '../jest-globals';
import { spec, type SpecGroup } from '../spec';
import { allEventViews, created, expectUserShape, time, updated } from '../support';

export const upsertSpecs: SpecGroup = {
  title: 'upsert',
  specs: [
    spec(
      'creates a new user at revision 1, active by default',
      ['C-upsert-2', 'C-model-1', 'C-model-7', 'C-model-10'],
      async ({ store }) => {
        const result = await store.upsertUser({ email: 'new@x.io', displayName: 'New User' });
        expect(result).toMatchObject({ created: true, changed: true });
        expect(result.user).toMatchObject({
          email: 'new@x.io',
          emailKey: 'new@x.io',
          displayName: 'New User',
          status: 'active',
          revision: 1,
        });
        expectUserShape(result.user);
      },
    ),
    spec(
      'creation appends one user.created event with the full snapshot',
      ['C-upsert-2', 'C-events-2', 'C-events-4'],
      async ({ store }) => {
        const { user } = await store.upsertUser({ email: 'ev@x.io', displayName: 'Ev' });
        expect(await allEventViews(store)).toEqual([created(user)]);
      },
    ),
    spec('honours an explicit status on creation', ['C-upsert-2'], async ({ store }) => {
      const { user } = await store.upsertUser({
        email: 's@x.io',
        displayName: 'S',
        status: 'suspended',
      });
      expect(user.status).toBe('suspended');
    }),
    spec(
      'the same data again changes nothing: same revision and updatedAt',
      ['C-upsert-4', 'C-model-9'],
      async ({ store }) => {
        const first = await store.upsertUser({ email: 'same@x.io', displayName: 'Same' });
        const again = await store.upsertUser({ email: 'same@x.io', displayName: 'Same' });
        expect(again).toMatchObject({ created: false, changed: false });
        expect(again.user).toEqual(first.user);
        expect(time(again.user.updatedAt)).toBe(time(first.user.updatedAt));
      },
    ),
    spec('an unchanged upsert appends no event', ['C-upsert-4', 'C-model-9'], async ({ store }) => {
      const { user } = await store.upsertUser({ email: 'quiet@x.io', displayName: 'Q' });
      await store.upsertUser({ email: 'quiet@x.io', displayName: 'Q' });
      await store.upsertUser({ email: 'quiet@x.io', displayName: 'Q', status: 'active' });
      expect(await allEventViews(store)).toEqual([created(user)]);
    }),
    spec(
      'new data bumps the revision and keeps id and createdAt',
      ['C-upsert-5', 'C-model-8', 'C-model-10', 'C-model-11'],
      async ({ store }) => {
        const first = await store.upsertUser({ email: 'chg@x.io', displayName: 'Before' });
        const second = await store.upsertUser({ email: 'chg@x.io', displayName: 'After' });
        expect(second).toMatchObject({ created: false, changed: true });
        expect(second.user).toMatchObject({
          id: first.user.id,
          displayName: 'After',
          revision: 2,
        });
        expect(time(second.user.createdAt)).toBe(time(first.user.createdAt));
        expect(time(second.user.updatedAt)).toBeGreaterThanOrEqual(time(first.user.updatedAt));
      },
    ),
    spec(
      'a change appends user.updated naming the changed fields',
      ['C-upsert-5', 'C-events-2', 'C-events-3'],
      async ({ store }) => {
        const first = await store.upsertUser({ email: 'upd@x.io', displayName: 'A' });
        const second = await store.upsertUser({
          email: 'upd@x.io',
          displayName: 'B',
          status: 'suspended',
        });
        expect(await allEventViews(store)).toEqual([
          created(first.user),
          updated(second.user, ['displayName', 'status']),
        ]);
      },
    ),
    spec('an omitted status keeps the current one', ['C-upsert-3'], async ({ store }) => {
      await store.upsertUser({ email: 'keep@x.io', displayName: 'K', status: 'suspended' });
      const again = await store.upsertUser({ email: 'keep@x.io', displayName: 'K' });
      expect(again).toMatchObject({ created: false, changed: false });
      expect(again.user.status).toBe('suspended');
    }),
    spec(
      'an omitted status with a new name changes only the name',
      ['C-upsert-3'],
      async ({ store }) => {
        await store.upsertUser({ email: 'keep2@x.io', displayName: 'K', status: 'suspended' });
        const again = await store.upsertUser({ email: 'keep2@x.io', displayName: 'K2' });
        expect(again.user).toMatchObject({ status: 'suspended', displayName: 'K2', revision: 2 });
      },
    ),
    spec(
      'trims the email and the display name',
      ['C-model-2', 'C-input-3', 'C-input-4'],
      async ({ store }) => {
        const { user } = await store.upsertUser({
          email: '  trim@x.io\t',
          displayName: '  Tr Im  ',
        });
        expect(user).toMatchObject({
          email: 'trim@x.io',
          emailKey: 'trim@x.io',
          displayName: 'Tr Im',
        });
      },
    ),
    spec(
      'input equal after trimming is unchanged',
      ['C-upsert-1', 'C-upsert-4'],
      async ({ store }) => {
        await store.upsertUser({ email: 'pad@x.io', displayName: 'Pad' });
        const again = await store.upsertUser({ email: ' pad@x.io ', displayName: ' Pad ' });
        expect(again).toMatchObject({ created: false, changed: false });
      },
    ),
    spec('emailKey folds ASCII upper case only', ['C-model-3'], async ({ store }) => {
      const { user } = await store.upsertUser({ email: 'MiXeD.ÄÖ@Example.COM', displayName: 'M' });
      expect(user).toMatchObject({
        email: 'MiXeD.ÄÖ@Example.COM',
        emailKey: 'mixed.ÄÖ@example.com',
      });
    }),
    spec(
      'emails differing in ASCII case are one user',
      ['C-model-4', 'C-upsert-1'],
      async ({ store }) => {
        const first = await store.upsertUser({ email: 'Ab@X.io', displayName: 'Case' });
        const second = await store.upsertUser({ email: 'ab@x.io', displayName: 'Case' });
        expect(second.created).toBe(false);
        expect(second.user.id).toBe(first.user.id);
        expect(second.user.emailKey).toBe('ab@x.io');
        expect((await store.recordCounts()).user_engine_users).toBe(1);
      },
    ),
    spec(
      'a case-only email difference is stored as given and counts as a change',
      ['C-model-6', 'C-upsert-5'],
      async ({ store }) => {
        const first = await store.upsertUser({ email: 'Ab@X.io', displayName: 'Case' });
        const second = await store.upsertUser({ email: 'ab@x.io', displayName: 'Case' });
        expect(second).toMatchObject({ created: false, changed: true });
        expect(second.user).toMatchObject({ email: 'ab@x.io', revision: 2 });
        expect(await allEventViews(store)).toEqual([
          created(first.user),
          updated(second.user, ['email']),
        ]);
      },
    ),
    spec('emails differing in non-ASCII case are two users', ['C-model-5'], async ({ store }) => {
      const upper = await store.upsertUser({ email: 'ÄB@x.io', displayName: 'Upper' });
      const lower = await store.upsertUser({ email: 'äb@x.io', displayName: 'Lower' });
      expect(lower.created).toBe(true);
      expect(lower.user.id).not.toBe(upper.user.id);
      expect(upper.user.emailKey).toBe('Äb@x.io');
      expect(lower.user.emailKey).toBe('äb@x.io');
    }),
    spec('each new user gets a distinct lower-case UUID', ['C-model-1'], async ({ store }) => {
      const a = await store.upsertUser({ email: 'id1@x.io', displayName: 'A' });
      const b = await store.upsertUser({ email: 'id2@x.io', displayName: 'B' });
      expect(a.user.id).not.toBe(b.user.id);
      expect(a.user.id).toBe(a.user.id.toLowerCase());
      expect(b.user.id).toBe(b.user.id.toLowerCase());
    }),
  ],
};
