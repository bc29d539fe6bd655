import { expect } from '../jest-globals';
import { compareCodePoints, LIMITS } from '../../store/validation';
import { spec, type SpecGroup } from '../spec';
import { collectPages, emails, numbered, seedUser } from '../support';

async function seedMany(store: Parameters<typeof seedUser>[0], list: readonly string[]) {
  return (await store.upsertUsers(list.map((email) => ({ email, displayName: 'L' })))).map(
    (r) => r.user,
  );
}

/** Keys in code-point order; a locale collation or UTF-16 comparison orders them differently. */
const ORDERED = [
  'a@x.io',
  'B@x.io',
  'Z1@x.io',
  'z@x.io',
  'é@x.io',
  '\uFFFD@x.io',
  '\u{1F600}@x.io',
];

function cursorOf(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}

const BAD_CURSORS: ReadonlyArray<[string, string]> = [
  ['punctuation', '!!!'],
  ['an empty string', ''],
  ['base64 of text that is not JSON', Buffer.from('hello world').toString('base64url')],
  ['JSON without a key', cursorOf('{"v":1}')],
  ['JSON with a numeric key', cursorOf('{"v":1,"k":5}')],
  ['JSON of an unknown version', cursorOf('{"v":2,"k":"a@x.io"}')],
];

