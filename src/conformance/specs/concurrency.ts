import { expect } from '../jest-globals';
import type { UpsertUserResult } from '../../store/contract';
import { spec, type Spec, type SpecGroup } from '../spec';
import { allEvents, fulfilledValues, rejectedReasons, seedUser } from '../support';

function concurrent(name: string, covers: Spec['covers'], run: Spec['run']): Spec {
  return spec(name, covers, run, ['concurrentWriters']);
}

function times<T>(n: number, make: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(Array.from({ length: n }, (_, i) => make(i)));
}

export const concurrencySpecs: SpecGroup = {
  title: 'concurrency',
  specs: [
    concurrent(
      '20 concurrent upserts of one key create exactly one user',
      ['C-conc-1'],
      async ({ store }) => {
        const results = await times(20, () =>
          store.upsertUser({ email: 'race@x.io', displayName: 'Race' }),
        );
        expect(rejectedReasons(results)).toEqual([]);
        const values = fulfilledValues(results);
        expect(new Set(values.map((r) => r.user.id)).size).toBe(1);
        expect(values.filter((r) => r.created)).toHaveLength(1);
        expect(values.filter((r) => r.changed)).toHaveLength(1);
        expect(await store.recordCounts()).toEqual({
          user_engine_users: 1,
          user_engine_identities: 0,
          user_engine_outbox: 1,
        });
      },
    ),
    concurrent(
      'concurrent upserts of one key with different names serialise',
      ['C-conc-1'],
      async ({ store }) => {
        const results = await times(10, (i) =>
          store.upsertUser({ email: 'names@x.io', displayName: `Name ${i}` }),
        );
        const values = fulfilledValues(results);
        expect(values).toHaveLength(10);
        expect(values.filter((r) => r.created)).toHaveLength(1);
        const final = await store.findUserByEmail('names@x.io');
        // Every write got its own revision, so the last one is 1 + the number of later changes.
        expect(final?.revision).toBe(values.filter((r) => r.changed).length);
        expect(new Set(values.filter((r) => r.changed).map((r) => r.user.revision)).size).toBe(
          values.filter((r) => r.changed).length,
        );
        expect((await allEvents(store)).length).toBe(final?.revision);
      },
    ),
    concurrent(
      'linking one identity to two users at once: one wins, one conflicts',
      ['C-conc-4'],
      async ({ store }) => {
        const a = await seedUser(store, 'a@x.io');
        const b = await seedUser(store, 'b@x.io');
        const results = await Promise.allSettled([
          store.linkIdentity({ userId: a.id, provider: 'github', subject: 'contested' }),
          store.linkIdentity({ userId: b.id, provider: 'github', subject: 'contested' }),
        ]);
        const won = fulfilledValues(results);
        expect(won).toHaveLength(1);
        expect(won[0].linked).toBe(true);
        expect(rejectedReasons(results)).toEqual([
          expect.objectContaining({
            code: 'identity_conflict',
            provider: 'github',
            subject: 'contested',
          }),
        ]);
        const owner = await store.findUserByIdentity('github', 'contested');
        expect(owner?.id).toBe(won[0].identity.userId);
        expect((await store.recordCounts()).user_engine_identities).toBe(1);
      },
    ),
    concurrent(
      'linking one pair to one user 10 times at once links it once',
      ['C-conc-4'],
      async ({ store }) => {
        const user = await seedUser(store, 'same@x.io');
        const results = await times(10, () =>
          store.linkIdentity({ userId: user.id, provider: 'github', subject: 'x' }),
        );
        expect(rejectedReasons(results)).toEqual([]);
        expect(fulfilledValues(results).filter((r) => r.linked)).toHaveLength(1);
        expect((await allEvents(store)).map((e) => e.type)).toEqual([
          'user.created',
          'identity.linked',
        ]);
      },
    ),
    concurrent(
      '10 concurrent updates at one revision: one wins, the rest revision_conflict',
      ['C-conc-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'contended@x.io', 'Start');
        const results = await times(10, (i) =>
          store.updateUser(user.id, { displayName: `Writer ${i}` }, { expectedRevision: 1 }),
        );
        const won = fulfilledValues(results);
        expect(won).toHaveLength(1);
        const lost = rejectedReasons(results);
        expect(lost).toHaveLength(9);
        for (const reason of lost)
          expect(reason).toMatchObject({
            code: 'revision_conflict',
            expectedRevision: 1,
            actualRevision: 2,
          });
        expect(await store.getUser(user.id)).toEqual(won[0].user);
        expect(won[0].user.revision).toBe(2);
      },
    ),
    concurrent(
      'two users taking one new email at once: one wins, one duplicate_email',
      ['C-conc-3'],
      async ({ store }) => {
        const a = await seedUser(store, 'a@x.io');
        const b = await seedUser(store, 'b@x.io');
        const results = await Promise.allSettled([
          store.updateUser(a.id, { email: 'prize@x.io' }, { expectedRevision: 1 }),
          store.updateUser(b.id, { email: 'PRIZE@x.io' }, { expectedRevision: 1 }),
        ]);
        expect(fulfilledValues(results)).toHaveLength(1);
        expect(rejectedReasons(results)).toEqual([
          expect.objectContaining({ code: 'duplicate_email', emailKey: 'prize@x.io' }),
        ]);
      },
    ),
    concurrent(
      'concurrent deletes of one user: exactly one returns true',
      ['C-conc-5'],
      async ({ store }) => {
        const user = await seedUser(store, 'del@x.io');
        const results = await times(5, () => store.deleteUser(user.id));
        expect(rejectedReasons(results)).toEqual([]);
        expect(fulfilledValues(results).filter(Boolean)).toHaveLength(1);
        expect((await allEvents(store)).map((e) => e.type)).toEqual([
          'user.created',
          'user.deleted',
        ]);
      },
    ),
    concurrent(
      'overlapping batches in opposite orders end consistent',
      ['C-conc-1'],
      async ({ store }) => {
        const keys = ['k1@x.io', 'k2@x.io', 'k3@x.io', 'k4@x.io'];
        const batches = [keys, [...keys].reverse(), [keys[1], keys[3], keys[0], keys[2]]];
        const results = await Promise.allSettled(
          batches.map((batch, b) =>
            store.upsertUsers(batch.map((email) => ({ email, displayName: `Batch ${b}` }))),
          ),
        );
        expect(rejectedReasons(results)).toEqual([]);
        const all: UpsertUserResult[] = fulfilledValues(results).flat();
        expect((await store.recordCounts()).user_engine_users).toBe(keys.length);
        const events = await allEvents(store);
        for (const email of keys) {
          const mine = all.filter((r) => r.user.email === email);
          expect(mine.filter((r) => r.created)).toHaveLength(1);
          expect(new Set(mine.map((r) => r.user.id)).size).toBe(1);
          const final = await store.findUserByEmail(email);
          expect(final?.revision).toBe(mine.filter((r) => r.changed).length);
          expect(events.filter((e) => e.aggregateId === final?.id)).toHaveLength(
            final?.revision ?? -1,
          );
          expect(batches.map((_, b) => `Batch ${b}`)).toContain(final?.displayName);
        }
      },
    ),
    concurrent(
      'concurrent transactions each commit their own writes',
      ['C-conc-6'],
      async ({ store }) => {
        const results = await times(5, (i) =>
          store.transaction(async (tx) => {
            const user = await seedUser(tx, `tx${i}@x.io`);
            await tx.linkIdentity({ userId: user.id, provider: 'p', subject: String(i) });
            return user;
          }),
        );
        expect(rejectedReasons(results)).toEqual([]);
        expect(await store.recordCounts()).toEqual({
          user_engine_users: 5,
          user_engine_identities: 5,
          user_engine_outbox: 10,
        });
      },
    ),
    concurrent(
      'a rolled-back transaction does not undo a concurrent one',
      ['C-conc-6'],
      async ({ store }) => {
        const results = await Promise.allSettled([
          store.transaction(async (tx) => {
            await seedUser(tx, 'doomed@x.io');
            throw new Error('rolled back on purpose');
          }),
          store.transaction(async (tx) => seedUser(tx, 'kept@x.io')),
        ]);
        expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
        expect(await store.findUserByEmail('doomed@x.io')).toBeNull();
        expect(await store.findUserByEmail('kept@x.io')).not.toBeNull();
      },
    ),
    concurrent(
      '50 concurrent creations yield 50 distinct, increasing sequences',
      ['C-conc-6', 'C-events-5'],
      async ({ store }) => {
        const results = await times(50, (i) =>
          store.upsertUser({ email: `seq${i}@x.io`, displayName: 'S' }),
        );
        expect(rejectedReasons(results)).toEqual([]);
        const events = await allEvents(store);
        expect(events).toHaveLength(50);
        expect(new Set(events.map((e) => e.sequence)).size).toBe(50);
        expect(new Set(events.map((e) => e.aggregateId)).size).toBe(50);
      },
    ),
  ],
};
