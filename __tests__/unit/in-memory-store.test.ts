import fc from 'fast-check';
import type { UserEngineStore } from '../../src/store/contract';
import { TransactionFinishedError } from '../../src/store/errors';
import {
  InMemoryStoreClosedError,
  InMemoryUserEngineStore,
} from '../../src/store/memory/in-memory-store';
import { Layer } from '../../src/store/memory/layered-table';
import { codePointOrderKey, smallest } from '../../src/store/memory/ordering';
import { compareCodePoints } from '../../src/store/validation';

async function migrated(options?: ConstructorParameters<typeof InMemoryUserEngineStore>[0]) {
  const store = new InMemoryUserEngineStore(options);
  await store.migrate();
  return store;
}

const ann = { email: 'Ann@Example.com', displayName: 'Ann' };

describe('InMemoryUserEngineStore: returned values are copies', () => {
  test('mutating a returned user, its dates or a page changes nothing stored', async () => {
    const store = await migrated();
    const { user } = await store.upsertUser(ann);
    const createdAt = user.createdAt.getTime();
    user.displayName = 'Mallory';
    user.revision = 99;
    user.createdAt.setTime(0);
    const page = await store.listUsers();
    page.items[0].email = 'x@y';
    page.items.pop();

    const again = await store.getUser(user.id);
    expect(again).toMatchObject({ displayName: 'Ann', revision: 1, email: 'Ann@Example.com' });
    expect(again?.createdAt.getTime()).toBe(createdAt);
    expect(again?.createdAt).not.toBe((await store.getUser(user.id))?.createdAt);
    expect((await store.listUsers()).items).toHaveLength(1);
  });

  test('mutating a returned identity or outbox event changes nothing stored', async () => {
    const store = await migrated();
    const { user } = await store.upsertUser(ann);
    const { identity } = await store.linkIdentity({
      userId: user.id,
      provider: 'github',
      subject: '42',
    });
    identity.subject = '43';
    identity.linkedAt.setTime(0);
    const [event] = await store.outboxEvents();
    event.payload.email = 'changed@x';
    event.createdAt.setTime(0);

    const [stored] = await store.listIdentities(user.id);
    expect(stored.subject).toBe('42');
    expect(stored.linkedAt.getTime()).not.toBe(0);
    const [storedEvent] = await store.outboxEvents();
    expect(storedEvent.payload.email).toBe('Ann@Example.com');
    expect(storedEvent.createdAt.getTime()).not.toBe(0);
  });

  test('mutating the input after a call changes nothing stored', async () => {
    const store = await migrated();
    const input = { ...ann };
    const { user } = await store.upsertUser(input);
    input.displayName = 'Changed';
    expect((await store.getUser(user.id))?.displayName).toBe('Ann');
  });
});

describe('InMemoryUserEngineStore: close', () => {
  const calls: [string, (s: UserEngineStore) => Promise<unknown>][] = [
    ['readiness', (s) => s.readiness()],
    ['migrate', (s) => s.migrate()],
    ['upsertUser', (s) => s.upsertUser(ann)],
    ['upsertUser with bad input', (s) => s.upsertUser({ email: 'bad', displayName: '' })],
    ['upsertUsers', (s) => s.upsertUsers([])],
    ['getUser', (s) => s.getUser('0f8fad5b-d9cb-469f-a165-70867728950e')],
    ['findUserByEmail', (s) => s.findUserByEmail('a@b')],
    ['listUsers', (s) => s.listUsers()],
    ['outboxEvents', (s) => s.outboxEvents()],
    ['recordCounts', (s) => s.recordCounts()],
    ['unlinkIdentity', (s) => s.unlinkIdentity('github', '1')],
    ['transaction', (s) => s.transaction(async () => 1)],
  ];

  test.each(calls)('%s rejects after close()', async (_name, call) => {
    const store = await migrated();
    await store.close();
    await expect(call(store)).rejects.toThrow(InMemoryStoreClosedError);
    await expect(call(store)).rejects.toThrow('InMemoryUserEngineStore is closed');
  });

  test('the closed error names itself', async () => {
    const store = await migrated();
    await store.close();
    await expect(store.readiness()).rejects.toMatchObject({ name: 'InMemoryStoreClosedError' });
  });

  test('close() twice is harmless', async () => {
    const store = await migrated();
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });

  test('a writer queued behind a transaction is turned away once the store closes', async () => {
    const store = await migrated();
    let finish!: () => void;
    let started!: () => void;
    const inside = new Promise<void>((resolve) => (started = resolve));
    const running = store.transaction(
      () =>
        new Promise<void>((resolve) => {
          finish = resolve;
          started();
        }),
    );
    await inside;
    const queued = store.upsertUser(ann);
    await store.close();
    finish();
    await running;
    await expect(queued).rejects.toThrow(InMemoryStoreClosedError);
  });
});

