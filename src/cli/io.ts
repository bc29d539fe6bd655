/**
 * Where a command reads its environment and writes its output. Commands never touch `process`
 * directly, so tests can run them in-process with their own env and capture every line.
 */

export interface CliIo {
  /** One line (or block) for stdout; a newline is appended. */
  out(text: string): void;
  /** One line for stderr; a newline is appended. */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the Jest config is looked for when `--config` is not given. */
  readonly cwd: string;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Collects output in memory (tests, and callers that want the text). */
export interface CapturedIo extends CliIo {
  readonly stdout: string[];
  readonly stderr: string[];
}

export function captureIo(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    env,
    cwd,
    stdout,
    stderr,
  };
}
