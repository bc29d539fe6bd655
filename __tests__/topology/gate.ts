/**
 * The topology suite starts servers of its own (PgBouncer, a TLS PostgreSQL) and runs many child
 * Jest runs, so it is a CI step of its own (`.ci/run`, after `.ci/ensure-pgbouncer`), not part of
 * every `npm test`: it runs when USER_ENGINE_LIVE_TOPOLOGY=1 and an admin DSN is set.
 */
import { ADMIN_DSN } from '../support/admin-db';

export const TOPOLOGY_ENABLED = process.env.USER_ENGINE_LIVE_TOPOLOGY === '1' && !!ADMIN_DSN;

/** `describe` when the topology suite is on, `describe.skip` otherwise. */
export const describeTopology: jest.Describe = TOPOLOGY_ENABLED ? describe : describe.skip;
