#!/usr/bin/env node
/**
 * `user-engine-live`: the command line of @user-engine/jest-live (doctor, gc). No CLI framework:
 * two commands with a handful of flags do not need one. Exit codes: 0 success, 1 failure (for
 * doctor: a live run would not succeed), 2 usage error. Errors are one line on stderr, redacted.
 */
import { runDoctor, DOCTOR_USAGE } from './doctor';
import {
  CliError,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  oneLine,
  scrub,
  secretsOf,
} from './errors';
import { runGc, GC_USAGE } from './gc';
import { processIo, type CliIo } from './io';
import { liveDeps, type CliDeps } from './live-deps';

export const MAIN_USAGE = `Usage: user-engine-live <command> [options]

Commands:
  doctor   say what a Jest run with this environment would do (skip, fail closed, go live) and why
  gc       drop the schemas of crashed runs recorded in the run ledger

Run user-engine-live <command> --help for a command's options.`;

const USAGES: Record<string, string> = { doctor: DOCTOR_USAGE, gc: GC_USAGE };

function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

async function dispatch(command: string, rest: readonly string[], io: CliIo, deps: CliDeps) {
  switch (command) {
    case 'doctor':
      return runDoctor(rest, io, { planner: deps.planner });
    case 'gc':
      return runGc(rest, io, deps.collector);
    default:
      throw new UsageError(
        '',
        `unknown command ${JSON.stringify(command)} (commands: ${Object.keys(USAGES).join(', ')})`,
      );
  }
}

/** Runs one command line (`argv` without node and the script); resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo = processIo(),
  deps: CliDeps = liveDeps,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    (command === undefined ? io.err : io.out)(MAIN_USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (Object.hasOwn(USAGES, command) && wantsHelp(rest)) {
    io.out(USAGES[command]);
    return EXIT_OK;
  }
  try {
    return await dispatch(command, rest, io, deps);
  } catch (error) {
    const prefix = `user-engine-live${Object.hasOwn(USAGES, command) ? ` ${command}` : ''}`;
    const message = error instanceof Error ? error.message : String(error);
    const hint =
      error instanceof UsageError
        ? ` (see user-engine-live${error.command ? ` ${error.command}` : ''} --help)`
        : '';
    io.err(scrub(oneLine(`${prefix}: ${message}${hint}`), secretsOf(io.env)));
    return error instanceof CliError ? error.exitCode : EXIT_FAILED;
  }
}

/** The process entry (bin/user-engine-live.js): runs `argv` and sets the exit code. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  return runCli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // runCli reports its own errors; this is only reached if writing to stderr itself failed.
      const line = scrub(oneLine(`user-engine-live: ${String(error)}`), secretsOf(process.env));
      process.stderr.write(`${line}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}

if (require.main === module) void main();
