import { expect } from '../jest-globals';
import type { UpsertUserInput } from '../../store/contract';
import { spec, type SpecGroup } from '../spec';
import { allEventViews, created, emails, expectUserShape, numbered, updated } from '../support';

export const batchSpecs: SpecGroup = {
  title: 'batch upsert',
  specs: [
    spec(
      'returns one result per input, in input order',
      ['C-batch-4', 'C-batch-1'],
      async ({ store }) => {
        const input = ['c@x.io', 'a@x.io', 'b@x.io'];
        const results = await store.upsertUsers(
          input.map((email) => ({ email, displayName: email })),
        );
        expect(results.map((r) => r.user.email)).toEqual(input);
        for (const r of results) {
          expect(r).toMatchObject({ created: true, changed: true });
          expect(r.user.revision).toBe(1);
          expectUserShape(r.user);
        }
      },
    ),
    spec('an empty batch returns [] and writes nothing', ['C-batch-5'], async ({ store }) => {
      expect(await store.upsertUsers([])).toEqual([]);
      expect(await store.outboxEvents()).toEqual([]);
    }),
    spec(
      'reports created, changed and unchanged inputs side by side',
      ['C-batch-1'],
      async ({ store }) => {
        await store.upsertUser({ email: 'keep@x.io', displayName: 'Keep' });
        await store.upsertUser({ email: 'edit@x.io', displayName: 'Old' });
        const results = await store.upsertUsers([
          { email: 'edit@x.io', displayName: 'New' },
          { email: 'fresh@x.io', displayName: 'Fresh' },
          { email: 'keep@x.io', displayName: 'Keep' },
        ]);
        expect(results.map((r) => [r.user.email, r.created, r.changed, r.user.revision])).toEqual([
          ['edit@x.io', false, true, 2],
          ['fresh@x.io', true, true, 1],
          ['keep@x.io', false, false, 1],
        ]);
      },
    ),
    spec(
      'appends events for written inputs only, in input order',
      ['C-batch-4', 'C-events-5'],
      async ({ store }) => {
        const keep = (await store.upsertUser({ email: 'keep@x.io', displayName: 'Keep' })).user;
        const edit = (await store.upsertUser({ email: 'edit@x.io', displayName: 'Old' })).user;
        const results = await store.upsertUsers([
          { email: 'z-new@x.io', displayName: 'Z' },
          { email: 'keep@x.io', displayName: 'Keep' },
          { email: 'edit@x.io', displayName: 'New' },
          { email: 'a-new@x.io', displayName: 'A' },
        ]);
        expect(await allEventViews(store)).toEqual([
          created(keep),
          created(edit),
          created(results[0].user),
          updated(results[2].user, ['displayName']),
          created(results[3].user),
        ]);
      },
    ),
    spec(
      'an invalid item rejects the whole batch naming its position',
      ['C-batch-1', 'C-input-14'],
      async ({ store }) => {
        await expect(
          store.upsertUsers([
            { email: 'ok1@x.io', displayName: 'One' },
            { email: 'ok2@x.io', displayName: 'Two' },
            { email: 'broken', displayName: 'Three' },
          ]),
        ).rejects.toMatchObject({ code: 'invalid_input', field: 'inputs[2].email' });
      },
    ),
    spec(
      'a rejected batch writes nothing and appends no event',
      ['C-batch-3', 'C-order-6'],
      async ({ store }) => {
        const seeded = (await store.upsertUser({ email: 'ok1@x.io', displayName: 'One' })).user;
        await expect(
          store.upsertUsers([
            { email: 'ok1@x.io', displayName: 'Changed' },
            { email: 'ok2@x.io', displayName: 'Two' },
            { email: 'ok3@x.io', displayName: '   ' },
          ]),
        ).rejects.toMatchObject({ code: 'invalid_input', field: 'inputs[2].displayName' });
        expect(await store.getUser(seeded.id)).toEqual(seeded);
        expect(await store.findUserByEmail('ok2@x.io')).toBeNull();
        expect(await allEventViews(store)).toEqual([created(seeded)]);
      },
    ),
    spec(
      'two inputs with one key are duplicate_in_batch at the second position',
      ['C-batch-2'],
      async ({ store }) => {
        await expect(
          store.upsertUsers([
            { email: 'dup@x.io', displayName: 'One' },
            { email: 'other@x.io', displayName: 'Other' },
            { email: ' DUP@x.io ', displayName: 'Two' },
          ]),
        ).rejects.toMatchObject({
          code: 'invalid_input',
          field: 'inputs[2].email',
          reason: 'duplicate_in_batch',
        });
        expect(await store.recordCounts()).toMatchObject({
          user_engine_users: 0,
          user_engine_outbox: 0,
        });
      },
    ),
    spec(
      'a non-ASCII case difference within a batch is not a duplicate',
      ['C-batch-2', 'C-model-5'],
      async ({ store }) => {
        const results = await store.upsertUsers([
          { email: 'Éa@x.io', displayName: 'Upper' },
          { email: 'éa@x.io', displayName: 'Lower' },
        ]);
        expect(results.map((r) => r.created)).toEqual([true, true]);
      },
    ),
    spec(
      'a batch of 300 new users creates all of them',
      ['C-batch-1', 'C-counts-1'],
      async ({ store }) => {
        const inputs: UpsertUserInput[] = numbered('bulk', 300).map((email) => ({
          email,
          displayName: `Bulk ${email}`,
        }));
        const results = await store.upsertUsers(inputs);
        expect(results.filter((r) => r.created)).toHaveLength(300);
        expect((await store.recordCounts()).user_engine_users).toBe(300);
        expect(emails((await store.listUsers({ limit: 500 })).items)).toEqual(
          inputs.map((i) => i.email),
        );
      },
    ),
  ],
};
