/**
 * Docs that run: every fenced block of README.md and docs/**\/*.md is either part of a fixture
 * provider repo this suite builds and runs, an output sample compared with real output, a type
 * compared with the exported one, or marked `<!-- example: skip — reason -->`. A block with no
 * directive fails the suite. See CONTRIBUTING.md ("Examples in the docs").
 *
 * Without a server (USER_ENGINE_TEST_EMBEDDED=0, no DSN) the typecheck, the skip-path runs and
 * `doctor` still run; the live runs are reported as skipped with the reason in their names.
 */
import {
  assertBuilt,
  describeRun,
  REPO,
  runJest,
  SENTINEL_PASSWORD,
  titles,
  type JestRun,
} from '../e2e/support/harness';
import {
  createTestDatabase,
  ADMIN_DSN,
  type TestDatabase,
  type Leftovers,
} from '../support/database';
import { runBuilt, cleanEnv, type CliRun } from '../cli/support';
import { listConformanceSpecs } from '../../src/conformance';
import { decideTestServer } from '../support/embedded-decision';
import { extractAll, where, type Example } from './support/extract';
import { parseShell, parseWorkflow, substituteDatabase, type DocCommand } from './support/commands';
import { buildWorkspace, type ProcessResult, type Workspace } from './support/workspace';
import { createLanes } from './support/lanes';
import { linePattern, parseJsonc, shapeDifferences } from './support/shapes';

jest.setTimeout(300_000);

const EXAMPLES = extractAll(REPO);

/** Repos of scripts, not Jest projects: typechecked, and each script run by a test below. */
const SCRIPT_REPOS = new Set(['types']);

/** The `output=` samples the tests below compare with real output. */
const OUTPUT_CHECKS = ['doctor-json', 'gc-json', 'reporter'];

const NO_SERVER = 'needs a server: no USER_ENGINE_LIVE_DSN and USER_ENGINE_TEST_EMBEDDED=0';
const liveTest = ADMIN_DSN ? test : (name: string) => test.skip(`${name} [${NO_SERVER}]`, () => {});

function commandsOf(example: Example): DocCommand[] {
  return example.lang === 'yaml' ? parseWorkflow(example.body) : parseShell(example.body);
}

interface RepoCommand {
  repo: string;
  command: DocCommand & { kind: 'jest' | 'cli' };
  source: string;
  /** False for the live run of a repo no documented command runs. */
  documented: boolean;
}

/** The `npx jest` commands of the docs, per repo; a repo no block runs gets a live `npx jest`. */
function jestCommands(): RepoCommand[] {
  const found: RepoCommand[] = [];
  const repos = new Set<string>();
  for (const example of EXAMPLES) {
    const directive = example.directive;
    if (directive?.kind === 'file') repos.add(directive.repo);
    if (directive?.kind !== 'run') continue;
    for (const command of commandsOf(example)) {
      if (command.kind === 'jest' || command.kind === 'cli') {
        found.push({ repo: directive.repo, command, source: where(example), documented: true });
      }
    }
  }
  for (const repo of repos) {
    if (
      SCRIPT_REPOS.has(repo) ||
      found.some((run) => run.repo === repo && run.command.kind === 'jest')
    ) {
      continue;
    }
    const env = {
      USER_ENGINE_LIVE_DSN: 'postgres://your-database',
      USER_ENGINE_LIVE_RESET: 'your-database',
      USER_ENGINE_LIVE_REQUIRED: '1',
    };
    const text = 'USER_ENGINE_LIVE_DSN=… USER_ENGINE_LIVE_RESET=… npx jest (no block runs it)';
    found.push({
      repo,
      command: { kind: 'jest', env, args: [], text },
      source: repo,
      documented: false,
    });
  }
  return found;
}

function outputSample(check: string): Example {
  const sample = EXAMPLES.find(
    (e) => e.directive?.kind === 'output' && e.directive.check === check,
  );
  if (!sample) throw new Error(`no documented sample for output=${check}`);
  return sample;
}

/** Every line of the documented sample has a line of the same shape in `output`. */
function expectLinesLike(check: string, output: string): void {
  const sample = outputSample(check);
  const unmatched = sample.body
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !linePattern(line).test(output));
  expect({ sample: where(sample), unmatched }).toEqual({ sample: where(sample), unmatched: [] });
}

