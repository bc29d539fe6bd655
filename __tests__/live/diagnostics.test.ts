import {
  MAX_PRINTED_STATEMENTS,
  MAX_RECORDED_STATEMENTS,
  MAX_STATEMENT_CHARS,
  createStatementRecorder,
  formatDiagnostics,
} from '../../src/live/diagnostics';

const base = {
  testName: 'users › upserts',
  redactedDsn: 'postgres://app:***@db.example/test',
  serverVersion: '15.20',
  schema: 'user_engine_live_abcdefghij_1',
};

describe('statement recorder', () => {
  it('records only between start and stop, per test', () => {
    const r = createStatementRecorder();
    r.onQuery('SELECT before');
    r.start();
    r.onQuery('SELECT 1');
    r.record('SELECT 2');
    expect(r.stop()).toEqual(['SELECT 1', 'SELECT 2']);
    r.onQuery('SELECT after');
    expect(r.list()).toEqual(['SELECT 1', 'SELECT 2']);
    r.start();
    expect(r.list()).toEqual([]);
  });

  it('keeps the most recent statements within its bound and counts the rest', () => {
    const r = createStatementRecorder();
    r.start();
    for (let i = 1; i <= MAX_RECORDED_STATEMENTS + 7; i++) r.onQuery(`SELECT ${i}`);
    const kept = r.stop();
    expect(kept).toHaveLength(MAX_RECORDED_STATEMENTS);
    expect(kept[0]).toBe('SELECT 8');
    expect(r.omitted).toBe(7);
  });

  it('stores huge statements truncated', () => {
    const r = createStatementRecorder();
    r.start();
    r.onQuery(`INSERT ${'x'.repeat(100_000)}`);
    expect(r.stop()[0].length).toBeLessThanOrEqual(MAX_STATEMENT_CHARS);
  });
});

describe('formatDiagnostics', () => {
  it('says where the test ran, what the tables held and what it sent', () => {
    const text = formatDiagnostics({
      ...base,
      counts: { user_engine_users: 2, user_engine_identities: 0, user_engine_outbox: 3 },
      statements: ['SELECT 1', 'INSERT INTO user_engine_users\n   VALUES ($1)'],
    });
    expect(text).toContain('user-engine live diagnostics for: users › upserts');
    expect(text).toContain('database: postgres://app:***@db.example/test');
    expect(text).toContain('server:   15.20');
    expect(text).toContain('schema:   user_engine_live_abcdefghij_1');
    expect(text).toContain('user_engine_users=2, user_engine_identities=0, user_engine_outbox=3');
    expect(text).toContain('   1. SELECT 1');
    expect(text).toContain('   2. INSERT INTO user_engine_users VALUES ($1)');
  });

  it('prints at most the last 50 statements, each at most 500 characters', () => {
    const statements = Array.from(
      { length: 80 },
      (_, i) => `SELECT ${i + 1} /* ${'y'.repeat(900)} */`,
    );
    const text = formatDiagnostics({ ...base, statements, omittedStatements: 5 });
    const lines = text.split('\n').filter((l) => /^\s+\d+\. /.test(l));
    expect(lines).toHaveLength(MAX_PRINTED_STATEMENTS);
    expect(text).toContain('last 50; 35 earlier omitted');
    expect(lines[0]).toMatch(/^\s+36\. SELECT 31 /);
    for (const line of lines) {
      expect(line.replace(/^\s+\d+\. /, '').length).toBeLessThanOrEqual(MAX_STATEMENT_CHARS);
      // Head and tail kept: the statement's start and its closing comment both show.
      expect(line).toMatch(/SELECT \d+ \/\* y+ … \(\d+ chars\) … y+ \*\/$/);
    }
  });

  it('never contains a password: DSNs anywhere and named secrets are redacted', () => {
    const text = formatDiagnostics({
      ...base,
      testName: 'connects to postgres://app:hunter2@db/test',
      redactedDsn: 'postgres://app:hunter2@db/test',
      counts: 'unavailable (password authentication failed for hunter2)',
      statements: [
        "ALTER ROLE app PASSWORD 'hunter2'",
        "SELECT * FROM x WHERE dsn = 'postgresql://u:p%40ss@h/d'",
      ],
      secrets: ['hunter2'],
    });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('p%40ss');
    expect(text).toContain('counts:   unavailable (password authentication failed for ***)');
  });

  it('handles a test with nothing recorded and no counts', () => {
    const text = formatDiagnostics({ ...base, serverVersion: undefined, schema: undefined });
    expect(text).toContain('statements: none recorded');
    expect(text).toContain('counts:   unavailable');
    expect(text).toContain('server:   unknown');
  });
});
