/**
 * The suite's power, seen by an adapter author: every broken store of the kit (one plausible
 * mistake each, tagged with the contract id it breaks) must fail the shared suite, and the specs
 * each mutant lists as catching it must still catch it. A control wrapper with no mistake must
 * pass, so a failure here is the mutant's doing, not the wrapper's. No database needed.
 */
import { listConformanceSpecs } from '../../src/conformance';
import { InMemoryUserEngineStore } from '../../src/store/memory/in-memory-store';
import { wrapStore } from './mutant-kit/delegate';
import { MUTANTS } from './mutant-kit/mutants';
import { inMemory, runSuite } from './mutant-kit/run-suite';

// Every spec runs, so that each mutant is known by all the specs that catch it.
const OPTIONS = { timeoutMs: 2_000, stopAfter: Infinity };
const known = new Set<string>(listConformanceSpecs().flatMap((s) => s.covers));
const specNames = new Set(listConformanceSpecs().map((s) => `${s.group} > ${s.name}`));

describe('mutant kit', () => {
  test('the kit has at least 40 mutants, each breaking a known contract id', () => {
    expect(MUTANTS.length).toBeGreaterThanOrEqual(40);
    expect(MUTANTS.filter((m) => !known.has(m.breaks)).map((m) => m.breaks)).toEqual([]);
    const named = MUTANTS.flatMap((m) => m.caughtBy).filter((name) => !specNames.has(name));
    expect(named).toEqual([]);
  });

  test('every contract area has a mutant', () => {
    const areas = (ids: Iterable<string>) => new Set([...ids].map((id) => id.split('-')[1]));
    const missing = [...areas(known)].filter(
      (area) => !areas(MUTANTS.map((m) => m.breaks)).has(area),
    );
    expect(missing).toEqual([]);
  });

  test('control: a wrapper with no mistake passes the whole suite', async () => {
    const control = () => wrapStore(new InMemoryUserEngineStore(), () => ({}));
    const outcome = await runSuite(inMemory(control), OPTIONS);
    expect(outcome.failed).toEqual([]);
    expect(outcome.ran).toBe(listConformanceSpecs().length);
  }, 120_000);

  describe.each(MUTANTS.map((m) => [`${m.breaks}: ${m.mistake}`, m] as const))('%s', (_, m) => {
    test('fails the shared suite, caught by the named specs', async () => {
      const outcome = await runSuite(inMemory(m.make), OPTIONS);
      const caught = outcome.failed.map((f) => f.spec);
      expect(caught.length).toBeGreaterThan(0);
      expect(caught).toEqual(expect.arrayContaining([...m.caughtBy]));
    }, 120_000);
  });
});
