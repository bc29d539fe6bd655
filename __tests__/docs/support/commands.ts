/**
 * Turns a documented shell block (or a GitHub Actions job) into the commands the docs test runs.
 * Pure. Only what the docs use is understood; anything else is an error naming the line, so a new
 * kind of command cannot be silently left out.
 */
export type DocCommand =
  /** `npm install --save-dev a b`: installed offline by linking this repository's copies. */
  | { kind: 'install'; packages: string[]; text: string }
  /** `npm ci` in a CI job: the fixture repo is already installed. */
  | { kind: 'npm-ci'; text: string }
  /** `[VAR=value ...] npx jest [args]` */
  | { kind: 'jest'; env: Record<string, string>; args: string[]; text: string }
  /** `[VAR=value ...] npx user-engine-live <args>` */
  | { kind: 'cli'; env: Record<string, string>; args: string[]; text: string };

/** Joins `\` continuations and drops comments and blank lines. */
function commandLines(body: string): string[] {
  return body
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

function parseCommand(text: string, env: Record<string, string> = {}): DocCommand {
  const words = text.split(/\s+/);
  const ownEnv: Record<string, string> = { ...env };
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    ownEnv[name] = value.join('=');
  }
  const [tool, command, ...rest] = words;
  if (tool === 'npm' && command === 'install' && Object.keys(ownEnv).length === 0) {
    return { kind: 'install', packages: rest.filter((word) => !word.startsWith('-')), text };
  }
  if (tool === 'npm' && command === 'ci' && rest.length === 0) return { kind: 'npm-ci', text };
  if (tool === 'npx' && command === 'jest') return { kind: 'jest', env: ownEnv, args: rest, text };
  if (tool === 'npx' && command === 'user-engine-live') {
    return { kind: 'cli', env: ownEnv, args: rest, text };
  }
  throw new Error(`the docs test does not know how to run \`${text}\``);
}

export function parseShell(body: string): DocCommand[] {
  return commandLines(body).map((line) => parseCommand(line));
}

/** The `env:` entries and `run:` steps of a GitHub Actions job (the shape docs use, no more). */
export function parseWorkflow(body: string): DocCommand[] {
  const env: Record<string, string> = {};
  for (const [, name, value] of body.matchAll(/^\s+([A-Z_][A-Z0-9_]*):\s*(.+?)\s*$/gm)) {
    env[name] = value.replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
  }
  return [...body.matchAll(/^\s*- run:\s*(.+?)\s*$/gm)].map(([, step]) => parseCommand(step, env));
}

/**
 * A documented DSN stands for "your database": replaced by the test database's DSN, and
 * USER_ENGINE_LIVE_RESET by its name. `embedded` and unset stay as written.
 */
export function substituteDatabase(
  env: Record<string, string>,
  database: { dsn: string; name: string } | undefined,
): Record<string, string> | undefined {
  const dsn = env.USER_ENGINE_LIVE_DSN;
  if (dsn === undefined || dsn === '' || dsn === 'embedded') return env;
  if (!database) return undefined;
  return {
    ...env,
    USER_ENGINE_LIVE_DSN: database.dsn,
    ...(env.USER_ENGINE_LIVE_RESET !== undefined ? { USER_ENGINE_LIVE_RESET: database.name } : {}),
  };
}
