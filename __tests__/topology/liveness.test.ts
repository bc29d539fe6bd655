/**
 * Topology: the run's control sessions (Jest's parent process: bootstrap and lease heartbeat) are
 * terminated by the server mid-run, as a DBA, a pooler restart or an idle timeout would. The run
 * must stay alive: long after its lease and the grace period would have run out, `gc` (another
 * run's collector) takes nothing of it, and the parked test file finishes and passes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PARKING_TEST, QUICK_TEST } from '../faults/support/project';
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
const PARK_SECONDS = 12;

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
    // Two files and two workers: Jest does not run them in band, so the parent process's sessions
    // are the control sessions only.
    const project = smallProject(
      { 'parking.test.js': PARKING_TEST, 'quick.test.js': QUICK_TEST },
      { leaseMs: LEASE_MS, testTimeout: 60_000 },
    );
    const marker = path.join(project, 'parked.txt');
    const run = startScenario(db, db.dsn, project, {
      env: { FAULTS_PARK_MARKER: marker, FAULTS_PARK_SECONDS: String(PARK_SECONDS) },
      args: ['--maxWorkers=2'],
    });
    await untilParked(run, marker);
    const parkedSchema = fs.readFileSync(marker, 'utf8');
    const cliPid = run.child.pid!;

    // Kill the control sessions once (as soon as the parent process holds one).
    let terminated = 0;
    for (let i = 0; i < 100 && terminated === 0; i++) {
      terminated = await terminateSessionsOf(cliPid);
      if (terminated === 0) await sleep(50);
    }
    expect(terminated).toBeGreaterThan(0);
    // Lease and grace would both have run out by now had the heartbeat not come back.
    await sleep(2 * LEASE_MS + 1000);
    const gc = await runCli(db, db.dsn, project, ['gc', '--json', '--grace-ms', String(LEASE_MS)]);
    expect(gc.code).toBe(0);
    const report = JSON.parse(gc.stdout) as { dropped: string[] };
    expect(report.dropped).toEqual([]);
    const [present] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1',
      [parkedSchema],
    );
    const done = await run.done;
    if (present.n !== 1) {
      throw new Error(
        `${parkedSchema} was dropped mid-run (gc: ${gc.stdout})\n${describeRun(done)}`,
      );
    }
    if (done.code !== 0) throw new Error(describeRun(done));
    expectPassed(done, 4);
    await expectCleanAfterPass(db);
  });
});
