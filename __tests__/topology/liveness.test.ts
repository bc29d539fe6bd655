/**
 * Topology: the run's control sessions (Jest's parent process: bootstrap and lease heartbeat) are
 * terminated by the server mid-run, as a DBA, a pooler restart or an idle timeout would. The run
 * must stay alive: long after its lease and the grace period would have run out, `gc` (another
 * run's collector) takes nothing of it, and the parked test file finishes and passes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PARKING_TEST } from '../faults/support/project';
import { describeTopology } from './gate';
import { localTcpPorts } from './support/sockets';
import {
  assertBuilt,
  describeRun,
  expectCleanAfterPass,
  expectPassed,
  removeProjects,
  runCli,
  scenarioDb,
  sleep,
  smallProject,
  startScenario,
  untilParked,
  type ScenarioDb,
} from './support/scenario';

jest.setTimeout(200_000);

const LEASE_MS = 2000;
/** Longer than lease + grace after the kill, with room for gc to run meanwhile. */
const PARK_SECONDS = 15;

describeTopology('control session terminated mid-run', () => {
  let db: ScenarioDb;

  beforeAll(async () => {
    assertBuilt();
    db = await scenarioDb('liveness');
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  /** Terminates every backend of `db` whose client is the process `pid`; returns how many. */
  async function terminateSessionsOf(pid: number): Promise<number> {
    const rows = await db.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND client_port = ANY ($2::int[])`,
      [db.name, localTcpPorts(pid)],
    );
    return rows[0].n;
  }

  test('the heartbeat comes back, gc takes nothing, and the run passes', async () => {
    const project = smallProject({ 'parking.test.js': PARKING_TEST }, LEASE_MS);
    const marker = path.join(project, 'parked.txt');
    const run = startScenario(db, db.dsn, project, {
      env: { FAULTS_PARK_MARKER: marker, FAULTS_PARK_SECONDS: String(PARK_SECONDS) },
      args: ['--maxWorkers=1'],
    });
    await untilParked(run, marker);
    const parkedSchema = fs.readFileSync(marker, 'utf8');
    const cliPid = run.child.pid!;

    // Kill the control sessions as they come (the heartbeat's pool reconnects) for a while.
    let terminated = 0;
    for (let i = 0; i < 10; i++) {
      terminated += await terminateSessionsOf(cliPid);
      await sleep(LEASE_MS / 4);
    }
    expect(terminated).toBeGreaterThan(0);
    // Lease and grace have passed since the first kill; a collector looks now.
    await sleep(LEASE_MS);
    const gc = await runCli(db, db.dsn, project, ['gc', '--json', '--grace-ms', String(LEASE_MS)]);
    expect(gc.code).toBe(0);
    const report = JSON.parse(gc.stdout) as { dropped: string[] };
    expect(report.dropped).toEqual([]);
    const [present] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1',
      [parkedSchema],
    );
    expect(present.n).toBe(1);

    const done = await run.done;
    if (done.code !== 0) throw new Error(describeRun(done));
    expectPassed(done, 3);
    await expectCleanAfterPass(db);
  });
});
