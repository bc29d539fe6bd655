/**
 * Which server the project's own live suites get (`npm test`'s global setup): the contributor's
 * DSN, else an embedded PostgreSQL, else nothing when USER_ENGINE_TEST_EMBEDDED opts out. And, in
 * a run where the setup started one, that the workers really received a server that answers.
 */
import { Client } from 'pg';
import { decideTestServer } from '../support/embedded-decision';

describe('decideTestServer', () => {
  test.each([
    [{}, 'embedded'],
    [{ USER_ENGINE_LIVE_DSN: '' }, 'embedded'],
    [{ USER_ENGINE_LIVE_DSN: '  ' }, 'embedded'],
    [{ USER_ENGINE_LIVE_DSN: 'embedded' }, 'embedded'],
    [{ USER_ENGINE_TEST_EMBEDDED: '1' }, 'embedded'],
    [{ USER_ENGINE_TEST_EMBEDDED: '0' }, 'opted-out'],
    [{ USER_ENGINE_TEST_EMBEDDED: 'false' }, 'opted-out'],
    [{ USER_ENGINE_TEST_EMBEDDED: 'OFF' }, 'opted-out'],
    [{ USER_ENGINE_LIVE_DSN: 'postgres://h/db' }, 'given'],
    [{ USER_ENGINE_LIVE_DSN: 'postgres://h/db', USER_ENGINE_TEST_EMBEDDED: '0' }, 'given'],
  ])('%j → %s', (env, expected) => {
    expect(decideTestServer(env)).toBe(expected);
  });
});

// Set by the global setup only when it started the server for this run.
const started = process.env.USER_ENGINE_TEST_SERVER === 'embedded';

(started ? describe : describe.skip)('the embedded server of this npm test run', () => {
  test('the workers got its DSN and the acknowledgement, and it answers', async () => {
    const dsn = process.env.USER_ENGINE_LIVE_DSN ?? '';
    const url = new URL(dsn);
    expect(url.hostname).toBe('127.0.0.1');
    expect(process.env.USER_ENGINE_LIVE_RESET).toBe(url.pathname.slice(1));
    const client = new Client({ connectionString: dsn });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(rows[0].db).toBe(process.env.USER_ENGINE_LIVE_RESET);
    } finally {
      await client.end();
    }
  });
});
