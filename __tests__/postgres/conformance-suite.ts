/**
 * The shared conformance suite, unchanged, against PostgresUserEngineStore on one driver: one
 * migrated schema for the file (emptied between tests), and a new empty schema per fresh store.
 */
import { runStoreConformance } from '../../src/conformance';
import type { Connection, DriverName } from '../../src/driver';
import { PostgresUserEngineStore } from '../../src/store/postgres/postgres-store';
import {
  adminConnection,
  createTestSchema,
  deleteAllRows,
  describeLive,
  type TestSchema,
} from './support';

export function registerPostgresConformance(driver: DriverName): void {
  describeLive(`PostgresUserEngineStore on ${driver} (live)`, () => {
    let admin: Connection | undefined;
    let shared: TestSchema | undefined;

    async function theAdmin(): Promise<Connection> {
      admin ??= await adminConnection(driver);
      return admin;
    }

    afterAll(async () => {
      await shared?.drop();
      await admin?.close();
    });

    runStoreConformance(`PostgresUserEngineStore (${driver})`, {
      async createStore() {
        shared = await createTestSchema(await theAdmin());
        return new PostgresUserEngineStore(shared.connection);
      },
      reset: async () => deleteAllRows((shared as TestSchema).connection),
      // The schema is dropped in afterAll, once every test of the file is done with it.
      closeStore: (store) => store.close(),
      async createFreshStore() {
        const fresh = await createTestSchema(await theAdmin(), { max: 2 });
        return {
          store: new PostgresUserEngineStore(fresh.connection),
          dispose: () => fresh.drop(),
        };
      },
    });
  });
}
