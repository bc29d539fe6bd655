/**
 * A connect that cannot outlive its timeout: the driver honours `connectTimeoutMs`, but a CLI must
 * answer even if a driver does not, and must not keep the process alive with a late connection.
 */
import { ConnectionFailedError } from '../driver/errors';
import type { Connection } from '../driver/port';

/** Grace on top of the driver's own timeout, so the driver's (more precise) error usually wins. */
const GRACE_MS = 1000;

export async function connectBounded(
  open: () => Promise<Connection>,
  connectTimeoutMs: number,
): Promise<Connection> {
  const pending = open();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConnectionFailedError(`no connection within ${connectTimeoutMs} ms`)),
      connectTimeoutMs + GRACE_MS,
    );
  });
  try {
    return await Promise.race([pending, expired]);
  } catch (error) {
    // A connection that opens after we gave up is closed at once.
    pending.then((late) => late.close()).catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
