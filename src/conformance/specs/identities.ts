import { expect } from '../jest-globals';
import { spec, type SpecGroup } from '../spec';
import { allEventViews, created, linked, seedUser, UNKNOWN_ID, unlinked } from '../support';

export const identitySpecs: SpecGroup = {
  title: 'identities',
  specs: [
    spec('linking returns the identity and linked: true', ['C-ident-4'], async ({ store }) => {
      const user = await seedUser(store, 'link@x.io');
      const result = await store.linkIdentity({
        userId: user.id,
        provider: 'github',
        subject: '42',
      });
      expect(result).toMatchObject({
        linked: true,
        identity: { userId: user.id, provider: 'github', subject: '42' },
      });
      expect(result.identity.linkedAt).toBeInstanceOf(Date);
    }),
    spec('linking appends identity.linked', ['C-ident-4', 'C-events-2'], async ({ store }) => {
      const user = await seedUser(store, 'link-ev@x.io');
      await store.linkIdentity({ userId: user.id, provider: 'github', subject: '42' });
      expect(await allEventViews(store)).toEqual([created(user), linked(user.id, 'github', '42')]);
    }),
    spec(
      'linking the same pair to the same user again is a no-op',
      ['C-ident-2', 'C-model-12'],
      async ({ store }) => {
        const user = await seedUser(store, 'noop@x.io');
        const first = await store.linkIdentity({
          userId: user.id,
          provider: 'github',
          subject: '42',
        });
        const again = await store.linkIdentity({
          userId: user.id,
          provider: 'github',
          subject: '42',
        });
        expect(again).toEqual({ identity: first.identity, linked: false });
        expect(await allEventViews(store)).toEqual([
          created(user),
          linked(user.id, 'github', '42'),
        ]);
        expect((await store.recordCounts()).user_engine_identities).toBe(1);
      },
    ),
    spec(
      'linking a pair owned by another user is identity_conflict',
      ['C-ident-3', 'C-errors-1'],
      async ({ store }) => {
        const owner = await seedUser(store, 'owner@x.io');
        const thief = await seedUser(store, 'thief@x.io');
        await store.linkIdentity({ userId: owner.id, provider: 'github', subject: '42' });
        await expect(
          store.linkIdentity({ userId: thief.id, provider: 'github', subject: '42' }),
        ).rejects.toMatchObject({ code: 'identity_conflict', provider: 'github', subject: '42' });
        expect(await store.findUserByIdentity('github', '42')).toEqual(owner);
        expect(await store.listIdentities(thief.id)).toEqual([]);
      },
    ),
    spec('a conflicting link appends no event', ['C-ident-3', 'C-order-6'], async ({ store }) => {
      const owner = await seedUser(store, 'owner@x.io');
      const thief = await seedUser(store, 'thief@x.io');
      await store.linkIdentity({ userId: owner.id, provider: 'github', subject: '42' });
      const before = await allEventViews(store);
      await expect(
        store.linkIdentity({ userId: thief.id, provider: 'github', subject: '42' }),
      ).rejects.toMatchObject({ code: 'identity_conflict' });
      expect(await allEventViews(store)).toEqual(before);
    }),
    spec('linking to an unknown user is not_found', ['C-ident-1'], async ({ store }) => {
      await expect(
        store.linkIdentity({ userId: UNKNOWN_ID, provider: 'github', subject: '42' }),
      ).rejects.toMatchObject({ code: 'not_found' });
      expect((await store.recordCounts()).user_engine_identities).toBe(0);
    }),
    spec(
      'subjects are case-sensitive: Abc and abc are two identities',
      ['C-ident-5', 'C-input-7'],
      async ({ store }) => {
        const a = await seedUser(store, 'a@x.io');
        const b = await seedUser(store, 'b@x.io');
        await store.linkIdentity({ userId: a.id, provider: 'oidc', subject: 'Abc' });
        const result = await store.linkIdentity({ userId: b.id, provider: 'oidc', subject: 'abc' });
        expect(result.linked).toBe(true);
        expect(await store.findUserByIdentity('oidc', 'Abc')).toEqual(a);
        expect(await store.findUserByIdentity('oidc', 'abc')).toEqual(b);
      },
    ),
    spec(
      'identity lookups are exact: a subject differing only in case finds nothing',
      ['C-ident-5', 'C-ident-7', 'C-input-7'],
      async ({ store }) => {
        const user = await seedUser(store, 'exact@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'oidc', subject: 'abc' });
        expect(await store.findUserByIdentity('oidc', 'ABC')).toBeNull();
        expect(await store.findUserByIdentity('oidc', 'Abc')).toBeNull();
        expect(await store.findUserByIdentity('oidc', 'abc ')).toBeNull();
        expect(await store.unlinkIdentity('oidc', 'ABC')).toBe(false);
        expect(await store.findUserByIdentity('oidc', 'abc')).toEqual(user);
      },
    ),
    spec('one subject under two providers is two identities', ['C-ident-5'], async ({ store }) => {
      const a = await seedUser(store, 'a@x.io');
      const b = await seedUser(store, 'b@x.io');
      await store.linkIdentity({ userId: a.id, provider: 'github', subject: '7' });
      await store.linkIdentity({ userId: b.id, provider: 'gitlab', subject: '7' });
      expect(await store.findUserByIdentity('gitlab', '7')).toEqual(b);
    }),
    spec(
      'listIdentities orders by provider, then subject, in code points',
      ['C-ident-8', 'C-ordering-1'],
      async ({ store }) => {
        const user = await seedUser(store, 'many@x.io');
        const pairs: Array<[string, string]> = [
          ['b', 's'],
          ['a.b', 'x'],
          ['a', '\u{1F600}'],
          ['a-b', 'x'],
          ['a', 'é'],
          ['a', 'z'],
          ['a', '\uFFFD'],
          ['a', 'B'],
        ];
        for (const [provider, subject] of pairs)
          await store.linkIdentity({ userId: user.id, provider, subject });
        const listed = await store.listIdentities(user.id);
        expect(listed.map((i) => [i.provider, i.subject])).toEqual([
          ['a', 'B'],
          ['a', 'z'],
          ['a', 'é'],
          ['a', '\uFFFD'],
          ['a', '\u{1F600}'],
          ['a-b', 'x'],
          ['a.b', 'x'],
          ['b', 's'],
        ]);
        for (const identity of listed) {
          expect(identity.userId).toBe(user.id);
          expect(identity.linkedAt).toBeInstanceOf(Date);
        }
      },
    ),
    spec("listIdentities shows only that user's identities", ['C-ident-8'], async ({ store }) => {
      const a = await seedUser(store, 'a@x.io');
      const b = await seedUser(store, 'b@x.io');
      const mine = await store.linkIdentity({ userId: a.id, provider: 'github', subject: '1' });
      await store.linkIdentity({ userId: b.id, provider: 'github', subject: '2' });
      expect(await store.listIdentities(a.id)).toEqual([mine.identity]);
    }),
    spec(
      'listIdentities of an unknown user is []',
      ['C-ident-8', 'C-errors-2'],
      async ({ store }) => {
        expect(await store.listIdentities(UNKNOWN_ID)).toEqual([]);
      },
    ),
    spec(
      'findUserByIdentity returns the linked user, null for an unknown pair',
      ['C-ident-7', 'C-errors-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'who@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '42' });
        expect(await store.findUserByIdentity('github', '42')).toEqual(user);
        expect(await store.findUserByIdentity('github', '43')).toBeNull();
      },
    ),
    spec(
      'unlinking returns true, removes the pair and appends identity.unlinked',
      ['C-ident-6', 'C-events-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'unlink@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '42' });
        expect(await store.unlinkIdentity('github', '42')).toBe(true);
        expect(await store.findUserByIdentity('github', '42')).toBeNull();
        expect(await store.listIdentities(user.id)).toEqual([]);
        expect(await allEventViews(store)).toEqual([
          created(user),
          linked(user.id, 'github', '42'),
          unlinked(user.id, 'github', '42'),
        ]);
      },
    ),
    spec(
      'unlinking an unknown pair returns false and appends no event',
      ['C-ident-6', 'C-errors-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'unlink2@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '42' });
        const before = await allEventViews(store);
        expect(await store.unlinkIdentity('github', '43')).toBe(false);
        expect(await store.unlinkIdentity('gitlab', '42')).toBe(false);
        expect(await allEventViews(store)).toEqual(before);
      },
    ),
    spec(
      'an unlinked pair can be linked to another user',
      ['C-ident-6', 'C-ident-5'],
      async ({ store }) => {
        const a = await seedUser(store, 'a@x.io');
        const b = await seedUser(store, 'b@x.io');
        await store.linkIdentity({ userId: a.id, provider: 'github', subject: '42' });
        await store.unlinkIdentity('github', '42');
        expect(
          (await store.linkIdentity({ userId: b.id, provider: 'github', subject: '42' })).linked,
        ).toBe(true);
        expect(await store.findUserByIdentity('github', '42')).toEqual(b);
      },
    ),
    spec('linking does not change the user', ['C-ident-4', 'C-model-9'], async ({ store }) => {
      const user = await seedUser(store, 'same@x.io');
      await store.linkIdentity({ userId: user.id, provider: 'github', subject: '42' });
      expect(await store.getUser(user.id)).toEqual(user);
    }),
    spec('an upper-case userId links to the same user', ['C-input-8'], async ({ store }) => {
      const user = await seedUser(store, 'upper@x.io');
      const result = await store.linkIdentity({
        userId: user.id.toUpperCase(),
        provider: 'github',
        subject: '42',
      });
      expect(result.identity.userId).toBe(user.id);
    }),
  ],
};
