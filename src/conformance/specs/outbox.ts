import { expect } from '../jest-globals';
import { LIMITS } from '../../store/validation';
import { spec, type SpecGroup } from '../spec';
import {
  allEvents,
  allEventViews,
  created,
  deleted,
  linked,
  numbered,
  seedUser,
  unlinked,
  updated,
} from '../support';

async function seedEvents(store: Parameters<typeof seedUser>[0], count: number) {
  await store.upsertUsers(numbered('ob', count).map((email) => ({ email, displayName: 'O' })));
}

export const outboxSpecs: SpecGroup = {
  title: 'outbox',
  specs: [
    spec('an empty store has no events', ['C-outbox-1'], async ({ store }) => {
      expect(await store.outboxEvents()).toEqual([]);
    }),
    spec(
      'each change appends exactly its event, in order',
      ['C-events-2', 'C-events-5'],
      async ({ store }) => {
        const user = await seedUser(store, 'life@x.io', 'Life');
        const { user: renamed } = await store.updateUser(
          user.id,
          { displayName: 'Renamed' },
          { expectedRevision: 1 },
        );
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '1' });
        await store.unlinkIdentity('github', '1');
        const { user: upserted } = await store.upsertUser({
          email: 'life@x.io',
          displayName: 'Renamed',
          status: 'suspended',
        });
        await store.deleteUser(user.id);
        expect(await allEventViews(store)).toEqual([
          created(user),
          updated(renamed, ['displayName']),
          linked(user.id, 'github', '1'),
          unlinked(user.id, 'github', '1'),
          updated(upserted, ['status']),
          deleted(upserted),
        ]);
      },
    ),
    spec(
      'writes that change nothing append no events',
      ['C-model-9', 'C-ident-2', 'C-delete-1', 'C-ident-6'],
      async ({ store }) => {
        const user = await seedUser(store, 'still@x.io', 'Still');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '1' });
        const before = await allEvents(store);
        await store.upsertUser({ email: ' still@x.io ', displayName: 'Still' });
        await store.upsertUsers([{ email: 'still@x.io', displayName: 'Still' }]);
        await store.updateUser(user.id, { displayName: 'Still' }, { expectedRevision: 1 });
        await store.updateUser(user.id, {}, { expectedRevision: 1 });
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '1' });
        await store.unlinkIdentity('github', 'nope');
        await store.deleteUser('00000000-0000-4000-8000-000000000001');
        expect(await allEvents(store)).toEqual(before);
      },
    ),
    spec('sequences strictly increase', ['C-events-5'], async ({ store }) => {
      await seedEvents(store, 30);
      const events = await allEvents(store);
      expect(events).toHaveLength(30);
      for (let i = 1; i < events.length; i++)
        expect(events[i].sequence).toBeGreaterThan(events[i - 1].sequence);
      for (const e of events) {
        expect(Number.isSafeInteger(e.sequence)).toBe(true);
        expect(e.createdAt).toBeInstanceOf(Date);
      }
    }),
    spec('afterSequence returns only later events', ['C-outbox-1'], async ({ store }) => {
      await seedEvents(store, 10);
      const events = await allEvents(store);
      const later = await store.outboxEvents({ afterSequence: events[3].sequence });
      expect(later).toEqual(events.slice(4));
    }),
    spec('afterSequence at the last event returns []', ['C-outbox-1'], async ({ store }) => {
      await seedEvents(store, 3);
      const events = await allEvents(store);
      expect(await store.outboxEvents({ afterSequence: events[2].sequence })).toEqual([]);
    }),
    spec('limit caps the number of events, oldest first', ['C-outbox-1'], async ({ store }) => {
      await seedEvents(store, 10);
      const events = await allEvents(store);
      expect(await store.outboxEvents({ limit: 3 })).toEqual(events.slice(0, 3));
      expect(await store.outboxEvents({ afterSequence: events[2].sequence, limit: 2 })).toEqual(
        events.slice(3, 5),
      );
    }),
    spec(`the default limit is ${LIMITS.outboxDefault}`, ['C-input-13'], async ({ store }) => {
      await seedEvents(store, LIMITS.outboxDefault + 5);
      expect(await store.outboxEvents()).toHaveLength(LIMITS.outboxDefault);
    }),
    spec(`a limit of ${LIMITS.outboxMax} is accepted`, ['C-input-13'], async ({ store }) => {
      await seedEvents(store, 2);
      expect(await store.outboxEvents({ limit: LIMITS.outboxMax })).toHaveLength(2);
    }),
    spec(
      `a limit of ${LIMITS.outboxMax + 1} is invalid_input on limit`,
      ['C-input-13'],
      async ({ store }) => {
        await expect(store.outboxEvents({ limit: LIMITS.outboxMax + 1 })).rejects.toMatchObject({
          code: 'invalid_input',
          field: 'limit',
        });
      },
    ),
    spec('a limit of 0 is invalid_input on limit', ['C-input-13'], async ({ store }) => {
      await expect(store.outboxEvents({ limit: 0 })).rejects.toMatchObject({
        code: 'invalid_input',
        field: 'limit',
      });
    }),
    spec(
      'a negative afterSequence is invalid_input on afterSequence',
      ['C-input-12'],
      async ({ store }) => {
        await expect(store.outboxEvents({ afterSequence: -1 })).rejects.toMatchObject({
          code: 'invalid_input',
          field: 'afterSequence',
        });
      },
    ),
    spec('reading the outbox does not consume events', ['C-outbox-2'], async ({ store }) => {
      await seedEvents(store, 3);
      const first = await store.outboxEvents();
      expect(await store.outboxEvents()).toEqual(first);
    }),
  ],
};
