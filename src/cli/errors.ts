/**
 * The CLI's own failures. `UsageError` is a mistake on the command line (exit 2); `CliError` is a
 * command that could not do its job (exit 1). Both carry one line meant for stderr as is.
 */
import { CodedError } from '../coded-error';
import { redactSecretParams, redactSecrets } from '../driver/dsn';
import { printable } from '../live/config/text';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export type CliErrorCode =
  'usage' | 'not_live' | 'config_unreadable' | 'connect_failed' | 'server_rejected' | 'gc_failed';

export class CliError extends CodedError<CliErrorCode> {
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, exitCode: number = EXIT_FAILED) {
    super(code, oneLine(message));
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  readonly command: string;
  constructor(command: string, message: string) {
    super('usage', message, EXIT_USAGE);
    this.command = command;
  }
}

/** Collapses whitespace runs (stack-less driver messages can span lines) and escapes controls. */
export function oneLine(text: string): string {
  return printable(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}

/**
 * Every password the environment's DSN may hold, parsed or not, so that even a DSN the config
 * rejected cannot leak through a message that quotes it.
 */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const dsn = env.USER_ENGINE_LIVE_DSN;
  if (!dsn || dsn === 'embedded') return [];
  const secrets: string[] = [];
  const scheme = /^\s*[a-z][a-z0-9+.-]*:\/\//i.exec(dsn);
  const start = scheme ? scheme[0].length : 0;
  const at = dsn.lastIndexOf('@');
  const colon = dsn.indexOf(':', start);
  if (at > start && colon >= start && colon < at) secrets.push(dsn.slice(colon + 1, at));
  for (const match of dsn.matchAll(/pass[a-z%0-9]*=([^&\s#]+)/gi)) secrets.push(match[1]);
  for (const secret of [...secrets]) {
    try {
      secrets.push(decodeURIComponent(secret));
    } catch {
      // not percent-encoded
    }
  }
  // Very short fragments would shred ordinary words; the DSN redactors still mask those in place.
  return secrets.filter((secret) => secret.length >= 3);
}

/** Text safe to print: DSN passwords and `password=` values masked, every known secret removed. */
export function scrub(text: string, secrets: readonly string[]): string {
  return redactSecretParams(redactSecrets(text, secrets));
}

/** `scrub` applied to every string inside a JSON-able value (before it is serialised). */
export function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return scrub(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => scrubDeep(item, secrets)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [key, scrubDeep(entry, secrets)]),
    ) as T;
  }
  return value;
}