function expectJsonLike(check: string, run: CliRun): void {
  const sample = outputSample(check);
  const differences = shapeDifferences(parseJsonc(sample.body), JSON.parse(run.stdout));
  expect({ sample: where(sample), differences }).toEqual({
    sample: where(sample),
    differences: [],
  });
}

/** What every documented `npx jest` claims: it succeeds, prints no password. */
function expectSucceeded(run: JestRun, source: string): void {
  if (run.code !== 0 || !run.json?.success) throw new Error(`${source}\n${describeRun(run)}`);
  expect(run.json.numFailedTests).toBe(0);
  expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
}

/** Full names of the shared suite's specs inside a block named `block`. */
function suiteSpecs(block: string): string[] {
  return listConformanceSpecs().map((spec) => `${block} ${spec.group} ${spec.name}`);
}

/** The claims of the docs' text around each repo's live run (README, provider-setup.md §2, §6). */
const LIVE_CLAIMS: Record<string, (run: JestRun) => void> = {
  // README: "the whole shared suite, live, on your store", readiness specs included.
  readme: (run) => {
    expect(titles(run, 'passed').sort()).toEqual(suiteSpecs('MyStore').sort());
  },
  // §2: the one-liner runs the whole suite; the declared capability skips exactly its specs,
  // with the reason in their names; the storeFactory's store serves the own spec. §6: REQUIRED
  // passes because live tests ran.
  setup: (run) => {
    const passed = titles(run, 'passed');
    expect(passed.filter((name) => name.startsWith('MyUserEngineStore ')).sort()).toEqual(
      suiteSpecs('MyUserEngineStore').sort(),
    );
    const pending = titles(run, 'pending');
    expect(pending.length).toBeGreaterThan(5);
    expect(
      pending.filter(
        (name) => !name.endsWith('[skipped: store declares concurrentWriters: false]'),
      ),
    ).toEqual([]);
    expect(
      passed.filter((name) => name.startsWith('SingleSessionStore ')).length + pending.length,
    ).toBe(listConformanceSpecs().length);
    expect(passed).toContain('my store on PostgreSQL my own spec');
  },
  globals: (run) =>
    expect(titles(run, 'passed')).toContain('a provider spec writes through the live store'),
  reporter: (run) => {
    expect(titles(run, 'passed')).toContain('a provider spec writes through the live store');
    expectLinesLike('reporter', run.allOutput);
  },
};

describe('every fenced block in README.md and docs/', () => {
  test('is run by this suite or marked not runnable with a reason', () => {
    expect(EXAMPLES.length).toBeGreaterThan(30);
    const unmarked = EXAMPLES.filter((example) => !example.directive).map(
      (example) =>
        `${where(example)}: ${example.invalid ? `unreadable directive "${example.invalid}"` : 'no <!-- example: ... --> directive'}`,
    );
    expect(unmarked).toEqual([]);
  });

  test('every output sample names a check this suite makes', () => {
    const checks = EXAMPLES.flatMap((example) =>
      example.directive?.kind === 'output' ? [`${where(example)}: ${example.directive.check}`] : [],
    );
    expect(
      checks.filter((check) => !OUTPUT_CHECKS.some((known) => check.endsWith(`: ${known}`))),
    ).toEqual([]);
  });

  test('shell and CI blocks hold only commands this suite runs', () => {
    for (const example of EXAMPLES) {
      if (example.directive?.kind === 'run') expect(commandsOf(example).length).toBeGreaterThan(0);
    }
  });

  test.each(
    EXAMPLES.flatMap((example) =>
      example.directive?.kind === 'skip' ? [[where(example), example.directive.reason]] : [],
    ),
  )('%s is not run: %s', (_where, reason) => {
    expect(reason.length).toBeGreaterThan(15);
  });
});

/** A child run of the suite: a documented command, or its twin without a DSN. */
interface PlannedRun extends RepoCommand {
  name: string;
  /** `live`: against the repo's own test database; `offline`: no DSN at all. */
  mode: 'live' | 'embedded' | 'offline';
  /** The twin without a DSN of a documented live `npx jest` (README, provider-setup.md §4). */
  withoutDsn: boolean;
}

