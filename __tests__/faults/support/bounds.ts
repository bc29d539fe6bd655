/**
 * Measuring how long a fault takes to surface, without letting a hang hang the test: a promise is
 * watched for at most `limitMs`, and a promise still pending then is reported, not awaited.
 */

export type Outcome<T> =
  | { status: 'fulfilled'; value: T; ms: number }
  | { status: 'rejected'; error: unknown; ms: number }
  | { status: 'pending'; ms: number };

export async function settleWithin<T>(promise: Promise<T>, limitMs: number): Promise<Outcome<T>> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'pending', ms: elapsed() }), limitMs);
  });
  // A promise left pending may still reject later; that must not become an unhandled rejection.
  promise.catch(() => undefined);
  const settled = promise.then(
    (value): Outcome<T> => ({ status: 'fulfilled', value, ms: elapsed() }),
    (error: unknown): Outcome<T> => ({ status: 'rejected', error, ms: elapsed() }),
  );
  try {
    return await Promise.race([settled, pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line for failure messages and the measurements log. */
export function describeOutcome(outcome: Outcome<unknown>): string {
  switch (outcome.status) {
    case 'fulfilled':
      return `fulfilled after ${outcome.ms} ms`;
    case 'pending':
      return `STILL PENDING after ${outcome.ms} ms`;
    case 'rejected': {
      const error = outcome.error as { name?: string; code?: string; message?: string };
      return `rejected after ${outcome.ms} ms with ${error?.name} [${error?.code}]: ${error?.message}`;
    }
  }
}

/** The error of a rejected outcome; throws a readable assertion failure otherwise. */
export function rejectionOf(outcome: Outcome<unknown>, limitMs: number): Error & { code?: string } {
  if (outcome.status !== 'rejected') {
    throw new Error(`expected a rejection within ${limitMs} ms, got: ${describeOutcome(outcome)}`);
  }
  return outcome.error as Error & { code?: string };
}

/**
 * Measurements the fault tests record, printed once per file when FAULTS_REPORT is set (the
 * numbers behind docs/reliability.md and docs/internals/fault-suite.md).
 */
const measurements: string[] = [];

export function record(line: string): void {
  measurements.push(line);
}

export function printMeasurements(title: string): void {
  if (process.env.FAULTS_REPORT && measurements.length > 0) {
    process.stderr.write(`\n[faults] ${title}\n${measurements.map((m) => `  ${m}`).join('\n')}\n`);
  }
  measurements.length = 0;
}
