/**
 * A deliberately tiny argument parser: boolean flags and flags with one value, nothing else. Any
 * other word is a usage error that names it, so a typo can never be silently ignored.
 */
import { UsageError } from './errors';

export interface FlagSpec {
  /** Flags that take no value, e.g. `--json`. */
  readonly booleans: readonly string[];
  /** Flags that take one value, as `--config x` or `--config=x`. */
  readonly values: readonly string[];
}

export interface ParsedArgs {
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
}

export function parseFlags(command: string, argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq > 0 ? word.slice(0, eq) : word;
    if (spec.booleans.includes(name)) {
      if (eq > 0)
        throw new UsageError(command, `${name} takes no value (got ${JSON.stringify(word)})`);
      flags.add(name);
      continue;
    }
    if (spec.values.includes(name)) {
      const value = eq > 0 ? word.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
        throw new UsageError(command, `${name} needs a value, e.g. ${name} <path>`);
      }
      if (values.has(name)) throw new UsageError(command, `${name} given more than once`);
      values.set(name, value);
      continue;
    }
    const known = [...spec.booleans, ...spec.values].join(', ');
    throw new UsageError(
      command,
      word.startsWith('-')
        ? `unknown option ${JSON.stringify(word)} (known: ${known})`
        : `unexpected argument ${JSON.stringify(word)} (known options: ${known})`,
    );
  }
  return { flags, values };
}
