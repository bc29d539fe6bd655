/**
 * A run's advisory lock lives on one session for the whole run, so a pool must never replace an
 * idle session (pg's default idle timeout is 10 s; postgres.js ends sessions after a max
 * lifetime). Both drivers: the same backend, still holding its lock, after 11 s of idleness.
 */
import { createConnection, DRIVER_NAMES } from '../../src/driver';
import { describeLive, liveDsn } from '../postgres/support';

const IDLE_MS = 11_000;

describeLive('pooled sessions survive idleness (live)', () => {
  test.each(DRIVER_NAMES)(
    '%s keeps the same backend and its session lock after 11 s idle',
    async (driver) => {
      const conn = await createConnection(liveDsn(), { driver, max: 1 });
      try {
        const key = Math.floor(Math.random() * 1e9);
        const before = await conn.query<{ pid: number }>(
          'SELECT pg_backend_pid() AS pid, pg_advisory_lock(4242, $1::int)',
          [key],
        );
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
        const after = await conn.query<{ pid: number; held: boolean }>(
          `SELECT pg_backend_pid() AS pid,
                  EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 4242
                          AND objid = $1::int AND pid = pg_backend_pid()) AS held`,
          [key],
        );
        expect(Number(after.rows[0].pid)).toBe(Number(before.rows[0].pid));
        expect(after.rows[0].held).toBe(true);
      } finally {
        await conn.close();
      }
    },
    IDLE_MS + 10_000,
  );
});
