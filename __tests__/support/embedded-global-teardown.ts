/** globalTeardown of the project's own `npm test`: stops the server embedded-global-setup.ts started. */
import type { EmbeddedPostgresHandle } from '../../src/live/embedded/start';
import { HANDLE_KEY } from './embedded-global-setup';

export default async function teardownTestServer(): Promise<void> {
  const holder = globalThis as typeof globalThis & { [HANDLE_KEY]?: EmbeddedPostgresHandle };
  const server = holder[HANDLE_KEY];
  if (!server) return;
  delete holder[HANDLE_KEY];
  await server.stop();
}