describe('InMemoryUserEngineStore: transactions', () => {
  test('outside readers see only committed data; outside writers wait for the commit', async () => {
    const store = await migrated();
    const order: string[] = [];
    let outsideWrite: Promise<unknown> | undefined;
    await store.transaction(async (tx) => {
      const { user } = await tx.upsertUser(ann);
      expect(await store.getUser(user.id)).toBeNull();
      expect((await store.recordCounts()).user_engine_users).toBe(0);
      expect(await store.outboxEvents()).toEqual([]);
      outsideWrite = store.upsertUser({ ...ann, displayName: 'Ann 2' }).then((r) => {
        order.push('outside write');
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('commit');
    });
    const result = await outsideWrite;
    expect(order).toEqual(['commit', 'outside write']);
    expect(result).toMatchObject({ created: false, changed: true, user: { revision: 2 } });
  });

  test('a rolled-back transaction leaves a gap in the outbox sequence', async () => {
    const store = await migrated();
    await store.upsertUser(ann);
    await expect(
      store.transaction(async (tx) => {
        await tx.upsertUser({ email: 'b@x.io', displayName: 'B' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await store.upsertUser({ email: 'c@x.io', displayName: 'C' });
    const sequences = (await store.outboxEvents()).map((e) => e.sequence);
    expect(sequences).toEqual([1, 3]);
  });

  test('outbox order is sequence order when a transaction writes while its savepoint is open', async () => {
    // The transaction's layer receives sequence 2 before the savepoint commits sequence 1 into
    // it, so the table's insertion order is 2, 1: only the ordering puts them back.
    const store = await migrated();
    await store.transaction(async (tx) => {
      await tx.transaction(async (sp) => {
        await sp.upsertUser({ email: 'inner@x.io', displayName: 'Inner' });
        await tx.upsertUser({ email: 'outer@x.io', displayName: 'Outer' });
      });
      expect((await tx.outboxEvents()).map((e) => e.sequence)).toEqual([1, 2]);
    });
    const events = await store.outboxEvents();
    expect(events.map((e) => [e.sequence, e.payload.email])).toEqual([
      [1, 'inner@x.io'],
      [2, 'outer@x.io'],
    ]);
    expect((await store.outboxEvents({ limit: 1 })).map((e) => e.sequence)).toEqual([1]);
  });

  test('savepoints nest: an inner rollback keeps the outer writes', async () => {
    const store = await migrated();
    await store.transaction(async (tx) => {
      await tx.upsertUser({ email: 'outer@x.io', displayName: 'Outer' });
      await expect(
        tx.transaction(async (sp) => {
          await sp.upsertUser({ email: 'inner@x.io', displayName: 'Inner' });
          await sp.transaction(async (deeper) => {
            await deeper.upsertUser({ email: 'deeper@x.io', displayName: 'Deeper' });
          });
          expect(await sp.findUserByEmail('deeper@x.io')).not.toBeNull();
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      expect(await tx.findUserByEmail('inner@x.io')).toBeNull();
      expect(await tx.findUserByEmail('deeper@x.io')).toBeNull();
    });
    expect((await store.listUsers()).items.map((u) => u.emailKey)).toEqual(['outer@x.io']);
  });

  test('a migration inside a rolled-back transaction is rolled back', async () => {
    const store = new InMemoryUserEngineStore();
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.migrate()).toEqual({ applied: expect.any(Array) });
        expect((await tx.readiness()).ready).toBe(true);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect((await store.readiness()).ready).toBe(false);
  });

  test('every method of a finished transaction rejects with transaction_finished', async () => {
    const store = await migrated();
    let saved: UserEngineStore | undefined;
    await store.transaction(async (tx) => {
      saved = tx;
      await tx.close();
    });
    const tx = saved as UserEngineStore;
    for (const call of [
      () => tx.readiness(),
      () => tx.getUser('not even an id'),
      () => tx.upsertUser(ann),
      () => tx.transaction(async () => 1),
      () => tx.close(),
    ])
      await expect(call()).rejects.toThrow(TransactionFinishedError);
  });

  test('a savepoint that outlives its transaction rejects and writes nothing', async () => {
    const store = await migrated();
    let release!: () => void;
    let late: Promise<unknown> | undefined;
    await store.transaction(async (tx) => {
      late = tx.transaction(async (sp) => {
        await new Promise<void>((resolve) => (release = resolve));
        return sp;
      });
    });
    release();
    await expect(late).rejects.toThrow(TransactionFinishedError);
    expect((await store.recordCounts()).user_engine_users).toBe(0);
  });
});

describe('InMemoryUserEngineStore: clock', () => {
  test('timestamps come from the injected clock', async () => {
    let now = Date.UTC(2024, 0, 1);
    const store = await migrated({ clock: () => new Date(now) });
    const { user } = await store.upsertUser(ann);
    now += 1000;
    const updated = await store.updateUser(
      user.id,
      { displayName: 'Annie' },
      { expectedRevision: 1 },
    );
    expect(user.createdAt.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(updated.user.createdAt.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(updated.user.updatedAt.toISOString()).toBe('2024-01-01T00:00:01.000Z');
  });
});

describe('ordering helpers', () => {
  // Well-formed strings only (keys always are), biased towards the ranges where UTF-16 order
  // and code-point order disagree.
  const nearSurrogates = fc.oneof(
    fc.integer({ min: 0xd000, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0xffff }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  );
  const anyString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.array(nearSurrogates, { maxLength: 6 }).map((points) => String.fromCodePoint(...points)),
  );

  test('codePointOrderKey turns native < into code-point order', () => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        const [x, y] = [codePointOrderKey(a), codePointOrderKey(b)];
        const native = x < y ? -1 : x > y ? 1 : 0;
        return native === compareCodePoints(a, b);
      }),
      { numRuns: 3000 },
    );
    expect(codePointOrderKey('\uFFFF') < codePointOrderKey('\u{1F600}')).toBe(true);
  });

  test('smallest of no items (count 0 or less) is empty and compares nothing', () => {
    const less = jest.fn((a: { n: number }, b: { n: number }) => a.n < b.n);
    expect(smallest([{ n: 2 }, { n: 1 }], 0, less)).toEqual([]);
    expect(smallest([{ n: 2 }, { n: 1 }], -1, less)).toEqual([]);
    expect(less).not.toHaveBeenCalled();
  });

  test('smallest returns the least items in order, like a sort and a slice', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 0, max: 20 }), (items, count) => {
        const expected = [...items].sort((a, b) => a - b).slice(0, count);
        expect(smallest(items, count, (a, b) => a < b)).toEqual(expected);
      }),
    );
  });

  test('listUsers pages in code-point order, not UTF-16 order', async () => {
    const store = await migrated();
    await store.upsertUsers([
      { email: '\u{1F600}@x', displayName: 'astral' },
      { email: '\uFFFF@x', displayName: 'bmp' },
      { email: 'z@x', displayName: 'ascii' },
    ]);
    const first = await store.listUsers({ limit: 2 });
    const second = await store.listUsers({ limit: 2, after: first.next });
    expect([...first.items, ...second.items].map((u) => u.displayName)).toEqual([
      'ascii',
      'bmp',
      'astral',
    ]);
    expect(second.next).toBeNull();
  });
});

describe('Layer', () => {
  test('hides its writes from the parent until commit', () => {
    const base = new Map([
      ['a', 1],
      ['b', 2],
    ]);
    const layer = new Layer(base);
    layer.set('c', 3);
    layer.delete('a');
    layer.set('b', 20);
    expect([...layer.entries()].sort()).toEqual([
      ['b', 20],
      ['c', 3],
    ]);
    expect([layer.size, layer.get('a'), layer.has('c')]).toEqual([2, undefined, true]);
    expect([...base.entries()]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    layer.commit();
    expect([...base.entries()].sort()).toEqual([
      ['b', 20],
      ['c', 3],
    ]);
  });

  test('layers stack and delete-then-set restores a key', () => {
    const base = new Map([['a', 1]]);
    const outer = new Layer(base);
    const inner = new Layer(outer);
    inner.delete('a');
    inner.set('a', 5);
    inner.delete('missing');
    expect([inner.size, inner.get('a'), outer.get('a')]).toEqual([1, 5, 1]);
    inner.commit();
    outer.commit();
    expect([...base.entries()]).toEqual([['a', 5]]);
  });
});
