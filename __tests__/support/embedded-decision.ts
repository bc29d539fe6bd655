/**
 * Which server the project's own live suites use, decided from the environment alone (pure, so
 * it is unit-tested): the contributor's DSN when set, an embedded PostgreSQL when not, nothing
 * when opted out.
 */
export const TEST_EMBEDDED_ENV = 'USER_ENGINE_TEST_EMBEDDED';

export type TestServerDecision = 'given' | 'embedded' | 'opted-out';

export function decideTestServer(env: NodeJS.ProcessEnv): TestServerDecision {
  const dsn = env.USER_ENGINE_LIVE_DSN?.trim();
  if (dsn && dsn !== 'embedded') return 'given';
  const flag = env[TEST_EMBEDDED_ENV]?.trim().toLowerCase();
  if (flag === '0' || flag === 'false' || flag === 'off' || flag === 'no') return 'opted-out';
  return 'embedded';
}
