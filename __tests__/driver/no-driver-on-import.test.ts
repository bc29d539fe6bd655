/**
 * Importing the package must never load a driver: a provider may have only one of them, and the
 * skip path must stay cheap. Checked in a plain Node process (Jest's registry is not
 * require.cache).
 */
import { join } from 'node:path';
import { ROOT, runNodeScript } from './node-script';

/** Transpiling the sources in a fresh process takes seconds on a busy 2-core machine. */
const REPORT = `
for (const entry of process.argv.slice(1)) require(entry);
const drivers = Object.keys(require.cache).filter((p) =>
  /node_modules[\\\\/](pg|pg-pool|pg-protocol|postgres)[\\\\/]/.test(p),
);
const ours = Object.keys(require.cache).filter((p) => p.includes('/src/')).length;
process.stdout.write(JSON.stringify({ drivers, ours }));
`;

async function loadedBy(...entries: string[]): Promise<{ drivers: string[]; ours: number }> {
  const { stdout } = await runNodeScript(REPORT, { args: entries.map((e) => join(ROOT, e)) });
  return JSON.parse(stdout) as { drivers: string[]; ours: number };
}

test('requiring src/driver and src/store loads neither pg nor postgres', async () => {
  const { drivers, ours } = await loadedBy('src/driver/index.ts', 'src/store/index.ts');
  expect(ours).toBeGreaterThan(10); // the modules really were loaded
  expect(drivers).toEqual([]);
}, 30_000);

test('the check would see a driver that is loaded', async () => {
  const { drivers } = await loadedBy('src/driver/index.ts', 'node_modules/pg/lib/index.js');
  expect(drivers.length).toBeGreaterThan(0);
}, 30_000);
