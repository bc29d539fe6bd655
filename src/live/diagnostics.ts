/**
 * What a failing live test prints: where it ran (redacted DSN, server, schema), what the managed
 * tables held, and the last SQL it sent. Every line passes through `redactSecrets`, so a
 * password can only leak if nobody told us it was one, and never via a DSN.
 */
import { redactSecrets } from '../driver/dsn';
import type { RecordCounts } from '../store/contract';

/** At most this many statements are printed (the most recent ones). */
export const MAX_PRINTED_STATEMENTS = 50;
/** Each printed statement is cut to this many characters. */
export const MAX_STATEMENT_CHARS = 500;
/** The recorder keeps at most this many statements per test, dropping the oldest. */
export const MAX_RECORDED_STATEMENTS = 200;

export interface DiagnosticsInput {
  testName: string;
  /** Already redacted, but redacted again here. */
  redactedDsn: string;
  serverVersion: string | undefined;
  schema: string | undefined;
  /** Row counts of the managed tables, or why they could not be read. */
  counts?: Partial<RecordCounts> | string | undefined;
  /** Oldest first, as `StatementRecorder.list()` returns them. */
  statements?: readonly string[];
  /** Statements recorded but no longer kept (the recorder's `omitted`). */
  omittedStatements?: number;
  /** Extra secrets to strip (e.g. the DSN's password as given). */
  secrets?: readonly (string | undefined)[];
}

/** A multi-line, password-free report for a failed live test. */
export function formatDiagnostics(input: DiagnosticsInput): string {
  const statements = input.statements ?? [];
  const printed = statements.slice(-MAX_PRINTED_STATEMENTS);
  const omitted = (input.omittedStatements ?? 0) + statements.length - printed.length;
  const lines = [
    `user-engine live diagnostics for: ${oneLine(input.testName)}`,
    `  database: ${input.redactedDsn}`,
    `  server:   ${input.serverVersion ?? 'unknown'}`,
    `  schema:   ${input.schema ?? 'none'}`,
    `  counts:   ${formatCounts(input.counts)}`,
  ];
  if (statements.length === 0 && omitted === 0) {
    lines.push('  statements: none recorded');
  } else {
    const head = omitted > 0 ? ` (last ${printed.length}; ${omitted} earlier omitted)` : '';
    lines.push(`  statements${head}:`);
    printed.forEach((sql, i) => {
      lines.push(`    ${String(omitted + i + 1).padStart(4)}. ${truncate(oneLine(sql))}`);
    });
  }
  return redactSecrets(lines.join('\n'), input.secrets ?? []);
}

function formatCounts(counts: Partial<RecordCounts> | string | undefined): string {
  if (typeof counts === 'string') return oneLine(counts);
  if (!counts) return 'unavailable';
  const parts = Object.entries(counts).map(([table, n]) => `${table}=${String(n)}`);
  return parts.length > 0 ? parts.join(', ') : 'unavailable';
}

/** Collapses whitespace runs so a statement takes one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Keeps the head and the tail: a long CTE names its target tables near its end. */
function truncate(text: string): string {
  if (text.length <= MAX_STATEMENT_CHARS) return text;
  const middle = ` … (${text.length} chars) … `;
  const keep = MAX_STATEMENT_CHARS - middle.length;
  const head = Math.ceil(keep * 0.6);
  return text.slice(0, head) + middle + text.slice(text.length - (keep - head));
}

/** Collects the SQL of the running test; `onQuery` is the driver's `ConnectionOptions.onQuery`. */
export interface StatementRecorder {
  /** Pass this as the driver's `onQuery` hook; ignores statements while stopped. */
  readonly onQuery: (sql: string) => void;
  /** Same as `onQuery`. */
  record(sql: string): void;
  /** Clears the list and starts recording (call on `test_start`). */
  start(): void;
  /** Stops recording and returns what was kept (call on `test_done`). */
  stop(): string[];
  /** What has been kept so far, oldest first. */
  list(): string[];
  /** How many statements were recorded but dropped to respect the bound. */
  readonly omitted: number;
}

/** A bounded recorder: keeps the most recent `limit` statements of the current test. */
export function createStatementRecorder(limit = MAX_RECORDED_STATEMENTS): StatementRecorder {
  let recording = false;
  let kept: string[] = [];
  let omitted = 0;
  const record = (sql: string): void => {
    if (!recording) return;
    // Keep only what will be shown: a bulk insert can be megabytes.
    kept.push(truncate(String(sql)));
    if (kept.length > limit) {
      kept.shift();
      omitted++;
    }
  };
  return {
    onQuery: record,
    record,
    start(): void {
      kept = [];
      omitted = 0;
      recording = true;
    },
    stop(): string[] {
      recording = false;
      return [...kept];
    },
    list(): string[] {
      return [...kept];
    },
    get omitted(): number {
      return omitted;
    },
  };
}
