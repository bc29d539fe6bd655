import { expect } from '../jest-globals';
import { spec, type SpecGroup } from '../spec';
import { seedUser, UNKNOWN_ID } from '../support';

export const readSpecs: SpecGroup = {
  title: 'get/find',
  specs: [
    spec(
      'getUser returns the stored user exactly as upsert returned it',
      ['C-read-1'],
      async ({ store }) => {
        const { user } = await store.upsertUser({ email: 'get@x.io', displayName: 'Get' });
        expect(await store.getUser(user.id)).toEqual(user);
      },
    ),
    spec('getUser of an unknown id is null', ['C-read-1', 'C-errors-2'], async ({ store }) => {
      await seedUser(store, 'someone@x.io');
      expect(await store.getUser(UNKNOWN_ID)).toBeNull();
    }),
    spec('getUser accepts an upper-case id', ['C-input-8'], async ({ store }) => {
      const user = await seedUser(store, 'upper-id@x.io');
      expect(await store.getUser(user.id.toUpperCase())).toEqual(user);
    }),
    spec(
      'findUserByEmail finds by key: ASCII case and surrounding space ignored',
      ['C-read-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'Find.Me@X.io');
        expect(await store.findUserByEmail('  find.me@x.IO ')).toEqual(user);
      },
    ),
    spec(
      'findUserByEmail does not fold non-ASCII case',
      ['C-read-2', 'C-model-5'],
      async ({ store }) => {
        await seedUser(store, 'ÄB@x.io');
        expect(await store.findUserByEmail('äb@x.io')).toBeNull();
        expect(await store.findUserByEmail('Äb@x.io')).not.toBeNull();
      },
    ),
    spec(
      'findUserByEmail of an unknown email is null',
      ['C-read-2', 'C-errors-2'],
      async ({ store }) => {
        await seedUser(store, 'known@x.io');
        expect(await store.findUserByEmail('unknown@x.io')).toBeNull();
      },
    ),
    spec(
      'findUserByEmail treats % and _ literally, not as patterns',
      ['C-read-2'],
      async ({ store }) => {
        await seedUser(store, 'abc@x.io');
        expect(await store.findUserByEmail('%@x.io')).toBeNull();
        expect(await store.findUserByEmail('a_c@x.io')).toBeNull();
        const literal = await seedUser(store, 'a_c@x.io');
        expect(await store.findUserByEmail('a_c@x.io')).toEqual(literal);
      },
    ),
    spec(
      'mutating a returned user does not change the stored one',
      ['C-returned-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'immutable@x.io', 'Original');
        const copy = { ...user, createdAt: new Date(user.createdAt) };
        user.displayName = 'Tampered';
        user.createdAt.setTime(0);
        const read = await store.getUser(user.id);
        expect(read).toEqual(copy);
        if (read) read.displayName = 'Tampered again';
        expect(await store.findUserByEmail('immutable@x.io')).toEqual(copy);
      },
    ),
  ],
};
