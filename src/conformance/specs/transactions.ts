import { expect } from '../jest-globals';
import type { UserEngineStore } from '../../store/contract';
import { spec, type SpecGroup } from '../spec';
import { allEvents, allEventViews, created, seedUser } from '../support';

class Boom extends Error {
  constructor() {
    super('boom: thrown on purpose by the conformance suite');
  }
}

export const transactionSpecs: SpecGroup = {
  title: 'transactions & savepoints',
  specs: [
    spec(
      'writes of a committed transaction are visible afterwards',
      ['C-tx-1', 'C-tx-4'],
      async ({ store }) => {
        const user = await store.transaction(async (tx) => {
          const u = await seedUser(tx, 'tx@x.io');
          await tx.linkIdentity({ userId: u.id, provider: 'github', subject: '1' });
          return u;
        });
        expect(await store.getUser(user.id)).toEqual(user);
        expect(await store.findUserByIdentity('github', '1')).toEqual(user);
        expect((await allEvents(store)).map((e) => e.type)).toEqual([
          'user.created',
          'identity.linked',
        ]);
      },
    ),
    spec('the return value of fn passes through', ['C-tx-1'], async ({ store }) => {
      const value = { answer: 42, list: ['a'] };
      expect(await store.transaction(async () => value)).toBe(value);
    }),
    spec('reads inside a transaction see its own writes', ['C-tx-3'], async ({ store }) => {
      await store.transaction(async (tx) => {
        const u = await seedUser(tx, 'own@x.io');
        expect(await tx.getUser(u.id)).toEqual(u);
        expect(await tx.findUserByEmail('own@x.io')).toEqual(u);
        expect((await tx.listUsers()).items).toEqual([u]);
        expect((await tx.outboxEvents()).map((e) => e.type)).toEqual(['user.created']);
        expect((await tx.recordCounts()).user_engine_users).toBe(1);
      });
    }),
    spec('a throw rejects with the very same error', ['C-tx-2'], async ({ store }) => {
      const boom = new Boom();
      await expect(
        store.transaction(async (tx) => {
          await seedUser(tx, 'rethrow@x.io');
          throw boom;
        }),
      ).rejects.toBe(boom);
    }),
    spec(
      'a throw rolls back users, identities and events together',
      ['C-tx-2', 'C-events-1'],
      async ({ store }) => {
        const kept = await seedUser(store, 'kept@x.io', 'Kept');
        await store.linkIdentity({ userId: kept.id, provider: 'github', subject: 'kept' });
        const countsBefore = await store.recordCounts();
        const eventsBefore = await allEvents(store);
        await expect(
          store.transaction(async (tx) => {
            const u = await seedUser(tx, 'doomed@x.io');
            await tx.linkIdentity({ userId: u.id, provider: 'github', subject: 'doomed' });
            await tx.updateUser(kept.id, { displayName: 'Changed' }, { expectedRevision: 1 });
            await tx.unlinkIdentity('github', 'kept');
            throw new Boom();
          }),
        ).rejects.toBeInstanceOf(Boom);
        expect(await store.recordCounts()).toEqual(countsBefore);
        expect(await allEvents(store)).toEqual(eventsBefore);
        expect(await store.getUser(kept.id)).toEqual(kept);
        expect(await store.findUserByEmail('doomed@x.io')).toBeNull();
        expect(await store.findUserByIdentity('github', 'doomed')).toBeNull();
        expect(await store.findUserByIdentity('github', 'kept')).toEqual(kept);
      },
    ),
    spec(
      'a rolled-back delete leaves the user and its identities in place',
      ['C-tx-2'],
      async ({ store }) => {
        const user = await seedUser(store, 'undelete@x.io');
        await store.linkIdentity({ userId: user.id, provider: 'github', subject: '1' });
        await expect(
          store.transaction(async (tx) => {
            expect(await tx.deleteUser(user.id)).toBe(true);
            throw new Boom();
          }),
        ).rejects.toBeInstanceOf(Boom);
        expect(await store.getUser(user.id)).toEqual(user);
        expect(await store.findUserByIdentity('github', '1')).toEqual(user);
      },
    ),
    spec(
      'sequences keep increasing after a rolled-back transaction',
      ['C-events-6'],
      async ({ store }) => {
        await seedUser(store, 'before@x.io');
        await store
          .transaction(async (tx) => {
            await seedUser(tx, 'lost@x.io');
            throw new Boom();
          })
          .catch(() => undefined);
        await seedUser(store, 'after@x.io');
        const events = await allEvents(store);
        expect(events.map((e) => e.payload.email)).toEqual(['before@x.io', 'after@x.io']);
        expect(events[1].sequence).toBeGreaterThan(events[0].sequence);
      },
    ),
    spec(
      'the transaction store is unusable after commit: transaction_finished',
      ['C-tx-8'],
      async ({ store }) => {
        let leaked: UserEngineStore | undefined;
        await store.transaction(async (tx) => {
          leaked = tx;
        });
        const tx = leaked as UserEngineStore;
        await expect(tx.getUser('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
          code: 'transaction_finished',
        });
        await expect(tx.upsertUser({ email: 'late@x.io', displayName: 'L' })).rejects.toMatchObject(
          {
            code: 'transaction_finished',
          },
        );
        expect(await store.findUserByEmail('late@x.io')).toBeNull();
      },
    ),
    spec(
      'the transaction store is unusable after rollback: transaction_finished',
      ['C-tx-8'],
      async ({ store }) => {
        let leaked: UserEngineStore | undefined;
        await store
          .transaction(async (tx) => {
            leaked = tx;
            throw new Boom();
          })
          .catch(() => undefined);
        await expect(
          (leaked as UserEngineStore).upsertUser({ email: 'late@x.io', displayName: 'L' }),
        ).rejects.toMatchObject({ code: 'transaction_finished' });
        expect(await store.findUserByEmail('late@x.io')).toBeNull();
      },
    ),
    spec(
      'tx.close() is a no-op: the transaction goes on and commits',
      ['C-close-2'],
      async ({ store }) => {
        await store.transaction(async (tx) => {
          await tx.close();
          await seedUser(tx, 'after-close@x.io');
        });
        expect(await store.findUserByEmail('after-close@x.io')).not.toBeNull();
        expect((await store.readiness()).ready).toBe(true);
      },
    ),
    spec(
      'a store error caught inside a transaction leaves it usable',
      ['C-tx-5'],
      async ({ store }) => {
        await seedUser(store, 'taken@x.io');
        await store.transaction(async (tx) => {
          const u = await seedUser(tx, 'mine@x.io');
          await expect(
            tx.updateUser(u.id, { email: 'taken@x.io' }, { expectedRevision: 1 }),
          ).rejects.toMatchObject({ code: 'duplicate_email' });
          await seedUser(tx, 'later@x.io');
        });
        expect(await store.findUserByEmail('mine@x.io')).not.toBeNull();
        expect(await store.findUserByEmail('later@x.io')).not.toBeNull();
      },
      ['savepoints'],
    ),
    spec(
      'a rolled-back savepoint keeps the outer writes',
      ['C-tx-6'],
      async ({ store }) => {
        await store.transaction(async (tx) => {
          await seedUser(tx, 'outer-before@x.io');
          await expect(
            tx.transaction(async (inner) => {
              const u = await seedUser(inner, 'inner@x.io');
              await inner.linkIdentity({ userId: u.id, provider: 'github', subject: 'inner' });
              throw new Boom();
            }),
          ).rejects.toBeInstanceOf(Boom);
          expect(await tx.findUserByEmail('inner@x.io')).toBeNull();
          await seedUser(tx, 'outer-after@x.io');
        });
        const events = await allEventViews(store);
        expect(events.map((e) => [e.type, e.payload.email])).toEqual([
          ['user.created', 'outer-before@x.io'],
          ['user.created', 'outer-after@x.io'],
        ]);
        expect(await store.recordCounts()).toEqual({
          user_engine_users: 2,
          user_engine_identities: 0,
          user_engine_outbox: 2,
        });
      },
      ['savepoints'],
    ),
    spec(
      'a committed savepoint is rolled back with its outer transaction',
      ['C-tx-7'],
      async ({ store }) => {
        await expect(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => seedUser(inner, 'inner@x.io'));
            expect(await tx.findUserByEmail('inner@x.io')).not.toBeNull();
            throw new Boom();
          }),
        ).rejects.toBeInstanceOf(Boom);
        expect(await store.findUserByEmail('inner@x.io')).toBeNull();
        expect(await store.outboxEvents()).toEqual([]);
      },
      ['savepoints'],
    ),
    spec(
      'a committed savepoint returns its value and its writes commit',
      ['C-tx-7'],
      async ({ store }) => {
        const user = await store.transaction(async (tx) =>
          tx.transaction(async (inner) => seedUser(inner, 'nested@x.io')),
        );
        expect(await store.getUser(user.id)).toEqual(user);
        expect(await allEventViews(store)).toEqual([created(user)]);
      },
      ['savepoints'],
    ),
    spec(
      'a rolled-back savepoint restores an updated user',
      ['C-tx-6'],
      async ({ store }) => {
        const user = await seedUser(store, 'restore@x.io', 'Original');
        await store.transaction(async (tx) => {
          await tx
            .transaction(async (inner) => {
              await inner.updateUser(user.id, { displayName: 'Changed' }, { expectedRevision: 1 });
              throw new Boom();
            })
            .catch(() => undefined);
          expect(await tx.getUser(user.id)).toEqual(user);
        });
        expect(await store.getUser(user.id)).toEqual(user);
      },
      ['savepoints'],
    ),
    spec(
      'the savepoint store is unusable once the savepoint settles',
      ['C-tx-8'],
      async ({ store }) => {
        await store.transaction(async (tx) => {
          let leaked: UserEngineStore | undefined;
          await tx.transaction(async (inner) => {
            leaked = inner;
          });
          await expect(
            (leaked as UserEngineStore).upsertUser({ email: 'late@x.io', displayName: 'L' }),
          ).rejects.toMatchObject({ code: 'transaction_finished' });
          await seedUser(tx, 'outer@x.io');
        });
        expect(await store.findUserByEmail('outer@x.io')).not.toBeNull();
        expect(await store.findUserByEmail('late@x.io')).toBeNull();
      },
      ['savepoints'],
    ),
  ],
};
