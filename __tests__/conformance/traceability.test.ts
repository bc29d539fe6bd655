/**
 * Every normative sentence of docs/store-contract.md carries an id (`**[C-area-n]**`); every spec
 * names the ids it checks. This keeps the two in step: an id without a spec is an unchecked rule,
 * a spec naming an unknown id points at a rule that does not exist.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listConformanceSpecs } from '../../src/conformance';

const CONTRACT = readFileSync(join(__dirname, '../../docs/store-contract.md'), 'utf8');
const ID_MARK = /\*\*\[(C-[a-z]+-\d+)\]\*\*/g;

const documented = [...CONTRACT.matchAll(ID_MARK)].map((m) => m[1]);
const specs = listConformanceSpecs();
const covered = new Set<string>(specs.flatMap((s) => s.covers));

describe('contract traceability', () => {
  test('the contract carries ids, each exactly once', () => {
    expect(documented.length).toBeGreaterThan(90);
    const seen = new Set<string>();
    const repeated = documented.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
    expect(repeated).toEqual([]);
  });

  test('every contract id is checked by at least one spec', () => {
    expect(documented.filter((id) => !covered.has(id))).toEqual([]);
  });

  test('every spec names at least one id, and only ids the contract has', () => {
    const known = new Set(documented);
    expect(specs.filter((s) => s.covers.length === 0).map((s) => s.name)).toEqual([]);
    const unknown = specs.flatMap((s) =>
      s.covers.filter((id) => !known.has(id)).map((id) => `${s.name}: ${id}`),
    );
    expect(unknown).toEqual([]);
  });
});
