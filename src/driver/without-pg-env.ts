/**
 * The drivers read `PG*` variables wherever a configuration value is falsy: pg for every
 * connection parameter (`PGOPTIONS` when no options are wanted, `PGSSLMODE`, `PGBINARY`,
 * `PGREPLICATION`, `PGSSLNEGOTIATION`, `PGCLIENT_ENCODING`, …), postgres.js for
 * `PGTARGETSESSIONATTRS`, which no option value can switch off. Both read them only while a
 * client's configuration is built, synchronously: hiding them for exactly that call makes every
 * value the adapters pass the only value, whatever the environment holds.
 */

const PG_VARIABLE = /^PG/;

/** Removes every `PG*` variable from `process.env`; the function returned puts them back. */
export function hidePgEnvironment(): () => void {
  const env = process.env;
  const hidden: [string, string | undefined][] = [];
  for (const name of Object.keys(env)) {
    if (!PG_VARIABLE.test(name)) continue;
    hidden.push([name, env[name]]);
    delete env[name];
  }
  return () => {
    for (const [name, value] of hidden) env[name] = value;
  };
}

/** Runs `build` (synchronous) with no `PG*` variable visible, then puts them back unchanged. */
export function withoutPgEnvironment<T>(build: () => T): T {
  const restore = hidePgEnvironment();
  try {
    return build();
  } finally {
    restore();
  }
}
