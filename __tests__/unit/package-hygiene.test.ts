/**
 * What `npm pack` would publish: no source maps (their sources are not shipped), every `exports`
 * target present and typed, no test seams on `./driver`, and `./summary-reporter` as the class
 * itself. publint and arethetypeswrong check the same package in `npm run lint`; this pins the
 * specific promises. Reads the built package (`npm run build` first, as `npm test` does).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types?: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
};

/** The files `npm pack` would put in the tarball. */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return pack.files.map((file) => file.path);
}

describe('the published package', () => {
  let files: string[];
  beforeAll(() => {
    if (!fs.existsSync(path.join(REPO, 'dist', 'index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` first');
    }
    files = packedFiles();
  }, 60_000);

  test('ships no source maps, and no TypeScript sources', () => {
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(files.filter((file) => file.startsWith('src/'))).toEqual([]);
    expect(files.length).toBeGreaterThan(50);
  });

  test('every exports target (and its types) is in the tarball', () => {
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === 'string' ? [target] : Object.values(target);
      for (const file of targets) {
        expect({ subpath, file, packed: files.includes(file.replace(/^\.\//, '')) }).toEqual({
          subpath,
          file,
          packed: true,
        });
      }
      if (typeof target !== 'string') {
        expect({ subpath, typed: target.types !== undefined }).toEqual({ subpath, typed: true });
      }
    }
    // Older TypeScript resolution (moduleResolution node10) finds the subpaths' types too.
    for (const [subpath, [types]] of Object.entries(manifest.typesVersions['*'])) {
      expect({ subpath, packed: files.includes(types) }).toEqual({ subpath, packed: true });
    }
  });

  test('./driver exports no test seam (the driver loader is internal)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const driver = require(path.join(REPO, 'dist', 'driver', 'index.js')) as Record<
      string,
      unknown
    >;
    for (const seam of ['loadDriver', 'nodeDriverLoader']) expect(driver).not.toHaveProperty(seam);
    expect(typeof driver.createConnection).toBe('function');
    // (dsn, options): no third "loader" parameter to inject a fake driver through.
    expect((driver.createConnection as (...args: unknown[]) => unknown).length).toBe(2);
    const types = fs.readFileSync(path.join(REPO, 'dist', 'driver', 'index.d.ts'), 'utf8');
    expect(types).not.toMatch(/DriverLoader|LoadedDriver|loadDriver/);
  });

  test('./summary-reporter is the reporter class itself, typed', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Reporter = require(path.join(REPO, 'dist', 'summary-reporter.js')) as new (config: {
      maxWorkers: number;
    }) => { onRunComplete: unknown };
    expect(typeof Reporter).toBe('function');
    expect(typeof new Reporter({ maxWorkers: 1 }).onRunComplete).toBe('function');
    const types = fs.readFileSync(path.join(REPO, 'dist', 'summary-reporter.d.ts'), 'utf8');
    expect(types).toContain('export = SummaryReporter');
  });
});
