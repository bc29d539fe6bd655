import { expect } from '../jest-globals';
import type { UserEngineStore } from '../../store/contract';
import { MIGRATIONS, TARGET_VERSION } from '../../store/migrations';
import { spec, type Spec, type SpecGroup } from '../spec';
import { UNKNOWN_ID } from '../support';

const ALL_IDS = MIGRATIONS.map((m) => m.id);

function fresh(name: string, covers: Spec['covers'], run: Spec['run']): Spec {
  return spec(name, covers, run, ['freshStore']);
}

/** Every data call an unmigrated store must refuse with `not_ready`, with valid arguments. */
const DATA_CALLS: ReadonlyArray<[string, (store: UserEngineStore) => Promise<unknown>]> = [
  ['upsertUser', (s) => s.upsertUser({ email: 'ready@x.io', displayName: 'Ready' })],
  ['upsertUsers', (s) => s.upsertUsers([{ email: 'ready@x.io', displayName: 'Ready' }])],
  ['getUser', (s) => s.getUser(UNKNOWN_ID)],
  ['findUserByEmail', (s) => s.findUserByEmail('ready@x.io')],
  ['updateUser', (s) => s.updateUser(UNKNOWN_ID, { displayName: 'X' }, { expectedRevision: 1 })],
  ['deleteUser', (s) => s.deleteUser(UNKNOWN_ID)],
  ['listUsers', (s) => s.listUsers()],
  ['linkIdentity', (s) => s.linkIdentity({ userId: UNKNOWN_ID, provider: 'p', subject: 's' })],
  ['unlinkIdentity', (s) => s.unlinkIdentity('p', 's')],
  ['findUserByIdentity', (s) => s.findUserByIdentity('p', 's')],
  ['listIdentities', (s) => s.listIdentities(UNKNOWN_ID)],
  ['outboxEvents', (s) => s.outboxEvents()],
];

export const readinessSpecs: SpecGroup = {
  title: 'readiness & migration',
  specs: [
    fresh(
      'a fresh store is not ready, at version 0, with every migration pending',
      ['C-ready-1'],
      async (ctx) => {
        const store = await ctx.freshStore();
        expect(await store.readiness()).toEqual({
          ready: false,
          currentVersion: 0,
          targetVersion: TARGET_VERSION,
          pending: ALL_IDS,
          problems: [],
        });
      },
    ),
    fresh(
      'migrate on a fresh store applies every migration in catalogue order',
      ['C-ready-2'],
      async (ctx) => {
        const store = await ctx.freshStore();
        expect(await store.migrate()).toEqual({ applied: ALL_IDS });
      },
    ),
    fresh('after migrate the store is ready at the target version', ['C-ready-3'], async (ctx) => {
      const store = await ctx.freshStore();
      await store.migrate();
      expect(await store.readiness()).toEqual({
        ready: true,
        currentVersion: TARGET_VERSION,
        targetVersion: TARGET_VERSION,
        pending: [],
        problems: [],
      });
    }),
    fresh(
      'the catalogue is 0001_create_users, 0002_create_identities, 0003_create_outbox',
      ['C-ready-6'],
      async (ctx) => {
        // Spelled out rather than read from MIGRATIONS: a changed catalogue must fail here.
        const catalogue = ['0001_create_users', '0002_create_identities', '0003_create_outbox'];
        const store = await ctx.freshStore();
        expect(await store.readiness()).toMatchObject({ targetVersion: 3, pending: catalogue });
        expect(await store.migrate()).toEqual({ applied: catalogue });
        expect(await store.readiness()).toMatchObject({ currentVersion: 3, pending: [] });
      },
    ),
    fresh('migrate is idempotent: a second call applies nothing', ['C-ready-2'], async (ctx) => {
      const store = await ctx.freshStore();
      await store.migrate();
      expect(await store.migrate()).toEqual({ applied: [] });
      expect((await store.readiness()).ready).toBe(true);
    }),
    fresh(
      'asking for readiness creates nothing: migrate afterwards still applies all',
      ['C-ready-4'],
      async (ctx) => {
        const store = await ctx.freshStore();
        await store.readiness();
        await store.readiness();
        expect(await store.migrate()).toEqual({ applied: ALL_IDS });
      },
    ),
    fresh('a freshly migrated store is empty', ['C-ready-5', 'C-counts-1'], async (ctx) => {
      const store = await ctx.freshStore();
      await store.migrate();
      expect(await store.recordCounts()).toEqual({
        user_engine_users: 0,
        user_engine_identities: 0,
        user_engine_outbox: 0,
      });
      expect(await store.listUsers()).toEqual({ items: [], next: null });
    }),
    fresh(
      'a refused call carries the pending migration ids',
      ['C-order-4', 'C-errors-1'],
      async (ctx) => {
        const store = await ctx.freshStore();
        await expect(store.getUser(UNKNOWN_ID)).rejects.toMatchObject({
          code: 'not_ready',
          pending: ALL_IDS,
        });
      },
    ),
    ...DATA_CALLS.map(([method, call]) =>
      fresh(`${method} before migrate is refused with not_ready`, ['C-order-4'], async (ctx) => {
        const store = await ctx.freshStore();
        await expect(call(store)).rejects.toMatchObject({ code: 'not_ready' });
      }),
    ),
    fresh(
      'a refused call writes nothing: the store migrates and starts empty',
      ['C-order-4', 'C-order-6'],
      async (ctx) => {
        const store = await ctx.freshStore();
        await expect(
          store.upsertUser({ email: 'early@x.io', displayName: 'E' }),
        ).rejects.toMatchObject({ code: 'not_ready' });
        expect(await store.migrate()).toEqual({ applied: ALL_IDS });
        expect(await store.findUserByEmail('early@x.io')).toBeNull();
      },
    ),
    fresh('input validation comes before the readiness check', ['C-order-2'], async (ctx) => {
      const store = await ctx.freshStore();
      await expect(
        store.upsertUser({ email: 'no-at-sign', displayName: 'X' }),
      ).rejects.toMatchObject({ code: 'invalid_input', field: 'email' });
    }),
    fresh(
      'an invalid id is invalid_input, not not_ready, on a fresh store',
      ['C-order-2', 'C-input-8'],
      async (ctx) => {
        const store = await ctx.freshStore();
        await expect(store.getUser('not-a-uuid')).rejects.toMatchObject({
          code: 'invalid_input',
          field: 'id',
        });
      },
    ),
    spec(
      'the store under test reports ready after the suite migrated it',
      ['C-ready-3'],
      async (ctx) => {
        const readiness = await ctx.store.readiness();
        expect(readiness).toEqual({
          ready: true,
          currentVersion: TARGET_VERSION,
          targetVersion: TARGET_VERSION,
          pending: [],
          problems: [],
        });
      },
    ),
    spec(
      'migrate on the already migrated store under test applies nothing',
      ['C-ready-2'],
      async (ctx) => {
        expect(await ctx.store.migrate()).toEqual({ applied: [] });
      },
    ),
  ],
};