function planRuns(): PlannedRun[] {
  const planned: PlannedRun[] = [];
  for (const run of jestCommands()) {
    const dsn = run.command.env.USER_ENGINE_LIVE_DSN;
    const mode = dsn === undefined ? 'offline' : dsn === 'embedded' ? 'embedded' : 'live';
    const name = `${run.repo}: \`${run.command.text}\` (${run.source})`;
    planned.push({ ...run, name, mode, withoutDsn: false });
    if (run.command.kind === 'jest' && mode === 'live' && run.documented) {
      const {
        USER_ENGINE_LIVE_DSN: _dsn,
        USER_ENGINE_LIVE_RESET: _reset,
        ...env
      } = run.command.env;
      planned.push({
        ...run,
        command: { ...run.command, env: { ...env, USER_ENGINE_LIVE_REQUIRED: '' }, args: [] },
        name: `${run.repo}: the same \`npx jest\` without a DSN skips every live test, silently`,
        mode: 'offline',
        withoutDsn: true,
      });
    }
  }
  // Longest first, so the two lanes finish close together.
  const weight = (run: PlannedRun) => (run.mode === 'offline' ? 1 : 0);
  return planned.sort((a, b) => weight(a) - weight(b));
}

interface RunResult {
  jest?: JestRun;
  cli?: CliRun;
  /** What the run left in its repo's test database, looked at as soon as it ended. */
  leftovers?: Leftovers;
}

const CAN_RUN: Record<PlannedRun['mode'], boolean> = {
  live: ADMIN_DSN !== undefined,
  embedded: decideTestServer(process.env) !== 'opted-out',
  offline: true,
};

