/**
 * A Jest reporter printing a short summary after the run: which server and driver the live tests
 * used, how many tests passed, failed and were skipped, and the wall time. Reporters run in Jest's
 * parent process, where globalSetup left the run state in process.env (it is read at run start and
 * again at the end, before globalTeardown clears it).
 *
 *   user-engine-live: PostgreSQL 15.4 (postgres://postgres@127.0.0.1:5432/ci), driver pg, 2 workers
 *   conformance: 480 passed, 0 failed, 10 skipped
 *   wall time 12.3 s
 *
 * The wall time counts from the start of the Jest process, so it includes globalSetup (connecting,
 * or starting an embedded server) but not globalTeardown, which Jest runs after the reporters.
 *
 * Use: `reporters: ['default', '@user-engine/jest-live/summary-reporter']`, with the
 * option `{ label: 'my-suite' }` to change the word before the counts (default `conformance`).
 */
import { readRunState, type LiveRunState } from '../handoff';

interface GlobalConfigLike {
  maxWorkers?: number;
}

/** The fields of Jest's AggregatedResult this reporter reads. */
export interface RunResultsLike {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  numRuntimeErrorTestSuites: number;
}

export interface SummaryFacts {
  state: LiveRunState | undefined;
  /** `USER_ENGINE_LIVE_DSN=embedded`: say "embedded" rather than the server's throwaway DSN. */
  embedded: boolean;
  workers: number;
  label: string;
  results: RunResultsLike;
  /** Milliseconds since the Jest process started (globalSetup, e.g. an embedded start, included). */
  wallMs: number;
}

/** The summary lines; the counts line has exactly the form `<label>: N passed, N failed, N skipped`. */
export function summaryLines(facts: SummaryFacts): string[] {
  const { state, results } = facts;
  const workers = `${facts.workers} worker${facts.workers === 1 ? '' : 's'}`;
  const head = state
    ? `user-engine-live: PostgreSQL ${state.serverVersion} (${facts.embedded ? 'embedded' : state.redactedDsn}), driver ${state.driver}, ${workers}`
    : `user-engine-live: no live run (live tests were skipped or the run did not start), ${workers}`;
  const skipped = results.numPendingTests + results.numTodoTests;
  const lines = [
    head,
    `${facts.label}: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`,
  ];
  if (results.numRuntimeErrorTestSuites > 0) {
    lines.push(`${results.numRuntimeErrorTestSuites} test file(s) failed to run`);
  }
  lines.push(`wall time ${(Math.max(0, facts.wallMs) / 1000).toFixed(1)} s`);
  return lines;
}

function safeRunState(): LiveRunState | undefined {
  try {
    return readRunState(process.env);
  } catch {
    // A malformed state is reported by the preset itself; the summary just omits the server.
    return undefined;
  }
}

export default class SummaryReporter {
  readonly #maxWorkers: number;
  readonly #label: string;
  /** JEST_WORKER_ID set before the run: we cannot tell an in-band run from it. */
  readonly #inheritedWorkerId: boolean;
  #state: LiveRunState | undefined;

  constructor(globalConfig: GlobalConfigLike, options?: { label?: unknown }) {
    this.#maxWorkers = globalConfig?.maxWorkers ?? 1;
    this.#label =
      typeof options?.label === 'string' && options.label ? options.label : 'conformance';
    this.#inheritedWorkerId = process.env.JEST_WORKER_ID !== undefined;
  }

  onRunStart(): void {
    this.#state = safeRunState();
  }

  /** Jest runs in band (in this process) when it decides workers would not pay off. */
  #workers(results: RunResultsLike): number {
    if (!this.#inheritedWorkerId && process.env.JEST_WORKER_ID !== undefined) return 1;
    return Math.max(1, Math.min(this.#maxWorkers, results.numTotalTestSuites));
  }

  onRunComplete(_contexts: unknown, results: RunResultsLike): void {
    const lines = summaryLines({
      state: safeRunState() ?? this.#state,
      embedded: process.env.USER_ENGINE_LIVE_DSN === 'embedded',
      workers: this.#workers(results),
      label: this.#label,
      results,
      wallMs: performance.now(),
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  getLastError(): Error | undefined {
    return undefined;
  }
}
