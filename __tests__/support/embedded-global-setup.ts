/**
 * globalSetup of the project's own `npm test`: with no USER_ENGINE_LIVE_DSN (or with
 * `USER_ENGINE_LIVE_DSN=embedded`), start one embedded PostgreSQL for the whole run and hand its
 * DSN to the workers through process.env, so every live suite runs on a contributor's machine.
 * `USER_ENGINE_TEST_EMBEDDED=0` opts out: nothing starts and the live suites skip, as they do
 * in a provider's run without a DSN. The server is stopped by embedded-global-teardown.ts.
 */
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/live/embedded/start';
import { decideTestServer, TEST_EMBEDDED_ENV } from './embedded-decision';

/** globalSetup and globalTeardown share the parent process; its global carries the handle. */
export const HANDLE_KEY = '__userEngineTestEmbedded';

type WithHandle = typeof globalThis & { [HANDLE_KEY]?: EmbeddedPostgresHandle };

export default async function setupTestServer(): Promise<void> {
  const decision = decideTestServer(process.env);
  if (decision !== 'embedded') return;
  let server: EmbeddedPostgresHandle;
  try {
    server = await startEmbeddedPostgres({
      createOsUser: process.env.USER_ENGINE_LIVE_EMBEDDED_CREATE_USER === '1',
    });
  } catch (error) {
    throw new Error(
      `npm test starts an embedded PostgreSQL for the live suites when USER_ENGINE_LIVE_DSN is ` +
        `not set, and it did not start: ${error instanceof Error ? error.message : String(error)}\n` +
        `Fix: set USER_ENGINE_LIVE_DSN (and USER_ENGINE_LIVE_RESET) to a server of yours, or set ` +
        `${TEST_EMBEDDED_ENV}=0 to skip the live suites.`,
      { cause: error },
    );
  }
  (globalThis as WithHandle)[HANDLE_KEY] = server;
  // Workers are forked after globalSetup and inherit this environment.
  process.env.USER_ENGINE_LIVE_DSN = server.dsn;
  process.env.USER_ENGINE_LIVE_RESET = server.database;
  process.env.USER_ENGINE_TEST_SERVER = 'embedded';
  process.stderr.write(
    `\nnpm test: live suites run on an embedded PostgreSQL (127.0.0.1:${server.port}, started in ` +
      `${server.startMs} ms); ${TEST_EMBEDDED_ENV}=0 skips them instead.\n`,
  );
}
