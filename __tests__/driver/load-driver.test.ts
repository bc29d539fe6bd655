// The loader is internal (not exported from ./driver): imported from its own modules.
import { DriverMissingError } from '../../src/driver';
import type { DriverName } from '../../src/driver';
import { createConnection } from '../../src/driver/create-connection';
import { loadDriver, type DriverLoader } from '../../src/driver/load-driver';

/** A loader over a fake node_modules holding only `installed`; records what it loaded. */
function fakeLoader(installed: DriverName[]): DriverLoader & { loaded: string[] } {
  const loaded: string[] = [];
  return {
    loaded,
    resolve: (name) =>
      installed.includes(name) ? `/fake/node_modules/${name}/index.js` : undefined,
    load(path) {
      loaded.push(path);
      return { fake: path };
    },
  };
}

describe('loadDriver', () => {
  test('picks pg first when both are installed', () => {
    const loader = fakeLoader(['pg', 'postgres']);
    expect(loadDriver(undefined, loader)).toEqual({
      name: 'pg',
      module: { fake: '/fake/node_modules/pg/index.js' },
    });
    expect(loader.loaded).toEqual(['/fake/node_modules/pg/index.js']);
  });

  test('falls back to postgres when pg is missing', () => {
    const loader = fakeLoader(['postgres']);
    expect(loadDriver(undefined, loader).name).toBe('postgres');
  });

  test('honours the requested driver even when another comes first', () => {
    expect(loadDriver('postgres', fakeLoader(['pg', 'postgres'])).name).toBe('postgres');
  });

  test('neither installed: DriverMissingError naming both and how to install', () => {
    const loader = fakeLoader([]);
    expect(() => loadDriver(undefined, loader)).toThrow(DriverMissingError);
    try {
      loadDriver(undefined, loader);
    } catch (error) {
      expect(error).toMatchObject({ code: 'driver_missing' });
      const message = (error as Error).message;
      expect(message).toContain('pg');
      expect(message).toContain('postgres');
      expect(message).toContain('npm install --save-dev pg');
      expect(message).toContain('npm install --save-dev postgres');
    }
    expect(loader.loaded).toEqual([]);
  });

  test('the requested driver missing: DriverMissingError naming it, not the other', () => {
    const loader = fakeLoader(['pg']);
    expect(() => loadDriver('postgres', loader)).toThrow(
      /requested PostgreSQL driver postgres is not installed.*npm install --save-dev postgres/,
    );
    expect(() => loadDriver('postgres', loader)).not.toThrow(/--save-dev pg\b/);
    expect(loader.loaded).toEqual([]);
  });

  test('an unknown driver name is a TypeError naming options.driver', () => {
    expect(() => loadDriver('mysql' as DriverName, fakeLoader(['pg']))).toThrow(
      /options\.driver must be one of pg, postgres/,
    );
  });

  test('the default loader resolves the drivers installed in this project', () => {
    expect(loadDriver('pg').name).toBe('pg');
    expect(loadDriver('postgres').name).toBe('postgres');
  });
});

describe('createConnection without a driver', () => {
  test('rejects with DriverMissingError before touching the network', async () => {
    const loader = fakeLoader([]);
    // Port 1 would refuse; the missing driver must be reported first.
    await expect(
      createConnection('postgres://u:s3cr3t@127.0.0.1:1/db', {}, loader),
    ).rejects.toBeInstanceOf(DriverMissingError);
  });
});