describe('the fixture provider repos of the docs', () => {
  const plan = planRuns();
  const results = new Map<string, Promise<RunResult>>();
  const databases = new Map<string, TestDatabase>();
  let workspace: Workspace;
  let typecheck: Promise<ProcessResult>;
  /** The database of `doctor`, `gc` and the scripts. */
  const tools = () => databases.get('tools')!;

  async function execute(planned: PlannedRun): Promise<RunResult> {
    const db = databases.get(planned.repo);
    const env = substituteDatabase(planned.command.env, db);
    if (!env) throw new Error(`no test database for ${planned.repo}`);
    const cwd = workspace.repoDir(planned.repo);
    if (planned.command.kind === 'cli') {
      return { cli: await runBuilt(planned.command.args, cleanEnv(env), cwd, 60_000) };
    }
    const args = planned.command.args.filter((arg) => arg !== '--ci');
    const jest = await runJest(cwd, { env, args: [...args, '--runInBand'], timeoutMs: 280_000 });
    return { jest, leftovers: planned.mode === 'live' ? await db!.leftovers() : undefined };
  }

  beforeAll(async () => {
    assertBuilt();
    workspace = buildWorkspace(EXAMPLES);
    for (const example of EXAMPLES) {
      if (example.directive?.kind !== 'run') continue;
      for (const command of commandsOf(example)) {
        if (command.kind === 'install') workspace.install(command.packages);
      }
    }
    if (ADMIN_DSN) {
      const repos = new Set(plan.filter((run) => run.mode === 'live').map((run) => run.repo));
      for (const repo of [...repos, 'tools']) {
        databases.set(repo, await createTestDatabase(repo, { prefix: 'ue_docs_' }));
      }
    }
    const enqueue = createLanes(2);
    const runnable = plan.filter((run) => CAN_RUN[run.mode]);
    const firstOffline = runnable.findIndex((run) => run.mode === 'offline');
    runnable.forEach((planned, index) => {
      if (index === firstOffline) typecheck = enqueue(() => workspace.typecheck());
      const result = enqueue(() => execute(planned));
      result.catch(() => undefined); // awaited (and reported) by its test
      results.set(planned.name, result);
    });
    typecheck ??= enqueue(() => workspace.typecheck());
  });
  afterAll(async () => {
    // Every queued run has ended before the folders and databases go.
    await Promise.allSettled([typecheck, ...results.values()]);
    workspace?.remove();
    for (const db of databases.values()) await db.drop();
  });

  test('the TypeScript examples typecheck against the built package (tsc --noEmit)', async () => {
    const result = await typecheck;
    if (result.status !== 0) throw new Error(result.output);
  });

  test('doctor --json without a DSN: the documented JSON shape, verdict skip', async () => {
    const run = await runBuilt(['doctor', '--json'], cleanEnv(), workspace.repoDir('readme'));
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict: 'skip', exitCode: 1 });
    expectJsonLike('doctor-json', run);
  });

  for (const planned of plan) {
    const reason = {
      live: NO_SERVER,
      embedded: 'USER_ENGINE_TEST_EMBEDDED=0',
      offline: '',
    }[planned.mode];
    if (!CAN_RUN[planned.mode]) {
      test.skip(`${planned.name} [${reason}]`, () => {});
      continue;
    }
    test(planned.name, async () => {
      const { jest: run, cli, leftovers } = await results.get(planned.name)!;
      if (cli) {
        // `npx user-engine-live ...`: documented as succeeding in that repo.
        const { source } = planned;
        expect({ source, code: cli.code, stderr: cli.stderr }).toEqual({
          source,
          code: 0,
          stderr: '',
        });
        expect(cli.stdout).not.toContain(SENTINEL_PASSWORD);
        return;
      }
      expectSucceeded(run!, planned.source);
      if (planned.withoutDsn) {
        expect(run!.json?.numPassedTests).toBe(0);
        expect(run!.json?.numPendingTests).toBe(run!.json?.numTotalTests);
        expect(run!.stderr).not.toContain('user-engine-live');
      } else if (planned.mode !== 'offline') {
        expect(run!.json?.numPassedTests).toBeGreaterThan(0);
        LIVE_CLAIMS[planned.repo]?.(run!);
      }
      if (leftovers) expect(leftovers).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    });
  }

  liveTest(
    'postgres-store.md: the createConnection snippet opens and migrates a store',
    async () => {
      // "never the schema itself (create it first)": the snippet's schema exists beforehand.
      await tools().query('CREATE SCHEMA app');
      const run = await workspace.runScript(
        'types',
        'src/open-store.ts',
        cleanEnv({ DATABASE_URL: tools().dsn }),
      );
      if (run.status !== 0) throw new Error(run.output);
      const tables = await tools().query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY 1`,
      );
      expect(tables.map((row) => row.table_name)).toEqual([
        'user_engine_identities',
        'user_engine_outbox',
        'user_engine_schema_migrations',
        'user_engine_users',
      ]);
      await tools().query('DROP SCHEMA app CASCADE');
    },
  );

  test.each(EXAMPLES.filter((example) => example.directive?.kind === 'synopsis').map(where))(
    '%s: every usage line is the Usage: line of its --help',
    async (source) => {
      const example = EXAMPLES.find((candidate) => where(candidate) === source)!;
      const commands = example.body
        .split('\n')
        .filter((line) => /^npx user-engine-live [a-z]/.test(line));
      expect(commands.length).toBeGreaterThan(0);
      for (const line of commands) {
        const usage = line.replace(/^npx /, '');
        const run = await runBuilt([usage.split(' ')[1], '--help'], cleanEnv(), workspace.root);
        expect({ code: run.code, usage: run.stdout.split('\n')[0] }).toEqual({
          code: 0,
          usage: `Usage: ${usage}`,
        });
      }
    },
  );

  liveTest(
    'doctor --json and gc --json --dry-run with the DSN: the documented JSON shapes',
    async () => {
      const env = cleanEnv(tools().liveEnv());
      const doctor = await runBuilt(['doctor', '--json'], env, workspace.repoDir('readme'), 60_000);
      expect({ code: doctor.code, stderr: doctor.stderr }).toEqual({ code: 0, stderr: '' });
      expectJsonLike('doctor-json', doctor);
      const gc = await runBuilt(['gc', '--json', '--dry-run'], env, workspace.repoDir('readme'));
      expect({ code: gc.code, stderr: gc.stderr }).toEqual({ code: 0, stderr: '' });
      expectJsonLike('gc-json', gc);
      expect(`${doctor.stdout}${gc.stdout}`).not.toContain(SENTINEL_PASSWORD);
    },
  );
});
