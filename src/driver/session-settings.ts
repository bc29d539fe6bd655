/**
 * The settings every session of a pool starts with. They travel in the startup packet, so they
 * hold from the first statement on and cost no round trip per query.
 */

export interface SessionSettings {
  /** Already quoted: `"ue_test_x"`. */
  searchPath: string | undefined;
  /** 0 = no bound. */
  statementTimeoutMs: number;
  applicationName: string | undefined;
}

/** `"name"` with embedded quotes doubled: safe for any schema name without a NUL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Value of libpq's `options` startup parameter (`-c name=value ...`). The server splits it on
 * spaces, so spaces and backslashes inside a value are escaped with a backslash.
 */
export function startupOptions(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value.replace(/[\\ ]/g, (c) => `\\${c}`)}`)
    .join(' ');
}
