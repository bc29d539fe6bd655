/**
 * docs/errors.md lists every error code: one that src declares but the table lacks, or one the
 * table keeps after src dropped it, fails here. The class named in a row must be one that can
 * carry that code.
 */
import * as fs from 'fs';
import * as path from 'path';
import { declaredErrorCodes } from '../support/error-codes';

const DOC = path.resolve(__dirname, '..', '..', 'docs', 'errors.md');

/** Rows of the doc's tables: code -> the classes named in the row's second cell. */
function documentedCodes(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of fs.readFileSync(DOC, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`([a-z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!code || code === 'code') continue; // the header row
    if (rows.has(code)) throw new Error(`docs/errors.md lists ${code} twice`);
    rows.set(
      code,
      [...(cells[2] ?? '').matchAll(/`(\w+)`/g)].map((match) => match[1]),
    );
  }
  return rows;
}

describe('docs/errors.md', () => {
  const declared = declaredErrorCodes();
  const documented = documentedCodes();

  test('src declares codes (the scan found the CodedError classes)', () => {
    expect(declared.get('lock_timeout')).toContain('LockTimeoutError');
    expect(declared.get('dsn_missing')).toContain('LiveConfigError');
  });

  test('every code declared in src has a row, and every row a declared code', () => {
    expect([...documented.keys()].sort()).toEqual([...declared.keys()].sort());
  });

  test('each row names classes that can carry its code', () => {
    for (const [code, classes] of documented) {
      expect({ code, classes: classes.filter((name) => !declared.get(code)?.has(name)) }).toEqual({
        code,
        classes: [],
      });
      expect({ code, named: classes.length > 0 }).toEqual({ code, named: true });
    }
  });
});