export const listSpecs: SpecGroup = {
  title: 'list & pagination',
  specs: [
    spec(
      'an empty store lists no users and no next cursor',
      ['C-list-1', 'C-list-2'],
      async ({ store }) => {
        expect(await store.listUsers()).toEqual({ items: [], next: null });
      },
    ),
    spec(
      'lists users in code-point order of their email key',
      ['C-list-1', 'C-ordering-1'],
      async ({ store }) => {
        await seedMany(store, [...ORDERED].reverse());
        const { items } = await store.listUsers();
        expect(emails(items)).toEqual(ORDERED);
        const keys = items.map((u) => u.emailKey);
        expect([...keys].sort(compareCodePoints)).toEqual(keys);
      },
    ),
    spec('listed users equal what getUser returns', ['C-list-1'], async ({ store }) => {
      const users = await seedMany(store, ['one@x.io', 'two@x.io']);
      const { items } = await store.listUsers();
      expect(items).toEqual([users[0], users[1]]);
    }),
    spec(`the default limit is ${LIMITS.listDefault}`, ['C-input-10'], async ({ store }) => {
      await seedMany(store, numbered('d', LIMITS.listDefault + 1));
      const page = await store.listUsers();
      expect(page.items).toHaveLength(LIMITS.listDefault);
      expect(page.next).not.toBeNull();
    }),
    spec(`a limit of ${LIMITS.listMax} is accepted`, ['C-input-10'], async ({ store }) => {
      await seedMany(store, numbered('m', 3));
      expect((await store.listUsers({ limit: LIMITS.listMax })).items).toHaveLength(3);
    }),
    spec(
      `a limit of ${LIMITS.listMax + 1} is invalid_input on limit`,
      ['C-input-10'],
      async ({ store }) => {
        await expect(store.listUsers({ limit: LIMITS.listMax + 1 })).rejects.toMatchObject({
          code: 'invalid_input',
          field: 'limit',
        });
      },
    ),
    spec('a limit of 0 is invalid_input on limit', ['C-input-10'], async ({ store }) => {
      await expect(store.listUsers({ limit: 0 })).rejects.toMatchObject({
        code: 'invalid_input',
        field: 'limit',
      });
    }),
    spec('a fractional limit is invalid_input on limit', ['C-input-10'], async ({ store }) => {
      await expect(store.listUsers({ limit: 2.5 })).rejects.toMatchObject({
        code: 'invalid_input',
        field: 'limit',
      });
    }),
    spec(
      'pages return every user exactly once, in order',
      ['C-list-1', 'C-list-2'],
      async ({ store }) => {
        const all = numbered('pg', 23);
        await seedMany(store, [...all].reverse());
        const pages = await collectPages(store, 5);
        expect(pages.map((p) => p.items.length)).toEqual([5, 5, 5, 5, 3]);
        expect(pages.flatMap((p) => emails(p.items))).toEqual(all);
      },
    ),
    spec('next is null on the last page', ['C-list-2'], async ({ store }) => {
      await seedMany(store, numbered('last', 3));
      const first = await store.listUsers({ limit: 2 });
      expect(first.next).not.toBeNull();
      const second = await store.listUsers({ limit: 2, after: first.next });
      expect(emails(second.items)).toEqual(['last0002@x.io']);
      expect(second.next).toBeNull();
    }),
    spec(
      'next is null when a page ends exactly at the last user',
      ['C-list-2'],
      async ({ store }) => {
        await seedMany(store, numbered('exact', 4));
        const first = await store.listUsers({ limit: 2 });
        const second = await store.listUsers({ limit: 2, after: first.next });
        expect(emails(second.items)).toEqual(['exact0002@x.io', 'exact0003@x.io']);
        expect(second.next).toBeNull();
      },
    ),
    spec('a null after starts from the beginning', ['C-input-11'], async ({ store }) => {
      await seedMany(store, numbered('n', 2));
      expect(emails((await store.listUsers({ after: null })).items)).toEqual(numbered('n', 2));
    }),
    spec('a cursor can be reused and gives the same page', ['C-list-3'], async ({ store }) => {
      await seedMany(store, numbered('re', 6));
      const first = await store.listUsers({ limit: 2 });
      const a = await store.listUsers({ limit: 2, after: first.next });
      const b = await store.listUsers({ limit: 2, after: first.next });
      expect(b).toEqual(a);
    }),
    spec('the limit may change from page to page', ['C-list-1'], async ({ store }) => {
      await seedMany(store, numbered('v', 6));
      const first = await store.listUsers({ limit: 1 });
      const second = await store.listUsers({ limit: 4, after: first.next });
      expect(emails(second.items)).toEqual(numbered('v', 6).slice(1, 5));
    }),
    spec(
      'inserts and deletes between pages cause no duplicates and no skipped survivors',
      ['C-list-3'],
      async ({ store }) => {
        const all = numbered('p', 12);
        const users = await seedMany(store, all);
        const seen: string[] = [];
        const first = await store.listUsers({ limit: 4 });
        seen.push(...emails(first.items));
        // Behind the cursor: must not show up. Ahead of it: must show up exactly once.
        await store.deleteUser(users[1].id);
        await seedUser(store, 'p0000a@x.io');
        await store.deleteUser(users[6].id);
        await seedUser(store, 'p0005a@x.io');
        let after = first.next;
        while (after !== null) {
          const page = await store.listUsers({ limit: 4, after });
          seen.push(...emails(page.items));
          after = page.next;
        }
        const expected = [...all.slice(0, 4), ...all.slice(4, 6), 'p0005a@x.io', ...all.slice(7)];
        expect(seen).toEqual(expected);
        expect(new Set(seen).size).toBe(seen.length);
      },
    ),
    spec('a cursor stays valid after its last user is deleted', ['C-list-3'], async ({ store }) => {
      const users = await seedMany(store, numbered('c', 5));
      const first = await store.listUsers({ limit: 2 });
      await store.deleteUser(users[1].id);
      const second = await store.listUsers({ limit: 2, after: first.next });
      expect(emails(second.items)).toEqual(['c0002@x.io', 'c0003@x.io']);
    }),
    ...BAD_CURSORS.map(([label, cursor]) =>
      spec(
        `a malformed cursor (${label}) is invalid_input on after`,
        ['C-input-11'],
        async ({ store }) => {
          await seedMany(store, numbered('bad', 2));
          await expect(store.listUsers({ after: cursor })).rejects.toMatchObject({
            code: 'invalid_input',
            field: 'after',
          });
        },
      ),
    ),
  ],
};
